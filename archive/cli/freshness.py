"""``citevault status`` and ``citevault diff``: link rot and content drift (README "Keeping evidence fresh")."""
from __future__ import annotations

import click

from archive.cli.options import json_option, open_archive, print_json


@click.command()
@click.argument("document_id", required=False)
@click.option("--workers", is_flag=True, help="List the crawl workers running on any node instead: node, pid, "
                                              "last heartbeat and the leases each holds.")
@json_option
@click.pass_context
def status(ctx: click.Context, document_id: str | None, workers: bool, as_json: bool) -> None:
    """Link-rot report: per document, sources by state, and every changed, gone or failed source with
    the claims it backs and since when. Changed sources whose cited passages changed in meaning (a number,
    a negation, a name) come first, with the words; the other changes are cosmetic for the claims.

    \b
    citevault status
    citevault status 3e90d2b332ad3b46 --json
    citevault status --workers
    """
    if workers:
        _workers(ctx, as_json)
        return
    docs = open_archive(ctx, bounded=True).status(document_id)
    if as_json:
        print_json(docs)
        return
    for doc in docs:
        d = doc["document"]
        counts = ", ".join(f"{n} {s}" for s, n in sorted(doc["states"].items())) or "no sources"
        click.echo(f"{d['id']}  {d['title'] or d['url'] or d['origin'] or ''}")
        if d["fetch_error"]:
            click.echo(f"  not fetched: {d['fetch_error']} (`citevault crawl` tries again)")
        click.echo(f"  {doc['sources']} sources: {counts}")
        for p in doc["problems"]:
            since = f" since {p['since'][:10]}" if p["since"] else ""
            notes = "  ".join(x for x in (p["reason"], f"({p['change']} change)" if p.get("change") else "") if x)
            click.echo(f"  [{p['state']:<8}] {p['url']}{since}  {notes}".rstrip())
            click.echo(f"             backs {', '.join(p['claims'])}")
            for c in p.get("meaning_changes") or []:
                said = "passage deleted" if c["kind"] == "deleted" else \
                    f"{c['kind']} \"{c['before']}\" became \"{c['after']}\"".replace('""', "(nothing)")
                click.echo(f"             {c['claim']}: {said}")


@click.command()
@click.argument("target")
@json_option
@click.pass_context
def diff(ctx: click.Context, target: str, as_json: bool) -> None:
    """Unified diff of a source's main text between the capture a claim relied on and the latest one.
    TARGET is a claim id (every source it cites) or a source URL.

    \b
    citevault diff 3e90d2b332ad3b46.3
    citevault diff https://example.org/report.html
    """
    entries = open_archive(ctx).diff(target)
    if as_json:
        print_json(entries)
        return
    for entry in entries:
        if entry["diff"]:
            click.echo(entry["diff"], nl=False)
        else:
            click.echo(f"{entry['url']}: {entry.get('note', 'no change')}")


def _workers(ctx: click.Context, as_json: bool) -> None:
    found = open_archive(ctx).workers()
    if as_json:
        print_json(found)
        return
    if not found:
        click.echo("no crawl workers running")
        return
    for w in found:
        state = "alive" if w["alive"] else "silent (its leases expire)"
        beat = "never" if w["seconds_since_heartbeat"] is None else f"{w['seconds_since_heartbeat']:.0f} s ago"
        until = f" until {w['leases_until']}" if w["leases_until"] else ""
        click.echo(f"{w['node'] or '?'}  pid {w['pid']}  crawl {w['crawl_id'][:12]}  {state}, heartbeat {beat}, "
                   f"{w['leases']} leases{until}")

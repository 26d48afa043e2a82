"""``citevault reindex`` and ``citevault verify``: the index rebuilt from the WARC files, and both checked.

Thin click layers over :meth:`archive.api.Archive.reindex` and :meth:`archive.api.Archive.verify` (README
"Rebuilding and verifying the index"). Neither needs an index to exist: reindex builds it, verify checks
the WARC files alone when there is none.
"""
from __future__ import annotations

import sys
from typing import Any

import click

from archive.cli.options import json_option, open_archive, print_json


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _workers_option(func: Any) -> Any:
    return click.option("--workers", type=click.IntRange(1, 256), default=None, metavar="N",
                        help="Worker processes reading WARC files (default: one per CPU).")(func)


@click.command()
@click.option("--force", is_flag=True, help="Replace an index that is not empty.")
@_workers_option
@json_option
@click.pass_context
def reindex(ctx: click.Context, force: bool, workers: int | None, as_json: bool) -> None:
    """Rebuild the whole index from the WARC files under HOME/warcs alone; every id stays the same.

    Refuses an index that holds rows unless --force. WARC files left open by a crawl that died are
    repaired first (as the next crawl would). The embedded SQLite file is built beside the old one and
    moved over it when complete, so a failed rebuild leaves the old index as it was. A damaged record is
    reported (file and offset) and skipped: exit 1 then, with the index rebuilt from the rest.

    \b
    citevault reindex
    citevault --home archive-copy reindex --force --json
    """
    stats = open_archive(ctx).reindex(force=force, workers=workers)
    if as_json:
        print_json(stats.as_json())
    else:
        c = stats.counts
        click.echo(
            f"citevault: reindexed {stats.records} records from {_n(stats.files, 'WARC file')} "
            f"({stats.bytes / 1e6:.1f} MB) in {stats.seconds:.2f}s: {stats.records_per_second:.0f} records/s; "
            f"{c.get('documents', 0)} documents, {c.get('claims', 0)} claims, {c.get('sources', 0)} sources, "
            f"{c.get('captures', 0)} captures, {_n(c.get('crawls', 0), 'crawl')}; "
            f"{_n(stats.checked, 'quote check')} recomputed"
        )
    for r in stats.repaired:
        click.echo(f"citevault: repaired {r['file']} (a crawl that died left it open): kept {r['records']} "
                   f"records, dropped {r['dropped_bytes']} bytes", err=True)
    for name in stats.unfinished:
        click.echo(f"citevault: {name} is being written by a running crawl: its complete records are indexed",
                   err=True)
    for p in stats.problems:
        click.echo(f"citevault: {p.file}@{p.offset}: {p.problem}", err=True)
    damaged = [p for p in stats.problems if not p.file.endswith(".open")]
    if damaged:
        click.echo(f"Error: {_n(len(damaged), 'damaged record')} skipped; the index holds everything else "
                   "(`citevault verify` names the claims they back)", err=True)
        sys.exit(1)


@click.command()
@_workers_option
@json_option
@click.pass_context
def verify(ctx: click.Context, workers: int | None, as_json: bool) -> None:
    """Re-hash every WARC record and check the index against the WARC files.

    Checks WARC-Block-Digest and WARC-Payload-Digest of every record, and that each capture in the index
    points to a record with its WARC-Record-ID and payload SHA-256. Exit 1 naming each bad record (file,
    offset, record id, problem) and the claims it backs; exit 0 with a one-line summary when all is well.

    \b
    citevault verify
    citevault verify --json | jq '.problems[].claims'
    """
    report = open_archive(ctx).verify(workers=workers)
    if as_json:
        print_json(report.as_json())
    elif report.ok:
        checked = (f" and {report.captures} captures in the index" if report.indexed
                   else " (no index here: only the WARC files were checked)")
        click.echo(f"citevault: verified {report.records} records in {_n(report.files, 'WARC file')}{checked}: "
                   f"all digests match ({report.seconds:.1f}s)")
    else:
        for p in report.problems:
            claims = ", ".join(p.claims[:10]) + (f" (+{len(p.claims) - 10} more)" if len(p.claims) > 10 else "")
            click.echo(f"{p.file}@{p.offset}  {p.record_id or '-'}  {p.problem}"
                       f"{f'  backs claims: {claims}' if claims else ''}")
    if not report.ok:
        click.echo(f"Error: {_n(len(report.problems), 'bad record')} of {report.records} "
                   "(restore those WARC files from a copy, or re-crawl the sources of the claims named)", err=True)
        sys.exit(1)

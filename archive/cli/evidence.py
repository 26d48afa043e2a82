"""``citevault check``, ``citevault report`` and ``citevault export``: the evidence behind each claim.

Thin click layers over :mod:`archive.checks` (checking claims against captures) and
:mod:`archive.report` (reports and exports); README "Checking the evidence".
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from archive.cli.main import json_option, open_archive, print_json
from archive.report.build import DEFAULT_REPLAY_BASE


def _replay_option(func: Any) -> Any:
    return click.option(
        "--replay-base", default=DEFAULT_REPLAY_BASE, show_default=True, metavar="URL",
        help="Address of `citevault serve`: archived links are URL/replay/TIMESTAMP/SOURCE_URL. "
             "An empty value gives urn:citevault:capture:CAPTURE_ID links instead.",
    )(func)


def _output_option(func: Any) -> Any:
    return click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
                        help="Write to FILE instead of stdout.")(func)


def _write(data: bytes, output: Path | None) -> None:
    if output is None:
        out = click.get_binary_stream("stdout")
        out.write(data)
        out.flush()
    else:
        output.write_bytes(data)
        click.echo(f"citevault: wrote {output} ({len(data)} bytes)", err=True)


def _known_document(archive: Any, document_id: str) -> None:
    from archive.index.lookup import document as document_row

    with archive.reading() as conn:
        document_row(conn, document_id)


def _summary(stats: Any) -> str:
    v = stats.verdicts
    a = stats.anchors
    return (
        f"citevault: checked {stats.checked} claim/capture pairs in {stats.seconds:.2f}s "
        f"({stats.texts_extracted} texts extracted, {stats.unreadable_texts} unreadable, "
        f"{stats.texts_reused} reused): quotes {v['quote:found']} found, {v['quote:close']} close, "
        f"{v['quote:not_found']} not found, {v['quote:unreadable']} unreadable; key terms (heuristic) "
        f"{v['key_terms:supported']} supported, {v['key_terms:partial']} partial, "
        f"{v['key_terms:unsupported']} unsupported; passages {a['moved']} moved, {a['edited']} edited, "
        f"{a['deleted']} deleted"
    )


@click.command()
@click.argument("document_id", required=False)
@click.option("--force", is_flag=True, help="Recompute every verdict, not only the missing ones.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, metavar="N",
              help="Processes extracting text from WARC records.")
@json_option
@click.pass_context
def check(ctx: click.Context, document_id: str | None, force: bool, workers: int, as_json: bool) -> None:
    """Check claims against the captures of their sources (all documents, or DOCUMENT_ID).

    A quote is looked up in the text of each capture: found, close (with a similarity score), not_found
    or unreadable. A claim without a quote gets a key-terms score, a heuristic. Each passage is anchored
    and re-anchored on re-crawls (present, moved, edited, deleted). Only captures not checked yet are
    read, unless --force.

    \b
    citevault check
    citevault check 3e90d2b332ad3b46 --json
    """
    from archive.checks import verify_document_captures

    archive = open_archive(ctx)
    if document_id is not None:
        _known_document(archive, document_id)
    stats = verify_document_captures(archive.engine(), archive.home, [document_id] if document_id else None,
                                     force=force, workers=workers)
    if as_json:
        print_json(stats.as_json())
    else:
        click.echo(_summary(stats))


@click.command()
@click.argument("document_id")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True,
              help="Markdown, one self-contained HTML file, or JSON.")
@click.option("--no-check", is_flag=True, help="Do not check captures that have no verdict yet first.")
@_output_option
@_replay_option
@click.pass_context
def report(ctx: click.Context, document_id: str, fmt: str, no_check: bool, output: Path | None,
           replay_base: str) -> None:
    """The evidence report of a document: every claim in order, its sources, their state, the archived
    copy, the verdict and the passage, with totals.

    \b
    citevault report 3e90d2b332ad3b46
    citevault report 3e90d2b332ad3b46 --format html -o evidence.html
    """
    from archive.report import render
    from archive.report.build import build_report

    archive = open_archive(ctx)
    _known_document(archive, document_id)
    if not no_check:
        from archive.checks import verify_document_captures

        verify_document_captures(archive.engine(), archive.home, [document_id])
    with archive.reading() as conn:
        built = build_report(conn, document_id, replay_base=replay_base)
    _write(render(built, fmt).encode("utf-8"), output)


@click.command()
@click.argument("document_id", required=False)
@click.option("--robust-links", "robust", is_flag=True,
              help="The article's HTML with Robust Links attributes on every cited link.")
@click.option("--claimreview", is_flag=True, help="schema.org ClaimReview JSON-LD for the claims.")
@click.option("--wacz", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="A WACZ package of the archive (or of DOCUMENT_ID's captures).")
@_output_option
@_replay_option
@click.pass_context
def export(ctx: click.Context, document_id: str | None, robust: bool, claimreview: bool, wacz: Path | None,
           output: Path | None, replay_base: str) -> None:
    """Export a document's evidence in formats other tools read.

    \b
    citevault export --robust-links 3e90d2b332ad3b46 -o article.html
    citevault export --claimreview 3e90d2b332ad3b46 > claims.jsonld
    citevault export --wacz evidence.wacz 3e90d2b332ad3b46
    """
    chosen = [name for name, on in (("--robust-links", robust), ("--claimreview", claimreview),
                                    ("--wacz", wacz is not None)) if on]
    if len(chosen) != 1:
        raise click.UsageError("choose one of --robust-links, --claimreview, --wacz FILE")
    archive = open_archive(ctx)
    if wacz is not None:
        _export_wacz(archive, wacz, document_id)
        return
    if document_id is None:
        raise click.UsageError(f"{chosen[0]} needs a DOCUMENT_ID (see `citevault claims`)")
    # robust_links and build_report look the document up first: an unknown id fails there, before any output.
    if robust:
        from archive.report.robustlinks import robust_links

        with archive.reading() as conn:
            data, count = robust_links(conn, archive.home, document_id, replay_base=replay_base)
        _write(data, output)
        click.echo(f"citevault: {count} links decorated", err=True)
        return
    from archive.errors import InputError
    from archive.report.build import archived_url, build_report
    from archive.report.claimreview import claim_reviews
    from archive.report.robustlinks import article_capture

    with archive.reading() as conn:
        built = build_report(conn, document_id, replay_base=replay_base)
        try:
            article = archived_url(article_capture(conn, document_id), replay_base)
        except InputError:
            article = None
    text = json.dumps(claim_reviews(built, article), indent=2, ensure_ascii=False) + "\n"
    _write(text.encode("utf-8"), output)


def _export_wacz(archive: Any, path: Path, document_id: str | None) -> None:
    from archive.exports.wacz import write_wacz

    summary = write_wacz(archive, path, document_id)
    click.echo(f"citevault: wrote {path} ({summary.bytes} bytes, {summary.pages} pages, {summary.claims} claims)",
               err=True)

"""``citevault check``, ``citevault report`` and ``citevault export``: the evidence behind each claim.

Thin click layers over :meth:`archive.api.Archive.check`, :meth:`~archive.api.Archive.rendered_report` and
:meth:`~archive.api.Archive.export`; docs/checking.md.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from archive.cli.options import binary_stdout, json_option, open_archive, print_json
from archive.exports.formats import ExportFormat
from archive.report import DEFAULT_REPLAY_BASE


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
        out = binary_stdout()
        out.write(data)
        out.flush()
    else:
        output.write_bytes(data)
        click.echo(f"citevault: wrote {output} ({len(data)} bytes)", err=True)


def _summary(stats: Any) -> str:
    v = stats.verdicts
    a = stats.anchors
    return (
        f"citevault: checked {stats.checked} claim/capture pairs in {stats.seconds:.2f}s "
        f"({stats.texts_extracted} texts extracted, {stats.unreadable_texts} unreadable, "
        f"{stats.texts_reused} reused): quotes {v['quote:found']} found, {v['quote:close']} close, "
        f"{v['quote:misquoted']} misquoted, {v['quote:not_found']} not found, {v['quote:unreadable']} unreadable; "
        f"key terms (heuristic) {v['key_terms:supported']} supported, {v['key_terms:partial']} partly supported, "
        f"{v['key_terms:contradicted']} contradicted, {v['key_terms:no_match']} with no matching passage; "
        f"passages {a['moved']} moved, {a['edited']} edited, "
        f"{a['deleted']} deleted"
    )


@click.command()
@click.argument("document_id", required=False)
@click.option("--force", is_flag=True, help="Recompute every verdict, not only the missing ones.")
@click.option("--workers", type=click.IntRange(1, 64), default=None, metavar="N",
              help="Processes extracting text from WARC records  [default: one per CPU, at most 4].")
@json_option
@click.pass_context
def check(ctx: click.Context, document_id: str | None, force: bool, workers: int | None, as_json: bool) -> None:
    """Check claims against the captures of their sources (all documents, or DOCUMENT_ID).

    A quote is looked up in the text of each capture: found, close (with a similarity score), misquoted
    (a number, negation, name or opposite word differs: the words are shown), not_found or unreadable. A
    claim without a quote gets a key-terms score, a heuristic: supported, partial, contradicted (another
    number or a negation) or no_match (no matching passage). Each passage is anchored
    and re-anchored on re-crawls (present, moved, edited, deleted). Only captures not checked yet are
    read, unless --force.

    \b
    citevault check
    citevault check 3e90d2b332ad3b46 --json
    """
    if workers is None:  # text extraction is most of a cold check: use the cores (a small check stays in process)
        workers = min(4, os.cpu_count() or 1)
    stats = open_archive(ctx).check(document_id, force=force, workers=workers)
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
    _write(open_archive(ctx).rendered_report(document_id, fmt, check=not no_check, replay_base=replay_base), output)


@click.command()
@click.argument("document_id", required=False)
@click.option("--robust-links", "robust", is_flag=True,
              help="The article's HTML with Robust Links attributes on every cited link.")
@click.option("--claimreview", is_flag=True, help="schema.org ClaimReview JSON-LD for the claims.")
@click.option("--wacz", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="A WACZ package of the archive (or of DOCUMENT_ID's captures).")
@click.option("--tsa", multiple=True, metavar="URL",
              help="With --wacz: RFC 3161 TSA to timestamp the package's signature (default CITEVAULT_TSA).")
@click.option("--tsa-cert", multiple=True, type=click.Path(dir_okay=False, exists=True), metavar="FILE",
              help="With --tsa: PEM certificate(s) of the TSA's CA, carried with the stamp.")
@_output_option
@_replay_option
@click.pass_context
def export(ctx: click.Context, document_id: str | None, robust: bool, claimreview: bool, wacz: Path | None,
           tsa: tuple[str, ...], tsa_cert: tuple[str, ...], output: Path | None, replay_base: str) -> None:
    """Export a document's evidence in formats other tools read. A WACZ package is signed with the data
    home's key (WACZ auth spec, anonymous mode); `citevault receipt --verify FILE.wacz` checks it.

    \b
    citevault export --robust-links 3e90d2b332ad3b46 -o article.html
    citevault export --claimreview 3e90d2b332ad3b46 > claims.jsonld
    citevault export --wacz evidence.wacz 3e90d2b332ad3b46
    """
    chosen = [(flag, fmt) for flag, fmt, on in (("--robust-links", ExportFormat.ROBUST_LINKS, robust),
                                                 ("--claimreview", ExportFormat.CLAIMREVIEW, claimreview),
                                                 ("--wacz", ExportFormat.WACZ, wacz is not None)) if on]
    if len(chosen) != 1:
        raise click.UsageError("choose one of --robust-links, --claimreview, --wacz FILE")
    flag, fmt = chosen[0]
    if fmt.needs_document and document_id is None:
        raise click.UsageError(f"{flag} needs a DOCUMENT_ID (see `citevault claims`)")
    result = open_archive(ctx).export(fmt, document_id, path=wacz, replay_base=replay_base, tsa=tsa,
                                      tsa_certs=tsa_cert)
    if result.wacz is not None:
        summary = result.wacz
        click.echo(f"citevault: wrote {summary.path} ({summary.bytes} bytes, {summary.pages} pages, "
                   f"{summary.claims} claims)", err=True)
        click.echo(f"citevault: signed with the data home's WACZ key{' and timestamped' if summary.timestamped else ''}"
                   " (`citevault receipt --verify FILE` checks it)", err=True)
        return
    _write(result.data, output)
    if result.links is not None:
        click.echo(f"citevault: {result.links} links decorated", err=True)

"""The ``citevault`` command: a thin click layer over :class:`archive.api.Archive`.

Each command parses its arguments, makes one or two library calls and formats the result as text or
``--json``. Errors the user can act on (:class:`archive.errors.CitevaultError`) become one line on stderr
and exit 1; usage errors exit 2 (click's default).
"""
from __future__ import annotations

import gc
import os
import sys
from typing import TYPE_CHECKING, Any, Callable

import click

from archive.cli.options import binary_stdout, json_option, open_archive, print_json
from archive.errors import CitevaultError

if TYPE_CHECKING:
    from archive.shapes import ClaimJSON, SourceJSON

#: Commands that live in topic modules, imported only when used (keeps `citevault lookup` start-up fast).
#: Each value is "module:attribute" of a click command; the module uses the helpers below.
LAZY_COMMANDS: dict[str, str] = {
    "status": "archive.cli.freshness:status",
    "diff": "archive.cli.freshness:diff",
    "reindex": "archive.cli.integrity:reindex",
    "verify": "archive.cli.integrity:verify",
    "check": "archive.cli.evidence:check",
    "report": "archive.cli.evidence:report",
    "export": "archive.cli.evidence:export",
    "serve": "archive.cli.serve:serve",
    "receipt": "archive.cli.receipts:receipt",
    "key": "archive.cli.receipts:key",
}


class _Group(click.Group):
    """Maps library errors to one-line messages (no traceback for anything the user can fix), and loads
    the commands of :data:`LAZY_COMMANDS` on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS and name not in self.commands:
            import importlib

            module, attr = LAZY_COMMANDS[name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CitevaultError as exc:
            raise click.ClickException(str(exc)) from None
        except BrokenPipeError:  # `citevault show ID --json | head`: the reader left, nothing to report
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        except OSError as exc:
            raise click.ClickException(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # a bug: still one line, with the way to see the traceback
            if os.environ.get("CITEVAULT_DEBUG"):
                raise
            unreachable = database_unreachable(exc)
            if unreachable is not None:
                raise click.ClickException(unreachable) from None
            raise click.ClickException(
                f"internal error ({type(exc).__name__}: {exc}); rerun with CITEVAULT_DEBUG=1 for the "
                "traceback and report it"
            ) from None


def database_unreachable(exc: BaseException) -> str | None:
    """The one line for an index database that cannot be reached (a PostgreSQL server down, refusing, or
    rejecting the login), or None for any other error. A server that is not there is the operator's to fix,
    not a bug to report; the driver's message, cut to its first line, names the host and the cause.
    Recognised by the classes' names, so that nothing here imports SQLAlchemy or a driver."""
    orig = getattr(exc, "orig", None) or exc
    kind = type(orig)
    if kind.__name__ != "OperationalError" or not kind.__module__.startswith("psycopg"):
        return None
    first = (str(orig).strip().splitlines() or ["no reason given"])[0]
    return f"cannot use the index database: {first} (check --db / CITEVAULT_DB and that the server is up)"


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", envvar="CITEVAULT_HOME", metavar="DIR",
              help="Data home holding warcs/ and the index. Env CITEVAULT_HOME; default ./citevault-data.")
@click.option("--db", envvar="CITEVAULT_DB", metavar="URL",
              help="SQLAlchemy URL of the index instead of the embedded SQLite. Env CITEVAULT_DB.")
@click.version_option(package_name="citevault")
@click.pass_context
def cli(ctx: click.Context, home: str | None, db: str | None) -> None:
    """Archive the sources an article cites, and find the evidence behind each claim.

    \b
    citevault archive article.html      # add + crawl in one go
    citevault lookup "budget approved"  # which claims say this, and their evidence
    """
    ctx.obj = {"home": home, "db": db}


# -- add / archive / crawl ---------------------------------------------------------------------------
def _print_added(results: list[Any], as_json: bool) -> None:
    if as_json:
        print_json([r.as_json() for r in results])
        return
    for r in results:
        doc = r.document
        label = doc.get("title") or doc.get("url") or doc.get("origin") or ""
        if doc.get("status") == "pending" or (doc.get("kind") == "url" and r.claims == 0):
            click.echo(f"{doc['id']}  {label}  (claims are extracted when the crawl fetches it)")
        else:
            click.echo(f"{doc['id']}  {label}  {r.claims} claims ({r.sourced_claims} sourced), {r.sources} sources")


def every_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--every", metavar="DURATION",
                        help="Re-check these documents' sources this often (e.g. 7d, 12h); "
                             "default CITEVAULT_RECHECK_EVERY or 30d.")(func)


def _every(value: str | None) -> Any:
    if value is None:
        return None
    from archive.recheck.policy import parse_duration

    return parse_duration(value)


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@every_option
@json_option
@click.pass_context
def add(ctx: click.Context, sources: tuple[str, ...], every: str | None, as_json: bool) -> None:
    """Add articles (.html .md .txt), claim lists (.json .jsonl .csv) or article URLs.

    A claim list names each claim's text (text, claim, statement or claimReviewed) and what it cites
    (sources, source, url, urls, link, links or citation), in one of three shapes:

    \b
      .json   [{"claim": "The dam opened in 1931.", "source": "https://e.org/dam"}]
              or {"title": "…", "claims": [ …the same objects… ]}
      .jsonl  {"text": "The dam opened in 1931.", "sources": ["https://e.org/dam"]}
              (one object per line)
      .csv    claim,source     (consecutive rows repeating a claim add sources to it)
              The dam opened in 1931.,https://e.org/dam

    \b
    citevault add article.html claims.csv https://example.org/story
    citevault add --every 7d article.html
    """
    _print_added(open_archive(ctx).add(list(sources), every=_every(every)), as_json)


def crawl_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--ignore-robots", is_flag=True, help="Fetch even what robots.txt disallows.")(func)
    func = click.option("--no-assets", is_flag=True,
                        help="Fetch only the pages, not their stylesheets, images, fonts, scripts and frames "
                             "(same as -s CITEVAULT_ASSETS=False).")(func)
    func = click.option("--browser", type=click.Choice(["never", "auto", "always"]), default=None,
                        help="Also render pages in Chromium (screenshot, rendered text, every exchange "
                             "recorded): never, auto (pages whose text is missing; the default) or always "
                             "(same as -s CITEVAULT_BROWSER=...).")(func)
    func = click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's log on stderr.")(func)
    func = click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE",
                        help="Override a Scrapy or CITEVAULT_* setting, e.g. -s DOWNLOAD_TIMEOUT=10.")(func)
    func = click.option("--concurrency", type=click.IntRange(1, 1024), default=None,
                        help="Parallel requests in all (per-host limit stays CITEVAULT_PER_HOST).")(func)
    func = click.option("--node", metavar="NAME", expose_value=False, callback=_set_node,
                        help="This worker's node name in WARC file names and crawl rows (default: "
                             "CITEVAULT_NODE, else the host name); see README \"Running on several machines\".")(func)
    return func


def _set_node(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """``--node``: read by archive.crawl.pids.node_name, here and in the recorder process this one starts."""
    if value:
        os.environ["CITEVAULT_NODE"] = value


def _parse_settings(pairs: tuple[str, ...], no_assets: bool = False, browser: str | None = None) -> dict[str, str]:
    out = {"CITEVAULT_ASSETS": "False"} if no_assets else {}
    if browser:
        out["CITEVAULT_BROWSER"] = browser
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"-s expects NAME=VALUE, got {pair!r}")
        out[name.strip()] = value
    return out


@cli.command()
@click.option("--due", is_flag=True, help="Also re-check every source whose re-check time has come.")
@crawl_options
@click.pass_context
def crawl(ctx: click.Context, due: bool, concurrency: int | None, ignore_robots: bool, no_assets: bool,
          browser: str | None, verbose: bool, settings: tuple[str, ...]) -> None:
    """Fetch every pending (or failed) source, and documents added by URL, into WARC files.

    Progress goes to stderr. Exit 0 when the crawl ran, even if sources failed: failures are recorded.
    With --due, sources whose re-check time has come are fetched too (cron: `citevault crawl --due`).

    \b
    citevault crawl --concurrency 32
    citevault crawl --due
    citevault crawl --no-assets
    citevault crawl --browser always
    """
    open_archive(ctx).crawl(due=due, concurrency=concurrency, ignore_robots=ignore_robots, verbose=verbose,
                            settings=_parse_settings(settings, no_assets, browser))


@cli.command("archive")
@click.argument("sources", nargs=-1, required=True)
@every_option
@crawl_options
@json_option
@click.pass_context
def archive_cmd(ctx: click.Context, sources: tuple[str, ...], every: str | None, concurrency: int | None,
                ignore_robots: bool, no_assets: bool, browser: str | None, verbose: bool,
                settings: tuple[str, ...], as_json: bool) -> None:
    """Add SOURCES and crawl what they cite: the main job in one command.

    \b
    citevault archive article.html https://example.org/story
    """
    def added(results: list[Any]) -> None:  # before the crawl's progress lines
        _print_added(results, False)

    counts = open_archive(ctx).archive(list(sources), every=_every(every), on_added=None if as_json else added,
                                       concurrency=concurrency, ignore_robots=ignore_robots, verbose=verbose,
                                       settings=_parse_settings(settings, no_assets, browser))
    if as_json:  # counts after the crawl: documents added by URL are extracted by it
        print_json([s.as_json() for s in counts])
    unfetched = [s.document for s in counts if s.document.get("fetch_error")]
    for doc in unfetched:  # the others were archived all the same
        click.echo(f"Error: {not_fetched(doc)}; it stays pending: `citevault crawl` tries again", err=True)
    if unfetched:
        ctx.exit(1)


def not_fetched(doc: dict[str, Any]) -> str:
    """"the article URL could not be fetched (REASON)", for a document whose ``fetch_error`` is set."""
    return f"the article {doc['url']} could not be fetched ({doc['fetch_error']})"


# -- reads -------------------------------------------------------------------------------------------
def _source_line(source: SourceJSON) -> str:
    caps = source["captures"]
    last = caps[-1] if caps else None
    where = ""
    if last:
        outcome = str(last["http_status"]) if last["http_status"] is not None else (last["error"] or "error")
        where = f"  {last['fetched_at'][:19]}Z  {outcome}  capture {last['id']}"
    return f"  [{source['state']:<8}] {source['url']}{where}"


def _print_claim(claim: ClaimJSON) -> None:
    click.echo(f"{claim['id']}  {claim['document']['title'] or claim['document']['url'] or ''}")
    click.echo(f"  {claim['text']}")
    if claim["quote"]:
        click.echo(f"  quote: \u201c{claim['quote']}\u201d")
    if not claim["sources"]:
        click.echo("  (unsourced)")
    for source in claim["sources"]:
        click.echo(_source_line(source))


@cli.command()
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, 10000), default=20, show_default=True, help="Most claims shown.")
@json_option
@click.pass_context
def lookup(ctx: click.Context, query: str, limit: int, as_json: bool) -> None:
    """Find claims by their words (full-text search), or the claims citing a URL.

    \b
    citevault lookup "approved the budget"
    citevault lookup https://example.org/report.pdf --json
    """
    claims = open_archive(ctx, bounded=True).lookup(query, limit)
    if as_json:
        print_json(claims)
        return
    if not claims:
        click.echo("no claims found", err=True)
    for claim in claims:
        _print_claim(claim)
        click.echo()


@cli.command()
@click.argument("claim_id")
@json_option
@click.pass_context
def show(ctx: click.Context, claim_id: str, as_json: bool) -> None:
    """Show one claim with its sources and every capture of them.

    \b
    citevault show 3f2a9c1b7e4d0a11.4 --json
    """
    claim = open_archive(ctx, bounded=True).show(claim_id)
    if as_json:
        print_json(claim)
        return
    _print_claim(claim)
    for source in claim["sources"]:
        for cap in source["captures"]:
            status = cap["http_status"] if cap["http_status"] is not None else cap["error"]
            click.echo(f"    {cap['id']}  {cap['fetched_at'][:19]}Z  {status}  {cap['url']}  "
                       f"{cap['warc_file']}@{cap['warc_offset']}")
            if cap.get("verification"):
                from archive.checks.shape import verification_line

                click.echo(f"      {verification_line(cap['verification'])}")
            shot = cap.get("rendering")
            if shot:  # a browser rendering (issue 11): where its screenshot is
                size = f"{shot['width']}x{shot['height']} " if shot["width"] else ""
                where = (f"{shot['screenshot_warc_file']}@{shot['screenshot_offset']}"
                         if shot["screenshot_warc_file"] else "no screenshot")
                click.echo(f"      rendered {shot['rendered_at'][:19]}Z by {shot['browser'] or 'a browser'}: "
                           f"screenshot {size}{where}, {shot['text_chars'] or 0} characters of text"
                           + (f" (cut: {shot['cut']})" if shot["cut"] else ""))


@cli.command()
@click.argument("document_id", required=False)
@json_option
@click.pass_context
def claims(ctx: click.Context, document_id: str | None, as_json: bool) -> None:
    """List claims (of one document, or all) with their evidence state.

    \b
    citevault claims 3f2a9c1b7e4d0a11
    """
    archive = open_archive(ctx)
    rows = archive.claims(document_id)
    unfetched = [d for d in archive.documents() if d["fetch_error"] and document_id in (None, d["id"])]
    for doc in unfetched:  # its claims are not known yet: say so rather than show an empty success
        click.echo(f"{doc['id']}: not fetched: {not_fetched(doc)}; `citevault crawl` tries again", err=True)
    if as_json:
        print_json(rows)
        return
    if not rows:
        if not unfetched:
            click.echo("no claims", err=True)
        return
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        text = r["text"] if len(r["text"]) <= 90 else r["text"][:89] + "\u2026"
        click.echo(f"{r['id']:<{width}}  {r['state']:<9}  {r['sources']:>2}  {text}")


@cli.command()
@click.argument("capture_id")
@click.pass_context
def cat(ctx: click.Context, capture_id: str) -> None:
    """Write a capture's archived payload (content-decoded) to stdout.

    \b
    citevault cat 0b6f3c5e-6a5b-4b7e-9c1d-2f7e8a9b0c1d > page.html
    """
    out = binary_stdout()
    open_archive(ctx).cat(capture_id, out)
    out.flush()


def main() -> None:
    # Start-up allocates some hundred thousand objects that live as long as the process (modules, classes,
    # SQLAlchemy's and the driver's tables); the cyclic collector would walk them again and again while they
    # are imported, about 15% of a `lookup`'s CPU. It is off until the command opens the archive
    # (options.open_archive), which moves them out of its sight (gc.freeze) and turns it back on; a bounded
    # read (`lookup`, `show`) runs to its end without it.
    gc.disable()
    try:
        cli(prog_name="citevault")
    finally:
        gc.enable()


if __name__ == "__main__":  # pragma: no cover
    main()

"""Which of a crawl's raw captures are rendered in a browser, and why (:mod:`archive.browser.policy`).

Candidates are the crawl's archived HTML pages (2xx ``response`` or ``revisit`` captures of a source or
of a document fetched by URL; never an asset) that have no rendering yet. ``always`` takes every one;
``auto`` takes those whose main text (the text the quote checks read, :mod:`archive.checks.texts`) is
shorter than :data:`AUTO_MIN_CHARS`, whose HTML shows it is built by its scripts (a ``<noscript>`` asking
for JavaScript, an empty framework mount point), or in which a quote of a claim citing the page is not found.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, text

from archive.browser.policy import BrowserPolicy, Mode

if TYPE_CHECKING:
    from archive.home import DataHome

#: Main text shorter than this (characters) is "nearly empty": a shell a script fills in, or a wall.
AUTO_MIN_CHARS = 200
#: Signs of a page built by its scripts whatever text it carries: a <noscript> asking for JavaScript, or the
#: empty mount point of a client-side framework (React's #root, Vue's #app, Next's #__next, Nuxt's #__nuxt).
_SCRIPT_BUILT = re.compile(
    rb"<noscript[^>]*>[^<]{0,300}?(?:enable|requires?|needs?|turn on)[^<]{0,100}?javascript"
    rb"|<div\s+id=[\"']?(?:root|app|__next|__nuxt)[\"']?\s*>\s*</div>", re.IGNORECASE)

#: Bytes of a page's HTML searched for those signs.
SCRIPT_SCAN = 1 << 20
#: Pages judged together: their stored texts are held at once.
CHUNK = 500

_CANDIDATES = text("""
SELECT c.id, c.url, c.warc_record_id, c.record_type, c.refers_to, c.warc_file, c.warc_offset, c.content_type,
       c.payload_sha256, c.source_id, c.document_id, c.crawl_id
FROM captures c
WHERE c.crawl_id = :crawl AND c.role IS NULL AND c.record_type IN ('response', 'revisit')
  AND c.http_status BETWEEN 200 AND 299 AND c.mime IN ('text/html', 'application/xhtml+xml')
  AND (c.source_id IS NOT NULL OR c.document_id IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM renderings r WHERE r.capture_id = c.id)
ORDER BY c.fetched_at, c.id
""")
#: The quotes of a chunk's sources in one query: one per page was a round trip each on PostgreSQL, ~2 CPU ms a
#: page in the crawl's process after the crawl (bench/README.md, workers section).
_QUOTES = text("SELECT DISTINCT ci.source_id, cl.quote FROM citations ci JOIN claims cl ON cl.id = ci.claim_id "
               "WHERE ci.source_id IN :s AND cl.quote IS NOT NULL AND cl.quote != ''").bindparams(
    bindparam("s", expanding=True))


@dataclass(frozen=True)
class Candidate:
    capture_id: str
    url: str
    refers_to: str  #: WARC-Record-ID of the raw capture's record
    crawl_id: str | None
    reason: str  #: "always", "little main text (N characters)", "a quote is not in the main text"

    def job(self) -> dict[str, Any]:
        """The worker's job line (:class:`archive.browser.page.PageJob`)."""
        return {"url": self.url, "refers_to": self.refers_to, "crawl_id": self.crawl_id}


def needs_browser(main_text: str | None, quotes: list[str], html: bytes = b"") -> str | None:
    """Why ``auto`` renders a page, or None.

    >>> needs_browser("", []), needs_browser("x" * 300, ["not there"]), needs_browser("x" * 300, [])
    ('little main text (0 characters)', 'a quote is not in the main text', None)
    >>> needs_browser("x" * 300, [], b'<body><div id="root"></div><p>...')
    'built by its scripts'
    >>> needs_browser("x" * 300, [], b"<noscript>Please enable JavaScript to read this story.</noscript>")
    'built by its scripts'
    """
    from archive.checks.normalize import normalize

    body = main_text or ""
    if len(body.strip()) < AUTO_MIN_CHARS:
        return f"little main text ({len(body.strip())} characters)"
    if _SCRIPT_BUILT.search(html[:SCRIPT_SCAN]):
        return "built by its scripts"
    if quotes:
        hay = normalize(body)
        if any(normalize(q) not in hay for q in quotes):
            return "a quote is not in the main text"
    return None


def candidates(conn: Connection, home: DataHome, crawl_id: str, policy: BrowserPolicy) -> list[Candidate]:
    """The captures of crawl ``crawl_id`` the policy renders, in fetch order.

    ``auto`` judges each page by its main text. The quote checks that ran while crawling have stored it
    (``capture_texts``, keyed by payload digest), so it is read from there; only a page without a stored
    text (a document fetched by URL, a source no claim quotes) is extracted here. Re-extracting every page
    cost as much CPU as the checks' own extraction, after the crawl, on one core (bench/README.md
    "assets.py")."""
    out: list[Candidate] = []
    result = conn.execution_options(yield_per=CHUNK).execute(_CANDIDATES, {"crawl": crawl_id}).mappings()
    for rows in result.partitions():  # a crawl of 100,000 pages is judged CHUNK at a time, texts included
        out.extend(_judge(conn, home, policy, rows))
    return out


def _judge(conn: Connection, home: DataHome, policy: BrowserPolicy, rows: Sequence[Any]) -> list[Candidate]:
    """The candidates among one chunk of rows."""
    from archive.checks.store import load_texts
    from archive.checks.texts import extract_text, read_payload, text_key
    from archive.index.lookup import payload_capture

    out = []
    modes = [policy.mode_for(row["url"]) for row in rows]
    holders: dict[str, Any] = {}
    for row, mode in zip(rows, modes):
        if mode == Mode.AUTO:
            holders[row["id"]] = payload_capture(conn, dict(row))
    keys = {cid: text_key(h.get("payload_sha256"), h["id"]) for cid, h in holders.items()}
    stored = load_texts(conn, set(keys.values())) if keys else {}
    sources = sorted({row["source_id"] for row in rows if row["source_id"] and row["id"] in holders})
    quoted: dict[str, list[str]] = {}
    for source_id, quote in (conn.execute(_QUOTES, {"s": sources}) if sources else ()):
        quoted.setdefault(source_id, []).append(quote)
    for row, mode in zip(rows, modes):
        if mode == Mode.NEVER:
            continue
        reason: str | None = "always"
        if mode == Mode.AUTO:
            holder = holders[row["id"]]
            known = stored.get(keys[row["id"]])
            try:  # with a stored text, only the head the script-built test looks at
                data = read_payload(home.warc_path(holder["warc_file"]), holder["warc_offset"],
                                    *([SCRIPT_SCAN] if known else []))
            except Exception:  # noqa: BLE001, S112 - an unreadable record: nothing to judge, so nothing to render
                continue
            found = known or extract_text(data, holder["content_type"])
            quotes = sorted(quoted.get(row["source_id"], [])) if row["source_id"] else []
            reason = needs_browser(found.text if found.status == "ok" else "", quotes, data)
        if reason is not None:
            out.append(Candidate(row["id"], row["url"], row["warc_record_id"], row["crawl_id"], reason))
    return out

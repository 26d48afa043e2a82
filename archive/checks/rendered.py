"""Checking against what a browser rendered (issue 11): the rendered text of a capture, and which verdict wins.

A page whose article a script builds has (nearly) no text in the bytes the server sent; the browser's
rendering of the capture (:mod:`archive.browser.rendering`, ``document.body.innerText`` in a ``urn:text:``
record) has it. The rule, for quotes and key terms alike (docs/checking.md "Which text is checked"):

- a capture without a rendered text is checked against its raw text, as before (``"text": "raw"``);
- a capture with one (its newest rendering, or its original's for a revisit) is checked against **both**
  texts (the raw one only when the rendered verdict can be beaten: :func:`check_both`), and the verdict from the rendered text is kept unless the raw text's is strictly better
  (``found`` > ``close`` > anything else > ``unreadable``, then the score). So a quote the raw page lacks
  and the rendered page holds is ``found`` from the rendered text, and a rendering cut short (a cookie
  wall, a time limit) never loses a quote the raw page had.

The kept verdict's ``detail`` says ``"text": "raw"|"rendered"`` and names the rendering it considered
(``"rendering": id``); ``verifications.text_key`` is the key of the text the verdict is from. A rendered
text is stored in ``capture_texts`` under ``rendering:{id}`` (its own record, not a payload digest), read
from the WARC once. A verdict made before the capture was rendered (or re-rendered) names no rendering, or
an older one: :func:`stale` finds those, so the next ``citevault check`` re-checks them.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, text

from archive.checks.texts import MAX_BYTES, CaptureText

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Connection

    from archive.checks.store import CaptureRef
    from archive.home import DataHome

RAW, RENDERED = "raw", "rendered"
KIND = "rendered"  #: ``capture_texts.kind`` of a rendered text
_RANK = {"found": 3, "supported": 3, "close": 2, "partial": 2, "unreadable": 0}  # anything else: 1
_BEST = (3, 1.0)  # a full found / supported: no other text can beat it


@dataclass(frozen=True)
class RenderedRef:
    """The rendered text of a capture: its rendering and where the ``urn:text:`` record is."""

    rendering_id: str
    warc_file: str
    offset: int

    @property
    def key(self) -> str:
        """The ``capture_texts`` key of this text.

        >>> RenderedRef("abc", "x.warc.gz", 0).key
        'rendering:abc'
        """
        return f"rendering:{self.rendering_id}"


_NEWEST = (
    "SELECT cap.id, r.id, r.text_warc_file, r.text_offset FROM captures cap "
    "JOIN renderings r ON r.capture_id = cap.id OR r.capture_id = cap.refers_to "
    "WHERE cap.id IN :ids AND r.text_warc_file IS NOT NULL AND r.text_offset IS NOT NULL "
    "ORDER BY r.rendered_at, r.id"
)


def rendered_refs(conn: Connection, capture_ids: Sequence[str]) -> dict[str, RenderedRef]:
    """The newest rendered text of each capture that has one (its own rendering or, for a revisit, its
    original's), in one query per 500 captures."""
    out: dict[str, RenderedRef] = {}
    ids = list(capture_ids)
    for i in range(0, len(ids), 500):
        stmt = text(_NEWEST).bindparams(bindparam("ids", expanding=True))
        for cap_id, rid, warc_file, offset in conn.execute(stmt, {"ids": ids[i:i + 500]}):
            out[cap_id] = RenderedRef(rid, warc_file, offset)  # later rows win: the newest
    return out


def read_text(home: DataHome, ref: RenderedRef) -> CaptureText:
    """The rendered text as stored in its record (bounded; a damaged record is an ``unreadable`` text)."""
    from archive.warc.reader import open_record

    try:
        with open_record(home.warc_path(ref.warc_file), ref.offset) as record:
            data = bytearray()
            for chunk in record.chunks():
                data += chunk
                if len(data) > MAX_BYTES:
                    return CaptureText.unreadable(KIND, f"rendered text too large to read (over {MAX_BYTES} bytes)")
    except Exception as exc:  # noqa: BLE001 - a missing record must not stop a check
        return CaptureText.unreadable(KIND, f"cannot read the rendered text: {type(exc).__name__}: {exc}"[:300])
    value = bytes(data).decode("utf-8", "replace")
    if not value.strip():
        return CaptureText.unreadable(KIND, "the rendered page has no text")
    return CaptureText("ok", KIND, value, "utf-8", None)


def texts_for(conn: Connection, home: DataHome, refs: Sequence[RenderedRef], now: datetime) -> dict[str, CaptureText]:
    """The rendered texts of ``refs`` by key: stored ones, and the others read from the WARC and stored."""
    from archive.checks.store import load_texts, save_texts

    wanted = {ref.key: ref for ref in refs}
    found = load_texts(conn, wanted)
    fresh = {key: read_text(home, ref) for key, ref in wanted.items() if key not in found}
    save_texts(conn, fresh, now)
    return {**found, **fresh}


def _rank(row: Mapping[str, Any]) -> tuple[int, float]:
    return _RANK.get(row["verdict"], 1), row["score"] or 0.0


def choose(raw: dict[str, Any] | None, rendered: dict[str, Any], rendering_id: str) -> dict[str, Any]:
    """The verdict to keep of a capture checked against both texts: the rendered text's unless the raw
    text's (None: not checked, the rendered one cannot be beaten) is strictly better; its ``detail`` says
    which text it is from and names the rendering.

    >>> row = lambda v, s: {"verdict": v, "score": s, "detail": None}
    >>> json.loads(choose(row("not_found", 0.3), row("found", 1.0), "r1")["detail"])
    {'text': 'rendered', 'rendering': 'r1'}
    >>> json.loads(choose(row("found", 1.0), row("unreadable", None), "r1")["detail"])["text"]
    'raw'
    >>> json.loads(choose(row("found", 1.0), row("found", 1.0), "r1")["detail"])["text"]
    'rendered'
    """
    use_raw = raw is not None and _rank(raw) > _rank(rendered)
    kept = dict(raw if raw is not None and use_raw else rendered)
    detail = json.loads(kept["detail"]) if kept["detail"] else {}
    detail.update(text=RAW if use_raw else RENDERED, rendering=rendering_id)
    kept["detail"] = json.dumps(detail, ensure_ascii=False)
    return kept


def check_both(verify: Callable[[CaptureRef], dict[str, Any]], cap: CaptureRef, ref: RenderedRef) -> dict[str, Any]:
    """The verdict of a rendered capture (:func:`choose`): ``verify`` (the check of one text, by the
    capture's text key) runs on the rendered text first, and on the raw text only when that verdict can
    be beaten (it is not a full ``found``/``supported``)."""
    shown = verify(replace(cap, key=ref.key))
    if _rank(shown) >= _BEST:
        return choose(None, shown, ref.rendering_id)
    return choose(verify(cap), shown, ref.rendering_id)


def is_current(row: Mapping[str, Any], ref: RenderedRef | None) -> bool:
    """Does a stored verdict take the capture's newest rendered text into account?

    >>> is_current({"detail": None}, None), is_current({"detail": None}, RenderedRef("r1", "f", 0))
    (True, False)
    >>> is_current({"detail": '{"text": "raw", "rendering": "r1"}'}, RenderedRef("r1", "f", 0))
    True
    """
    if ref is None:
        return True
    detail = json.loads(row["detail"]) if row["detail"] else {}
    return bool(detail.get("rendering") == ref.rendering_id)


def stale(conn: Connection, document_ids: Sequence[str] | None, crawl_id: str | None) -> list[tuple[str, str]]:
    """``(claim_id, source_id)`` pairs with a verdict made before its capture's newest rendering (a capture
    rendered, or rendered again, after it was checked): ``citevault check`` checks them again."""
    if conn.execute(text("SELECT 1 FROM renderings LIMIT 1")).first() is None:
        return []  # an archive without browser capture pays nothing
    where = ["r.text_warc_file IS NOT NULL"]
    params: dict[str, Any] = {}
    join = ""
    if document_ids is not None:
        join = "JOIN claims c ON c.id = v.claim_id "
        where.append("c.document_id IN :docs")
        params["docs"] = list(document_ids)
    if crawl_id is not None:  # captures this crawl made, or rendered (a browser pass over older captures)
        where.append("(cap.crawl_id = :crawl OR r.crawl_id = :crawl)")
        params["crawl"] = crawl_id
    stmt = text(
        "SELECT v.claim_id, v.source_id, v.capture_id, v.detail, r.id FROM verifications v "
        "JOIN captures cap ON cap.id = v.capture_id "
        "JOIN renderings r ON r.capture_id = cap.id OR r.capture_id = cap.refers_to " + join +
        f"WHERE {' AND '.join(where)} ORDER BY r.rendered_at, r.id")
    if document_ids is not None:
        stmt = stmt.bindparams(bindparam("docs", expanding=True))
    newest: dict[tuple[str, str], tuple[str, str | None, str]] = {}
    for claim_id, source_id, capture_id, detail, rid in conn.execute(stmt, params):
        newest[(claim_id, capture_id)] = (source_id, detail, rid)
    return sorted({(claim_id, source_id) for (claim_id, _), (source_id, detail, rid) in newest.items()
                   if not is_current({"detail": detail}, RenderedRef(rid, "", 0))})

"""Content drift: has a source's main text changed since the capture a claim relied on?

Main text, not bytes: boilerplate removed (the same extraction as claims, ``archive.checks.texts``)
and whitespace normalised, so a new ad, a timestamp or a rotated "most read" box is not a change.
Texts are cached per payload digest in ``capture_texts``.

Meaning, not wording: a cited passage edited on a re-crawl (its word diff is stored with the verdict,
:mod:`archive.checks.anchor`) changed *meaning* when a number, a negation, a name or an antonym-like word
changed (:func:`passage_changes`, the same test as a misquote); other edits are cosmetic. ``status`` and
the report list meaning changes first.
Texts are cached per payload digest in ``capture_texts``. When both captures were rendered in a browser
(issue 11), their rendered texts are compared instead (:mod:`archive.checks.rendered`): what a reader saw,
script-built articles included.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from archive import clock

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from archive.checks.texts import CaptureText
    from archive.home import DataHome
    from archive.index.statements import Statements
    from archive.shapes import MeaningChange


def _capture_row(conn: Connection, capture_id: str) -> Any:
    from sqlalchemy import text

    row = conn.execute(text("SELECT * FROM captures WHERE id = :i"), {"i": capture_id}).mappings().first()
    if row is not None and row["record_type"] == "revisit" and row["refers_to"]:
        original = conn.execute(text("SELECT * FROM captures WHERE id = :i"), {"i": row["refers_to"]}).mappings().first()
        return original or row
    return row


def capture_text(conn: Connection, home: DataHome, capture_id: str) -> CaptureText | None:
    """The text of a capture's payload, extracted once per payload digest and cached."""
    return _row_text(conn, home, _capture_row(conn, capture_id))


def _row_text(conn: Connection, home: DataHome, row: Any) -> CaptureText | None:
    from archive.checks.store import load_texts, save_texts
    from archive.checks.texts import payload_text, text_key

    if row is None or row["http_status"] is None:
        return None
    key = text_key(row["payload_sha256"], row["id"])
    cached = load_texts(conn, [key]).get(key)
    if cached is not None:
        return cached
    found = payload_text(home.warc_path(row["warc_file"]), row["warc_offset"], row["content_type"])
    save_texts(conn, {key: found}, clock.schedule_now())
    return found


def rendered_texts(conn: Connection, home: DataHome, old_id: str, new_id: str) -> tuple[CaptureText, CaptureText] | None:
    """The rendered texts of both captures when both have a readable one; None otherwise."""
    from archive.checks.rendered import rendered_refs, texts_for

    refs = rendered_refs(conn, [old_id, new_id])
    if old_id not in refs or new_id not in refs:
        return None
    found = texts_for(conn, home, [refs[old_id], refs[new_id]], clock.schedule_now())
    old, new = found.get(refs[old_id].key), found.get(refs[new_id].key)
    if old is None or new is None or old.status != "ok" or new.status != "ok":
        return None
    return old, new


def compared_texts(conn: Connection, home: DataHome, old_id: str,
                   new_id: str) -> tuple[CaptureText | None, CaptureText | None]:
    """The two texts drift compares: the rendered texts when both captures have one, else the main texts."""
    pair = rendered_texts(conn, home, old_id, new_id)
    if pair is not None:
        return pair
    return capture_text(conn, home, old_id), capture_text(conn, home, new_id)


def normalized(value: str) -> str:
    """Whitespace folded, so re-flowed paragraphs compare equal.

    >>> normalized("  The wall\\n\\n was   built. ")
    'The wall was built.'
    """
    return re.sub(r"\s+", " ", value).strip()


def main_text_changed(conn: Connection, home: DataHome, old_id: str, new_id: str) -> bool | None:
    """True/False when both captures have main text to compare (rendered texts when both have one); payload
    bytes decide otherwise."""
    old, new = _capture_row(conn, old_id), _capture_row(conn, new_id)
    if old is None or new is None:
        return None
    pair = rendered_texts(conn, home, old_id, new_id)
    if pair is not None:
        return normalized(pair[0].text) != normalized(pair[1].text)
    if old["payload_sha256"] and old["payload_sha256"] == new["payload_sha256"]:
        return False
    a, b = _row_text(conn, home, old), _row_text(conn, home, new)
    if a is None or b is None or a.status != "ok" or b.status != "ok":
        return bool(old["payload_sha256"] != new["payload_sha256"])
    return normalized(a.text) != normalized(b.text)


def sentences(value: str) -> list[str]:
    """One line per sentence-ish unit, so a diff shows the changed sentence, not a whole paragraph."""
    lines: list[str] = []
    for paragraph in re.split(r"\n\s*\n", value):
        flat = normalized(paragraph)
        if flat:
            lines.extend(s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"“(])", flat) if s)
    return lines


def unified_diff(old: str, new: str, old_label: str, new_label: str) -> str:
    return "".join(
        line if line.endswith("\n") else line + "\n"
        for line in difflib.unified_diff(sentences(old), sentences(new), old_label, new_label, lineterm="")
    )


def passage_changes(anchor: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """What changed the meaning of a cited passage since the first capture (``verification["anchor"]``):
    ``[{"kind", "before", "after"}]``, kind ``number``/``negation``/``name``/``word``, or ``deleted`` for a
    passage gone from the page. Empty for a cosmetic edit or an unchanged passage.

    >>> passage_changes({"state": "edited", "diff": [["=", "won"], ["-", "7"], ["+", "5"], ["=", "to"],
    ...                                             ["-", "2."], ["+", "4."]]})
    [{'kind': 'number', 'before': '7', 'after': '5'}, {'kind': 'number', 'before': '2', 'after': '4'}]
    >>> passage_changes({"state": "edited", "diff": [["=", "the"], ["-", "“wall”"], ["+", '"wall"']]})
    []
    """
    if not anchor:
        return []
    if anchor.get("state") == "deleted":
        return [{"kind": "deleted", "before": "", "after": ""}]
    diff = anchor.get("diff")
    if anchor.get("state") != "edited" or not diff:
        return []
    from archive.checks.meaning import meaning_changes

    return [{"kind": d.kind, "before": d.quote, "after": d.source} for d in meaning_changes(list(diff))]


def source_meaning_changes(conn: Connection | Statements, source_id: str,
                           claim_ids: Sequence[str]) -> list[MeaningChange]:
    """The meaning changes of the passages ``claim_ids`` rely on in a source's latest good capture, each
    with its claim: ``[{"claim", "kind", "before", "after"}]`` (see :func:`passage_changes`)."""
    import json

    from archive.index.statements import statements

    rows = statements(conn).rows(
        "SELECT v.claim_id, v.anchor_state, v.diff FROM verifications v "
        "JOIN sources s ON s.latest_good_capture = v.capture_id "
        "WHERE s.id = :s AND v.claim_id IN :ids AND v.anchor_state IN ('edited', 'deleted') ORDER BY v.claim_id",
        {"s": source_id, "ids": list(claim_ids)})
    out: list[MeaningChange] = []
    for claim_id, state, diff in rows:
        anchor = {"state": state, "diff": json.loads(diff) if diff else None}
        out += [{"claim": claim_id, "kind": c["kind"], "before": c["before"], "after": c["after"]}
                for c in passage_changes(anchor)]
    return out

"""A re-checked source's state decided again from what a reader saw, once the crawl that fetched it has
rendered the page in a browser (issue 11: "drift uses the rendered text when there is one").

The recorder settles a source as soon as its fetch ends (:meth:`archive.crawl.recorder.Recorder._settle`):
drift compares the evidence's text with the new capture's (:func:`archive.recheck.drift.main_text_changed`,
the rendered texts when both captures have one). The browser pass runs after the raw crawl, so at that
moment the new capture has no rendering yet and the decision reads raw bytes. For a page its scripts build,
that is the wrong text both ways: a shell that is byte for byte the same (a ``revisit``, which borrows the
evidence's rendering) hides an edited article, and a shell whose placeholder or build id changed passes for
a changed page although a reader sees the same article.

So after the browser pass, each source whose new capture it rendered (and whose evidence has a rendering) is
decided again from the two rendered texts, with the same rule (:func:`archive.recheck.transitions.decide`
for a good fetch of a source with evidence: ``changed`` when the texts differ, ``archived`` when not). When
that flips the state, the source's row, this crawl's event for it and the crawl's counts are corrected, and
a verdict record is written (a small WARC file of its own) so that ``reindex`` restores the same state: of a
fetch's verdict records, the latest wins (:mod:`archive.integrity.replay_states`).

Not decided again: a rendering cut at the time limit (its text may be partial, so the raw decision stands),
a source whose evidence was never rendered (raw and rendered texts are not comparable: the raw one is the
article's main text, the rendered one everything on screen), and the first fetch of a source (nothing to
drift from). Walls, soft-404s and HTTP statuses are still judged on the raw response.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, text

from archive import clock
from archive.states import SourceState

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from archive.home import DataHome

#: Renderings looked at per statement.
CHUNK = 500

_RENDERED = text(f"""
SELECT s.id, s.url, s.state, s.reason, s.failures, s.first_failure, s.next_due, s.last_fetched,
       s.evidence_capture, s.latest_good_capture, e.id AS event_id, e.at, e.crawl_id, e.outcome, e.detail
FROM renderings r
JOIN sources s ON s.latest_good_capture = r.capture_id
JOIN source_events e ON e.source_id = s.id AND e.capture_id = r.capture_id AND e.crawl_id = r.crawl_id
WHERE r.id IN :ids AND r.cut IS NULL AND e.outcome = 'ok'
  AND s.evidence_capture IS NOT NULL AND s.evidence_capture != s.latest_good_capture
  AND s.state IN ('{SourceState.ARCHIVED}', '{SourceState.CHANGED}')
""").bindparams(bindparam("ids", expanding=True))


@dataclass(frozen=True)
class Redecided:
    """A source whose state the rendered texts changed."""

    source_id: str
    url: str
    before: SourceState
    after: SourceState


def redecide(conn: Connection, home: DataHome, rendering_ids: Sequence[str], *,
             operator: str | None = None) -> list[Redecided]:
    """Decide again, from the rendered texts, the state of each source whose latest good capture one of
    ``rendering_ids`` rendered in the crawl that fetched it (see the module docstring); the caller commits.
    Returns the sources whose state changed."""
    from archive.recheck.drift import normalized, rendered_texts

    flipped: list[tuple[Redecided, Any]] = []
    ids = list(dict.fromkeys(rendering_ids))
    for i in range(0, len(ids), CHUNK):
        for row in conn.execute(_RENDERED, {"ids": ids[i:i + CHUNK]}).mappings().all():
            pair = rendered_texts(conn, home, row["evidence_capture"], row["latest_good_capture"])
            if pair is None:  # one of them has no readable rendered text: the raw decision stands
                continue
            changed = normalized(pair[0].text) != normalized(pair[1].text)
            after = SourceState.CHANGED if changed else SourceState.ARCHIVED
            if after != row["state"]:
                flipped.append((Redecided(row["id"], row["url"], SourceState(row["state"]), after), row))
    if flipped:
        _write_verdicts(home, flipped, operator)
        for done, row in flipped:
            _apply(conn, done, row)
    return [done for done, _ in flipped]


def _apply(conn: Connection, done: Redecided, row: Any) -> None:
    """The source's row, this crawl's event for it and the crawl's counts (``archived`` counts the archived
    sources, ``failed`` every other state: :func:`archive.index.writes.finish_crawl`)."""
    conn.execute(text("UPDATE sources SET state = :st WHERE id = :s"), {"st": done.after, "s": done.source_id})
    conn.execute(text("UPDATE source_events SET state = :st WHERE id = :e"), {"st": done.after, "e": row["event_id"]})
    gained = 1 if done.after == SourceState.ARCHIVED else -1
    conn.execute(text("UPDATE crawls SET archived = archived + :g, failed = failed - :g WHERE id = :c"),
                 {"g": gained, "c": row["crawl_id"]})


def _write_verdicts(home: DataHome, flipped: list[tuple[Redecided, Any]], operator: str | None) -> None:
    """One verdict record per source, as the recorder writes them (``Citevault-Record: source-state``), with
    the event's own ``at``: in a file opened after the crawl's, so it is the fetch's latest verdict."""
    from archive.integrity.unit_rows import verdict_body
    from archive.warc.builder import citevault_fields
    from archive.warc.store import WarcStore

    store = WarcStore(home.warcs, operator=operator)
    try:
        for done, row in flipped:
            when = {name: clock.as_datetime(row[name]) for name in ("first_failure", "next_due", "last_fetched", "at")}
            body = verdict_body(source_id=done.source_id, url=done.url, state=done.after, outcome=row["outcome"],
                                detail=row["detail"], reason=row["reason"], failures=row["failures"] or 0,
                                evidence_capture=row["evidence_capture"],
                                latest_good_capture=row["latest_good_capture"], **when,
                                decided_from="rendered text")
            fields = citevault_fields(done.url, None, row["crawl_id"], done.source_id)
            store.write(store.factory.state(done.url, body, datetime.now(UTC), extra=fields).record)
    finally:
        store.close()

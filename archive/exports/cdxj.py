"""CDXJ lines built from the index's capture rows, the same lines ``cdxj-indexer`` writes for those records.

A capture row already carries every CDXJ field (docs/architecture.md "One row shape for captures"), so exporting an
index needs no WARC reading::

    urlkey timestamp {"url", "mime", "status", "digest", "length", "offset", "filename"}

``mime`` is ``warc/revisit`` for revisits (as pywb and cdxj-indexer write it); ``status`` is absent for
resource records. Failed fetches (``metadata`` records) are left out: a CDXJ index is a replay index, and
a failure has nothing to replay. Lines come out sorted as ``cdxj-indexer --sort`` sorts them (plain string
order), streamed from the database: memory holds one group of equal ``urlkey timestamp`` keys at a time.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from sqlalchemy import Connection, bindparam, text

from archive.index.rows import CDXJ_CAPTURE_COLUMNS, REPLAYABLE_TYPES

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import BindParameter


def cdxj_line(row: dict[str, Any]) -> str:
    """One CDXJ line (no newline) for a capture row.

    >>> cdxj_line({"urlkey": "org,example)/", "timestamp": "20240102030405", "url": "https://example.org/",
    ...            "record_type": "response", "mime": "text/html", "http_status": 200,
    ...            "payload_digest": "sha1:AAAA", "warc_length": 512, "warc_offset": 0, "warc_file": "a.warc.gz"})
    'org,example)/ 20240102030405 {"url": "https://example.org/", "mime": "text/html", "status": "200", "digest": "sha1:AAAA", "length": "512", "offset": "0", "filename": "a.warc.gz"}'
    """
    fields: dict[str, str] = {"url": row["url"]}
    mime = "warc/revisit" if row["record_type"] == "revisit" else row["mime"]
    if mime:
        fields["mime"] = mime
    if row["http_status"] is not None:
        fields["status"] = str(row["http_status"])
    if row["payload_digest"]:
        fields["digest"] = row["payload_digest"]
    fields["length"] = str(row["warc_length"])
    fields["offset"] = str(row["warc_offset"])
    fields["filename"] = row["warc_file"]
    return f"{row['urlkey']} {row['timestamp']} {json.dumps(fields)}"


def iter_rows(conn: Connection, warc_files: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
    """Capture rows to index, in the order of their lines' ``urlkey timestamp`` prefix."""
    where = "record_type IN :types"
    params: dict[str, Any] = {"types": list(REPLAYABLE_TYPES)}
    binds: list[BindParameter[Any]] = [bindparam("types", expanding=True)]
    if warc_files is not None:
        where += " AND warc_file IN :files"
        params["files"] = list(warc_files)
        binds.append(bindparam("files", expanding=True))
    # Order by the line's own prefix, in byte order (as Python compares strings; PostgreSQL's locale
    # collation would not give it): the database sorts, on disk if it must, not Python in memory.
    collate = ' COLLATE "C"' if conn.dialect.name == "postgresql" else ""
    stmt = text(f"SELECT {', '.join(CDXJ_CAPTURE_COLUMNS)} FROM captures WHERE {where} "
                f"ORDER BY (urlkey || ' ' || timestamp){collate}").bindparams(*binds)
    for row in conn.execution_options(stream_results=True).execute(stmt, params).mappings():
        yield dict(row)


def sorted_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """CDXJ lines in string order, from rows ordered by their ``urlkey timestamp`` prefix: rows sharing a
    prefix are sorted by their whole line (SURT keys hold no space, so the prefix order is the line order).

    >>> rows = [{"urlkey": "a)/", "timestamp": "2024", "url": "http://a/", "record_type": "resource",
    ...          "mime": None, "http_status": None, "payload_digest": None, "warc_length": 9,
    ...          "warc_offset": off, "warc_file": "w.warc.gz"} for off in (30, 4)]
    >>> [line.split('"offset": ')[1][:4] for line in sorted_lines(rows)]  # string order: "30" < "4"
    ['"30"', '"4",']
    """
    group: list[str] = []
    group_key: tuple[str, str] | None = None
    for row in rows:
        key = (row["urlkey"], row["timestamp"])
        if key != group_key:
            yield from sorted(group)
            group, group_key = [], key
        group.append(cdxj_line(row))
    yield from sorted(group)


def write_cdxj(conn: Connection, out: Any, warc_files: Sequence[str] | None = None) -> int:
    """Write sorted CDXJ lines for the captures in ``warc_files`` (all when None) to a text stream."""
    count = 0
    for line in sorted_lines(iter_rows(conn, warc_files)):
        out.write(line + "\n")
        count += 1
    return count

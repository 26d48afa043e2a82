"""``citevault reindex``: the real CLI archives the test site, the index is deleted and rebuilt from the WARC
files alone, and every id, every ``show``/``claims``/``lookup`` JSON and every row must come back the same.

Damaged archives (truncated last record, garbled gzip member, unfinished ``.open`` file) are rebuilt from
what is readable, with the damage named by file and offset and no traceback.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import zlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from archive.cli import cli
from tests.helpers import citevault, read_records, warc_files, warcio_check

SITE_PATHS = ("/articles/target.html", "/status/404", "/redirect/a", "/gzip.html", "/status/503",
              "/private/secret.html")
TABLES = {  # table -> (columns rebuilt from the WARC files, ORDER BY); derived columns added later are not
    "documents": ("id, url, title, kind, origin, sha256, status, added_at, claim_count", "id"),
    "claims": ("id, document_id, position, text, quote", "id"),
    "citations": ("claim_id, source_id, position, anchor", "claim_id, source_id"),
    "sources": ("id, url, state, first_seen, last_fetched", "id"),
    "captures": ("*", "id"),
}


def build_archive(home: Path, site_url: str, tmp: Path) -> None:
    """A realistic data home: an article added by URL, claim lists, an article file, failures of several
    kinds, two crawls (so revisits and re-fetched failures), and a document added by URL but not crawled."""
    from tests.server import render_site_file

    jsonl = render_site_file("claims/sample.jsonl", site_url, tmp)
    hostile = tmp / "hostile.jsonl"
    hostile.write_text("".join(json.dumps(row) + "\n" for row in (
        {"text": "Nobody listens on port nine.", "sources": ["http://127.0.0.1:9/nothing"]},
        {"text": "The private page says so.", "sources": [f"{site_url}/private/secret.html"]},
        {"text": "The service was unavailable.", "sources": [f"{site_url}/status/503"]},
        {"text": "The flaky page answered at last.", "sources": [f"{site_url}/flaky?key=reindex-{tmp.name}"]},
        {"text": "Page seven exists.", "sources": [f"{site_url}/pages/7.html", f"{site_url}/articles/target.html"]},
    )))
    article = tmp / "sample.md"
    shutil.copy(Path(__file__).parent / "site" / "articles" / "sample.md", article)
    first = citevault(home, "archive", f"{site_url}/articles/sample.html", str(jsonl), str(hostile), str(article))
    assert first.code == 0, first
    second = citevault(home, "crawl")  # failed sources again: the 503's identical payload is a revisit
    assert second.code == 0, second
    later = citevault(home, "add", f"{site_url}/pages/99.html")  # pending: never crawled
    assert later.code == 0, later


def dump(home: Path, site_url: str) -> dict[str, Any]:
    """Everything a user sees, through the CLI, plus every row of the index."""
    runner = CliRunner()

    def run(*args: str) -> Any:
        result = runner.invoke(cli, ["--home", str(home), *args])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    listing = run("claims", "--json")
    out: dict[str, Any] = {"claims": listing, "show": {c["id"]: run("show", c["id"], "--json") for c in listing}}
    out["lookup"] = {path: run("lookup", site_url + path, "--json") for path in SITE_PATHS}
    out["search"] = run("lookup", "committee approved budget", "--json")
    conn = sqlite3.connect(home / "citevault.sqlite")
    try:
        for table, (columns, order) in TABLES.items():
            out[table] = [list(r) for r in conn.execute(f"SELECT {columns} FROM {table} ORDER BY {order}")]
        out["crawls"] = [list(r) for r in conn.execute(
            "SELECT id, requested, archived, failed FROM crawls ORDER BY id")]
    finally:
        conn.close()
    return out


def copy_without_index(home: Path, dest: Path) -> Path:
    shutil.copytree(home / "warcs", dest / "warcs")
    return dest


@pytest.fixture(scope="module")
def archived(site_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("home")
    build_archive(home, site_url, tmp_path_factory.mktemp("inputs"))
    return {"home": home, "base": site_url, "before": dump(home, site_url)}


def test_fixture_covers_every_record_kind(archived: dict[str, Any]) -> None:
    kinds = {(r["type"], (r["uri"] or "").split(":")[0]) for f in warc_files(archived["home"])
             for r in read_records(f)}
    assert {("response", "http"), ("request", "http"), ("revisit", "http"), ("metadata", "http"),
            ("resource", "urn"), ("warcinfo", "")} <= kinds, kinds
    states = {row[2] for row in archived["before"]["sources"]}  # id, url, state, ...
    assert {"archived", "gone", "failed"} <= states, states
    assert len({row[0] for row in archived["before"]["crawls"]}) == 2


def test_reindex_reproduces_every_id_and_every_json(archived: dict[str, Any], tmp_path: Path) -> None:
    home = copy_without_index(archived["home"], tmp_path / "copy")
    result = citevault(home, "reindex", "--json")
    assert result.code == 0, result
    stats = result.json()
    assert stats["problems"] == [] and stats["unfinished"] == []
    assert stats["records"] == sum(len(read_records(f)) for f in warc_files(home))
    assert stats["records_per_second"] > 0
    after = dump(home, archived["base"])
    before = archived["before"]
    assert stats["counts"]["claims"] == len(before["claims"])
    for key in ("claims", "show", "lookup", "search", *TABLES):
        assert after[key] == before[key], key
    assert after["crawls"] == before["crawls"]  # ids and per-crawl counts (times are best effort)
    assert "Traceback" not in result.err


def test_human_output_and_refusal_without_force(archived: dict[str, Any], tmp_path: Path) -> None:
    home = copy_without_index(archived["home"], tmp_path / "copy")
    first = citevault(home, "reindex")
    assert first.code == 0, first
    assert "records/s" in first.out and "captures" in first.out, first
    again = citevault(home, "reindex")
    assert again.code == 1, again
    assert again.err.strip().count("\n") == 0 and "--force" in again.err, again
    forced = citevault(home, "reindex", "--force", "--json")
    assert forced.code == 0, forced
    assert dump(home, archived["base"])["show"] == archived["before"]["show"]
    assert not list(home.glob("citevault.sqlite.reindex*"))


def test_force_replaces_a_stale_index(archived: dict[str, Any], tmp_path: Path) -> None:
    home = tmp_path / "copy"
    shutil.copytree(archived["home"], home)
    conn = sqlite3.connect(home / "citevault.sqlite")
    conn.execute("UPDATE sources SET state = 'pending', last_fetched = NULL")
    conn.execute("DELETE FROM captures WHERE record_type = 'metadata'")
    conn.commit()
    conn.close()
    result = citevault(home, "reindex", "--force")
    assert result.code == 0, result
    after = dump(home, archived["base"])
    assert after["sources"] == archived["before"]["sources"] and after["captures"] == archived["before"]["captures"]


def test_unfinished_open_file_is_indexed_and_reported(archived: dict[str, Any], tmp_path: Path) -> None:
    home = copy_without_index(archived["home"], tmp_path / "copy")
    last = warc_files(home)[-1]
    last.rename(last.with_name(last.name + ".open"))
    result = citevault(home, "reindex")
    assert result.code == 0, result
    assert f"{last.name}.open is unfinished" in result.err and "run a crawl to repair" in result.err, result
    after = dump(home, archived["base"])
    assert after["captures"] == archived["before"]["captures"]  # stored under the name it gets when closed


def _member_ends(path: Path) -> list[int]:
    """End offsets of the gzip members of ``path`` (stdlib zlib, independent of archive.reindex)."""
    data = path.read_bytes()
    ends, pos = [], 0
    while pos < len(data):
        d = zlib.decompressobj(31)
        d.decompress(data[pos:])
        pos = len(data) - len(d.unused_data)
        ends.append(pos)
    return ends


def _warcio_last(path: Path) -> tuple[int, bytes | None]:
    """(records warcio yields, the raw payload of the last one, or None if warcio failed on it)."""
    count, last = 0, None
    with path.open("rb") as fh:
        try:
            for record in ArchiveIterator(fh):
                count += 1
                last = None
                last = record.raw_stream.read()
        except Exception:
            pass
    return count, last


def test_truncated_last_record_is_reported_not_a_crash(archived: dict[str, Any], tmp_path: Path) -> None:
    home = copy_without_index(archived["home"], tmp_path / "copy")
    victim = max(warc_files(home), key=lambda p: p.stat().st_size)
    ends = _member_ends(victim)
    whole, payload = _warcio_last(victim)
    cut = ends[-2] + (ends[-1] - ends[-2]) // 2  # half of the last member
    with victim.open("r+b") as fh:
        fh.truncate(cut)
    count, short = _warcio_last(victim)  # warcio: the last record comes back cut short (or not at all)
    assert count < whole or short is None or len(short) < len(payload or b"")
    result = citevault(home, "reindex", "--json")
    assert result.code == 1, result
    stats = json.loads(result.out)
    assert [(p["file"], p["offset"]) for p in stats["problems"]] == [(victim.name, ends[-2])]
    assert "truncated" in stats["problems"][0]["problem"]
    assert f"{victim.name}@{ends[-2]}: truncated" in result.err and "Traceback" not in result.err, result
    assert stats["counts"]["captures"] >= len(archived["before"]["captures"]) - 1


def test_garbled_member_is_skipped_and_reading_resumes(archived: dict[str, Any], tmp_path: Path) -> None:
    home = copy_without_index(archived["home"], tmp_path / "copy")
    victim = max(warc_files(home), key=lambda p: p.stat().st_size)
    ends = _member_ends(victim)
    data = bytearray(victim.read_bytes())
    start, end = ends[2], ends[3]  # the third record after warcinfo's member
    for i in range(start + 20, end - 10):
        data[i] ^= 0x5A
    victim.write_bytes(bytes(data))
    result = citevault(home, "reindex", "--json")
    assert result.code == 1 and "Traceback" not in result.err, result
    stats = json.loads(result.out)
    assert [(p["file"], p["offset"]) for p in stats["problems"]] == [(victim.name, start)], stats["problems"]
    rows = sqlite3.connect(home / "citevault.sqlite").execute(
        "SELECT MAX(warc_offset) FROM captures WHERE warc_file = ?", (victim.name,)).fetchone()
    assert rows[0] is not None and rows[0] > end  # records after the damage were indexed


# -- the reader and the parallel split, without a crawl ---------------------------------------------------
def _write_warc(directory: Path, pairs: int) -> tuple[Path, list[Any]]:
    from datetime import datetime, timedelta, timezone

    from archive.records import HttpExchange, citevault_fields
    from archive.warcstore import WarcStore

    store = WarcStore(directory)
    written = []
    start = datetime(2026, 11, 28, 5, 0, 0, tzinfo=timezone.utc)
    for n in range(pairs):
        body = (f"<html><p>page {n}</p>" + "lorem ipsum " * (n % 50) + "</html>").encode()
        ex = HttpExchange(url=f"http://127.0.0.1:8000/p/{n}.html", status=200, reason="OK", protocol="HTTP/1.1",
                          response_headers=[("Content-Type", "text/html")], body=body, ip_address="127.0.0.1",
                          fetched_at=start + timedelta(seconds=n))
        response, request = store.factory.exchange(ex, extra=citevault_fields(ex.url, None, "c" * 32))
        written.extend(store.write_group([response.record, request.record]))
    store.close()
    path = directory / store.closed_files[0]
    assert warcio_check(path).returncode == 0
    return path, written


def test_reader_offsets_and_lengths_are_the_writers(tmp_path: Path) -> None:
    from archive.reindex import WarcReader

    path, written = _write_warc(tmp_path, 20)
    seen = [(r.offset, r.length) for r in _finished(WarcReader(path))]
    assert seen[1:] == [(w.offset, w.length) for w in written]  # after the warcinfo record


def _finished(reader: Any) -> Any:
    for record in reader:
        record.finish()
        yield record


def test_parallel_units_give_the_same_index(tmp_path: Path) -> None:
    from archive.db import make_engine, sqlite_url
    from archive.home import DataHome
    from archive.reindex import reindex

    _write_warc(tmp_path / "warcs", 300)
    home = DataHome.resolve(tmp_path)
    dumps = []
    for workers, unit_bytes in ((1, None), (2, 4096)):
        db = tmp_path / f"w{workers}.sqlite"
        engine = make_engine(sqlite_url(db))
        stats = reindex(home, engine, workers=workers, unit_bytes=unit_bytes)
        engine.dispose()
        assert stats.records == 601 and not stats.problems
        conn = sqlite3.connect(db)
        dumps.append(conn.execute("SELECT * FROM captures ORDER BY id").fetchall())
        conn.close()
    assert dumps[0] == dumps[1] and len(dumps[0]) == 300


def test_a_cut_inside_a_member_is_caught_and_read_on(tmp_path: Path) -> None:
    from archive.reindex import Unit, in_order, scan_for_index

    path, written = _write_warc(tmp_path, 30)
    middle = written[20].offset + 5  # not a member boundary
    units = [Unit(0, path, 0, middle), Unit(0, path, middle, None)]
    results = list(in_order(units, map(scan_for_index, units), scan_for_index))
    whole = scan_for_index(Unit(0, path, 0, None))
    assert [c["id"] for r in results for c in r.captures] == [c["id"] for c in whole.captures]
    assert not [p for r in results for p in r.problems]

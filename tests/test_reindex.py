"""``citevault reindex``: the real CLI archives the test site, the index is deleted and rebuilt from the WARC
files alone, and every id, every ``show``/``claims``/``lookup``/``status`` JSON and every row must come back
the same — source states and their history included, with re-checks (verdict records) over several days.

Damaged archives (truncated last record, garbled gzip member, unfinished ``.open`` file) are rebuilt from
what is readable, with the damage named by file and offset and no traceback.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import zlib
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from archive.cli.main import cli
from tests.helpers import citevault, read_records, warc_files, warcio_check

if TYPE_CHECKING:
    from tests.conftest import CrawledArchive

SITE_PATHS = ("/articles/target.html", "/status/404", "/redirect/a", "/gzip.html", "/status/503",
              "/private/secret.html")
TABLES = {  # table -> (columns rebuilt from the WARC files, ORDER BY)
    "documents": ("id, url, title, kind, origin, sha256, status, added_at, claim_count, check_every", "id"),
    "claims": ("id, document_id, position, text, quote", "id"),
    "citations": ("claim_id, source_id, position, anchor", "claim_id, source_id"),
    "sources": ("id, url, state, first_seen, last_fetched, failures, reason, evidence_capture, "
                "latest_good_capture", "id"),
    "captures": ("*", "id"),
}
#: Decided at the crawl's settle time, which the WARC files do not hold when no verdict record was written
#: (a first fetch that the status decides): rebuilt from the fetch time, which is at most a moment earlier.
#: Exact once archive/crawl/recorder.py schedules such a fetch from its own time (see test_settle_times_are_exact).
SETTLE_TIMES = ("sources", "id, next_due, first_failure, lease_owner, lease_until", "id")
SETTLE_DELAY = 60.0  # seconds


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
    out["status"] = run("status", "--json")
    conn = sqlite3.connect(home / "citevault.sqlite")
    try:
        for table, (columns, order) in TABLES.items():
            out[table] = [list(r) for r in conn.execute(f"SELECT {columns} FROM {table} ORDER BY {order}")]
        table, columns, order = SETTLE_TIMES
        out["settle_times"] = [list(r) for r in conn.execute(f"SELECT {columns} FROM {table} ORDER BY {order}")]
        out["crawls"] = [list(r) for r in conn.execute(
            "SELECT id, requested, archived, failed FROM crawls WHERE id IN (SELECT crawl_id FROM captures) "
            "ORDER BY id")]
        out["events"] = Counter(tuple(r) for r in conn.execute(
            "SELECT source_id, state, outcome, capture_id FROM source_events"))
    finally:
        conn.close()
    return out


def reindexed(home: Path, *args: str) -> Any:
    """``citevault reindex`` on a data home, and nothing else: the quote checks are derived data (not in
    the WARC files), and reindex ends by recomputing them the way a crawl does when it ends, so every
    ``show --json`` compared in :func:`dump` has its verdicts back without a ``citevault check``."""
    return citevault(home, "reindex", *args)


def _moment(value: Any) -> datetime | None:
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in " T":
        try:
            return datetime.fromisoformat(value.rstrip("Z"))
        except ValueError:
            return None
    return None


def assert_same(before: Any, after: Any, where: str = "", delay: float = 0.0) -> None:
    """Equal, except that a time may be up to ``delay`` seconds earlier after the rebuild (settle times)."""
    if isinstance(before, dict) and isinstance(after, dict):
        assert sorted(before) == sorted(after), where
        for key in before:
            assert_same(before[key], after[key], f"{where}.{key}", delay)
    elif isinstance(before, list) and isinstance(after, list):
        assert len(before) == len(after), where
        for i, (b, a) in enumerate(zip(before, after)):
            assert_same(b, a, f"{where}[{i}]", delay)
    elif before != after:
        b, a = _moment(before), _moment(after)
        assert delay and b is not None and a is not None and 0 <= (b - a).total_seconds() <= delay, \
            f"{where}: {before!r} != {after!r}"


def assert_rebuilt(before: dict[str, Any], after: dict[str, Any], delay: float = 0.0) -> None:
    for key in ("claims", "show", "lookup", "search", *TABLES, "crawls", "events"):
        assert after[key] == before[key], key
    assert_same(before["settle_times"], after["settle_times"], "settle_times", delay)
    assert_same(before["status"], after["status"], "status", delay)


def copy_without_index(home: Path, dest: Path) -> Path:
    shutil.copytree(home / "warcs", dest / "warcs")
    return dest


@pytest.fixture(scope="module")
def archived(crawled_archive: CrawledArchive) -> dict[str, Any]:
    """The session's crawled archive (tests/archives.py ``build_archive``), read-only, and what it shows."""
    home, base = crawled_archive.home, crawled_archive.base
    return {"home": home, "base": base, "before": dump(home, base)}


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
    result = reindexed(home, "--json")
    assert result.code == 0, result
    stats = result.json()
    assert stats["problems"] == [] and stats["unfinished"] == [] and stats["repaired"] == []
    assert stats["records"] == sum(len(read_records(f)) for f in warc_files(home))
    assert stats["records_per_second"] > 0
    after = dump(home, archived["base"])
    assert stats["counts"]["claims"] == len(archived["before"]["claims"])
    assert_rebuilt(archived["before"], after, delay=SETTLE_DELAY)
    assert "Traceback" not in result.err


def test_show_json_keeps_its_verdicts_through_reindex(archived: dict[str, Any], tmp_path: Path) -> None:
    """Issue 13, item 8: reindex ends by running the check, so ``show --json`` is identical before and after
    the rebuild, verdicts included, with no ``citevault check`` in between."""
    before = archived["before"]["show"]
    verdicts = [cap["verification"] for shown in before.values() for source in shown["sources"]
                for cap in source["captures"] if cap.get("verification")]
    assert len(verdicts) >= 3 and {v["verdict"] for v in verdicts} - {"unreadable"}, verdicts
    home = copy_without_index(archived["home"], tmp_path / "copy")
    result = reindexed(home, "--json")
    assert result.code == 0, result
    assert result.json()["checked"] == len(verdicts)
    after = dump(home, archived["base"])["show"]
    assert_same(before, after, "show", delay=SETTLE_DELAY)


def test_settle_times_are_exact(archived: dict[str, Any], tmp_path: Path) -> None:
    home = copy_without_index(archived["home"], tmp_path / "copy")
    assert reindexed(home).code == 0
    assert_rebuilt(archived["before"], dump(home, archived["base"]))


def test_rechecks_come_back_exactly(site_server: Any, tmp_path: Path) -> None:
    """Days pass (CITEVAULT_NOW): a page changes, one 404s three times until it is gone, one turns into a
    paywall, one is a paywall from the start, one stays the same. Every check after the first is a verdict
    record, so every column of sources, the history and the status report come back exactly."""
    from tests.test_recheck import STORY, Clock, _page

    prefix = tmp_path.name
    paywall = ("<html><body><h1>Subscribe to continue reading</h1><form><input type=password name=p></form>"
               "</body></html>")
    urls = {name: site_server.set_page(f"{prefix}-{name}", _page(f"Story {name}", STORY, "10:00"))
            for name in ("text", "vanish", "wall", "same")}
    urls["paid"] = site_server.set_page(f"{prefix}-paid", paywall)
    claims = tmp_path / "claims.jsonl"
    claims.write_text("".join(json.dumps({"text": f"The {name} source says the budget was approved.",
                                          "sources": [url]}) + "\n" for name, url in urls.items()))
    clock = Clock(tmp_path / "home")
    clock.run("archive", "--every", "7d", str(claims))
    site_server.set_page(f"{prefix}-text", _page("Story text", STORY.replace("eighteen months", "three years")))
    site_server.set_page(f"{prefix}-vanish", b"<h1>Not here</h1>", status=404)
    site_server.set_page(f"{prefix}-wall", paywall)
    for days in (8, 2, 2):  # the 404s: at day 8, 10 and 12, four days apart: gone
        clock.days(days)
        clock.run("crawl", "--due")
    before = dump(clock.home, site_server.base_url)
    states = {url: state for _id, url, state, *_rest in before["sources"]}
    assert [states[urls[n]] for n in ("text", "vanish", "wall", "same", "paid")] == \
        ["changed", "gone", "archived", "archived", "failed"], states
    home = copy_without_index(clock.home, tmp_path / "copy")
    result = reindexed(home)
    assert result.code == 0, result
    after = dump(home, site_server.base_url)
    assert_rebuilt(before, after)
    assert sum(before["events"].values()) == 5 + 5 + 2 + 2  # all at first, all at day 8, then vanish and paid


def test_human_output_and_refusal_without_force(archived: dict[str, Any], tmp_path: Path) -> None:
    home = copy_without_index(archived["home"], tmp_path / "copy")
    first = citevault(home, "reindex")
    assert first.code == 0, first
    assert "records/s" in first.out and "captures" in first.out, first
    assert "quote checks recomputed" in first.out, first  # derived data: reindex ends by recomputing them
    again = citevault(home, "reindex")
    assert again.code == 1, again
    assert again.err.strip().count("\n") == 0 and "--force" in again.err, again
    forced = reindexed(home, "--force", "--json")
    assert forced.code == 0, forced
    assert dump(home, archived["base"])["show"] == archived["before"]["show"]
    assert not list(home.glob("citevault.sqlite.reindex*"))


def test_force_replaces_a_stale_index(archived: dict[str, Any], tmp_path: Path) -> None:
    home = tmp_path / "copy"
    shutil.copytree(archived["home"], home)
    conn = sqlite3.connect(home / "citevault.sqlite")
    conn.execute("UPDATE sources SET state = 'pending', last_fetched = NULL")
    conn.execute("DELETE FROM captures WHERE record_type = 'metadata'")
    conn.execute("DELETE FROM source_events")
    conn.commit()
    conn.close()
    result = citevault(home, "reindex", "--force")
    assert result.code == 0, result
    after = dump(home, archived["base"])
    for key in ("sources", "captures", "events"):
        assert after[key] == archived["before"][key], key


def test_open_file_of_a_dead_crawl_is_repaired_first(archived: dict[str, Any], tmp_path: Path) -> None:
    home = copy_without_index(archived["home"], tmp_path / "copy")
    last = warc_files(home)[-1]  # its name says which process wrote it: the crawl, long gone
    size = last.stat().st_size
    with last.open("ab") as fh:  # a record cut short by the kill
        fh.write(zlib.compress(b"WARC/1.1\r\nWARC-Type: response\r\n", wbits=31)[:-12])
    last.rename(last.with_name(last.name + ".open"))
    result = citevault(home, "reindex", "--json")
    assert result.code == 0, result
    stats = result.json()
    assert stats["repaired"] and stats["repaired"][0]["file"] == last.name and stats["unfinished"] == []
    assert last.is_file() and last.stat().st_size == size  # truncated after its last complete record
    assert dump(home, archived["base"])["captures"] == archived["before"]["captures"]
    human = citevault(copy_without_index(archived["home"], tmp_path / "again"), "reindex")
    assert human.code == 0 and "repaired" not in human.err, human


def test_open_file_of_a_running_crawl_is_read_as_it_is(archived: dict[str, Any], tmp_path: Path) -> None:
    import os
    import socket

    home = copy_without_index(archived["home"], tmp_path / "copy")
    last = warc_files(home)[-1]
    alive = f"citevault-29991231000000000000-00001-{socket.gethostname().replace('-', '_')}-{os.getpid()}.warc.gz"
    last.rename(last.with_name(alive + ".open"))  # written by a live process (this one)
    result = citevault(home, "reindex")
    assert result.code == 0, result
    assert f"{alive}.open is being written by a running crawl" in result.err, result
    assert (home / "warcs" / (alive + ".open")).is_file()
    rows = sqlite3.connect(home / "citevault.sqlite").execute(
        "SELECT COUNT(*) FROM captures WHERE warc_file = ?", (alive,)).fetchone()[0]
    assert rows == sum(1 for c in archived["before"]["captures"] if c[16] == last.name)  # under its final name


def _forget_states(conn: sqlite3.Connection, sids: list[str]) -> None:
    """The sources back to pending with no history, as if their checks were never committed."""
    marks = ", ".join("?" * len(sids))
    conn.execute(f"DELETE FROM source_events WHERE source_id IN ({marks})", sids)
    conn.execute("UPDATE sources SET state = 'pending', last_fetched = NULL, next_due = NULL, failures = 0, "
                 "first_failure = NULL, reason = NULL, evidence_capture = NULL, latest_good_capture = NULL "
                 f"WHERE id IN ({marks})", sids)
    conn.commit()


def test_index_missing_puts_back_what_a_killed_crawl_left_out(archived: dict[str, Any], tmp_path: Path) -> None:
    """The rows of the second crawl's file never reached the index (killed before its commits): crash
    recovery reads the file and makes the index what the crawl would have left, and a second pass adds
    nothing."""
    from archive.home import DataHome
    from archive.index.db import make_engine, sqlite_url
    from archive.integrity.catch_up import index_missing

    home = tmp_path / "copy"
    shutil.copytree(archived["home"], home)
    conn = sqlite3.connect(home / "citevault.sqlite")
    second = conn.execute("SELECT id FROM crawls ORDER BY started_at DESC LIMIT 1").fetchone()[0]
    files = [r[0] for r in conn.execute("SELECT DISTINCT warc_file FROM captures WHERE crawl_id = ?", (second,))]
    sids = [r[0] for r in conn.execute("SELECT DISTINCT source_id FROM captures WHERE crawl_id = ? "
                                       "AND source_id IS NOT NULL", (second,))]
    marks = ", ".join("?" * len(files))
    lost = conn.execute(f"DELETE FROM captures WHERE warc_file IN ({marks})", files).rowcount
    _forget_states(conn, sids)
    conn.close()
    assert lost and sids
    engine = make_engine(sqlite_url(home / "citevault.sqlite"))
    try:
        stats = index_missing(DataHome.resolve(home), engine, files)
        assert (stats.captures, stats.sources, stats.problems) == (lost, len(sids), [])
        assert_rebuilt(archived["before"], dump(home, archived["base"]), delay=SETTLE_DELAY)
        again = index_missing(DataHome.resolve(home), engine, files)
        assert (again.captures, again.sources) == (0, 0)
        # Killed between a commit of the captures and the commit of the states they decided.
        conn = sqlite3.connect(home / "citevault.sqlite")
        _forget_states(conn, sids)
        conn.close()
        settled = index_missing(DataHome.resolve(home), engine, files)
        assert (settled.captures, settled.sources) == (0, len(sids))
        assert_rebuilt(archived["before"], dump(home, archived["base"]), delay=SETTLE_DELAY)
    finally:
        engine.dispose()


def _member_ends(path: Path) -> list[int]:
    """End offsets of the gzip members of ``path`` (stdlib zlib, independent of archive.warc.scan)."""
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


def test_schema_snapshot_matches_the_migrations(tmp_path: Path) -> None:
    from archive.index import schema as sqlschema

    message = "the schema snapshot is stale: run `python -m archive.index.schema`"
    assert sqlschema.current(), message
    assert sqlschema.STATEMENTS == sqlschema.migrated_statements(tmp_path), message


def test_worker_side_loads_without_the_orm() -> None:
    import subprocess
    import sys

    code = ("import sys, archive.integrity.reindex, archive.integrity.unit_rows, archive.index.rows; "
            "archive.index.rows.capture_row(record_id='<urn:uuid:x>', record_type='response', url='http://a.example/', "
            "fetched_at=__import__('datetime').datetime(2026, 1, 1), warc_file='f', warc_offset=0, warc_length=1); "
            "print(sorted(m for m in ('archive.index.models', 'sqlalchemy.orm', 'alembic') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out


# -- the reader and the parallel split, without a crawl ---------------------------------------------------
def _write_warc(directory: Path, pairs: int) -> tuple[Path, list[Any]]:
    from datetime import datetime, timedelta, timezone

    from archive.warc.builder import HttpExchange, citevault_fields
    from archive.warc.store import WarcStore

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
    from archive.warc.scan import WarcReader

    path, written = _write_warc(tmp_path, 20)
    seen = [(r.offset, r.length) for r in _finished(WarcReader(path))]
    assert seen[1:] == [(w.offset, w.length) for w in written]  # after the warcinfo record


def _finished(reader: Any) -> Any:
    for record in reader:
        record.finish()
        yield record


def test_parallel_units_give_the_same_index(tmp_path: Path) -> None:
    from archive.home import DataHome
    from archive.index.db import make_engine, sqlite_url
    from archive.integrity.reindex import reindex

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
    from archive.integrity.unit_rows import scan_for_index
    from archive.integrity.units import Unit, in_order

    path, written = _write_warc(tmp_path, 30)
    middle = written[20].offset + 5  # not a member boundary
    units = [Unit(0, path, 0, middle), Unit(0, path, middle, None)]
    results = list(in_order(units, map(scan_for_index, units), scan_for_index))
    whole = scan_for_index(Unit(0, path, 0, None))
    assert [c[0] for r in results for c in r.captures] == [c[0] for c in whole.captures]  # ids
    assert whole.capture_columns[0] == "id" and len(whole.captures) == 30
    assert not [p for r in results for p in r.problems]

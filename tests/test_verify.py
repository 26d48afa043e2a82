"""``citevault verify``: every record re-hashed, the index checked against the WARC files, bad records named
with the claims they back. The real CLI runs on a real archive of the test site, then on damaged copies;
every damaged WARC is read back with warcio too."""
from __future__ import annotations

import itertools
import json
import shutil
import struct
import zlib
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive import ids
from tests.helpers import citevault, db, read_records, warc_files, warcio_check
from tests.test_reindex import _member_ends

if TYPE_CHECKING:
    from tests.conftest import CrawledArchive

DATA = Path(__file__).parent / "data" / "warcs"


@pytest.fixture(scope="module")
def archived(crawled_archive: CrawledArchive) -> dict[str, Any]:
    """The session's crawled archive (tests/archives.py ``build_archive``), read-only: damage a copy."""
    return {"home": crawled_archive.home, "base": crawled_archive.base}


def _copy(archived: dict[str, Any], tmp_path: Path) -> Path:
    home = tmp_path / "copy"
    shutil.copytree(archived["home"], home)
    return home


def rewrite_member(path: Path, offset: int, length: int) -> None:
    """Flip a bit of a payload byte near the end of the record in the gzip member at ``offset`` and
    recompress the member in place at the same length (a gzip FEXTRA field pads it), so no other record
    moves."""
    data = path.read_bytes()
    raw = zlib.decompress(data[offset:offset + length], 31)
    assert raw.endswith(b"\r\n\r\n")
    tries = itertools.product(range(5, 200), (1, 2, 4, 8, 16, 32, 64), (9, 6, 8, 7, 5, 4, 3, 2, 1), (8, 9))
    for back, mask, level, memlevel in tries:  # the last payload byte first, then the ones before it
        changed = raw[:-back] + bytes([raw[-back] ^ mask]) + raw[-back + 1:]
        co = zlib.compressobj(level, zlib.DEFLATED, -15, memlevel)
        deflated = co.compress(changed) + co.flush()
        trailer = struct.pack("<II", zlib.crc32(changed), len(changed) & 0xFFFFFFFF)
        spare = length - (10 + len(deflated) + 8)
        if spare == 0:
            member = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + deflated + trailer
        elif spare >= 2:
            member = (b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff" + struct.pack("<H", spare - 2)
                      + b"\x00" * (spare - 2) + deflated + trailer)
        else:
            continue
        assert len(member) == length
        path.write_bytes(data[:offset] + member + data[offset + length:])
        return
    raise AssertionError("no recompression of the changed record fits the original member length")


def _citing(home: Path, url: str) -> list[str]:
    rows = db(home).execute("SELECT claim_id FROM citations WHERE source_id = ?", (ids.source_id(url),))
    return sorted((r[0] for r in rows), key=lambda c: (c.rsplit(".", 1)[0], int(c.rsplit(".", 1)[1])))


def test_healthy_archive_exits_zero_with_one_line(archived: dict[str, Any]) -> None:
    home = archived["home"]
    result = citevault(home, "verify")
    assert result.code == 0, result
    assert result.out.count("\n") == 1 and "all digests match" in result.out, result
    report = citevault(home, "verify", "--json").json()
    total = sum(len(read_records(f)) for f in warc_files(home))
    assert report == {"ok": True, "records": total, "problems": []}


def test_verdict_records_are_checked_not_indexed(archived: dict[str, Any], tmp_path: Path) -> None:
    """A source's verdict (robots.txt refused it: not derivable from a capture) is an ordinary record with
    digests; a damaged one is named, with the claims of its source."""
    home = _copy(archived, tmp_path)
    verdicts = [(f, r) for f in warc_files(home) for r in read_records(f)
                if r["headers"].get("Citevault-Record") == "source-state"]
    assert verdicts, "the fixture has no verdict record"
    path, record = verdicts[0]
    sid = record["headers"]["Citevault-Source-ID"]
    assert json.loads(record["body"])["source_id"] == sid
    ends = _member_ends(path)
    length = ends[[0, *ends].index(record["offset"])] - record["offset"]  # its gzip member
    rewrite_member(path, record["offset"], length)
    report = citevault(home, "verify", "--json").json()
    assert [(p["file"], p["offset"]) for p in report["problems"]] == [(path.name, record["offset"])], report
    assert "block digest mismatch" in report["problems"][0]["problem"]
    citing = sorted(r[0] for r in db(home).execute("SELECT claim_id FROM citations WHERE source_id = ?", (sid,)))
    assert sorted(report["problems"][0]["claims"]) == citing and citing


def test_flipped_payload_byte_names_file_offset_record_and_claims(archived: dict[str, Any], tmp_path: Path) -> None:
    home = _copy(archived, tmp_path)
    target = f"{archived['base']}/articles/target.html"
    row = db(home).execute(
        "SELECT warc_file, warc_offset, warc_length, warc_record_id FROM captures "
        "WHERE source_id = ? AND record_type = 'response'", (ids.source_id(target),)).fetchone()
    path = home / "warcs" / row["warc_file"]
    rewrite_member(path, row["warc_offset"], row["warc_length"])
    check = warcio_check(path)  # the reference tool sees the same bad record
    assert check.returncode != 0 and row["warc_record_id"] in check.stdout, check.stdout
    result = citevault(home, "verify", "--json")
    assert result.code == 1, result
    report = result.json()
    assert report["ok"] is False
    assert [(p["file"], p["offset"], p["record_id"]) for p in report["problems"]] == [
        (row["warc_file"], row["warc_offset"], row["warc_record_id"])]
    problem = report["problems"][0]
    assert "payload digest mismatch" in problem["problem"] and "block digest mismatch" in problem["problem"]
    assert "SHA-256" in problem["problem"]
    claims = _citing(home, target)
    assert claims and problem["claims"] == claims
    human = citevault(home, "verify")
    assert human.code == 1 and "Traceback" not in human.err, human
    line = f"{row['warc_file']}@{row['warc_offset']}  {row['warc_record_id']}"
    assert line in human.out and claims[0] in human.out, human
    assert "1 bad record of" in human.err


def test_truncated_last_record_is_a_problem_not_a_crash(archived: dict[str, Any], tmp_path: Path) -> None:
    home = _copy(archived, tmp_path)
    victim = max(warc_files(home), key=lambda p: p.stat().st_size)
    ends = _member_ends(victim)
    with victim.open("r+b") as fh:
        fh.truncate(ends[-1] - 7)  # the gzip trailer and a little deflate data gone
    with victim.open("rb") as fh:  # warcio still reads the records before it
        assert sum(1 for _ in ArchiveIterator(fh)) >= len(ends) - 1
    result = citevault(home, "verify", "--json")
    assert result.code == 1 and "Traceback" not in result.err, result
    problems = result.json()["problems"]
    assert [(p["file"], p["offset"]) for p in problems] == [(victim.name, ends[-2])]
    assert "truncated" in problems[0]["problem"]


def test_index_checked_against_the_files(archived: dict[str, Any], tmp_path: Path) -> None:
    home = _copy(archived, tmp_path)
    conn = db(home)
    changed, dropped = conn.execute(
        "SELECT id, warc_file, warc_offset, warc_record_id FROM captures WHERE record_type = 'response' "
        "AND source_id IS NOT NULL ORDER BY warc_file, warc_offset LIMIT 2").fetchall()
    conn.execute("UPDATE captures SET payload_sha256 = ? WHERE id = ?", ("0" * 64, changed["id"]))
    conn.execute("DELETE FROM captures WHERE id = ?", (dropped["id"],))
    conn.execute("INSERT INTO captures SELECT 'ghost', source_id, document_id, crawl_id, record_type, url, urlkey, "
                 "timestamp, fetched_at, http_status, mime, content_type, payload_digest, payload_sha256, "
                 "payload_length, redirect_to, 'citevault-gone.warc.gz', 7, warc_length, '<urn:uuid:ghost>', "
                 "refers_to, error, role FROM captures WHERE id = ?", (changed["id"],))
    conn.commit()
    report = citevault(home, "verify", "--json").json()
    found = {(p["file"], p["offset"]): p["problem"] for p in report["problems"]}
    assert "SHA-256 differs" in found[(changed["warc_file"], changed["warc_offset"])]
    assert "not in the index" in found[(dropped["warc_file"], dropped["warc_offset"])]
    assert "missing" in found[("citevault-gone.warc.gz", 7)]
    assert len(found) == 3, report


# -- small checked-in bad WARCs (tests/data/warcs), no index: the files alone are checked -----------------
MOMENT = datetime(2026, 11, 28, 5, 0, 0, tzinfo=timezone.utc)


def make_bad_warcs(directory: Path) -> dict[str, Path]:
    """How the checked-in bad WARCs were made (``python -m tests.test_verify`` writes them again): three
    response/request pairs each; in ``citevault-bad-digest.warc.gz`` the second response's last payload byte
    is flipped (same member length), ``citevault-truncated.warc.gz`` lacks its last 30 bytes."""
    from archive.warc.builder import HttpExchange, RecordFactory, citevault_fields
    from archive.warc.store import WarcStore

    directory.mkdir(parents=True, exist_ok=True)
    counter = itertools.count(1)
    factory = RecordFactory(lambda: f"<urn:uuid:00000000-0000-4000-8000-{next(counter):012d}>")
    out = {}
    for name in ("bad-digest", "truncated"):
        store = WarcStore(directory, factory=factory, clock=lambda: MOMENT)
        store.hostname = "test"
        for n in range(3):
            body = f"<html><p>page {n}</p></html>".encode()
            ex = HttpExchange(url=f"http://127.0.0.1:8000/p/{n}.html", status=200, reason="OK",
                              protocol="HTTP/1.1", response_headers=[("Content-Type", "text/html")], body=body,
                              ip_address="127.0.0.1", fetched_at=MOMENT)
            fields = citevault_fields(ex.url, None, "c" * 32)
            response, request = factory.exchange(ex, extra=fields)
            store.write_group([response.record, request.record])
        store.close()
        path = directory / store.closed_files[0]
        final = directory / f"citevault-{name}.warc.gz"
        path.replace(final)
        out[name] = final
    ends = _member_ends(out["bad-digest"])
    rewrite_member(out["bad-digest"], ends[2], ends[3] - ends[2])  # the second response
    data = out["truncated"].read_bytes()
    out["truncated"].write_bytes(data[: len(data) - 30])
    return out


def test_verify_without_index_checks_the_files(tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(DATA, home / "warcs")
    with (home / "warcs" / "citevault-bad-digest.warc.gz").open("rb") as fh:
        records = list(ArchiveIterator(fh, check_digests=True))  # warcio reads it; its digests say bad
    assert len(records) == 7
    check = warcio_check(home / "warcs" / "citevault-bad-digest.warc.gz")
    assert check.returncode != 0 and "00000000-0000-4000-8000-000000000004" in check.stdout, check.stdout
    result = citevault(home, "verify", "--json")
    assert result.code == 1 and "Traceback" not in result.err, result
    problems = result.json()["problems"]
    ends = _member_ends(home / "warcs" / "citevault-bad-digest.warc.gz")
    assert [(p["file"], p["offset"], p["record_id"]) for p in problems] == [
        ("citevault-bad-digest.warc.gz", ends[2], "<urn:uuid:00000000-0000-4000-8000-000000000004>"),
        ("citevault-truncated.warc.gz", _member_ends_lenient(home / "warcs" / "citevault-truncated.warc.gz")[-1],
         None),
    ]
    assert not (home / "citevault.sqlite").exists()  # verify created no index


def _member_ends_lenient(path: Path) -> list[int]:
    """Start offsets of the whole members of a truncated file, and where the cut one starts (last)."""
    data = path.read_bytes()
    starts, pos = [], 0
    while pos < len(data):
        starts.append(pos)
        d = zlib.decompressobj(31)
        d.decompress(data[pos:])
        if not d.eof:
            break
        pos = len(data) - len(d.unused_data)
    return starts


def test_reindex_of_checked_in_bad_warcs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(DATA, home / "warcs")
    result = citevault(home, "reindex", "--json")
    assert result.code == 1 and "Traceback" not in result.err, result
    stats = json.loads(result.out)
    assert [p["file"] for p in stats["problems"]] == ["citevault-truncated.warc.gz"]
    assert stats["counts"]["captures"] == 6  # the truncated file lost its last request record only
    assert stats["counts"]["sources"] == 3


def test_parse_digest_accepts_base32_base16_base64() -> None:
    import base64
    import hashlib

    from archive.integrity.fixity import parse_digest

    raw = hashlib.sha1(b"x").digest()
    for text in ("sha1:" + base64.b32encode(raw).decode(), "SHA-1:" + raw.hex(), "sha1:" + base64.b64encode(raw).decode()):
        parsed = parse_digest(text)
        assert not isinstance(parsed, str) and parsed[1] == raw, text
    assert "unknown" in str(parse_digest("whirl:abc"))


if __name__ == "__main__":
    make_bad_warcs(DATA)

"""WACZ export checked with the reference tools: ``wacz validate`` (py-wacz) accepts the packages, and the
CDXJ index we build from the index rows is the one ``cdxj-indexer`` writes for the same WARCs.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import db
from tests.web_fixtures import Evidence

# The `wacz` console script, run by this interpreter (`python -m wacz` drops the exit status).
WACZ = [sys.executable, "-c", "import sys; from wacz.main import main; sys.exit(main())"]


@pytest.fixture(scope="module")
def exported(evidence: Evidence, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from archive.api import Archive
    from archive.exports.wacz import write_wacz

    out = tmp_path_factory.mktemp("wacz")
    archive = Archive.open(str(evidence.home))
    whole = write_wacz(archive, out / "all.wacz")
    one = write_wacz(archive, out / "story.wacz", evidence.document_id)
    archive.close()
    return {"all": whole, "story": one, "dir": out}


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WACZ, "validate", "-f", str(path)], capture_output=True, text=True, timeout=120)


def test_wacz_validate_accepts_both_packages(exported: dict[str, Any]) -> None:
    for name in ("all", "story"):
        check = validate(exported[name].path)
        assert check.returncode == 0 and "Validation succeeded" in check.stdout, check.stdout + check.stderr
        assert "Version detected as 1.1.1" in check.stdout


def test_wacz_validate_rejects_a_tampered_copy(exported: dict[str, Any]) -> None:
    """The validator is not a rubber stamp: one changed byte in the claims file fails the hash check."""
    bad = exported["dir"] / "tampered.wacz"
    with zipfile.ZipFile(exported["story"].path) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "citevault/claims.json":
                data = data.replace(b"euros", b"EUROS", 1)
            dst.writestr(info, data)
    check = validate(bad)
    assert check.returncode == 1 and "Validation failed" in check.stdout, check.stdout
    assert "claims.json" in check.stdout and "hash" in check.stdout


def test_layout_hashes_and_compression(exported: dict[str, Any], evidence: Evidence) -> None:
    path = exported["all"].path
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        package = json.loads(zf.read("datapackage.json"))
        assert package["wacz_version"] == "1.1.1" and package["profile"] == "data-package"
        assert package["software"].startswith("citevault ")
        listed = {r["path"]: r for r in package["resources"]}
        assert set(listed) == set(names) - {"datapackage.json", "datapackage-digest.json"}
        assert {"indexes/index.cdx", "pages/pages.jsonl", "citevault/claims.json"} <= set(listed)
        warcs = sorted(p.name for p in (evidence.home / "warcs").glob("*.warc.gz"))
        assert sorted(n.removeprefix("archive/") for n in listed if n.startswith("archive/")) == warcs
        for name, res in listed.items():
            data = zf.read(name)
            assert res["hash"] == "sha256:" + hashlib.sha256(data).hexdigest() and res["bytes"] == len(data), name
            if name.startswith("archive/"):
                assert zf.getinfo(name).compress_type == zipfile.ZIP_STORED, name
                assert data == (evidence.home / "warcs" / name.removeprefix("archive/")).read_bytes()
        digest = json.loads(zf.read("datapackage-digest.json"))
        assert digest == {"path": "datapackage.json",
                          "hash": "sha256:" + hashlib.sha256(zf.read("datapackage.json")).hexdigest()}
        assert len({r["name"] for r in package["resources"]}) == len(package["resources"])


def test_cdxj_matches_cdxj_indexer(exported: dict[str, Any], evidence: Evidence, tmp_path: Path) -> None:
    with zipfile.ZipFile(exported["all"].path) as zf:
        ours = zf.read("indexes/index.cdx").decode("utf-8").splitlines()
    warcs = sorted((evidence.home / "warcs").glob("*.warc.gz"))
    ref = subprocess.run([sys.executable, "-m", "cdxj_indexer.main", "--sort", *map(str, warcs)],
                         capture_output=True, text=True, timeout=120)
    if ref.returncode != 0 or not ref.stdout:  # older cdxj-indexer: the console script only
        exe = shutil.which("cdxj-indexer")
        assert exe, ref.stderr
        ref = subprocess.run([exe, "--sort", *map(str, warcs)], capture_output=True, text=True, timeout=120)
    theirs = ref.stdout.splitlines()
    # What the index does not hold as captures: each document's claims (a resource record the index is
    # built from, urn:citevault:document:…) and failed fetches (metadata records: nothing to replay).
    failures = {(r["warc_file"], str(r["warc_offset"])) for r in db(evidence.home).execute(
        "SELECT warc_file, warc_offset FROM captures WHERE record_type = 'metadata'")}

    def kept(line: str) -> bool:
        fields = json.loads(line.split(" ", 2)[2])
        return not line.startswith("urn:citevault:document:") and (fields["filename"], fields["offset"]) not in failures

    assert len(ours) == exported["all"].index_lines > 10
    assert ours == [line for line in theirs if kept(line)]
    assert ours == sorted(ours)
    assert any('"mime": "warc/revisit"' in line for line in ours)


def test_pages_and_claims(exported: dict[str, Any], evidence: Evidence) -> None:
    from wacz.util import validate_pages_jsonl_file

    from archive.api import Archive

    with zipfile.ZipFile(exported["story"].path) as zf:
        zf.extract("pages/pages.jsonl", exported["dir"] / "pages")
        claims = json.loads(zf.read("citevault/claims.json"))
        package = json.loads(zf.read("datapackage.json"))
    pages_file = exported["dir"] / "pages" / "pages" / "pages.jsonl"
    assert validate_pages_jsonl_file(str(pages_file))
    pages = [json.loads(line) for line in pages_file.read_text().splitlines()]
    assert pages[0] == {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
    urls = [p["url"] for p in pages[1:]]
    assert urls[0] == evidence.url("/story.html") and pages[1]["title"] == "Harbour barrier: what the evidence says"
    assert evidence.url("/evidence/report.html") in urls and evidence.url("/evidence/audit.pdf") in urls
    assert all(p["ts"].endswith("Z") for p in pages[1:])
    assert package["mainPageURL"] == evidence.url("/story.html")
    archive = Archive.open(str(evidence.home))
    expected = [archive.show(row["id"]) for row in archive.claims(evidence.document_id)]
    archive.close()
    assert claims == expected  # the claim JSON of `citevault show --json`, every claim of the document


def test_document_package_holds_only_the_files_of_its_captures(exported: dict[str, Any], evidence: Evidence) -> None:
    conn = db(evidence.home)
    notes_file = conn.execute("SELECT warc_file FROM captures WHERE document_id = ?", (evidence.notes_id,)).fetchone()[0]
    history_file = conn.execute("SELECT warc_file FROM captures WHERE timestamp = '20190501120000'").fetchone()[0]
    story = exported["story"]
    assert notes_file not in story.warc_files  # another document's WARC
    assert history_file in story.warc_files  # older captures of a source the story cites
    assert set(story.warc_files) < set(exported["all"].warc_files)
    assert story.claims == len(json.loads(zipfile.ZipFile(story.path).read("citevault/claims.json")))


def test_unknown_document_and_no_partial_file(evidence: Evidence, tmp_path: Path) -> None:
    from archive.api import Archive
    from archive.errors import NotFoundError
    from archive.exports.wacz import write_wacz

    archive = Archive.open(str(evidence.home))
    with pytest.raises(NotFoundError):
        write_wacz(archive, tmp_path / "x.wacz", "nope")
    archive.close()
    assert list(tmp_path.iterdir()) == []


def test_export_command_writes_a_valid_wacz(evidence: Evidence, tmp_path: Path) -> None:
    """Through the CLI: `citevault export --wacz` (Archive.export calls write_wacz)."""
    from tests.helpers import citevault

    out = tmp_path / "story.wacz"
    home = shutil.copytree(evidence.home, tmp_path / "home")  # signing makes the home's key: not in the shared one
    result = citevault(home, "export", "--wacz", str(out), evidence.document_id)
    assert result.code == 0, result
    check = validate(out)
    assert check.returncode == 0, check.stdout


def test_document_export_refuses_a_file_still_being_written(evidence: Evidence, tmp_path: Path) -> None:
    """A WARC file a crawl is still writing (``.open``) is never copied into a package half-written."""
    from tests.helpers import citevault

    home = tmp_path / "home"
    shutil.copytree(evidence.home, home)
    for warc in (home / "warcs").glob("*.warc.gz"):
        warc.rename(warc.with_name(warc.name + ".open"))
    out = tmp_path / "story.wacz"
    result = citevault(home, "export", "--wacz", str(out), evidence.document_id)
    assert result.code == 1, result
    assert "still being written by a crawl" in result.err and "Traceback" not in result.err, result
    assert not out.exists()

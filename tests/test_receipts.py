"""Receipts end to end: the real CLI in subprocesses over a copy of the evidence crawl, stamped by a real
RFC 3161 TSA (OpenSSL's ``ts -reply`` on 127.0.0.1, tests/tsa.py), then checked offline and tampered with."""
from __future__ import annotations

import base64
import gzip
import json
import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from tests.archives import Evidence, copy_evidence
from tests.helpers import CLI, citevault, db
from tests.tsa import LocalTsa, start_tsa

QUOTED = "es una inversión que los vecinos"


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTsa]:
    server = start_tsa(tmp_path_factory.mktemp("tsa"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def evidence(evidence_crawl: Evidence, tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    """A checked copy of the session's evidence crawl (verdicts and selectors in place)."""
    found = copy_evidence(evidence_crawl, tmp_path_factory.mktemp("receipts") / "home")
    assert citevault(found.home, "check").code == 0
    return found


@pytest.fixture(scope="module")
def issued(evidence: Evidence, tsa: LocalTsa, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    claim = evidence.claim_id(QUOTED)
    out = tmp_path_factory.mktemp("issued") / "claim.receipt.json"
    result = citevault(evidence.home, "receipt", claim, "-o", str(out), "--tsa", tsa.url, "--tsa-cert", str(tsa.ca))
    assert result.code == 0, result
    return {"claim": claim, "path": out, "receipt": json.loads(out.read_bytes())}


def copy_home(src: Path, dest: Path) -> Path:
    """A copy of a data home taken from a settled database: its WAL checkpointed into the main file first,
    so the copy never races a WAL file that a closing connection removes."""
    conn = sqlite3.connect(src / "citevault.sqlite")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return Path(shutil.copytree(src, dest, ignore=shutil.ignore_patterns("*.sqlite-wal", "*.sqlite-shm")))


def verify(home: Path | None, path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``citevault receipt --verify`` with no TSA reachable: CITEVAULT_TSA points at a closed port."""
    env = {**os.environ, "CITEVAULT_TSA": "http://127.0.0.1:9/", "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    home_args = ["--home", str(home)] if home is not None else []
    return subprocess.run([*CLI, "receipt", "--verify", str(path), *home_args, *args], capture_output=True,
                          text=True, timeout=120, env=env, check=False)


def test_receipt_holds_the_claim_the_quotation_and_the_records(issued: dict[str, Any], evidence: Evidence) -> None:
    data = issued["path"].read_bytes()
    receipt = issued["receipt"]
    assert data.rstrip(b"\n") == rfc8785.dumps(receipt)  # written as RFC 8785 canonical JSON
    body = receipt["body"]
    assert body["claim"]["id"] == issued["claim"] and QUOTED in body["claim"]["text"]
    assert body["document"]["id"] == evidence.claim_list
    quotation = body["quotation"]
    assert quotation["verdict"] == "found" and quotation["selector"]["type"] == "TextQuoteSelector"
    assert "una inversión que los vecinos" in quotation["selector"]["exact"]
    (source,) = body["sources"]
    record = source["capture"]["record"]
    row = db(evidence.home).execute("SELECT * FROM captures WHERE id = ?", (source["capture"]["capture_id"],)).fetchone()
    assert (record["warc_file"], record["warc_offset"], record["warc_record_id"]) == (
        row["warc_file"], row["warc_offset"], row["warc_record_id"])
    assert record["warc_payload_digest"] == row["payload_digest"] and record["payload_sha256"] == row["payload_sha256"]
    assert record["warc_block_digest"].startswith("sha1:") and record["warc_date"].startswith("20")
    assert receipt["trusted_time"] is True and len(receipt["timestamps"]) == 1
    stamp = receipt["timestamps"][0]
    assert stamp["tsa"].startswith("http://127.0.0.1:") and len(stamp["certificates"]) == 2  # TSA + its CA
    # the home keeps its copy; the key is owner-only and `citevault key` prints it
    assert (evidence.home / "receipts" / f"{issued['claim']}.receipt.json").read_bytes() == data.rstrip(b"\n")
    key_file = evidence.home / "keys" / "receipts-ed25519.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((evidence.home / "keys").stat().st_mode) == 0o700
    keys = citevault(evidence.home, "key", "--json")
    assert keys.code == 0 and keys.json()["receipts"] == body["signer"]["public_key"], keys


def test_verify_offline_passes_every_check(issued: dict[str, Any], evidence: Evidence, tsa: LocalTsa) -> None:
    before = tsa.requests
    check = verify(evidence.home, issued["path"])
    assert check.returncode == 0, check.stdout + check.stderr
    lines = check.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["ok"] * len(lines), check.stdout
    names = [line.split(":")[0].split(None, 1)[1] for line in lines]
    assert names[:3] == ["signature", "signer", "timestamp"] and names[3].startswith("record "), names
    assert tsa.requests == before  # nothing asked of the TSA
    # the user's own anchor: the TSA's CA named on the command line
    named = verify(evidence.home, issued["path"], "--tsa-cert", str(tsa.ca))
    assert named.returncode == 0 and "checked against the TSA certificate named" in named.stdout, named.stdout


def test_verify_in_a_network_namespace(issued: dict[str, Any], evidence: Evidence) -> None:
    """No network at all (``unshare --net``: not even loopback is up)."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "--net", "true"], check=False).returncode != 0:
        pytest.skip("unshare --net is not permitted here")
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    check = subprocess.run(["unshare", "--net", *CLI, "receipt", "--verify", str(issued["path"]), "--home",
                            str(evidence.home)], capture_output=True, text=True, timeout=120, env=env, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def _fails(check: subprocess.CompletedProcess[str], name: str, words: str) -> None:
    assert check.returncode == 1, check.stdout + check.stderr
    assert "Traceback" not in check.stderr and len(check.stderr.strip().splitlines()) == 1, check.stderr
    assert f"failed: {name}" in check.stderr, check.stderr
    bad = [line for line in check.stdout.splitlines() if line.startswith("FAIL")]
    assert len(bad) == 1 and words in bad[0], check.stdout


def test_one_byte_of_the_claim_text_changed(issued: dict[str, Any], evidence: Evidence, tmp_path: Path) -> None:
    data = issued["path"].read_bytes()
    tampered = tmp_path / "claim-text.json"
    tampered.write_bytes(data.replace(b"vecinos", b"vecinas", 1))
    assert tampered.read_bytes() != data
    _fails(verify(evidence.home, tampered), "signature", "does not match the receipt's contents")


def test_one_byte_of_the_archived_payload_changed(issued: dict[str, Any], evidence: Evidence, tmp_path: Path) -> None:
    home = copy_home(evidence.home, tmp_path / "home")
    record = issued["receipt"]["body"]["sources"][0]["capture"]["record"]
    path = home / "warcs" / record["warc_file"]
    raw = path.read_bytes()
    start, end = record["warc_offset"], record["warc_offset"] + record["warc_length"]
    member = bytearray(gzip.decompress(raw[start:end]))
    at = member.rindex(b"vecinos")  # inside the payload (the record ends in the body and CRLF CRLF)
    member[at] ^= 0x01
    path.write_bytes(raw[:start] + gzip.compress(bytes(member)) + raw[end:])
    _fails(verify(home, issued["path"]), f"record {record['warc_file']}@{start}", "payload digest mismatch")


def test_timestamp_token_swapped(issued: dict[str, Any], evidence: Evidence, tsa: LocalTsa, tmp_path: Path) -> None:
    other = citevault(evidence.home, "receipt", evidence.claim_id("no aguantaran otro año"), "-o",
                      str(tmp_path / "other.json"), "--tsa", tsa.url, "--tsa-cert", str(tsa.ca))
    assert other.code == 0, other
    receipt = dict(issued["receipt"])
    receipt["timestamps"] = json.loads((tmp_path / "other.json").read_bytes())["timestamps"]
    swapped = tmp_path / "swapped.json"
    swapped.write_bytes(rfc8785.dumps(receipt))
    _fails(verify(evidence.home, swapped), "timestamp", "stamps something else")


def test_another_data_homes_key(issued: dict[str, Any], evidence: Evidence, tmp_path: Path) -> None:
    """The receipt re-signed (claim text edited) by another home's key: valid in itself, not this home's."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from archive.receipts.sign import sign_body, signer

    key = ed25519.Ed25519PrivateKey.generate()
    receipt = json.loads(json.dumps(issued["receipt"]))
    receipt["body"]["claim"]["text"] = receipt["body"]["claim"]["text"].replace("vecinos", "turistas")
    receipt["body"]["signer"] = signer(key)
    receipt["signature"] = base64.b64encode(sign_body(receipt["body"], key)).decode("ascii")
    receipt["timestamps"] = []
    forged = tmp_path / "forged.json"
    forged.write_bytes(rfc8785.dumps(receipt))
    _fails(verify(evidence.home, forged), "signer", "another data home signed it")


def test_without_a_tsa_the_receipt_says_it_has_no_trusted_time(evidence: Evidence, tmp_path: Path) -> None:
    out = tmp_path / "untimed.json"
    result = citevault(evidence.home, "receipt", evidence.claim_id(QUOTED), "-o", str(out))
    assert result.code == 0 and "no trusted time" in result.err, result
    receipt = json.loads(out.read_bytes())
    assert receipt["trusted_time"] is False and receipt["timestamps"] == [] and "no RFC 3161" in receipt["time_note"]
    check = verify(evidence.home, out)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "skip  timestamp: no trusted time" in check.stdout


def test_an_unreachable_tsa_is_named_and_the_receipt_still_signed(evidence: Evidence, tmp_path: Path) -> None:
    out = tmp_path / "unreached.json"
    result = citevault(evidence.home, "receipt", evidence.claim_id(QUOTED), "-o", str(out), "--tsa", "http://127.0.0.1:9/")
    assert result.code == 0 and "TSA http://127.0.0.1:9/ could not be reached" in result.err, result
    assert json.loads(out.read_bytes())["trusted_time"] is False


def test_several_tsas_from_the_environment(evidence: Evidence, tsa: LocalTsa, tmp_path: Path) -> None:
    second = start_tsa(tmp_path / "tsa2", "second test")
    try:
        env = {"CITEVAULT_TSA": f"{tsa.url}, {second.url}",
               "CITEVAULT_TSA_CERT": os.pathsep.join([str(tsa.ca), str(second.ca)])}
        out = tmp_path / "two.json"
        result = citevault(evidence.home, "receipt", evidence.claim_id(QUOTED), "-o", str(out), env=env)
        assert result.code == 0, result
    finally:
        second.stop()
    receipt = json.loads(out.read_bytes())
    assert [s["tsa"] for s in receipt["timestamps"]] == [tsa.url, second.url]
    check = verify(evidence.home, out)
    assert check.returncode == 0 and "ok    timestamp 2:" in check.stdout, check.stdout


def test_receipts_of_a_document_in_one_pass(evidence: Evidence, tmp_path: Path) -> None:
    out = tmp_path / "batch"
    result = citevault(evidence.home, "receipt", "--document", evidence.article, "-o", str(out), "--json")
    assert result.code == 0, result
    written = result.json()
    sourced = db(evidence.home).execute(
        "SELECT COUNT(DISTINCT c.id) FROM claims c JOIN citations ci ON ci.claim_id = c.id WHERE c.document_id = ?",
        (evidence.article,)).fetchone()[0]
    assert len(written) == sourced and sorted(p.name for p in out.iterdir()) == sorted(
        Path(w["path"]).name for w in written)
    for w in written[:2]:
        assert verify(evidence.home, Path(w["path"])).returncode == 0


def test_bad_input_is_one_line(evidence: Evidence, tmp_path: Path) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    check = verify(evidence.home, junk)
    assert check.returncode == 1 and "is not a receipt" in check.stderr and "Traceback" not in check.stderr
    unknown = citevault(evidence.home, "receipt", "0000000000000000.9")
    assert unknown.code == 1 and "Traceback" not in unknown.err, unknown
    both = citevault(evidence.home, "receipt", "x", "--verify", str(junk))
    assert both.code == 2 and "one of CLAIM_ID" in both.err


def test_claim_page_offers_a_receipt_download(evidence: Evidence, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from archive.api import Archive
    from archive.web.app import create_app

    home = copy_home(evidence.home, tmp_path / "home")
    claim = evidence.claim_id(QUOTED)
    archive = Archive.open(str(home))
    with TestClient(create_app(archive)) as client:
        page = client.get(f"/claims/{claim}")
        assert page.status_code == 200 and f'href="/claims/{claim}/receipt"' in page.text
        got = client.get(f"/claims/{claim}/receipt")
        assert got.status_code == 200 and got.headers["content-type"] == "application/json"
        assert f'filename="{claim}.receipt.json"' in got.headers["content-disposition"]
        assert client.get("/claims/0000000000000000.99/receipt").status_code == 404
    archive.close()
    (tmp_path / "web.json").write_bytes(got.content)
    check = verify(home, tmp_path / "web.json")
    assert check.returncode == 0, check.stdout + check.stderr


def test_report_shows_each_receipts_state(issued: dict[str, Any], evidence: Evidence, tmp_path: Path) -> None:
    home = copy_home(evidence.home, tmp_path / "home")
    html = citevault(home, "report", evidence.claim_list, "--format", "html", "--no-check")
    assert html.code == 0, html
    section = html.out.split(f'id="claim-{issued["claim"]}"')[1].split("</section>")[0]
    assert 'class="badge verified">verified</span>' in section, section
    stored = home / "receipts" / f"{issued['claim']}.receipt.json"
    stored.write_bytes(stored.read_bytes().replace(b"vecinos", b"vecinas", 1))
    report = citevault(home, "report", evidence.claim_list, "--format", "json", "--no-check")
    claims = {c["id"]: c for c in report.json()["claims"]}
    assert claims[issued["claim"]]["receipt"]["state"] == "failed"
    assert claims[issued["claim"]]["receipt"]["failed"][0].startswith("signature:")
    html = citevault(home, "report", evidence.claim_list, "--format", "html", "--no-check")
    assert 'class="badge receipt-failed">failed</span> signature:' in html.out
    markdown = citevault(home, "report", evidence.claim_list, "--no-check")
    assert "**failed**: signature:" in markdown.out, markdown.out


def test_crawl_writes_receipts_when_asked(evidence_site: tuple[str, Path], tsa: LocalTsa, tmp_path: Path) -> None:
    """``-s CITEVAULT_RECEIPTS=True``: one receipt per claim whose sources the crawl fetched, stamped by the
    TSA the settings name; off by default."""
    base, _ = evidence_site
    claims = tmp_path / "claims.jsonl"
    claims.write_text(
        json.dumps({"text": "The market reform was long awaited.", "sources": [f"{base}/meta-charset/mercado.html"]})
        + "\n" + json.dumps({"text": "Nothing cited here."}) + "\n", encoding="utf-8")
    home = tmp_path / "home"
    assert citevault(home, "add", str(claims)).code == 0
    crawled = citevault(home, "crawl", "-s", "CITEVAULT_RECEIPTS=True", "-s", f"CITEVAULT_TSA={tsa.url}",
                        "-s", f"CITEVAULT_TSA_CERT={tsa.ca}")
    assert crawled.code == 0 and "wrote 1 receipts" in crawled.err, crawled
    (written,) = (home / "receipts").iterdir()
    receipt = json.loads(written.read_bytes())
    assert receipt["trusted_time"] is True and receipt["body"]["sources"][0]["capture"]["http_status"] == 200
    assert verify(home, written).returncode == 0
    # off by default
    other = tmp_path / "other"
    assert citevault(other, "add", str(claims)).code == 0
    assert citevault(other, "crawl").code == 0 and not (other / "receipts").exists()


def test_a_home_that_never_signed_fails_the_signer_check(issued: dict[str, Any], tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "warcs").mkdir(parents=True)
    check = verify(empty, issued["path"])
    assert check.returncode == 1 and "failed: signer" in check.stderr, check.stdout + check.stderr
    key = citevault(tmp_path / "nowhere", "key")
    assert key.code == 1 and "no data home" in key.err and not (tmp_path / "nowhere").exists(), key


def test_a_stamp_carrying_only_the_tsa_certificate(issued: dict[str, Any], evidence: Evidence, tsa: LocalTsa,
                                                  tmp_path: Path) -> None:
    """No CA named when it was made: the stamp is checked against the TSA certificate it carries (OpenSSL's
    ``ts -verify -partial_chain``), or against the CA the user names; a swapped token fails either way."""
    out = tmp_path / "leaf-only.json"
    made = citevault(evidence.home, "receipt", evidence.claim_id(QUOTED), "-o", str(out), "--tsa", tsa.url)
    assert made.code == 0 and made.err.count("\n") == 1, made
    receipt = json.loads(out.read_bytes())
    assert len(receipt["timestamps"][0]["certificates"]) == 1
    alone = verify(evidence.home, out)
    assert alone.returncode == 0 and "ok    timestamp:" in alone.stdout, alone.stdout + alone.stderr
    named = verify(evidence.home, out, "--tsa-cert", str(tsa.ca))
    assert named.returncode == 0, named.stdout + named.stderr
    receipt["timestamps"] = [{**receipt["timestamps"][0], "token": issued["receipt"]["timestamps"][0]["token"]}]
    swapped = tmp_path / "leaf-swapped.json"
    swapped.write_bytes(rfc8785.dumps(receipt))
    _fails(verify(evidence.home, swapped), "timestamp", "stamps something else")


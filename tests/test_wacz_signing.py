"""Signed WACZ (the WACZ auth spec, anonymous mode): ``export --wacz`` signs with the data home's key and
stamps with a local RFC 3161 TSA (tests/tsa.py); ``wacz validate`` accepts the package; the signature is
checked by ``citevault receipt --verify`` and by WebCrypto in Node (the API ReplayWeb.page verifies with),
and one flipped byte fails the check."""
from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import citevault
from tests.test_receipts import copy_home
from tests.test_wacz import validate
from tests.tsa import LocalTsa, start_tsa
from tests.web_fixtures import Evidence

# What wabac.js (ReplayWeb.page) does with an anonymous signedData: import publicKey as ECDSA P-384 SPKI,
# verify signature (raw r||s) with ECDSA/SHA-256 over the UTF-8 hash string.
WEBCRYPTO_CHECK = """
const signed = JSON.parse(require("fs").readFileSync(0, "utf8")).signedData;
const b64 = (s) => Uint8Array.from(Buffer.from(s, "base64"));
(async () => {
  const key = await crypto.subtle.importKey("spki", b64(signed.publicKey), {name: "ECDSA", namedCurve: "P-384"},
                                            true, ["verify"]);
  const ok = await crypto.subtle.verify({name: "ECDSA", hash: "SHA-256"}, key, b64(signed.signature),
                                        new TextEncoder().encode(signed.hash));
  console.log(ok ? "valid" : "invalid");
  process.exit(ok ? 0 : 1);
})();
"""


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTsa]:
    server = start_tsa(tmp_path_factory.mktemp("wacz-tsa"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def signed(evidence: Evidence, tsa: LocalTsa, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("signed-wacz")
    home = copy_home(evidence.home, tmp / "home")  # the shared home stays without keys
    shutil.rmtree(home / "keys", ignore_errors=True)
    plain, stamped = tmp / "plain.wacz", tmp / "stamped.wacz"
    made = citevault(home, "export", "--wacz", str(plain), evidence.document_id)
    assert made.code == 0 and "signed with the data home's WACZ key (" in made.err, made
    made = citevault(home, "export", "--wacz", str(stamped), "--tsa", tsa.url, "--tsa-cert", str(tsa.ca))
    assert made.code == 0 and "signed with the data home's WACZ key and timestamped" in made.err, made
    return {"home": home, "plain": plain, "stamped": stamped, "dir": tmp}


def digest_of(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as zf:
        return dict(json.loads(zf.read("datapackage-digest.json")))


def test_signed_packages_validate(signed: dict[str, Any]) -> None:
    for name in ("plain", "stamped"):
        check = validate(signed[name])
        assert check.returncode == 0 and "Validation succeeded" in check.stdout, check.stdout + check.stderr
        assert "Has signature" in check.stdout  # py-wacz saw signedData (and its created matched)


def test_signed_data_is_the_anonymous_mode(signed: dict[str, Any]) -> None:
    digest = digest_of(signed["plain"])
    data = digest["signedData"]
    assert data["hash"] == digest["hash"] and data["version"] == "0.1.0" and data["software"].startswith("citevault")
    assert set(data) == {"hash", "created", "software", "version", "signature", "publicKey"}
    keys = citevault(signed["home"], "key", "--json")
    assert keys.code == 0 and keys.json()["wacz"] == data["publicKey"], keys
    stamped = digest_of(signed["stamped"])["signedData"]
    assert stamped["timeSignature"] and "BEGIN CERTIFICATE" in stamped["timestampCert"]


def test_citevault_checks_signature_and_timestamp_offline(signed: dict[str, Any], tsa: LocalTsa) -> None:
    before = tsa.requests
    for name, stamp in (("plain", "skip"), ("stamped", "ok")):
        check = citevault(signed["home"], "receipt", "--verify", str(signed[name]))
        assert check.code == 0, check
        lines = {line.split(":")[0].split(None, 1)[1]: line.split()[0] for line in check.out.splitlines()}
        assert lines == {"files": "ok", "datapackage": "ok", "signature": "ok", "signer": "ok", "timestamp": stamp}, check.out
    assert tsa.requests == before


def test_webcrypto_verifies_the_signature(signed: dict[str, Any]) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    with zipfile.ZipFile(signed["stamped"]) as zf:
        digest = zf.read("datapackage-digest.json")
    run = subprocess.run([node, "-e", WEBCRYPTO_CHECK], input=digest, capture_output=True, timeout=60, check=False)
    assert run.returncode == 0 and run.stdout.strip() == b"valid", run.stdout + run.stderr
    forged = json.loads(digest)
    forged["signedData"]["hash"] = forged["signedData"]["hash"][:-1] + ("0" if forged["hash"][-1] != "0" else "1")
    run = subprocess.run([node, "-e", WEBCRYPTO_CHECK], input=json.dumps(forged).encode(), capture_output=True, timeout=60, check=False)
    assert run.returncode == 1 and run.stdout.strip() == b"invalid"


def _rewrite(src: Path, dst: Path, name: str, change: Any) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info, change(data) if info.filename == name else data)


def test_a_flipped_byte_fails_the_signature_check(signed: dict[str, Any]) -> None:
    tmp: Path = signed["dir"]
    # one byte of a WARC inside the package (CRC and all rewritten, as a forger would)
    with zipfile.ZipFile(signed["stamped"]) as zf:
        warc = next(n for n in zf.namelist() if n.startswith("archive/"))
    flipped = tmp / "flipped-warc.wacz"
    _rewrite(signed["stamped"], flipped, warc, lambda d: d[:100] + bytes([d[100] ^ 1]) + d[101:])
    check = citevault(signed["home"], "receipt", "--verify", str(flipped))
    assert check.code == 1 and "failed: files" in check.err and "Traceback" not in check.err, check
    assert validate(flipped).returncode == 1
    # datapackage.json edited and its hash in datapackage-digest.json updated to match: the signature fails
    package_flip = tmp / "flipped-package.wacz"
    with zipfile.ZipFile(signed["stamped"]) as zf:
        package = zf.read("datapackage.json").replace(b"citevault", b"Citevault", 1)
        digest = json.loads(zf.read("datapackage-digest.json"))
    import hashlib

    digest["hash"] = "sha256:" + hashlib.sha256(package).hexdigest()
    with zipfile.ZipFile(signed["stamped"]) as zin, zipfile.ZipFile(package_flip, "w") as zout:
        for info in zin.infolist():
            data = {"datapackage.json": package, "datapackage-digest.json": json.dumps(digest).encode()}.get(
                info.filename, zin.read(info))
            zout.writestr(info, data)
    check = citevault(signed["home"], "receipt", "--verify", str(package_flip))
    assert check.code == 1 and "failed: signature" in check.err, check
    # a byte flipped in the stored bytes of the file itself (no rewriting of the ZIP): the CRC catches it
    raw = bytearray(signed["stamped"].read_bytes())
    raw[len(raw) // 2] ^= 0x01
    broken = tmp / "flipped-raw.wacz"
    broken.write_bytes(bytes(raw))
    check = citevault(signed["home"], "receipt", "--verify", str(broken))
    assert check.code == 1 and "failed: files" in check.err and "Traceback" not in check.err, check


def test_another_homes_key_is_named(signed: dict[str, Any], evidence: Evidence, tmp_path: Path) -> None:
    other = copy_home(evidence.home, tmp_path / "other")
    shutil.rmtree(other / "keys", ignore_errors=True)  # whatever the shared home holds: this one makes its own
    assert citevault(other, "key").code == 0
    check = citevault(other, "receipt", "--verify", str(signed["plain"]))
    assert check.code == 1 and "failed: signer" in check.err, check

"""Signing a WACZ package (the WACZ Signing and Verification spec 0.1.0, anonymous mode), and checking one.

``datapackage-digest.json`` gets a ``signedData`` object::

    {"hash": "sha256:…" (of datapackage.json), "created": (datapackage.json's own "created"),
     "software": "citevault …", "version": "0.1.0",
     "signature": base64 ECDSA P-384 / SHA-256 over the UTF-8 ``hash`` string, raw r||s (WebCrypto's form),
     "publicKey": base64 DER SubjectPublicKeyInfo of the data home's WACZ key,
     "timeSignature": base64 RFC 3161 TimeStampResp over the ``signature`` string (when a TSA is set),
     "timestampCert": PEM certificates of that TSA}

Why not a library: ``wacz-signing`` and ``authsign`` implement only the spec's other mode (a domain
certificate from Let's Encrypt), and ``wacz-signing`` pins ``cryptography<45`` (this project runs 45).
The anonymous mode is three fields; the one tool that checks it, ReplayWeb.page (wabac.js
``verifyWACZSignature``), imports ``publicKey`` as ECDSA P-384 SPKI and verifies ``signature`` with
WebCrypto's ECDSA/SHA-256 over ``hash``, which is what this module writes and :func:`check_wacz` checks.
The ``timeSignature``/``timestampCert`` pair is the spec's own (its signed-timestamp mode), added to the
anonymous signature as webrecorder/specs#142 proposes.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from archive import __version__
from archive.errors import InputError

if TYPE_CHECKING:
    from cryptography import x509

    from archive.home import DataHome
    from archive.receipts.verify import Check

SPEC_VERSION = "0.1.0"
_SIDE = 48  # bytes of r and of s on P-384
CHUNK = 1 << 20

Signer = Callable[[str, str], dict[str, Any]]


def signer(home: DataHome, tsa: Sequence[str] = (), chain: Sequence[x509.Certificate] = ()) -> Signer:
    """A function (hash, created) -> ``signedData``, with the home's WACZ key (made on first use) and,
    when ``tsa`` names TSAs, the first stamp that one of them gives."""
    from archive.receipts.keys import spki_b64, wacz_key

    key = wacz_key(home)

    def sign(digest: str, created: str) -> dict[str, Any]:
        r, s = decode_dss_signature(key.sign(digest.encode("utf-8"), ec.ECDSA(hashes.SHA256())))
        signature = base64.b64encode(r.to_bytes(_SIDE, "big") + s.to_bytes(_SIDE, "big")).decode("ascii")
        signed: dict[str, Any] = {"hash": digest, "created": created, "software": f"citevault {__version__}",
                                  "version": SPEC_VERSION, "signature": signature,
                                  "publicKey": spki_b64(key.public_key())}
        if tsa:
            from archive.errors import StoreError
            from archive.receipts.timestamp import stamp_all

            stamps, problems = stamp_all(tsa, signature.encode("ascii"), chain)
            if not stamps:
                raise StoreError("no TSA stamped the WACZ signature: " + "; ".join(problems))
            signed["timeSignature"] = stamps[0].token
            signed["timestampCert"] = "".join(stamps[0].certificates)
        return signed

    return sign


def check_wacz(path: Path, trusted: list[x509.Certificate] | None = None,
               expected_key: str | None = None) -> list[Check]:
    """Check a signed WACZ offline: every file against ``datapackage.json``, that file against
    ``datapackage-digest.json``, the anonymous signature (and, given ``expected_key``, the base64 SPKI of
    a home's WACZ key, that it signed), and its timestamp when it has one."""
    from archive.receipts.verify import Check

    out: list[Check] = []
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path} is not a WACZ file ({exc})") from None
    with zf:
        try:
            package_bytes = zf.read("datapackage.json")
            digest = json.loads(zf.read("datapackage-digest.json"))
            package = json.loads(package_bytes)
        except (KeyError, ValueError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise InputError(f"{path} is not a WACZ package: {exc}") from None
        bad = [r["path"] for r in package.get("resources", []) if _entry_hash(zf, r["path"]) != r.get("hash")]
    out.append(Check("files", "FAIL" if bad else "ok",
                     f"{', '.join(bad)} differ from datapackage.json" if bad
                     else f"{len(package.get('resources', []))} files match datapackage.json"))
    want = "sha256:" + hashlib.sha256(package_bytes).hexdigest()
    out.append(Check("datapackage", "ok" if digest.get("hash") == want else "FAIL",
                     "datapackage.json matches datapackage-digest.json" if digest.get("hash") == want
                     else "datapackage.json differs from the hash in datapackage-digest.json"))
    signed = digest.get("signedData")
    if not isinstance(signed, dict):
        out.append(Check("signature", "FAIL", "the package is not signed (no signedData)"))
        return out
    out.append(_signature_check(signed, want))
    if expected_key is not None:
        same = signed.get("publicKey") == expected_key
        out.append(Check("signer", "ok" if same else "FAIL",
                         "signed by the data home's WACZ key" if same else "signed by another key than the data "
                         "home's WACZ key (`citevault key` prints it)"))
    if signed.get("created") != package.get("created"):
        out.append(Check("created", "FAIL", "signedData.created differs from datapackage.json's created"))
    if signed.get("timeSignature"):
        from archive.receipts.timestamp import check_stamp

        stamp = {"token": signed["timeSignature"], "certificates": _split_pem(str(signed.get("timestampCert") or ""))}
        problem, when = check_stamp(stamp, str(signed.get("signature", "")).encode("ascii"), trusted)
        out.append(Check("timestamp", "FAIL" if problem else "ok", problem or f"{when}, over the signature"))
    else:
        out.append(Check("timestamp", "skip", "no RFC 3161 timestamp (no TSA was set when it was exported)"))
    return out


def _entry_hash(zf: zipfile.ZipFile, name: str) -> str | None:
    try:
        sha = hashlib.sha256()
        with zf.open(name) as fh:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                sha.update(chunk)
        return "sha256:" + sha.hexdigest()
    except (KeyError, zipfile.BadZipFile, OSError, zlib.error, EOFError):  # a flipped byte in a stored entry fails its CRC
        return None


def _split_pem(pems: str) -> list[str]:
    marker = "-----END CERTIFICATE-----"
    return [p.strip() + "\n" + marker + "\n" for p in pems.split(marker) if p.strip()]


def _signature_check(signed: dict[str, Any], want: str) -> Check:
    from archive.receipts.verify import Check

    if signed.get("hash") != want:
        return Check("signature", "FAIL", "signedData.hash is not datapackage.json's hash")
    try:
        public = serialization.load_der_public_key(base64.b64decode(signed["publicKey"], validate=True))
        raw = base64.b64decode(signed["signature"], validate=True)
    except (KeyError, ValueError, binascii.Error, TypeError):
        return Check("signature", "FAIL", "signedData's publicKey or signature is malformed")
    if not isinstance(public, ec.EllipticCurvePublicKey) or len(raw) != 2 * _SIDE:
        return Check("signature", "FAIL", "not an ECDSA P-384 anonymous signature")
    der = encode_dss_signature(int.from_bytes(raw[:_SIDE], "big"), int.from_bytes(raw[_SIDE:], "big"))
    try:
        public.verify(der, str(signed["hash"]).encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return Check("signature", "FAIL", "the signature does not match datapackage.json's hash")
    return Check("signature", "ok", "ECDSA P-384 over datapackage.json's hash (anonymous mode), publicKey "
                                    + str(signed["publicKey"]))

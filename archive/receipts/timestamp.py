"""RFC 3161 trusted time over a signature: requests to Time-Stamp Authorities, and offline checks.

A stamp is kept as the TSA's whole ``TimeStampResp`` (DER, base64) with the certificates it came with
(PEM), so a receipt can be checked years later with no network: against those certificates, or against
a TSA certificate the user names (the stronger check: the receipt cannot bring its own trust anchor).

The TSA URLs are a setting: ``--tsa URL`` (repeatable), else ``CITEVAULT_TSA`` (URLs separated by spaces
or commas). Several TSAs give several independent stamps; one that fails is reported, not fatal, as long
as another answered.
"""
from __future__ import annotations

import base64
import binascii
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from archive.errors import InputError, StoreError

TSA_ENV = "CITEVAULT_TSA"
TSA_CERT_ENV = "CITEVAULT_TSA_CERT"
TIMEOUT = 30
_MAX_REPLY = 1 << 20


def tsa_urls(given: Sequence[str] | None = None) -> list[str]:
    """The TSAs to ask: ``given`` when not empty, else ``CITEVAULT_TSA``.

    >>> tsa_urls(["https://a.example/tsr"])
    ['https://a.example/tsr']
    >>> os.environ["CITEVAULT_TSA"] = "https://a.example/tsr, https://b.example/tsr"
    >>> tsa_urls()
    ['https://a.example/tsr', 'https://b.example/tsr']
    >>> del os.environ["CITEVAULT_TSA"]
    """
    if given:
        urls = [u.strip() for u in given if u.strip()]
    else:
        urls = [u for u in os.environ.get(TSA_ENV, "").replace(",", " ").split() if u]
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise InputError(f"TSA URL {url!r} is not http(s): set --tsa or {TSA_ENV} to the TSA's address")
    return urls


@dataclass(frozen=True)
class Stamp:
    """One TSA's answer: the stamp as a receipt stores it."""

    tsa: str
    time: str  #: genTime, ISO-8601 UTC
    token: str  #: base64 DER TimeStampResp
    certificates: list[str]  #: PEM certificates the TSA sent (signer first, when it sent its chain)

    def as_json(self) -> dict[str, Any]:
        return {"tsa": self.tsa, "time": self.time, "token": self.token, "certificates": self.certificates}


def request_stamp(url: str, data: bytes, chain: Sequence[x509.Certificate] = ()) -> Stamp:
    """Ask the TSA at ``url`` to stamp ``data`` (SHA-256 imprint, a nonce, its certificate asked for);
    :class:`StoreError` naming the TSA when it cannot be reached or answers badly. ``chain``: the TSA's
    CA certificates (``--tsa-cert``), carried with the stamp and checked against it now."""
    from rfc3161_client import HashAlgorithm, PKIStatus, TimestampRequestBuilder, decode_timestamp_response

    request = TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256).build()
    post = urllib.request.Request(url, data=request.as_bytes(), method="POST",
                                  headers={"Content-Type": "application/timestamp-query"})
    try:
        with urllib.request.urlopen(post, timeout=TIMEOUT) as reply:  # the user's TSA URL (http or https, checked)
            body = reply.read(_MAX_REPLY)
    except (urllib.error.URLError, OSError) as exc:
        raise StoreError(f"TSA {url} could not be reached: {getattr(exc, 'reason', exc)}") from None
    try:
        response = decode_timestamp_response(body)
    except ValueError:
        raise StoreError(f"TSA {url} did not answer with an RFC 3161 time-stamp response") from None
    if PKIStatus(response.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise StoreError(f"TSA {url} refused the request (status {response.status})")
    if response.tst_info.nonce != request.nonce or response.tst_info.message_imprint.message != _sha256(data):
        raise StoreError(f"TSA {url} answered for another request (nonce or imprint differs)")
    sent = [x509.load_der_x509_certificate(der) for der in response.signed_data.certificates]
    certs = [c.public_bytes(Encoding.PEM).decode("ascii") for c in sent + [c for c in chain if c not in sent]]
    stamp = Stamp(url, _iso(response.tst_info.gen_time), base64.b64encode(body).decode("ascii"), _signer_first(certs))
    if chain:
        problem, _ = check_stamp(stamp.as_json(), data, list(chain))
        if problem:
            raise StoreError(f"TSA {url}: {problem}")
    return stamp


def _sha256(data: bytes) -> bytes:
    import hashlib

    return hashlib.sha256(data).digest()


def _iso(when: Any) -> str:
    return str(when.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _signer_first(pems: list[str]) -> list[str]:
    """Order certificates leaf first, then issuers (a set in the CMS structure has no order)."""
    certs = [x509.load_pem_x509_certificate(p.encode("ascii")) for p in pems]
    issuers = {c.issuer for c in certs if c.issuer != c.subject}
    leaves = [c for c in certs if c.subject not in issuers]
    rest = [c for c in certs if c not in leaves]
    return [c.public_bytes(Encoding.PEM).decode("ascii") for c in leaves + rest]


def stamp_all(urls: Sequence[str], data: bytes, chain: Sequence[x509.Certificate] = ()) -> tuple[list[Stamp], list[str]]:
    """Stamps from every TSA of ``urls`` that answered, and one line per TSA that did not."""
    stamps: list[Stamp] = []
    problems: list[str] = []
    for url in urls:
        try:
            stamp = request_stamp(url, data, chain)
        except StoreError as exc:
            problems.append(str(exc))
            continue
        stamps.append(stamp)
    return stamps, problems


def tsa_chain(given: Sequence[str] | None = None) -> list[x509.Certificate]:
    """The TSA CA certificates to carry with new stamps: the PEM files ``given`` (``--tsa-cert``), else
    ``CITEVAULT_TSA_CERT`` (paths separated by the OS path separator)."""
    names = list(given or []) or [p for p in os.environ.get(TSA_CERT_ENV, "").split(os.pathsep) if p]
    certs: list[x509.Certificate] = []
    for name in names:
        try:
            with open(name, "rb") as fh:
                certs += load_certificates(fh.read(), name)
        except OSError as exc:
            raise InputError(f"cannot read TSA certificate {name}: {exc.strerror}") from None
    return certs


def load_certificates(pem: bytes, where: str) -> list[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise InputError(f"{where} holds no PEM certificate") from None
    return certs


def check_stamp(stamp: dict[str, Any], data: bytes, trusted: list[x509.Certificate] | None) -> tuple[str | None, str]:
    """Check one stored stamp over ``data``, offline: (None, the stamped time) when it holds, else (why
    not, ""). ``trusted``: the TSA certificates the user named; without them the stamp's own certificates
    are the anchors (self-signed ones as roots), which shows the token is intact, not whom to trust."""
    from rfc3161_client import VerificationError, VerifierBuilder, decode_timestamp_response

    try:
        response = decode_timestamp_response(base64.b64decode(stamp["token"], validate=True))
        carried = [x509.load_pem_x509_certificate(p.encode("ascii")) for p in stamp.get("certificates") or []]
    except (KeyError, TypeError, ValueError, binascii.Error):
        return "the time-stamp token is malformed", ""
    if trusted:
        roots, others = trusted, carried
    else:
        roots = [c for c in carried if c.issuer == c.subject]
        others = [c for c in carried if c not in roots]
    if not roots and carried:  # the TSA sent its own certificate only: anchor the check there
        return _check_with_openssl(response, data, carried)
    if not roots:
        return ("the receipt carries no certificate for this TSA: name the TSA's CA certificate with "
                "--tsa-cert FILE"), ""
    builder = VerifierBuilder()
    for cert in roots:
        builder = builder.add_root_certificate(cert)
    for cert in others:
        builder = builder.add_intermediate_certificate(cert)
    try:
        builder.build().verify_message(response, data)
    except VerificationError as exc:
        text = str(exc)
        if "Mismatch between messages" in text:
            return "the token stamps something else, not this receipt's signature (swapped?)", ""
        if "certificates" in text.lower():
            return f"the token's signature does not chain to the TSA certificate ({text})", ""
        return f"the token does not verify ({text})", ""
    except ValueError as exc:
        return f"the token does not verify ({exc})", ""
    return None, _iso(response.tst_info.gen_time)


def _check_with_openssl(response: Any, data: bytes, carried: list[x509.Certificate]) -> tuple[str | None, str]:
    """Check a stamp against the TSA certificate it carries, taken as the anchor itself (a "partial
    chain"), which ``rfc3161-client`` cannot do: OpenSSL's ``ts -verify -partial_chain``, offline, with the
    certificates judged at the stamp's time (``-attime``)."""
    import calendar
    import shutil
    import subprocess
    import tempfile

    openssl = shutil.which("openssl")
    if openssl is None:
        return ("the receipt carries only the TSA's own certificate, and checking against it needs the "
                "`openssl` command: install it, or name the TSA's CA certificate with --tsa-cert FILE"), ""
    when = response.tst_info.gen_time
    with tempfile.TemporaryDirectory(prefix="citevault-ts-") as tmp:
        where = Path(tmp)
        (where / "resp.tsr").write_bytes(response.as_bytes())
        (where / "data").write_bytes(data)
        (where / "tsa.pem").write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in carried))
        done = subprocess.run(
            [openssl, "ts", "-verify", "-in", str(where / "resp.tsr"), "-data", str(where / "data"),
             "-CAfile", str(where / "tsa.pem"), "-partial_chain",
             "-attime", str(calendar.timegm(when.utctimetuple()))],
            capture_output=True, text=True, timeout=60, check=False)
    if done.returncode == 0:
        return None, _iso(when)
    if "imprint mismatch" in done.stderr:
        return "the token stamps something else, not this receipt's signature (swapped?)", ""
    reason = next((line.rsplit(":", 1)[-1] for line in done.stderr.splitlines() if ":error:" in line), "")
    return f"the token does not verify against the TSA certificate it carries ({reason or 'openssl ts -verify'})", ""

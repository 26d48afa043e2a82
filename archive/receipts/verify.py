"""Every check of a receipt, offline: the signature, the signer, each RFC 3161 stamp, and (with the WARC
files at hand) each record re-hashed. One :class:`Check` per line of ``citevault receipt --verify``."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from archive.errors import InputError, StoreError
from archive.receipts import RECEIPT_FORMAT
from archive.receipts.digests import RecordDigests, rehash
from archive.receipts.keys import existing_receipt_public_key, key_id, raw_public
from archive.receipts.sign import check_body
from archive.receipts.timestamp import check_stamp

if TYPE_CHECKING:
    from cryptography import x509

    from archive.home import DataHome
    from archive.shapes import ReceiptCheckJSON, ReceiptCheckLine

Status = Literal["ok", "skip", "FAIL"]
State = Literal["verified", "signed", "failed"]

#: how long before the receipt's own ``created`` a stamp may say it was made (clock skew)
SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class Check:
    name: str  #: signature, signer, timestamp 1, record FILE@OFFSET, ...
    status: Status
    detail: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.name}: {self.detail}"

    def as_json(self) -> ReceiptCheckLine:
        return {"check": self.name, "status": self.status, "detail": self.detail}


@dataclass
class ReceiptCheck:
    """The result of checking one receipt."""

    claim_id: str | None
    checks: list[Check] = field(default_factory=list)
    created: str | None = None  #: when the receipt says it was signed (the signer's clock)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "FAIL"]

    @property
    def state(self) -> State:
        """verified (all checks held, with trusted time) | signed (held, but no trusted time) | failed"""
        if self.failed:
            return "failed"
        stamped = any(c.name.startswith("timestamp") and c.status == "ok" for c in self.checks)
        return "verified" if stamped else "signed"

    def as_json(self) -> ReceiptCheckJSON:
        return {"claim_id": self.claim_id, "state": self.state, "created": self.created,
                "checks": [c.as_json() for c in self.checks]}

    def summary(self) -> dict[str, Any]:
        """What a report shows: the state, when it was signed, and the checks that failed (names and why)."""
        return {"state": self.state, "created": self.created,
                "failed": [f"{c.name}: {c.detail}" for c in self.failed]}


def load_receipt(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise InputError(f"{path}: no such receipt file") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not a receipt: not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != RECEIPT_FORMAT or not isinstance(data.get("body"), dict):
        raise InputError(f"{path} is not a citevault receipt (format {RECEIPT_FORMAT} expected)")
    return data


def check_receipt(receipt: dict[str, Any], *, home: DataHome | None = None, home_given: bool = False,
                  trusted: list[x509.Certificate] | None = None,
                  rehashed: dict[tuple[str, int], RecordDigests] | None = None) -> ReceiptCheck:
    """Check ``receipt``. ``home``: where the signer's key and the WARC files are looked for;
    ``home_given``: the user named it, so a WARC file missing there is a failure, not a skip.
    ``trusted``: TSA certificates the user named (else the ones the receipt carries). ``rehashed``: records
    already hashed in this run (a report checks many receipts citing the same records)."""
    body = receipt["body"]
    claim = body.get("claim") if isinstance(body.get("claim"), dict) else {}
    result = ReceiptCheck(claim.get("id"), created=str(body.get("created")) if body.get("created") else None)
    add = result.checks.append

    problem = check_body(body, receipt.get("signature") or "")
    signer_id = (body.get("signer") or {}).get("key_id") if isinstance(body.get("signer"), dict) else None
    if problem:
        add(Check("signature", "FAIL", problem))
    else:
        add(Check("signature", "ok", f"Ed25519 by key {signer_id} over the receipt's canonical JSON"))
    add(_signer_check(body, home, home_given))
    add_all = result.checks.extend
    add_all(_stamp_checks(receipt, body, trusted))
    add_all(_record_checks(body, home, home_given, {} if rehashed is None else rehashed))
    return result


def _signer_check(body: dict[str, Any], home: DataHome | None, home_given: bool = False) -> Check:
    who: dict[str, Any] = body["signer"] if isinstance(body.get("signer"), dict) else {}
    try:
        claimed = key_id(base64.b64decode(who.get("public_key") or "", validate=True))
    except (binascii.Error, ValueError):
        return Check("signer", "FAIL", "the receipt's public key is malformed")
    expected = existing_receipt_public_key(home) if home is not None else None
    if expected is None and home is not None and home_given:
        return Check("signer", "FAIL", f"signed by key {claimed}, but {home.root} has no receipts key: "
                                       "another data home signed it")
    if expected is None:
        where = f" ({home.root} has no key)" if home is not None else ""
        return Check("signer", "skip", f"key {claimed}; no data home's key to compare with{where}: "
                                       "name the signer's home with --home")
    mine = key_id(raw_public(expected))
    if claimed != mine:
        return Check("signer", "FAIL", f"signed by key {claimed}, not by {home.root}'s key {mine}"  # type: ignore[union-attr]
                                       " (another data home signed it)")
    return Check("signer", "ok", f"key {mine} is {home.root}'s key")  # type: ignore[union-attr]


def _stamp_checks(receipt: dict[str, Any], body: dict[str, Any],
                  trusted: list[x509.Certificate] | None) -> list[Check]:
    stamps = receipt.get("timestamps") or []
    if not stamps:
        return [Check("timestamp", "skip", "no trusted time: the receipt was not stamped by a TSA; "
                                           f"its time ({body.get('created')}) is the signer's own clock")]
    try:
        signature = base64.b64decode(receipt.get("signature") or "", validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    created = _parse_time(body.get("created"))
    anchor = "the TSA certificate named" if trusted else "the certificates the receipt carries"
    out = []
    for n, stamp in enumerate(stamps, 1):
        name = f"timestamp {n}" if len(stamps) > 1 else "timestamp"
        tsa = stamp.get("tsa") if isinstance(stamp, dict) else None
        problem, when = check_stamp(stamp, signature, trusted) if isinstance(stamp, dict) else ("malformed", "")
        if problem:
            out.append(Check(name, "FAIL", f"{tsa}: {problem}"))
            continue
        stamped = _parse_time(when)
        if created and stamped and stamped < created - SKEW:
            out.append(Check(name, "FAIL", f"{tsa}: stamped at {when}, before the receipt says it was made "
                                           f"({body.get('created')})"))
            continue
        out.append(Check(name, "ok", f"{when} by {tsa}, over the signature (checked against {anchor})"))
    return out


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None


def _records(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for source in body.get("sources") or []:
        cap = source.get("capture") if isinstance(source, dict) else None
        if not isinstance(cap, dict):
            continue
        for key in ("record", "original_record"):
            if isinstance(cap.get(key), dict):
                out.append((source.get("url") or "", cap[key]))
    return out


def _record_checks(body: dict[str, Any], home: DataHome | None, home_given: bool,
                   rehashed: dict[tuple[str, int], RecordDigests]) -> list[Check]:
    records = _records(body)
    if not records:
        return [Check("records", "skip", "the receipt names no WARC record (no source was fetched)")]
    out = []
    for url, rec in records:
        name = f"record {rec.get('warc_file')}@{rec.get('warc_offset')}"
        if home is None:
            out.append(Check(name, "skip", "no data home given: WARC files not at hand (use --home DIR)"))
            continue
        try:
            path = home.warc_path(str(rec.get("warc_file")))
        except StoreError as exc:
            out.append(Check(name, "FAIL", str(exc)))
            continue
        if not path.is_file():
            status: Status = "FAIL" if home_given else "skip"
            out.append(Check(name, status, f"{path} is not at hand"))
            continue
        where = (str(path), int(rec.get("warc_offset") or 0))
        try:
            found = rehashed.get(where)
            if found is None:
                found = rehashed[where] = rehash(path, where[1])
        except StoreError as exc:
            out.append(Check(name, "FAIL", str(exc)))
            continue
        wrong = list(found.problems)
        if found.record_id != rec.get("warc_record_id"):
            wrong.append(f"holds record {found.record_id}, not {rec.get('warc_record_id')}")
        for field_name, now in (("warc_block_digest", found.block_digest),
                                ("warc_payload_digest", found.payload_digest)):
            if rec.get(field_name) != now:
                wrong.append(f"{field_name} header is {now}, the receipt says {rec.get(field_name)}")
        if not wrong:  # the headers agree with the bytes: do the bytes agree with the receipt?
            for field_name, now in (("payload_sha256", found.payload_sha256), ("block_sha256", found.block_sha256)):
                if rec.get(field_name) != now:
                    wrong.append(f"{field_name} is {now}, the receipt says {rec.get(field_name)}")
        if wrong:
            out.append(Check(name, "FAIL", f"{url}: " + "; ".join(wrong)))
        else:
            out.append(Check(name, "ok", f"{url}: {found.record_id} re-hashed, block and payload digests match"))
    return out

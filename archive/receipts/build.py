"""The receipt of a claim: what it says, what backs it, signed and stamped.

Layout (docs/receipts.md)::

    {"format": "citevault-receipt/1",
     "body": {claim, document, quotation, sources[...each with its capture's record...], signer, created},
     "signature": base64 Ed25519 over RFC 8785 bytes of body,
     "timestamps": [{tsa, time, token, certificates}],   # RFC 3161, each over the signature's bytes
     "trusted_time": true | false}

The record fields are read from the WARC record itself (re-hashed as it streams), not copied from the
index: a receipt states what the files hold.
"""
from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from archive import __version__
from archive.clock import real_now
from archive.receipts import RECEIPT_FORMAT
from archive.receipts.digests import RecordDigests, rehash
from archive.receipts.keys import receipt_key
from archive.receipts.sign import sign_body, signer
from archive.receipts.timestamp import stamp_all

if TYPE_CHECKING:
    from cryptography import x509
    from sqlalchemy import Connection

    from archive.api import Archive
    from archive.shapes import CaptureJSON, ClaimJSON, Receipt, ReceiptCapture, ReceiptSource

NO_TRUSTED_TIME = ("no RFC 3161 timestamp: `created` is the signer's own clock; set --tsa or CITEVAULT_TSA "
                   "for trusted time")


def evidence_capture(captures: Sequence[CaptureJSON]) -> CaptureJSON | None:
    """The capture a source's evidence rests on: the latest one checked against the claim, else the latest
    successful fetch, else the latest attempt (a failure is evidence of absence)."""
    for pick in (lambda c: c.get("verification") is not None,
                 lambda c: c["http_status"] is not None and 200 <= c["http_status"] < 300,
                 lambda c: True):
        found = [c for c in captures if pick(c)]
        if found:
            return found[-1]
    return None


def _record(archive: Archive, row: Mapping[str, Any], rehashed: dict[tuple[str, int], RecordDigests]) -> dict[str, Any]:
    where = (row["warc_file"], row["warc_offset"])
    digests = rehashed.get(where)
    if digests is None:  # claims citing one source share its record: read it once per batch
        digests = rehashed[where] = rehash(archive.home.warc_path(row["warc_file"]), row["warc_offset"])
    return {
        "warc_file": row["warc_file"], "warc_offset": row["warc_offset"], "warc_length": digests.length,
        "warc_record_id": digests.record_id, "warc_date": digests.warc_date, "record_type": digests.record_type,
        "warc_block_digest": digests.block_digest, "warc_payload_digest": digests.payload_digest,
        "block_sha256": digests.block_sha256, "payload_sha256": digests.payload_sha256,
    }


def _capture(archive: Archive, cap: CaptureJSON, rehashed: dict[tuple[str, int], RecordDigests]) -> ReceiptCapture:
    row: dict[str, Any] = dict(archive.capture(cap["id"]))
    verification = cap.get("verification")
    out: dict[str, Any] = {
        "capture_id": cap["id"], "url": cap["url"], "fetched_at": cap["fetched_at"],
        "http_status": cap["http_status"], "error": cap["error"],
        "record": _record(archive, row, rehashed),
        "original_record": None,
        "verification": None,
    }
    if row.get("refers_to"):  # a revisit: the payload the claim was checked against is the original's
        out["original_record"] = _record(archive, archive.capture(row["refers_to"]), rehashed)
    if verification is not None:
        out["verification"] = {"method": verification["method"], "verdict": verification["verdict"],
                               "score": verification["score"], "heuristic": verification["heuristic"],
                               "selector": _quote_selector(verification)}
    return out  # type: ignore[return-value]


def _quote_selector(verification: Mapping[str, Any]) -> dict[str, Any] | None:
    for sel in verification.get("selector") or []:
        if sel.get("type") == "TextQuoteSelector":
            return dict(sel)
    return None


def receipt_body(archive: Archive, claim: ClaimJSON,
                 rehashed: dict[tuple[str, int], RecordDigests] | None = None) -> dict[str, Any]:
    """The part of a receipt that is signed. ``rehashed``: records already read in this batch."""
    rehashed = {} if rehashed is None else rehashed
    sources: list[ReceiptSource] = []
    quotation: dict[str, Any] = {"quote": claim["quote"], "selector": None, "verdict": None, "method": None,
                                 "capture_id": None}
    for source in claim["sources"]:
        cap = evidence_capture(source["captures"])
        made = _capture(archive, cap, rehashed) if cap is not None else None
        sources.append({"url": source["url"], "state": source["state"], "capture": made})
        checked = made["verification"] if made is not None else None
        if made is not None and checked is not None and quotation["verdict"] is None:
            # the first checked source speaks for the quotation
            quotation.update(selector=checked["selector"], verdict=checked["verdict"], method=checked["method"],
                             capture_id=made["capture_id"])
    return {
        "format": RECEIPT_FORMAT,
        "created": real_now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "software": f"citevault {__version__}",
        "claim": {"id": claim["id"], "text": claim["text"], "quote": claim["quote"]},
        "document": dict(claim["document"]),
        "quotation": quotation,
        "sources": sources,
    }


def make_receipt(archive: Archive, claim: ClaimJSON, tsa: Sequence[str], chain: Sequence[x509.Certificate] = (),
                 rehashed: dict[tuple[str, int], RecordDigests] | None = None) -> tuple[Receipt, list[str]]:
    """Sign ``claim``'s receipt with the home's key and stamp it by each TSA of ``tsa`` (carrying the TSA
    CA certificates ``chain``); also the lines for TSAs that failed (a receipt is still written when at
    least the signature holds)."""
    key = receipt_key(archive.home)
    body = receipt_body(archive, claim, rehashed)
    body["signer"] = signer(key)
    signature = sign_body(body, key)
    stamps, problems = stamp_all(tsa, signature, chain) if tsa else ([], [])
    receipt: dict[str, Any] = {
        "format": RECEIPT_FORMAT,
        "body": body,
        "signature": base64.b64encode(signature).decode("ascii"),
        "timestamps": [s.as_json() for s in stamps],
        "trusted_time": bool(stamps),
    }
    if not stamps:
        receipt["time_note"] = NO_TRUSTED_TIME
    return receipt, problems  # type: ignore[return-value]


def claims_of_crawl(conn: Connection, crawl_id: str) -> dict[str, list[str]]:
    """The claims each document has whose sources a crawl fetched: document id -> claim ids (the receipts
    ``crawl`` writes with ``CITEVAULT_RECEIPTS``)."""
    from sqlalchemy import text

    rows = conn.execute(text(
        "SELECT DISTINCT c.document_id, c.id FROM captures cap JOIN citations ci ON ci.source_id = cap.source_id "
        "JOIN claims c ON c.id = ci.claim_id WHERE cap.crawl_id = :crawl ORDER BY c.document_id"),
        {"crawl": crawl_id})
    found: dict[str, list[str]] = {}
    for doc, claim in rows:
        found.setdefault(doc, []).append(claim)
    return found

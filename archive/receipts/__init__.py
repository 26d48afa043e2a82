"""Receipts: proof of what citevault received for a claim, and when (README "Proving the evidence",
docs/receipts.md).

A receipt binds a claim (its text, quotation, W3C selector and verdict) to the WARC records that back it
(record id, date, digests, file and offset). Its body is canonical JSON (RFC 8785), signed with the data
home's Ed25519 key; the signature is timestamped by one or more RFC 3161 Time-Stamp Authorities. The steps
live in short modules:

* :mod:`~archive.receipts.canonical`: RFC 8785 bytes of a JSON value;
* :mod:`~archive.receipts.keys`: the data home's keys, made on first use, owner-only;
* :mod:`~archive.receipts.sign`: Ed25519 signing and checking of a body;
* :mod:`~archive.receipts.timestamp`: RFC 3161 requests to TSAs and offline checks of their tokens;
* :mod:`~archive.receipts.digests`: one WARC record re-hashed, for building and for checking;
* :mod:`~archive.receipts.build`: the receipt of a claim, from the index and the WARC files;
* :mod:`~archive.receipts.verify`: every check of a receipt, offline, one result per check.
"""
from __future__ import annotations

RECEIPT_FORMAT = "citevault-receipt/1"

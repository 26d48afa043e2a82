"""Ed25519 over the canonical bytes of a receipt's body: the body names its signer's public key, so the
signature also covers who signed."""
from __future__ import annotations

import base64
import binascii
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from archive.receipts.canonical import canonical
from archive.receipts.keys import key_id, raw_public

ALGORITHM = "Ed25519"


def signer(key: ed25519.Ed25519PrivateKey) -> dict[str, str]:
    """The ``signer`` object a body carries: algorithm, raw public key (base64) and its id."""
    raw = raw_public(key.public_key())
    return {"algorithm": ALGORITHM, "public_key": base64.b64encode(raw).decode("ascii"), "key_id": key_id(raw)}


def sign_body(body: dict[str, Any], key: ed25519.Ed25519PrivateKey) -> bytes:
    """The raw 64-byte signature of ``body``'s RFC 8785 bytes."""
    return key.sign(canonical(body))


def check_body(body: dict[str, Any], signature_b64: str) -> str | None:
    """None when ``signature_b64`` is the body signer's signature of the body, else why not (one phrase)."""
    try:
        who = body["signer"]
        if who.get("algorithm") != ALGORITHM:
            return f"unsupported signature algorithm {who.get('algorithm')!r}"
        public = ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(who["public_key"], validate=True))
        signature = base64.b64decode(signature_b64, validate=True)
    except (KeyError, TypeError, AttributeError, ValueError, binascii.Error):
        return "the receipt's signer or signature is malformed"
    try:
        public.verify(signature, canonical(body))
    except InvalidSignature:
        return "the signature does not match the receipt's contents (altered after signing?)"
    return None

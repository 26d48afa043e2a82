"""The data home's signing keys, made on first use and kept owner-only (0600 in a 0700 ``keys/``).

* ``keys/receipts-ed25519.pem``: signs receipts (Ed25519, PKCS#8 PEM).
* ``keys/wacz-ecdsa-p384.pem``: signs WACZ packages. The WACZ auth spec's anonymous mode, and the one
  tool that checks it (ReplayWeb.page, via WebCrypto), take an ECDSA P-384 key; an Ed25519 signature
  there would read as a bad signature.

A key file is created with ``O_EXCL`` so two processes racing on first use end up with one key.
"""
from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from archive.errors import StoreError

if TYPE_CHECKING:
    from archive.home import DataHome

RECEIPT_KEY = "receipts-ed25519.pem"
WACZ_KEY = "wacz-ecdsa-p384.pem"


def keys_dir(home: DataHome) -> Path:
    return home.root / "keys"


def _load_or_create(path: Path, make: bytes) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise StoreError(f"cannot read the signing key {path}: {exc.strerror}") from None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_bytes()
    except OSError as exc:
        raise StoreError(f"cannot create the signing key {path}: {exc.strerror} (check the data home's "
                         "permissions)") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(make)
    return make


def _pem(key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def receipt_key(home: DataHome) -> ed25519.Ed25519PrivateKey:
    """The home's Ed25519 key, created now if it has none."""
    path = keys_dir(home) / RECEIPT_KEY
    key = serialization.load_pem_private_key(_load_or_create(path, _pem(ed25519.Ed25519PrivateKey.generate())),
                                             None)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise StoreError(f"{path} is not an Ed25519 key")
    return key


def existing_receipt_public_key(home: DataHome) -> ed25519.Ed25519PublicKey | None:
    """The home's Ed25519 public key, or None when it has never signed (nothing is created)."""
    path = keys_dir(home) / RECEIPT_KEY
    if not path.is_file():
        return None
    key = serialization.load_pem_private_key(path.read_bytes(), None)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise StoreError(f"{path} is not an Ed25519 key")
    return key.public_key()


def existing_wacz_public_key(home: DataHome) -> str | None:
    """The base64 SPKI of the home's WACZ key, or None when it has never signed (nothing is created)."""
    path = keys_dir(home) / WACZ_KEY
    if not path.is_file():
        return None
    key = serialization.load_pem_private_key(path.read_bytes(), None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise StoreError(f"{path} is not an ECDSA key")
    return spki_b64(key.public_key())


def wacz_key(home: DataHome) -> ec.EllipticCurvePrivateKey:
    """The home's ECDSA P-384 key for WACZ signatures, created now if it has none."""
    path = keys_dir(home) / WACZ_KEY
    key = serialization.load_pem_private_key(
        _load_or_create(path, _pem(ec.generate_private_key(ec.SECP384R1()))), None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp384r1":
        raise StoreError(f"{path} is not an ECDSA P-384 key")
    return key


def raw_public(key: ed25519.Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def spki_b64(key: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey) -> str:
    """Base64 of the DER SubjectPublicKeyInfo: how the WACZ spec writes ``publicKey``."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode("ascii")


def key_id(public_raw: bytes) -> str:
    """A short, stable name of a public key: ``sha256:`` and the first 16 bytes of its SHA-256, hex.

    >>> key_id(bytes(32))
    'sha256:66687aadf862bd776c8fc18b8e9f8e20'
    """
    return "sha256:" + hashlib.sha256(public_raw).hexdigest()[:32]

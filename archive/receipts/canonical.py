"""RFC 8785 (JSON Canonicalization Scheme) bytes: what gets signed, so any JSON tool that re-serializes
a receipt (other key order, other spacing, escaped or raw UTF-8) leaves its signature valid.

>>> canonical({"b": [1, 2.5, "é"], "a": None})
b'{"a":null,"b":[1,2.5,"\\xc3\\xa9"]}'
"""
from __future__ import annotations

from typing import Any

import rfc8785

from archive.errors import InputError


def canonical(value: Any) -> bytes:
    """The RFC 8785 serialization of ``value`` (UTF-8)."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InputError(f"cannot write canonical JSON: {exc}") from None

"""Re-check policy: how often sources are fetched again, and when a failing source is declared gone.

Defaults can be changed per run with environment variables (README "Keeping evidence fresh"):
``CITEVAULT_RECHECK_EVERY`` (default ``30d``), ``CITEVAULT_GONE_CHECKS`` (default 3 failed checks) and
``CITEVAULT_GONE_SPAN`` (default ``3d``: the failed checks must span at least this long). A document can
set its own interval with ``citevault add --every 7d``.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import timedelta

from archive.errors import InputError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """``7d``, ``12h``, ``90m``, ``2w``, ``1d12h``.

    >>> parse_duration("1d12h")
    datetime.timedelta(days=1, seconds=43200)
    >>> parse_duration("soon")
    Traceback (most recent call last):
    ...
    archive.errors.InputError: cannot read duration 'soon' (use e.g. 7d, 12h, 90m, 2w)
    """
    parts = re.findall(r"(\d+)\s*([smhdw])", text.strip().lower())
    if not parts or re.sub(r"\d+\s*[smhdw]", "", text.strip().lower()).strip():
        raise InputError(f"cannot read duration {text!r} (use e.g. 7d, 12h, 90m, 2w)")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))


@dataclass(frozen=True)
class Policy:
    every: timedelta = timedelta(days=30)
    gone_checks: int = 3
    gone_span: timedelta = timedelta(days=3)

    @classmethod
    def from_env(cls) -> Policy:
        try:
            checks = int(os.environ.get("CITEVAULT_GONE_CHECKS", "3"))
        except ValueError:
            raise InputError("CITEVAULT_GONE_CHECKS must be a whole number") from None
        return cls(
            every=parse_duration(os.environ.get("CITEVAULT_RECHECK_EVERY", "30d")),
            gone_checks=max(1, checks),
            gone_span=parse_duration(os.environ.get("CITEVAULT_GONE_SPAN", "3d")),
        )

"""The time citevault schedules by. ``CITEVAULT_NOW`` (ISO 8601, UTC) fixes it: tests make days pass
without sleeping, and an operator can replay a schedule. WARC-Date is always the real time of the fetch.

>>> import os; os.environ["CITEVAULT_NOW"] = "2026-12-01T00:00:00"; now()
datetime.datetime(2026, 12, 1, 0, 0)
>>> del os.environ["CITEVAULT_NOW"]
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any


def now() -> datetime:
    """Naive UTC (the index stores naive UTC datetimes)."""
    fixed = os.environ.get("CITEVAULT_NOW")
    if fixed:
        moment = datetime.fromisoformat(fixed.replace("Z", "+00:00"))
        return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment
    return datetime.now(timezone.utc).replace(tzinfo=None)


def fixed() -> bool:
    """Is the schedule clock fixed by ``CITEVAULT_NOW`` (not the real time the WARC records carry)?"""
    return bool(os.environ.get("CITEVAULT_NOW"))


def as_datetime(value: Any) -> datetime | None:
    """A datetime column as read back: a string on SQLite, a datetime elsewhere (PostgreSQL), or None.

    >>> as_datetime("2026-11-28 05:00:01.000000")
    datetime.datetime(2026, 11, 28, 5, 0, 1)
    """
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))

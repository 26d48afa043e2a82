"""Time, in the two meanings citevault has, and the conversions between stored and shown times.

* :func:`schedule_now` is the time citevault *schedules* by: when a source is due, when a check happened.
  ``CITEVAULT_NOW`` (ISO 8601, UTC) fixes it: tests make days pass without sleeping, and an operator can
  replay a schedule.
* :func:`real_now` is the time things really happen at, which ``CITEVAULT_NOW`` never changes: when a
  document was added, a crawl started, a report was generated. WARC-Date is always the real time of a
  fetch.

The index stores naive UTC datetimes (:func:`naive_utc`); SQLite hands them back as text
(:func:`as_datetime`), and JSON shows them as ISO 8601 with a ``Z`` (:func:`iso_time`).

>>> import os; os.environ["CITEVAULT_NOW"] = "2026-12-01T00:00:00"; schedule_now(), fixed()
(datetime.datetime(2026, 12, 1, 0, 0), True)
>>> real_now() == schedule_now()  # the real time is not fixed
False
>>> del os.environ["CITEVAULT_NOW"]
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any, overload


def schedule_now() -> datetime:
    """The schedule's time, naive UTC: ``CITEVAULT_NOW`` when it is set, else :func:`real_now`."""
    fixed_at = os.environ.get("CITEVAULT_NOW")
    if fixed_at:
        return naive_utc(datetime.fromisoformat(fixed_at.replace("Z", "+00:00")))
    return real_now()


def real_now() -> datetime:
    """The real time, naive UTC, whatever ``CITEVAULT_NOW`` says."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def fixed() -> bool:
    """Is the schedule clock fixed by ``CITEVAULT_NOW`` (not the real time the WARC records carry)?"""
    return bool(os.environ.get("CITEVAULT_NOW"))


def naive_utc(moment: datetime) -> datetime:
    """A datetime as the index stores it: naive UTC (an aware one is converted, a naive one is UTC already).

    >>> from datetime import timedelta
    >>> naive_utc(datetime(2026, 11, 28, 7, 0, tzinfo=timezone(timedelta(hours=2))))
    datetime.datetime(2026, 11, 28, 5, 0)
    >>> naive_utc(datetime(2026, 11, 28, 5, 0))
    datetime.datetime(2026, 11, 28, 5, 0)
    """
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def cdx_timestamp(moment: datetime) -> str:
    """14-digit CDX timestamp (a capture row's ``timestamp``).

    >>> cdx_timestamp(datetime(2026, 11, 28, 5, 1, 2))
    '20261128050102'
    """
    if moment.year < 1000:  # strftime does not pad such a year: keep its answer
        return moment.strftime("%Y%m%d%H%M%S")
    return "%04d%02d%02d%02d%02d%02d" % (moment.year, moment.month, moment.day, moment.hour, moment.minute,
                                         moment.second)  # a third of strftime's cost


def timestamp14(value: datetime | str) -> str:
    """:func:`cdx_timestamp` of a stored time, or of an ISO time as the claim JSON prints it.

    >>> timestamp14("2026-11-28T05:41:14.309Z"), timestamp14("2026-11-28 05:41:14"), timestamp14(datetime(2026, 11, 28))
    ('20261128054114', '20261128054114', '20261128000000')
    """
    if isinstance(value, datetime):
        return cdx_timestamp(value)
    return "".join(ch for ch in value[:19] if ch.isdigit())


def as_datetime(value: Any) -> datetime | None:
    """A datetime column as read back: a string on SQLite, a datetime elsewhere (PostgreSQL), or None.

    >>> as_datetime("2026-11-28 05:00:01.000000")
    datetime.datetime(2026, 11, 28, 5, 0, 1)
    """
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


@overload
def iso_time(value: datetime | str) -> str: ...


@overload
def iso_time(value: None) -> None: ...


@overload
def iso_time(value: datetime | str | None) -> str | None: ...


def iso_time(value: datetime | str | None) -> str | None:
    """A stored time as ISO-8601 UTC text (SQLite hands raw SQL times back as text).

    >>> iso_time("2026-11-28 05:00:01.000001"), iso_time(datetime(2026, 11, 28, 5, 0, 1)), iso_time(None)
    ('2026-11-28T05:00:01.000001Z', '2026-11-28T05:00:01Z', None)
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.replace(" ", "T")
        return text if text.endswith("Z") else text + "Z"
    return value.isoformat() + "Z"


def iso_seconds(value: datetime | str) -> str:
    """:func:`iso_time` to the second (WACZ and Robust Links dates).

    >>> iso_seconds("2026-11-28 05:00:01.000001"), iso_seconds(datetime(2026, 11, 28, 5, 0, 1, 5))
    ('2026-11-28T05:00:01Z', '2026-11-28T05:00:01Z')
    """
    return (iso_time(value) or "")[:19] + "Z"


__all__ = ["as_datetime", "cdx_timestamp", "fixed", "iso_seconds", "iso_time", "naive_utc", "real_now", "schedule_now",
           "timestamp14"]

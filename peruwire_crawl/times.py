"""Time conversion, in one way everywhere: every "to UTC" of peruwire is here.

Items carry times as ISO 8601 text (``2023-06-16T00:00:00+00:00``); a time without an
offset is UTC, the item contract's zone. The database keeps whole seconds. HTTP headers
(Date, Retry-After) carry RFC 5322 dates. (Reading the dates *pages* state, with their
signals, zones and precision, is another matter: :mod:`peruwire_crawl.normalize.dates`.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def to_utc(value: datetime | str | None) -> datetime | None:
    """An aware UTC datetime from a datetime or ISO 8601 text; None for None or "".
    Raises ValueError (or TypeError) for a value that is not a time."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())
    if not isinstance(value, datetime):
        raise TypeError(f"not a time: {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_utc_or_none(value: Any) -> datetime | None:
    """Like :func:`to_utc`, but None for anything unreadable: for callers that only use
    a time when there is one."""
    try:
        return to_utc(value)
    except (TypeError, ValueError):
        return None


def to_stored_utc(value: datetime | str | None) -> datetime | None:
    """Like :func:`to_utc`, in whole seconds: the time as the database keeps it."""
    moment = to_utc(value)
    return moment.replace(microsecond=0) if moment is not None else None


def iso(value: datetime | None) -> str | None:
    """``2023-06-16T00:00:00+00:00``: the one text form of a stored time in peruwire."""
    return None if value is None else to_stored_utc(value).isoformat()


def utc_now() -> datetime:
    """Now, as the database keeps it (UTC, whole seconds)."""
    return datetime.now(UTC).replace(microsecond=0)


def http_date_to_utc(value: bytes | str | None) -> datetime | None:
    """An HTTP date header (``Thu, 26 Nov 2026 16:41:17 GMT``) as an aware UTC datetime;
    None when absent or unreadable. "-0000" means UTC (RFC 5322), not the local zone."""
    if not value:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    try:
        moment = parsedate_to_datetime(value.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (TypeError, ValueError, OverflowError):  # OverflowError: year 9999 with an offset
        return None


# A server clock this far ahead of ours, or before the web existed, is wrong, not news.
SERVER_CLOCK_MAX_AHEAD = timedelta(days=1)
SERVER_CLOCK_EARLIEST = datetime(1991, 1, 1, tzinfo=UTC)


def server_time(value: bytes | str | None, now: datetime | None = None) -> datetime | None:
    """A response's ``Date`` header as the moment of the fetch; None when it is absent,
    unreadable or out of range (before 1991, or more than a day ahead of ``now``), so the
    caller falls back to its own clock. A replayed snapshot's Date lies in the past, which
    is fine; a year-9999 Date would push every relative date and future check off the
    calendar."""
    moment = http_date_to_utc(value)
    if moment is None:
        return None
    now = now or datetime.now(UTC)
    if not SERVER_CLOCK_EARLIEST <= moment <= now + SERVER_CLOCK_MAX_AHEAD:
        return None
    return moment


def zone(name: str | None) -> tzinfo:
    """The tzinfo for an IANA name; UTC for ``None``/"UTC". Raises ``ValueError`` if unknown."""
    if not name or str(name).upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
        raise ValueError(f"unknown timezone {name!r}") from error

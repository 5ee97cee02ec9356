"""Reading the ISO 8601 times that travel in items, in one way everywhere.

Items carry times as ISO 8601 text (``2023-06-16T00:00:00+00:00``); a time without an
offset is UTC, the item contract's zone.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


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
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def to_utc_or_none(value: Any) -> datetime | None:
    """Like :func:`to_utc`, but None for anything unreadable: for callers that only use
    a time when there is one."""
    try:
        return to_utc(value)
    except (TypeError, ValueError):
        return None

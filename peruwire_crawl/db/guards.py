"""Checks made before peruwire touches a database, and how its errors are told apart.

- :func:`refuse_foreign_sqlite`: a non-empty SQLite file without peruwire's tables belongs
  to someone else. It is looked at through a read-only connection before any engine
  connects (a connection of ours switches the file to WAL mode, which rewrites its header),
  so a refused file is left exactly as it was, byte for byte. ``PERUWIRE_DB_ADOPT`` lets the
  crawl add its tables to such a file anyway.
- :func:`is_busy`: a database error that says "locked" or "timed out" is a passing state
  (an analyst's ``BEGIN IMMEDIATE``, a long transaction), not a broken configuration.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from peruwire_crawl.db.errors import DatabaseBusy, ForeignDatabase

# Every peruwire database has these from its first migration on.
PERUWIRE_TABLES = {"alembic_version", "articles"}
ADOPT_SETTING = "PERUWIRE_DB_ADOPT"

# SQLite says "database is locked" / "database table is locked" / "database is busy".
SQLITE_BUSY_WORDS = ("database is locked", "database table is locked", "database is busy")
# PostgreSQL: lock_not_available (lock_timeout), query_canceled (statement_timeout).
POSTGRES_BUSY_STATES = {"55P03", "57014"}


def refuse_foreign_sqlite(database: str | None, busy_timeout: float) -> None:
    """Raise :class:`ForeignDatabase` when the SQLite file ``database`` is neither empty
    (missing, zero bytes, no schema) nor peruwire's; :class:`DatabaseBusy` when it is
    locked past ``busy_timeout`` seconds."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.is_file() or path.stat().st_size == 0:
        return
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=busy_timeout)
        try:
            names = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
        finally:
            connection.close()
    except sqlite3.OperationalError as exc:
        if is_busy(exc):
            raise DatabaseBusy(f"the database {path} is locked by another program ({exc})") from None
        raise ForeignDatabase(f"{path} cannot be read as a SQLite database ({exc}); it was left untouched") from None
    except sqlite3.DatabaseError as exc:  # "file is not a database"
        raise ForeignDatabase(f"{path} is not a SQLite database ({exc}); it was left untouched") from None
    if names and not PERUWIRE_TABLES <= names:
        shown = ", ".join(sorted(names)[:5]) + (", ..." if len(names) > 5 else "")
        raise ForeignDatabase(
            f"{path} holds another application's tables ({shown}) and none of peruwire's; it was "
            f"left untouched. Point PERUWIRE_DB_URL at a new file, or set {ADOPT_SETTING}=true "
            "to add peruwire's tables to this one"
        )


def is_busy(exc: BaseException) -> bool:
    """True for a database error that says "locked" or "timed out": try again later."""
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    if getattr(original, "sqlstate", None) in POSTGRES_BUSY_STATES:
        return True
    if isinstance(original, sqlite3.OperationalError):
        message = str(original).lower()
        return any(words in message for words in SQLITE_BUSY_WORDS)
    return False

"""One run at a time per database.

The lock is one the operating system or the database server drops by itself when the
process dies, so a run killed with SIGKILL never blocks the next one:

- SQLite: ``flock`` on ``<database file>.lock`` beside the database;
- PostgreSQL: a session-level advisory lock, held by a dedicated connection.

Other databases get no lock (logged), rather than a lock that could outlive its holder.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from peruwire_crawl.db.engine import describe_url, make_engine

logger = logging.getLogger(__name__)

# Any fixed 64-bit number works; this one spells "peruwire" in ASCII, to be recognisable in
# pg_locks.
ADVISORY_LOCK_KEY = int.from_bytes(b"peruwire", "big") & 0x7FFF_FFFF_FFFF_FFFF


class RunLockBusy(Exception):
    """Another run holds the lock on this database."""


class RunLock:
    def __init__(self, db_url: str):
        self.db_url = db_url
        self._file = None
        self._connection = None
        self._engine = None

    def describe(self) -> str:
        return describe_url(self.db_url)

    @property
    def url(self):
        return make_url(self.db_url)

    def acquire(self) -> None:
        """Take the lock or raise :class:`RunLockBusy` at once (never waits)."""
        backend = self.url.get_backend_name()
        if backend == "sqlite":
            self._acquire_file_lock()
        elif backend == "postgresql":
            self._acquire_advisory_lock()
        else:
            logger.warning("no run lock for %s databases: overlapping runs are not prevented", backend)

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._connection is not None:
            self._connection.close()  # ends the session, which drops the advisory lock
            self._engine.dispose()
            self._connection = self._engine = None

    def _acquire_file_lock(self) -> None:
        database = self.url.database
        if not database or database == ":memory:":
            return  # a private in-memory database cannot be shared by two runs
        lock_path = Path(f"{database}.lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise RunLockBusy(f"another run is using {lock_path.with_suffix('')}") from None
        # Who holds it, for a person looking at the file; the lock itself is the flock.
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def _acquire_advisory_lock(self) -> None:
        # A connection of its own, held for the whole run: the lock lives exactly as long.
        self._engine = make_engine(self.url)
        self._connection = self._engine.connect()
        got_it = self._connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
        ).scalar()
        self._connection.commit()
        if not got_it:
            self.release()
            raise RunLockBusy(f"another run is using {self.describe()}")

"""One run at a time per database, with a lock that cannot vanish unnoticed.

The lock is one the operating system or the database server drops by itself when the
process dies, so a run killed with SIGKILL never blocks the next one:

- SQLite: ``flock`` on ``<database file>.lock`` beside the database, keyed by the file's
  real path, so the same file reached through a symlink (or ``..``) takes the same lock;
- PostgreSQL: a session-level advisory lock, held by a dedicated connection.

A lock the holder does not notice losing is worse than none: an advisory lock goes with
its session (a terminated backend, ``idle_session_timeout``, a server restart), and a lock
file can be deleted while held. So the holder checks it before every write batch
(:meth:`RunLock.check` raises :class:`RunLockLost`), and on PostgreSQL a keep-alive thread
queries the lock's session every ``PERUWIRE_DB_LOCK_KEEPALIVE`` seconds, so an idle session
is never timed out and a dead one is noticed between batches too.

Other databases get no lock (logged), rather than a lock that could outlive its holder.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from peruwire_crawl.addon import DEFAULTS
from peruwire_crawl.db.engine import describe_url, first_line, make_engine

logger = logging.getLogger(__name__)

# Any fixed 64-bit number works; this one spells "peruwire" in ASCII, to be recognisable in
# pg_locks.
ADVISORY_LOCK_KEY = int.from_bytes(b"peruwire", "big") & 0x7FFF_FFFF_FFFF_FFFF
# pg_locks shows a bigint advisory key as two 32-bit halves (classid, objid), objsubid 1.
_HOLDS_ADVISORY_LOCK = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND classid::bigint = :high AND objid::bigint = :low"
    " AND objsubid = 1)"
)
DEFAULT_KEEPALIVE = DEFAULTS["PERUWIRE_DB_LOCK_KEEPALIVE"]


class RunLockBusy(Exception):
    """Another run holds the lock on this database."""


class RunLockLost(Exception):
    """The lock this run held is gone: another run may be writing to the database."""


def sqlite_lock_path(database: str) -> Path:
    """The lock file of a SQLite database: beside the file its name finally points to."""
    return Path(os.path.realpath(database) + ".lock")


class RunLock:
    def __init__(self, db_url: str, *, engine_options: dict[str, Any] | None = None,
                 keepalive: float = DEFAULT_KEEPALIVE):
        self.db_url = db_url
        self.engine_options = engine_options or {}
        self.keepalive = keepalive
        self._file = None
        self._lock_path: Path | None = None
        self._connection = None
        self._engine = None
        # The lock connection is used by the crawl's thread (check) and the keep-alive thread.
        self._mutex = threading.Lock()
        self._stopping = threading.Event()
        self._keepalive_thread: threading.Thread | None = None
        self._lost: str | None = None

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

    def check(self) -> None:
        """Raise :class:`RunLockLost` unless the lock taken by :meth:`acquire` is still ours.
        Cheap (a stat, or one query on the lock's own connection): called before every
        write batch."""
        if self._lost is None:
            if self._file is not None:
                self._check_file_lock()
            elif self._connection is not None:
                self._check_advisory_lock()
        if self._lost is not None:
            raise RunLockLost(self._lost)

    def release(self) -> None:
        self._stopping.set()
        if self._keepalive_thread is not None:
            self._keepalive_thread.join(timeout=5)
            self._keepalive_thread = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        with self._mutex:
            if self._connection is not None:
                try:
                    self._connection.close()  # ends the session, which drops the advisory lock
                except Exception:  # why: a dead session has already dropped it
                    pass
                self._engine.dispose()
                self._connection = self._engine = None

    # --- SQLite ---------------------------------------------------------------------------
    def _acquire_file_lock(self) -> None:
        database = self.url.database
        if not database or database == ":memory:":
            return  # a private in-memory database cannot be shared by two runs
        lock_path = sqlite_lock_path(database)
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
        self._lost = None
        self._lock_path = lock_path

    def _check_file_lock(self) -> None:
        # A deleted (or replaced) lock file lets the next run lock a new file of that name.
        try:
            same = os.stat(self._lock_path).st_ino == os.fstat(self._file.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            self._lose(f"the lock file {self._lock_path} was removed while this run held it")

    # --- PostgreSQL -------------------------------------------------------------------------
    def _acquire_advisory_lock(self) -> None:
        # A connection of its own, held for the whole run: the lock lives exactly as long.
        self._engine = make_engine(self.url, **self.engine_options)
        self._connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got_it = self._connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
        ).scalar()
        if not got_it:
            self.release()
            raise RunLockBusy(f"another run is using {self.describe()}")
        self._lost = None
        self._stopping.clear()
        if self.keepalive > 0:
            self._keepalive_thread = threading.Thread(target=self._keep_alive, name="peruwire-run-lock",
                                                      daemon=True)
            self._keepalive_thread.start()

    def _check_advisory_lock(self) -> None:
        with self._mutex:
            if self._connection is None or self._lost is not None:
                return
            try:
                held = self._connection.execute(
                    _HOLDS_ADVISORY_LOCK, {"high": ADVISORY_LOCK_KEY >> 32, "low": ADVISORY_LOCK_KEY & 0xFFFF_FFFF}
                ).scalar()
            except Exception as exc:  # why: whatever broke the session took the lock with it
                self._lose(f"the session holding the run lock on {self.describe()} is gone "
                           f"({first_line(getattr(exc, 'orig', None) or exc)})")
                return
            if not held:
                self._lose(f"the run lock on {self.describe()} is no longer held by this run")

    def _keep_alive(self) -> None:
        while not self._stopping.wait(self.keepalive):
            self._check_advisory_lock()
            if self._lost is not None:
                return

    def _lose(self, why: str) -> None:
        if self._lost is None:
            self._lost = why
            logger.error("Run lock lost: %s", why)

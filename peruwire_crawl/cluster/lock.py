"""The run lock of a cluster: held by the cluster's workers together, not by one process.

Single-process runs take an exclusive PostgreSQL advisory lock on the database
(:mod:`peruwire_crawl.db.runlock`). Every worker of a cluster run takes the same lock *shared*,
so workers of one cluster run side by side while a single-process run is refused (and a
cluster worker is refused while a single-process run holds it). Each worker also holds a
shared lock naming its cluster (its Redis server and key prefix); a worker finding another
cluster's name held on the database is refused: one cluster run per database. The check and
the taking happen under a transaction-level gate lock, so two clusters starting at the same
moment cannot both get in.

Like the single-process lock these are session locks: PostgreSQL drops them when a worker's
connection ends, SIGKILL included, so the lock lives exactly as long as the cluster's last
worker.
"""

from __future__ import annotations

import zlib

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from peruwire_crawl.db.engine import describe_url, first_line, make_engine
from peruwire_crawl.db.runlock import ADVISORY_LOCK_KEY, RunLockBusy, RunLockLost

# Two-number advisory locks (class, id) name clusters: the class marks them as peruwire's.
CLUSTER_LOCK_CLASS = 0x7077_0001
# Serialises "is another cluster here? if not, I am": a transaction lock, released at commit.
GATE_KEY = ADVISORY_LOCK_KEY ^ 0x0C1
_OTHER_CLUSTERS = text("""
    SELECT count(*) FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND objsubid = 2
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND classid = :cls AND objid <> :mine
""")


def cluster_lock_id(identity: str) -> int:
    """A stable 31-bit number for a cluster's identity (Redis server and key prefix)."""
    return zlib.crc32(identity.encode("utf-8")) & 0x7FFF_FFFF


# The advisory locks this session holds: the shared single-run lock and the cluster's own.
_MY_LOCKS = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                 "AND pid = pg_backend_pid()")


class ClusterRunLock:
    def __init__(self, db_url: str, identity: str):
        self.db_url = db_url
        self.identity = identity
        self.lock_id = cluster_lock_id(identity)
        self._engine = None
        self._connection = None

    def describe(self) -> str:
        return describe_url(self.db_url)

    def acquire(self) -> None:
        """Take this worker's share of the cluster's lock, or raise :class:`RunLockBusy`."""
        if make_url(self.db_url).get_backend_name() != "postgresql":
            raise ValueError("the cluster run lock needs PostgreSQL")
        self._engine = make_engine(self.db_url)
        self._connection = self._engine.connect()
        try:
            self._take()
        except BaseException:
            self.release()
            raise

    def _take(self) -> None:
        connection = self._connection
        with connection.begin():
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": GATE_KEY})
            single = connection.execute(
                text("SELECT pg_try_advisory_lock_shared(:key)"), {"key": ADVISORY_LOCK_KEY}
            ).scalar()
            if not single:
                raise RunLockBusy(f"a single-process run is using {self.describe()}")
            others = connection.execute(
                _OTHER_CLUSTERS, {"cls": CLUSTER_LOCK_CLASS, "mine": self.lock_id}
            ).scalar()
            if others:
                raise RunLockBusy(
                    f"another cluster (another Redis server or key prefix) is running on {self.describe()}"
                )
            connection.execute(
                text("SELECT pg_advisory_lock_shared(:cls, :mine)"),
                {"cls": CLUSTER_LOCK_CLASS, "mine": self.lock_id},
            )

    def check(self) -> None:
        """Raise :class:`RunLockLost` unless this worker's session still holds its share of
        the cluster's lock (a terminated backend or a server restart drops it silently).
        Called before every write batch, like the single-process lock's check."""
        try:
            held = self._connection.execute(_MY_LOCKS).scalar()
            self._connection.rollback()  # no transaction left open between batches
        except DBAPIError as exc:
            raise RunLockLost(f"the cluster run lock's session on {self.describe()} is gone: "
                              f"{first_line(exc)}") from None
        if not held:
            raise RunLockLost(f"the cluster run lock on {self.describe()} is no longer held")

    def release(self) -> None:
        if self._connection is not None:
            self._connection.close()  # ends the session, which drops its advisory locks
            self._engine.dispose()
            self._connection = self._engine = None

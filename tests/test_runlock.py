"""The run lock cannot vanish unnoticed: a dead PostgreSQL session, a symlinked or deleted
SQLite lock file. (Two overlapping crawls: tests/test_schedule.py and test_safety_e2e.py.)"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text

from peruwire_crawl.db.runlock import ADVISORY_LOCK_KEY, RunLock, RunLockBusy, RunLockLost


def test_the_same_sqlite_file_through_a_symlink_takes_the_same_lock(tmp_path):
    (tmp_path / "data").mkdir()
    real = tmp_path / "data" / "peruwire.db"
    (tmp_path / "link.db").symlink_to(real)
    (tmp_path / "linked-dir").symlink_to(tmp_path / "data")
    first = RunLock(f"sqlite:///{real}")
    first.acquire()
    try:
        for other in (tmp_path / "link.db", tmp_path / "linked-dir" / "peruwire.db",
                      tmp_path / "data" / ".." / "data" / "peruwire.db"):
            with pytest.raises(RunLockBusy):
                RunLock(f"sqlite:///{other}").acquire()
    finally:
        first.release()
    second = RunLock(f"sqlite:///{tmp_path / 'link.db'}")
    second.acquire()  # free again once released
    second.release()


def test_a_deleted_sqlite_lock_file_is_a_lost_lock(tmp_path):
    lock = RunLock(f"sqlite:///{tmp_path / 'x.db'}")
    lock.acquire()
    try:
        lock.check()
        (tmp_path / "x.db.lock").unlink()
        with pytest.raises(RunLockLost, match="was removed"):
            lock.check()
    finally:
        lock.release()


def lock_backends(url: str) -> list[int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        pids = connection.execute(
            text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid::bigint = :low"
                 " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
            {"low": ADVISORY_LOCK_KEY & 0xFFFF_FFFF},
        ).scalars().all()
    engine.dispose()
    return list(pids)


def terminate(url: str, pid: int) -> None:
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    engine.dispose()


@pytest.mark.postgres
def test_a_terminated_lock_session_is_noticed_before_the_next_batch(postgres_url):
    lock = RunLock(postgres_url, keepalive=0)  # no keep-alive: check() alone must notice
    lock.acquire()
    try:
        lock.check()
        [pid] = lock_backends(postgres_url)
        terminate(postgres_url, pid)
        with pytest.raises(RunLockLost, match="is gone"):
            lock.check()
        other = RunLock(postgres_url)
        other.acquire()  # what the check protects against: another run now holds it
        other.release()
    finally:
        lock.release()


@pytest.mark.postgres
def test_the_keepalive_notices_a_dead_session_between_batches(postgres_url):
    lock = RunLock(postgres_url, keepalive=0.2)
    lock.acquire()
    try:
        [pid] = lock_backends(postgres_url)
        terminate(postgres_url, pid)
        deadline = time.monotonic() + 10
        while lock._lost is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lock._lost and "is gone" in lock._lost
        with pytest.raises(RunLockLost):
            lock.check()
    finally:
        lock.release()


@pytest.mark.postgres
def test_the_keepalive_keeps_an_idle_lock_session_alive(postgres_url):
    # idle_session_timeout (PostgreSQL 14+) ends sessions idle longer than it; the test's own
    # database is set so, as a server's administrator might.
    engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        name = connection.execute(text("SELECT current_database()")).scalar()
        connection.execute(text(f'ALTER DATABASE "{name}" SET idle_session_timeout = 1000'))
    engine.dispose()
    without_keepalive = RunLock(postgres_url, keepalive=0)
    without_keepalive.acquire()
    try:
        time.sleep(2.5)
        with pytest.raises(RunLockLost):  # the setting works: an idle lock session dies
            without_keepalive.check()
    finally:
        without_keepalive.release()

    lock = RunLock(postgres_url, keepalive=0.3)
    lock.acquire()
    try:
        time.sleep(2.5)
        lock.check()
        assert lock_backends(postgres_url)
    finally:
        lock.release()

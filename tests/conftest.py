"""Shared fixtures.

Storage: ``db_url`` is a fresh, empty database, once on SQLite (a file in tmp_path) and once
on PostgreSQL (a database of its own, created for the test and dropped after it, on the
server named by ``PERUWIRE_TEST_POSTGRES_URL``; without that variable the PostgreSQL case
skips, saying why). ``db_engine`` is that database migrated to head.
"""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_ENV = "PERUWIRE_TEST_POSTGRES_URL"

# Tests never time anything (benchmarks/ does): Hypothesis's per-example deadline would
# fail a correct test on a busy machine.
settings.register_profile("peruwire", deadline=None)
settings.load_profile("peruwire")


@pytest.fixture(autouse=True)
def _no_ambient_database(monkeypatch):
    """A developer's exported PERUWIRE_DB_URL (or cluster) must never receive test data."""
    monkeypatch.delenv("PERUWIRE_DB_URL", raising=False)
    monkeypatch.delenv("PERUWIRE_REDIS_URL", raising=False)


def _postgres_database():
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(f"{POSTGRES_ENV} is not set: no PostgreSQL server to run this case on")
    name = f"peruwire_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """URL of a fresh, empty database (nothing migrated)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'peruwire.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def postgres_url():
    """URL of a fresh, empty PostgreSQL database (skips without a server)."""
    yield from _postgres_database()


@pytest.fixture
def db_engine(db_url):
    """An engine on ``db_url`` migrated to head."""
    from peruwire_crawl.db.engine import make_engine
    from peruwire_crawl.db.migrate import upgrade_to_head

    engine = make_engine(db_url, busy_timeout=1.0)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


REDIS_ENV = "PERUWIRE_TEST_REDIS_URL"


@pytest.fixture
def redis_url():
    """URL of the test Redis database (skips without one); see ``cluster_prefix``."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"{REDIS_ENV} is not set: no Redis server to run this case on")
    return url


@pytest.fixture
def cluster_prefix(redis_url):
    """A key prefix of the test's own in the test Redis database, whose keys are deleted
    after the test: tests never see each other's clusters, nor flush anyone's data."""
    import redis

    prefix = f"peruwire-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    server = redis.Redis.from_url(redis_url)
    for key in server.scan_iter(match=f"{prefix}:*", count=500):
        server.delete(key)
    server.close()

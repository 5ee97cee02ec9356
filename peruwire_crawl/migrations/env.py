"""Alembic environment: runs peruwire's migrations on a connection peruwire made.

``peruwire_crawl.db.migrate`` passes its connection in ``config.attributes["connection"]``;
Alembic's own command line gets one from ``PERUWIRE_DB_URL`` through the same
``make_engine`` as the crawl. SQLite migrations run in batch mode (table rebuilds), and on
PostgreSQL an advisory lock keeps two crawls starting at once from migrating together.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from peruwire_crawl.addon import crawl_settings
from peruwire_crawl.db.engine import make_engine
from peruwire_crawl.db.schema import SEARCH_OBJECTS, metadata

# Any fixed number; distinct from the run lock's key (peruwire_crawl/db/runlock.py).
MIGRATION_LOCK_KEY = 0x7065727577697265 ^ 0x6D696772  # "peruwire" ^ "migr"

config = context.config


def include_object(obj, name, type_, reflected, compare_to):
    # The full-text index and views are written by hand in the migrations.
    return name not in SEARCH_OBJECTS


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()


connection = config.attributes.get("connection")
if context.is_offline_mode():
    raise SystemExit("peruwire migrations run online only: give a database, not --sql")
if connection is not None:
    run_migrations(connection)
else:
    engine = make_engine(crawl_settings()["PERUWIRE_DB_URL"])
    with engine.connect() as connection:
        run_migrations(connection)
    engine.dispose()

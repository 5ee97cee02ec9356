"""The one place where engines are made (the crawl's is owned by ``db.crawl.CrawlDatabase``).

``make_engine`` gives every SQLite connection WAL mode (analysts read while the crawl
writes), a busy timeout (a writer waits for another instead of failing at once) and
foreign keys. Writers open their transactions with ``write_transaction``: on SQLite that is
``BEGIN IMMEDIATE``, which takes the write lock up front, so two writers queue on the busy
timeout instead of dead-locking half-way through a transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from peruwire_crawl.addon import DEFAULTS
from peruwire_crawl.db.errors import DatabaseBusy, DatabaseError
from peruwire_crawl.db.guards import is_busy, refuse_foreign_sqlite
from peruwire_crawl.db.masking import mask_secrets, mask_url

# The database timeouts' defaults (seconds; the add-on explains each), for engines made
# outside a crawl (the `peruwire` command, the run lock).
DEFAULT_BUSY_TIMEOUT = DEFAULTS["PERUWIRE_DB_BUSY_TIMEOUT"]
DEFAULT_STATEMENT_TIMEOUT = DEFAULTS["PERUWIRE_DB_STATEMENT_TIMEOUT"]
DEFAULT_CONNECT_TIMEOUT = DEFAULTS["PERUWIRE_DB_CONNECT_TIMEOUT"]


def describe_url(url: str | URL) -> str:
    """The URL fit for a log line or an error message: every form of password replaced by
    *** (see ``peruwire_crawl.db.masking``), whether or not the URL parses."""
    return mask_url(url)


def make_engine(url: str | URL, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
                statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
                connect_timeout: float = DEFAULT_CONNECT_TIMEOUT, adopt_foreign: bool = False) -> Engine:
    """An engine for ``url``; raises ``DatabaseError`` for a URL that cannot work.

    Every call has a bounded wait: ``busy_timeout`` for another's lock (SQLite busy timeout,
    PostgreSQL ``lock_timeout``); on PostgreSQL also ``connect_timeout`` and
    ``statement_timeout`` (server side, and client side when the server stops answering:
    ``peruwire_crawl.db.timeouts``). A non-empty SQLite file without peruwire's tables is
    refused untouched (``ForeignDatabase``) unless ``adopt_foreign``."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"{describe_url(url)!r} is not a database URL; expected e.g. sqlite:///peruwire.db "
            "or postgresql+psycopg://user@host/dbname"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseError(
            f"{describe_url(parsed)} is neither SQLite nor PostgreSQL, the two databases peruwire supports"
        )
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        # psycopg (3) is the driver peruwire depends on.
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite" and not adopt_foreign:
        refuse_foreign_sqlite(parsed.database, busy_timeout)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        # Imported here: it imports psycopg, which a SQLite crawl never needs.
        from peruwire_crawl.db.timeouts import connect_with_deadline, postgres_connect_args

        connect_args = postgres_connect_args(busy_timeout=busy_timeout, statement_timeout=statement_timeout,
                                             connect_timeout=connect_timeout)
    try:
        engine = create_engine(parsed, connect_args=connect_args)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise DatabaseError(f"cannot use {describe_url(parsed)}: {exc}") from None
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, busy_timeout)
    else:
        event.listen(engine, "do_connect", connect_with_deadline(statement_timeout))
    return engine


def engine_options(settings: Any) -> dict[str, Any]:
    """``make_engine``'s keyword arguments from a crawl's settings (Scrapy ``Settings``)."""
    return {
        "busy_timeout": settings.getfloat("PERUWIRE_DB_BUSY_TIMEOUT"),
        "statement_timeout": settings.getfloat("PERUWIRE_DB_STATEMENT_TIMEOUT"),
        "connect_timeout": settings.getfloat("PERUWIRE_DB_CONNECT_TIMEOUT"),
        "adopt_foreign": settings.getbool("PERUWIRE_DB_ADOPT"),
    }


def _configure_sqlite(engine: Engine, busy_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get("peruwire_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction meant to write: committed on success, rolled back
    on any exception. On SQLite the write lock is taken at the start (``BEGIN IMMEDIATE``)."""
    with engine.connect() as connection:
        connection.execution_options(peruwire_write=True)
        with connection.begin():
            yield connection


def check_connection(engine: Engine) -> None:
    """Connect once and run ``SELECT 1``; raise ``DatabaseError`` in one sentence if not."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as exc:
        raise database_error(exc, f"cannot connect to the database {describe_url(engine.url)}") from None


def database_error(exc: DBAPIError, doing: str) -> DatabaseError:
    """``exc`` told in one sentence ("<doing>: <the driver's first line>"), as
    ``DatabaseBusy`` when the database is only locked or slow (try again later)."""
    kind = DatabaseBusy if is_busy(exc) else DatabaseError
    return kind(f"{doing}: {first_line(exc.orig)}")


def first_line(exc: BaseException | None) -> str:
    """The first line of an exception's message (DBAPI messages run to several), with any
    password a driver echoed masked."""
    message = str(exc or "").strip()
    return mask_secrets(message.splitlines()[0]) if message else type(exc).__name__

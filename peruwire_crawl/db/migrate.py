"""Running the migrations shipped in ``peruwire_crawl/migrations``.

A fresh database is created by upgrading it to head; an older one is brought up to date
(every crawl does this at start); a database at a revision this code does not know (made
by a newer peruwire) is refused, never touched.
"""

from __future__ import annotations

import atexit
import functools
import logging
import re
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from peruwire_crawl.db.engine import DatabaseError, database_error, describe_url

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported where a migration is run or the history read, not with this module:
# importing it and reading its scripts costs 0.2 s of CPU, and a database already at head
# (nearly every crawl's) needs neither (see upgrade_to_head).


def _alembic():
    # Alembic announces its plugins at INFO when imported, on every run; a crawl's log should
    # show the upgrades it ran ("Running upgrade 0002 -> 0003"), not that chatter. Set before
    # the import, which is when the announcements happen.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    import alembic.command
    import alembic.config
    import alembic.runtime.migration
    import alembic.script

    return alembic


class DatabaseTooNew(DatabaseError):
    """The database was migrated by a newer peruwire than this one."""


@functools.cache
def migrations_directory() -> Path:
    """The shipped migrations as a directory on disk. Alembic reads scripts from files; from
    a zipped egg (how Scrapyd runs a deployed project) they are copied out once per process."""
    shipped = resources.files("peruwire_crawl") / "migrations"
    if isinstance(shipped, Path):
        return shipped
    copy = Path(tempfile.mkdtemp(prefix="peruwire-migrations-"))
    atexit.register(shutil.rmtree, copy, True)
    _copy_tree(shipped, copy)
    return copy


def _copy_tree(source, target: Path) -> None:
    for entry in source.iterdir():
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            (target / entry.name).mkdir()
            _copy_tree(entry, target / entry.name)
        elif not entry.name.endswith(".pyc"):
            (target / entry.name).write_bytes(entry.read_bytes())


def alembic_config() -> Config:
    directory = migrations_directory()
    config = _alembic().config.Config(str(directory / "alembic.ini"))
    config.set_main_option("script_location", str(directory))
    return config


def head_revision() -> str:
    head = _alembic().script.ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migration is shipped"
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at; None for a database peruwire never migrated."""
    return _alembic().runtime.migration.MigrationContext.configure(connection).get_current_revision()


def check_not_newer(connection: Connection) -> None:
    current = current_revision(connection)
    if current is None:
        return
    scripts = _alembic().script.ScriptDirectory.from_config(alembic_config())
    known = {script.revision for script in scripts.walk_revisions()}
    if current not in known:
        raise DatabaseTooNew(
            f"the database {describe_url(connection.engine.url)} is at schema revision {current}, "
            f"newer than this peruwire knows (its latest is {head_revision()}): upgrade peruwire"
        )


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (tests pass an older one, e.g. "0001")."""
    try:
        with engine.connect() as connection:
            check_not_newer(connection)
            connection.rollback()
            config = alembic_config()
            config.attributes["connection"] = connection
            _alembic().command.upgrade(config, revision)
            connection.commit()
    except DBAPIError as exc:
        # Locked by another writer (an analyst's open transaction): a later run will do.
        raise database_error(exc, f"cannot migrate the database {describe_url(engine.url)}") from None


def upgrade_to_head(engine: Engine) -> None:
    if not _at_head(engine):
        upgrade(engine, "head")


_REVISION = re.compile(r'^(down_revision|revision) = (?:None|"([^"]+)")', re.MULTILINE)


@functools.cache
def shipped_head() -> str | None:
    """The newest shipped revision, read from the scripts' ``revision``/``down_revision``
    lines without Alembic; None unless the history is one line (Alembic then decides)."""
    revisions, parents = set(), set()
    for script in (migrations_directory() / "versions").glob("*.py"):
        found = dict(_REVISION.findall(script.read_text(encoding="utf-8")))
        if "revision" not in found:
            return None
        revisions.add(found["revision"])
        parents.add(found.get("down_revision") or None)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and len(parents) == len(revisions) else None


def _at_head(engine: Engine) -> bool:
    """Whether the database is already at the shipped head (then there is nothing to do);
    False whenever that is not plainly so, and Alembic looks."""
    head = shipped_head()
    if head is None:
        return False
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return False
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
    except DBAPIError:
        return False

"""The ``peruwire`` group and what its commands share: the database option, the output
options, filters, errors and printing.

Commands live one group per module beside this one and register themselves on ``cli``
(``@cli.command()``) when imported; ``COMMANDS`` names the module of each, and the group
imports only the one a command line asks for. A new command takes the decorators below
instead of declaring its own ``--db`` or ``--json``, and gets a line in ``COMMANDS``.

This module imports no database or Scrapy code at its top: every command pays for what it
uses, and ``peruwire extract`` none of the database.
"""

from __future__ import annotations

import csv
import functools
import importlib
import io
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from peruwire_crawl.cli.cells import csv_cell, text
from peruwire_crawl.times import iso

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from peruwire_crawl.db import queries

DB_HELP = "database: a URL or a SQLite file path (default: $PERUWIRE_DB_URL, else peruwire.db)"


class CommandError(Exception):
    """A problem to tell the user in one sentence (``peruwire: error: ...``, exit 1)."""


def stored_article_id(connection: Connection, key: str) -> int:
    """The id of the article ``key`` names (its id, or any URL of it); CommandError if none."""
    from peruwire_crawl.db import queries

    article_id = queries.find_article_id(connection, key)
    if article_id is None:
        raise CommandError(f"no stored article has the id or URL {key!r}")
    return article_id


# --- help with examples -----------------------------------------------------------------
class _WithExamples:
    """``--help`` ends with the command's examples, printed as typed."""

    def __init__(self, *args: Any, examples: Sequence[str] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.examples = tuple(examples)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        if self.examples:
            formatter.write("\nexample:\n")
            for example in self.examples:
                formatter.write(f"  {example}\n")


class Command(_WithExamples, click.Command):
    pass


class Group(_WithExamples, click.Group):
    command_class = Command


Group.group_class = Group

# Each command's module; importing it registers the command on ``cli``.
COMMANDS = {
    "db": "peruwire_crawl.cli.db",
    "diff": "peruwire_crawl.cli.diff",
    "export": "peruwire_crawl.cli.export",
    "extract": "peruwire_crawl.cli.extract",
    "ingest": "peruwire_crawl.cli.ingest",
    "query": "peruwire_crawl.cli.search",
    "report": "peruwire_crawl.cli.report",
    "runs": "peruwire_crawl.cli.stats",
    "search": "peruwire_crawl.cli.search",
    "serve": "peruwire_crawl.cli.serve",
    "show": "peruwire_crawl.cli.show",
    "stats": "peruwire_crawl.cli.stats",
}


class LazyGroup(Group):
    """The top group: a command's module is imported when the command is asked for (all of
    them for ``--help``), so one command does not pay for every other's imports."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(COMMANDS[cmd_name])
        return super().get_command(ctx, cmd_name)


# --- the database -------------------------------------------------------------------------
def _remember_db(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    # Given before the subcommand (`peruwire --db x stats`) or after it (`stats --db x`):
    # the one nearest the command wins.
    if value is not None:
        ctx.find_root().ensure_object(dict)["db"] = value


def db_option(function: Callable) -> Callable:
    """``--db URL|PATH`` on a command, also accepted before the subcommand name."""
    return click.option("--db", metavar="URL|PATH", help=DB_HELP, expose_value=False,
                        callback=_remember_db, is_eager=True)(function)


def database_url(value: str | None) -> str:
    """``--db`` as a SQLAlchemy URL: a URL as given, a plain path as a SQLite file."""
    from peruwire_crawl.addon import crawl_settings

    url = value or crawl_settings()["PERUWIRE_DB_URL"]  # the crawl's: $PERUWIRE_DB_URL, else peruwire.db
    if "://" in url or url.startswith("sqlite:"):
        return url
    if re.match(r"[^/@]+:[^/@]*@", url):  # user:password@host/db: a URL that lost its scheme
        raise CommandError("the database looks like a URL without its scheme (user:***@...); "
                           "write it as postgresql+psycopg://user:...@host/dbname")
    return f"sqlite:///{url}"


@dataclass
class Database:
    """The database a command works on, opened on first use."""

    url: str

    @classmethod
    def of(cls, ctx: click.Context) -> Database:
        return cls(database_url(ctx.find_root().ensure_object(dict).get("db")))

    def engine(self, *, must_exist: bool = True) -> Engine:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        from peruwire_crawl.db.engine import check_connection, make_engine

        try:
            parsed = make_url(self.url)
        except ArgumentError:
            parsed = None  # make_engine says why
        if (must_exist and parsed is not None and parsed.get_backend_name() == "sqlite"
                and parsed.database not in (None, "", ":memory:") and not Path(parsed.database).exists()):
            raise CommandError(f"there is no database at {parsed.database}; create it with "
                               f"`peruwire db upgrade --db {parsed.database}` or run a crawl")
        engine = make_engine(self.url)
        check_connection(engine)
        return engine

    def readable(self) -> Engine:
        """An engine on an existing database whose schema is the one this code reads."""
        from peruwire_crawl.db.engine import describe_url
        from peruwire_crawl.db.migrate import current_revision, head_revision

        engine = self.engine()
        with engine.connect() as connection:
            current = current_revision(connection)
        head = head_revision()
        if current is None:
            raise CommandError(f"{describe_url(engine.url)} is not a peruwire database (no schema revision); "
                               f"create one with `peruwire db upgrade`")
        if current != head:
            raise CommandError(f"{describe_url(engine.url)} is at schema revision {current}, this peruwire reads "
                               f"{head}: run `peruwire db upgrade`, or upgrade peruwire if the database is newer")
        return engine


# --- output -------------------------------------------------------------------------------
OUTPUT_FORMATS = ("json", "nl", "csv", "tsv")


def output_options(function: Callable) -> Callable:
    """``--json``/``--nl`` (one JSON object per line), ``--csv``, ``--tsv``: the same on
    every command that lists rows; the value reaches the command as ``fmt`` (None when no
    option was given, for the command's own default)."""
    options = [
        click.option("--json", "fmt", flag_value="json", help="JSON, one object per line"),
        click.option("--nl", "fmt", flag_value="nl", help="newline-delimited JSON (the same as --json)"),
        click.option("--csv", "fmt", flag_value="csv", help="CSV with a header row"),
        click.option("--tsv", "fmt", flag_value="tsv", help="tab-separated values with a header row"),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def json_ready(row: dict[str, Any]) -> dict[str, Any]:
    return {key: iso(value) if isinstance(value, datetime) else value for key, value in row.items()}


@contextmanager
def output(path: str | None = None) -> Iterator[TextIO]:
    """UTF-8 text to ``path``, or to stdout whatever the terminal's encoding."""
    if path:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            yield handle
    elif hasattr(sys.stdout, "buffer"):
        sys.stdout.flush()
        stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="", write_through=True)
        try:
            yield stream
        finally:
            stream.flush()
            stream.detach()
    else:
        yield sys.stdout


def write_rows(out: TextIO, rows: Iterable[dict[str, Any]], columns: Sequence[str], fmt: str,
               cell: Callable[[Any], str] | None = None) -> int:
    """Rows in one of ``OUTPUT_FORMATS`` (or ``table``); ``cell`` turns a value into CSV/TSV
    text (spreadsheet-safe by default). Returns how many rows were written."""
    count = 0
    if fmt in ("json", "nl"):
        for row in rows:
            out.write(json.dumps(json_ready({c: row[c] for c in columns}), ensure_ascii=False) + "\n")
            count += 1
    elif fmt in ("csv", "tsv"):
        cell = cell or csv_cell
        writer = (csv.writer(out, lineterminator="\r\n") if fmt == "csv"
                  else csv.writer(out, delimiter="\t", lineterminator="\n"))
        writer.writerow(columns)
        for row in rows:
            writer.writerow([cell(row[c]) for c in columns])
            count += 1
    else:
        rows = list(rows)
        table(out, [[row[c] for c in columns] for row in rows], headers=columns)
        count = len(rows)
    return count


def table(out: TextIO, rows: Sequence[Sequence[Any]], headers: Sequence[str] = (), indent: str = "") -> None:
    """An aligned plain-text table (tabulate), or ``(none)``."""
    if not rows:
        out.write(f"{indent}(none)\n")
        return
    from tabulate import tabulate  # why here: 0.09 s that only the table-printing commands need

    cells = [[text(value) for value in row] for row in rows]
    rendered = tabulate(cells, headers=list(headers), tablefmt="plain", disable_numparse=True)
    for line in rendered.splitlines():
        out.write(indent + line.rstrip() + "\n")


# --- the group ----------------------------------------------------------------------------
@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]},
             examples=["peruwire --db peruwire.db search 'Castillo' --since 2022-01-01 --language es",
                       "peruwire stats --db postgresql+psycopg://analyst@db.example/peruwire"])
@db_option
@click.version_option(package_name="peruwire", prog_name="peruwire")
def cli() -> None:
    """Query and maintain the peruwire articles database.

    Every command takes --db (a URL such as postgresql+psycopg://user@host/db, or a SQLite
    file path), before or after the command's name. Output goes to stdout and pipes
    cleanly; problems are one sentence on stderr with exit status 1 (2 for a mistake in the
    command line itself).
    """


@contextmanager
def no_crawl_running(engine: Engine) -> Iterator[None]:
    """Hold the crawl's run lock: no migration or ingest under a running crawl."""
    from peruwire_crawl.db.runlock import RunLock, RunLockBusy

    lock = RunLock(engine.url.render_as_string(hide_password=False))
    try:
        lock.acquire()
    except RunLockBusy as exc:
        raise CommandError(f"{exc}: try again when that crawl has finished") from None
    try:
        yield
    finally:
        lock.release()


# --- filters ------------------------------------------------------------------------------
def filter_options(function: Callable) -> Callable:
    """``--since --until --language --source --section --author``, given to the command as
    ``filters`` (a ``queries.Filters``, spelled the way stored values are)."""
    options = [
        click.option("--since", metavar="DATE", help="published on or after DATE (YYYY-MM-DD or ISO 8601, UTC)"),
        click.option("--until", metavar="DATE",
                     help="published on or before DATE (a bare date includes that whole day)"),
        click.option("--language", metavar="CODE", help="only articles in this language (ISO 639-1: en, es)"),
        click.option("--source", metavar="KEY", help="only articles of this source, e.g. peoplesdispatch"),
        click.option("--section", metavar="URL", help="only articles listed on this section page"),
        click.option("--author", metavar="NAME", help="only articles by this author (case-insensitive)"),
    ]

    def collect(**kwargs: Any) -> Any:
        from peruwire_crawl.db import queries

        names = ("since", "until", "language", "source", "section", "author")
        given = {name: kwargs.pop(name) for name in names}
        try:
            kwargs["filters"] = queries.Filters(
                since=queries.parse_date(given["since"]) if given["since"] else None,
                until=queries.parse_date(given["until"], end_of_day=True) if given["until"] else None,
                language=given["language"], source=given["source"], section=given["section"],
                author=given["author"],
            ).normalised()
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        return function(**kwargs)

    functools.update_wrapper(collect, function)
    for option in reversed(options):
        collect = option(collect)
    return collect


def warn_unmatched(connection: Connection, filters: queries.Filters) -> None:
    """One warning per filter that no stored article has: a typo, not "nothing found"."""
    from peruwire_crawl.db import queries

    for name, value in queries.unmatched_filters(connection, filters):
        click.echo(f"peruwire: warning: no stored article has {name} {value!r}", err=True)

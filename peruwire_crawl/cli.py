"""The `peruwire` command: the analysts' database from the shell.

Every command takes ``--db URL`` (default: ``$PERUWIRE_DB_URL``, else
``sqlite:///peruwire.db`` in the working directory). Output goes to stdout and pipes
cleanly; problems are one sentence on stderr, ``peruwire: error: ...``, with exit status 1
(2 for a mistake in the command line itself).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from peruwire_crawl.addon import crawl_settings
from peruwire_crawl.db import queries
from peruwire_crawl.db.engine import DatabaseError, check_connection, describe_url, first_line, make_engine
from peruwire_crawl.db.migrate import current_revision, head_revision, upgrade_to_head
from peruwire_crawl.db.runlock import RunLock, RunLockBusy
from peruwire_crawl.db.schema import FAILED, FINISHED
from peruwire_crawl.db.store import ArticleStore, BadRecord, record_from_item
from peruwire_crawl.times import iso

# Cells starting with these are formulas to a spreadsheet (CSV injection): prefixed with '.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
INGEST_BATCH = 500


class CommandError(Exception):
    """A problem to tell the user in one sentence."""


# --- helpers ------------------------------------------------------------------------------
def _open_engine(url: str | None, *, must_exist: bool = True) -> Engine:
    url = url or crawl_settings()["PERUWIRE_DB_URL"]
    try:
        parsed = make_url(url)
    except Exception:
        parsed = None
    if (must_exist and parsed is not None and parsed.get_backend_name() == "sqlite"
            and parsed.database not in (None, "", ":memory:") and not Path(parsed.database).exists()):
        raise CommandError(f"there is no database at {parsed.database}; "
                           f"create it with `peruwire db upgrade --db {url}` or run a crawl")
    engine = make_engine(url)
    check_connection(engine)
    return engine


def _readable(engine: Engine) -> Engine:
    """The engine, if its schema is the one this code reads."""
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


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return iso(value)
    return str(value)


def _json_ready(row: dict[str, Any]) -> dict[str, Any]:
    return {k: iso(v) if isinstance(v, datetime) else v for k, v in row.items()}


@contextmanager
def _output(path: str | None) -> Iterator[TextIO]:
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


def _table(rows: Iterable[Sequence[Any]], out: TextIO, indent: str = "") -> None:
    rows = [[_text(cell) for cell in row] for row in rows]
    if not rows:
        out.write(f"{indent}(none)\n")
        return
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(width) if i < len(row) - 1 else cell
                 for i, (cell, width) in enumerate(zip(row, widths, strict=False))]
        out.write(indent + "  ".join(cells).rstrip() + "\n")


# --- commands -----------------------------------------------------------------------------
@contextmanager
def _no_crawl_running(engine: Engine) -> Iterator[None]:
    """Hold the crawl's run lock: no migration or ingest under a running crawl."""
    lock = RunLock(engine.url.render_as_string(hide_password=False))
    try:
        lock.acquire()
    except RunLockBusy as exc:
        raise CommandError(f"{exc}: try again when that crawl has finished") from None
    try:
        yield
    finally:
        lock.release()


def cmd_db_upgrade(args) -> int:
    engine = _open_engine(args.db, must_exist=False)
    with engine.connect() as connection:
        before = current_revision(connection)
    with _no_crawl_running(engine):
        upgrade_to_head(engine)
    head = head_revision()
    where = describe_url(engine.url)
    if before == head:
        print(f"{where} is up to date (schema revision {head})")
    else:
        print(f"{where} upgraded from schema revision {before or '(empty)'} to {head}")
    return 0


def cmd_db_current(args) -> int:
    engine = _open_engine(args.db)
    with engine.connect() as connection:
        current = current_revision(connection)
    print(f"{current or '(empty)'} (this peruwire's latest: {head_revision()})")
    return 0


STATS_GROUPS = (("source", "articles per source"), ("section", "articles per section"),
                ("language", "articles per language"), ("month", "articles per month published (UTC)"))


def cmd_stats(args) -> int:
    engine = _readable(_open_engine(args.db))
    with engine.connect() as connection:
        total = queries.article_count(connection)
        groups = {by: queries.counts(connection, by) for by, _ in STATS_GROUPS}
        runs = queries.last_runs(connection, args.runs)
    with _output(None) as out:
        if args.json:
            out.write(json.dumps({"articles": total, **{by: dict(rows) for by, rows in groups.items()},
                                  "runs": [_json_ready(run) for run in runs]}, ensure_ascii=False, indent=2) + "\n")
            return 0
        out.write(f"articles: {total}\n")
        for by, heading in STATS_GROUPS:
            out.write(f"\n{heading}:\n")
            _table(groups[by], out, indent="  ")
        out.write(f"\nlast {args.runs} crawl runs:\n")
        _runs_table(runs, out, indent="  ")
    return 0


def _runs_table(runs: list[dict[str, Any]], out: TextIO, indent: str = "") -> None:
    columns = [c for c in queries.RUN_COLUMNS if c != "notes"]
    _table([columns] + [[run[c] for c in columns] for run in runs], out, indent=indent)


def cmd_runs(args) -> int:
    engine = _readable(_open_engine(args.db))
    with engine.connect() as connection:
        runs = queries.last_runs(connection, args.limit)
    with _output(None) as out:
        if args.json:
            for run in runs:
                out.write(json.dumps(_json_ready(run), ensure_ascii=False) + "\n")
            return 0
        _runs_table(runs, out)
        # Why a run was unhealthy or failed: one indented line per recorded reason.
        for run in runs:
            for note in (run["notes"] or "").splitlines():
                out.write(f"run {run['id']}: {note}\n")
    return 0


def _filters(args) -> queries.Filters:
    try:
        return queries.Filters(
            since=queries.parse_date(args.since) if getattr(args, "since", None) else None,
            until=queries.parse_date(args.until, end_of_day=True) if getattr(args, "until", None) else None,
            language=getattr(args, "language", None),
            source=getattr(args, "source", None),
            section=getattr(args, "section", None),
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def cmd_search(args) -> int:
    filters = _filters(args)
    engine = _readable(_open_engine(args.db))
    with engine.connect() as connection:
        hits = queries.search(connection, args.text, filters, limit=args.limit)
    with _output(None) as out:
        if args.json:
            for hit in hits:
                out.write(json.dumps(_json_ready(hit), ensure_ascii=False) + "\n")
        else:
            writer = csv.writer(out, delimiter="\t", lineterminator="\n")
            writer.writerow(queries.SEARCH_COLUMNS)
            for hit in hits:
                writer.writerow([_text(hit[c]).replace("\t", " ") for c in queries.SEARCH_COLUMNS])
    return 0


def neutralise(cell: str) -> str:
    """A CSV cell a spreadsheet will not run: a leading = + - @ (or tab, CR) gets a '."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def csv_cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return neutralise(json.dumps(value, ensure_ascii=False))
    return neutralise(_text(value))


def cmd_export(args) -> int:
    filters = _filters(args)
    engine = _readable(_open_engine(args.db))
    count = 0
    with engine.connect() as connection, _output(args.output) as out:
        rows = queries.export_rows(connection, filters)
        if args.format == "csv":
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(queries.EXPORT_COLUMNS)
            for row in rows:
                writer.writerow([csv_cell(row[c]) for c in queries.EXPORT_COLUMNS])
                count += 1
        else:
            for row in rows:
                out.write(json.dumps(_json_ready(row), ensure_ascii=False) + "\n")
                count += 1
    if args.output:
        print(f"{count} articles written to {args.output}", file=sys.stderr)
    return 0


def _read_records(path: Path, rejected: list[str]) -> Iterator[dict[str, Any]]:
    """The file's storable records; a line that is not one is named in ``rejected``."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield record_from_item(json.loads(line))
            except (json.JSONDecodeError, BadRecord, AttributeError) as exc:
                rejected.append(f"{path} line {number} is not a stored item ({exc}); skipped")


def cmd_ingest(args) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"there is no file {path}")
    engine = _open_engine(args.db, must_exist=False)
    with _no_crawl_running(engine):
        return _ingest(engine, path)


def _ingest(engine: Engine, path: Path) -> int:
    upgrade_to_head(engine)
    store = ArticleStore(engine)
    run_id = store.open_run(f"peruwire ingest {path.name}")
    outcomes: Counter[str] = Counter()
    batch: list[dict[str, Any]] = []
    rejected: list[str] = []
    status, reason = FAILED, "error"
    try:
        for record in _read_records(path, rejected):
            batch.append(record)
            if len(batch) >= INGEST_BATCH:
                outcomes += store.write(batch, run_id=run_id)
                batch = []
        if batch:
            outcomes += store.write(batch, run_id=run_id)
        status, reason = FINISHED, "finished"
    finally:
        store.close_run(run_id, status=status, finish_reason=reason, new=outcomes["new"],
                        updated=outcomes["updated"], unchanged=outcomes["unchanged"],
                        errors=len(rejected), notes="\n".join(rejected) or None)
    for line in rejected:
        print(f"peruwire: {line}", file=sys.stderr)
    total = sum(outcomes.values())
    print(f"stored {total} articles from {path}: {outcomes['new']} new, {outcomes['updated']} updated, "
          f"{outcomes['unchanged']} unchanged, {len(rejected)} lines skipped (crawl run {run_id})")
    return 1 if rejected else 0


# --- the parser ---------------------------------------------------------------------------
def _command(subparsers, name: str, func, summary: str, example: str, **kwargs) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        name, help=summary, description=f"{summary}\n\nexample:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)
    parser.add_argument("--db", metavar="URL", help="database URL (default: $PERUWIRE_DB_URL, else sqlite:///peruwire.db)")
    parser.set_defaults(func=func)
    return parser


def _date_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", metavar="DATE", help="published on or after DATE (YYYY-MM-DD or ISO 8601, UTC)")
    parser.add_argument("--language", metavar="CODE", help="only articles in this language (ISO 639-1: en, es)")
    parser.add_argument("--source", metavar="KEY", help="only articles of this source, e.g. peoplesdispatch")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="peruwire",
        description="Query and maintain the peruwire articles database.\n\n"
                    "example:\n  peruwire search 'Castillo' --since 2022-01-01 --language es --db sqlite:///peruwire.db",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    db = commands.add_parser("db", help="create or upgrade the database schema",
                             description="Create or upgrade the database schema.")
    db_commands = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    _command(db_commands, "upgrade", cmd_db_upgrade,
             "Create the database, or bring its schema up to date (keeps every row).",
             "peruwire db upgrade --db postgresql+psycopg://analyst@db.example/peruwire")
    _command(db_commands, "current", cmd_db_current, "Show the database's schema revision.",
             "peruwire db current --db sqlite:///peruwire.db")

    stats = _command(commands, "stats", cmd_stats,
                     "Articles per source, section, language and month, and the last crawl runs.",
                     "peruwire stats --runs 5")
    stats.add_argument("--runs", type=int, default=10, metavar="N", help="how many crawl runs to show (default 10)")
    stats.add_argument("--json", action="store_true", help="one JSON object instead of text")

    runs = _command(commands, "runs", cmd_runs,
                    "Recent crawl runs, newest first: status, counts, and why a run was unhealthy.",
                    "peruwire runs --limit 5")
    runs.add_argument("--limit", type=int, default=10, metavar="N", help="how many runs (default 10)")
    runs.add_argument("--json", action="store_true", help="JSON lines instead of a table")

    search = _command(commands, "search", cmd_search,
                      "Full-text search over titles, summaries and bodies; every word must appear.\n"
                      "Prints tab-separated published_at, language, source, title, url, best match first.",
                      "peruwire search 'Fujimori indulto' --since 2023-01-01 --language es")
    search.add_argument("text", metavar="TEXT", help="words to find")
    _date_filters(search)
    search.add_argument("--limit", type=int, default=50, metavar="N", help="at most N results (default 50)")
    search.add_argument("--json", action="store_true", help="JSON lines instead of tab-separated text")

    export = _command(commands, "export", cmd_export,
                      "Export articles as CSV or JSON lines (UTF-8, ISO 8601 UTC dates, stable column order).\n"
                      "In CSV, a cell starting with = + - @ gets a leading ' so spreadsheets never run it "
                      "as a formula.",
                      "peruwire export --format csv --since 2023-01-01 --output peru-2023.csv")
    export.add_argument("--format", choices=("csv", "jsonl"), required=True, help="csv or jsonl")
    _date_filters(export)
    export.add_argument("--until", metavar="DATE",
                        help="published on or before DATE (a bare date includes that whole day)")
    export.add_argument("--section", metavar="URL", help="only articles listed on this section page")
    export.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")

    ingest = _command(commands, "ingest", cmd_ingest,
                      "Store the items of a JSON lines file, such as the dead-letter file a crawl wrote\n"
                      "when the database refused them. Storing the same file twice is harmless.",
                      "peruwire ingest peruwire-dead-letter.jsonl")
    ingest.add_argument("file", metavar="FILE", help="JSON lines file, one item per line")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CommandError, DatabaseError) as exc:
        print(f"peruwire: error: {exc}", file=sys.stderr)
    except DBAPIError as exc:
        print(f"peruwire: error: the database refused: {first_line(exc.orig)}", file=sys.stderr)
    except BrokenPipeError:
        # The reader (head, less) went away: not an error. Keep Python from complaining.
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("peruwire: interrupted", file=sys.stderr)
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())

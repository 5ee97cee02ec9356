"""``peruwire ingest``: store the items of a JSON lines file (such as a dead-letter file)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from more_itertools import chunked
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from peruwire_crawl.cli.base import CommandError, Database, cli, db_option, no_crawl_running
from peruwire_crawl.db.engine import first_line
from peruwire_crawl.db.migrate import upgrade_to_head
from peruwire_crawl.db.schema import FAILED, FINISHED
from peruwire_crawl.db.store import ArticleStore, BadRecord, record_from_item

# Records per transaction: a failure costs at most this many, re-tried one by one.
INGEST_BATCH = 500


@cli.command(examples=["peruwire ingest peruwire-dead-letter.jsonl",
                       "peruwire --db postgresql+psycopg://crawler@db.example/peruwire ingest items.jsonl"])
@db_option
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
def ingest(ctx: click.Context, file: Path) -> int:
    """Store the items of a JSON lines file, such as the dead-letter file a crawl wrote when
    the database refused them. Storing the same file twice is harmless.

    Each line is checked on its own: a line that is not a storable item is named (file and
    line number, and why) and skipped; every other line is stored. Exit status 1 when a
    line was skipped.
    """
    if not file.is_file():
        raise CommandError(f"there is no file {file}")
    engine = Database.of(ctx).engine(must_exist=False)
    with no_crawl_running(engine):
        return _ingest(engine, file)


def _read_records(path: Path, rejected: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for each storable line; each other line is told in ``rejected``."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if not isinstance(item, dict):
                    raise BadRecord(f"a JSON {type(item).__name__}, not an object")
                yield number, record_from_item(item)
            except (json.JSONDecodeError, BadRecord) as exc:
                rejected.append(f"{path} line {number} is not a stored item ({exc}); skipped")


def _ingest(engine: Engine, path: Path) -> int:
    upgrade_to_head(engine)
    store = ArticleStore(engine)
    run_id = store.open_run(f"peruwire ingest {path.name}")
    outcomes: Counter[str] = Counter()
    rejected: list[str] = []
    status, reason = FAILED, "error"
    try:
        for batch in chunked(_read_records(path, rejected), INGEST_BATCH):
            outcomes += _write(store, batch, run_id, path, rejected)
        status, reason = FINISHED, "finished"
    finally:
        store.close_run(run_id, status=status, finish_reason=reason, new=outcomes["new"],
                        updated=outcomes["updated"], unchanged=outcomes["unchanged"],
                        errors=len(rejected), notes="\n".join(rejected) or None)
    for line in rejected:
        click.echo(f"peruwire: {line}", err=True)
    total = sum(outcomes.values())
    click.echo(f"stored {total} articles from {path}: {outcomes['new']} new, {outcomes['updated']} updated, "
               f"{outcomes['unchanged']} unchanged, {len(rejected)} lines skipped (crawl run {run_id})")
    return 1 if rejected else 0


def _write(store: ArticleStore, batch: list[tuple[int, dict[str, Any]]], run_id: int, path: Path,
           rejected: list[str]) -> Counter[str]:
    """The batch in one transaction; if the database refuses it, line by line, so one bad
    line costs only itself."""
    try:
        return store.write([record for _, record in batch], run_id=run_id)
    except DBAPIError:
        pass
    outcomes: Counter[str] = Counter()
    for number, record in batch:
        try:
            outcomes += store.write([record], run_id=run_id)
        except DBAPIError as exc:
            rejected.append(f"{path} line {number} was refused by the database ({first_line(exc.orig)}); skipped")
    return outcomes

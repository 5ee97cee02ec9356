"""``peruwire stats`` and ``peruwire runs``: what is in the database, and how crawls went."""

from __future__ import annotations

import json
from typing import Any

import click

from peruwire_crawl.cli.base import Database, cli, db_option, json_ready, output, output_options, table, write_rows
from peruwire_crawl.db import queries

STATS_GROUPS = (("source", "articles per source"), ("section", "articles per section"),
                ("language", "articles per language"), ("month", "articles per month published (UTC)"))
RUN_TABLE_COLUMNS = [c for c in queries.RUN_COLUMNS if c != "notes"]
# One spelling on both commands: `stats --runs 5` and `runs --limit 5` mean the same.
runs_option = click.option("--runs", "--limit", "run_count", type=int, default=10, metavar="N",
                           show_default=True, help="how many crawl runs to show, newest first")


@cli.command(examples=["peruwire stats --runs 5", "peruwire stats --csv > counts.csv"])
@db_option
@runs_option
@output_options
@click.pass_context
def stats(ctx: click.Context, run_count: int, fmt: str | None) -> int:
    """Articles per source, section, language and month, and the last crawl runs.

    As text, months with no article are left out; --json, --csv, --tsv and --nl give every
    month from the first to the last (zero months included), ready to chart.
    """
    engine = Database.of(ctx).readable()
    with engine.connect() as connection:
        total = queries.article_count(connection)
        groups = {by: queries.counts(connection, by) for by, _ in STATS_GROUPS}
        runs = queries.last_runs(connection, run_count)
    chartable = {**groups, "month": queries.with_zero_months(groups["month"])}
    with output() as out:
        if fmt == "json":
            document = {"articles": total, **{by: dict(rows) for by, rows in chartable.items()},
                        "runs": [json_ready(run) for run in runs]}
            out.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        elif fmt:
            rows = [{"group": by, "value": key, "articles": count}
                    for by, _ in STATS_GROUPS for key, count in chartable[by]]
            write_rows(out, rows, ("group", "value", "articles"), fmt)
        else:
            out.write(f"articles: {total}\n")
            for by, heading in STATS_GROUPS:
                out.write(f"\n{heading}:\n")
                table(out, groups[by], indent="  ")
            out.write(f"\nlast {run_count} crawl runs:\n")
            _runs_table(out, runs, indent="  ")
    return 0


def _runs_table(out, runs: list[dict[str, Any]], indent: str = "") -> None:
    table(out, [[run[c] for c in RUN_TABLE_COLUMNS] for run in runs], headers=RUN_TABLE_COLUMNS, indent=indent)


@cli.command(examples=["peruwire runs --limit 5", "peruwire runs --json | jq .status"])
@db_option
@runs_option
@output_options
@click.pass_context
def runs(ctx: click.Context, run_count: int, fmt: str | None) -> int:
    """Recent crawl runs, newest first: status, counts, and why a run was unhealthy."""
    engine = Database.of(ctx).readable()
    with engine.connect() as connection:
        found = queries.last_runs(connection, run_count)
    with output() as out:
        if fmt:
            write_rows(out, found, queries.RUN_COLUMNS, fmt)
            return 0
        _runs_table(out, found)
        # Why a run was unhealthy or failed: one line per recorded reason.
        for run in found:
            for note in (run["notes"] or "").splitlines():
                out.write(f"run {run['id']}: {note}\n")
    return 0

"""``peruwire export``: every matching article, as CSV, TSV, JSON lines or Parquet."""

from __future__ import annotations

import sys

import click

from peruwire_crawl.cli.base import (
    CommandError,
    Database,
    cli,
    db_option,
    filter_options,
    output,
    warn_unmatched,
    write_rows,
)
from peruwire_crawl.db import queries

FORMATS = {"csv": "csv", "tsv": "tsv", "jsonl": "nl", "json": "nl", "nl": "nl", "parquet": "parquet"}


@cli.command(examples=["peruwire export --format csv --since 2023-01-01 --output peru-2023.csv",
                       "peruwire export --nl --section peoplesdispatch.org/tag/new-peru-left | head -n 1",
                       "peruwire export --format parquet --output peru.parquet"])
@db_option
@click.option("--format", "format_", type=click.Choice(sorted(FORMATS)), help="csv, tsv, jsonl or parquet")
@click.option("--csv", "format_", flag_value="csv", help="the same as --format csv")
@click.option("--tsv", "format_", flag_value="tsv", help="the same as --format tsv")
@click.option("--json", "--nl", "format_", flag_value="jsonl", help="JSON lines, the same as --format jsonl")
@click.option("--parquet", "format_", flag_value="parquet", help="the same as --format parquet (needs --output)")
@filter_options
@click.option("--output", "-o", "output_path", metavar="FILE", help="write to FILE instead of stdout")
@click.pass_context
def export(ctx: click.Context, format_: str | None, filters: queries.Filters, output_path: str | None) -> int:
    """Export articles (UTF-8, ISO 8601 UTC dates, a stable column order).

    In CSV and TSV, lists are JSON text and a cell a spreadsheet would run as a formula gets
    a leading ' (also after leading spaces, a BOM or invisible characters, and for
    full-width ＝ ＋ － ＠). JSON lines and Parquet hold the values as stored: lists as lists,
    times as UTC timestamps.
    """
    if format_ is None:
        raise CommandError("choose a format: --format csv|tsv|jsonl|parquet (or --csv, --tsv, --nl, --parquet)")
    fmt = FORMATS[format_]
    engine = Database.of(ctx).readable()
    with engine.connect() as connection:
        warn_unmatched(connection, filters)
        rows = queries.export_rows(connection, filters)
        if fmt == "parquet":
            if not output_path:
                raise CommandError("Parquet is a binary file: give --output FILE")
            from peruwire_crawl.cli.parquet import write_parquet

            count = write_parquet(rows, output_path)
        else:
            with output(output_path) as out:
                count = write_rows(out, rows, queries.EXPORT_COLUMNS, fmt)
    if output_path:
        print(f"{count} articles written to {output_path}", file=sys.stderr)
    return 0

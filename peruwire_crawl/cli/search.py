"""``peruwire search`` (full-text, the same answers on SQLite and PostgreSQL) and
``peruwire query`` (read-only SQL)."""

from __future__ import annotations

import click
from sqlalchemy import text as sql_text
from sqlalchemy.exc import DBAPIError

from peruwire_crawl.cli.base import (
    CommandError,
    Database,
    cli,
    db_option,
    filter_options,
    output,
    output_options,
    warn_unmatched,
    write_rows,
)
from peruwire_crawl.cli.cells import text
from peruwire_crawl.db import queries
from peruwire_crawl.db.engine import first_line
from peruwire_crawl.db.search import EmptyQuery


@cli.command(examples=["peruwire search 'Fujimori indulto' --since 2023-01-01 --language es",
                       "peruwire search '\"paro nacional\" OR huelga' --section peoplesdispatch.org/tag/new-peru-left",
                       "peruwire search 'protest*' --author 'Zoe Alexandra' --json"])
@db_option
@click.argument("query")
@filter_options
@click.option("--limit", type=int, default=50, metavar="N", show_default=True, help="at most N results")
@output_options
@click.pass_context
def search(ctx: click.Context, query: str, filters: queries.Filters, limit: int, fmt: str | None) -> int:
    """Full-text search over titles, summaries and bodies, best match first.

    Every word must appear (stemmed in the article's language, English or Spanish: "strikes"
    finds "strike", "protesta" finds "protestas"; case and accents ignored). "Quoted words"
    must appear together, OR between two terms takes either, a trailing * matches any
    ending (protest*). Prints tab-separated published_at, language, source, title, url;
    --json, --nl, --csv and --tsv add the id and a snippet.
    """
    if not query.strip():
        raise CommandError("the search query is empty: give the words to find")
    engine = Database.of(ctx).readable()
    with engine.connect() as connection:
        warn_unmatched(connection, filters)
        try:
            hits = queries.search(connection, query, filters, limit=limit)
        except EmptyQuery as exc:
            raise CommandError(f"the search query is empty: {exc}") from None
    with output() as out:
        if fmt:
            write_rows(out, hits, queries.SEARCH_OUTPUT_COLUMNS, fmt)
        else:
            write_rows(out, hits, queries.SEARCH_COLUMNS, "tsv", cell=_tsv_text)
    return 0


def _tsv_text(value) -> str:
    return text(value).replace("\t", " ")


@cli.command(examples=["peruwire query \"SELECT language, count(*) AS articles FROM articles GROUP BY language\"",
                       "peruwire query 'SELECT title FROM articles WHERE source = :source' "
                       "-p source peoplesdispatch --csv"])
@db_option
@click.argument("sql")
@click.option("-p", "--param", "params", type=(str, str), multiple=True, metavar="NAME VALUE",
              help="a :NAME parameter of the query (repeatable)")
@output_options
@click.pass_context
def query(ctx: click.Context, sql: str, params: tuple[tuple[str, str], ...], fmt: str | None) -> int:
    """Run one read-only SQL query and print its rows (a table unless a format is given).

    The database refuses writes from this command, whatever the SQL says.
    """
    if not sql.strip():
        raise CommandError("the query is empty: give one SQL statement")
    engine = Database.of(ctx).engine()
    with engine.connect() as connection:
        queries.read_only(connection)
        try:
            result = connection.execute(sql_text(sql), dict(params))
        except DBAPIError as exc:
            raise CommandError(f"the database refused the query: {first_line(exc.orig)}") from None
        if not result.returns_rows:
            raise CommandError("the statement returned no rows; `peruwire query` is for SELECT")
        columns = list(result.keys())
        rows = [dict(zip(columns, row, strict=True)) for row in result]
        connection.rollback()
    with output() as out:
        write_rows(out, rows, columns, fmt or "table")
    return 0

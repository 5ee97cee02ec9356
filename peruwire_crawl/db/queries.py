"""The read side: what ``peruwire stats``, ``search`` and ``export`` ask the database.

Each function takes a connection and returns plain values (dicts, tuples), the same on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Float, Integer, and_, desc, func, literal_column, select, text

from peruwire_crawl.db.schema import article_sections, article_translations, articles, crawl_runs
from peruwire_crawl.times import to_stored_utc

UNKNOWN = "(unknown)"

# Column order of `peruwire export` (CSV header and JSON keys): stable, documented in
# docs/analysts.md; new columns are only ever appended before `body`.
EXPORT_COLUMNS = (
    "id", "url", "source", "language", "published_at", "date_precision", "modified_at",
    "title", "summary", "authors", "sections", "translation_of", "translations", "complete",
    "first_seen_at", "last_seen_at", "changed_at", "body",
)


def parse_date(value: str, *, end_of_day: bool = False) -> datetime:
    """``2023-06-01`` or a full ISO 8601 time, as UTC. A bare date means its first second,
    or with ``end_of_day`` the first second of the next day (an exclusive bound)."""
    try:
        moment = to_stored_utc(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date; use YYYY-MM-DD or an ISO 8601 time") from None
    if end_of_day and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        moment += timedelta(days=1)
    return moment


def _month(connection: Connection) -> ColumnElement[str]:
    if connection.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", articles.c.published_at), "YYYY-MM")
    return func.substr(articles.c.published_at, 1, 7)


# --- stats ------------------------------------------------------------------------------
def article_count(connection: Connection) -> int:
    return connection.execute(select(func.count()).select_from(articles)).scalar_one()


def counts(connection: Connection, by: str) -> list[tuple[str, int]]:
    """Articles per ``source``, ``section``, ``language`` or ``month`` (of publication),
    most first (months newest first); a missing value counts as "(unknown)"."""
    if by == "section":
        key = article_sections.c.section_url
        query = select(key, func.count()).group_by(key).order_by(desc(func.count()), key)
    else:
        key = _month(connection) if by == "month" else articles.c[by]
        key = func.coalesce(key, UNKNOWN).label("key")
        order = (desc(key),) if by == "month" else (desc(func.count()), key)
        query = select(key, func.count()).select_from(articles).group_by(key).order_by(*order)
    return [(row[0], row[1]) for row in connection.execute(query)]


RUN_COLUMNS = ("id", "spider", "started_at", "finished_at", "status", "finish_reason", "pages_fetched",
               "new", "updated", "unchanged", "duplicates", "errors", "notes")


def last_runs(connection: Connection, limit: int = 10) -> list[dict[str, Any]]:
    query = select(*(crawl_runs.c[c] for c in RUN_COLUMNS)).order_by(desc(crawl_runs.c.id)).limit(limit)
    return [dict(row) for row in connection.execute(query).mappings()]


# --- search -----------------------------------------------------------------------------
@dataclass
class Filters:
    since: datetime | None = None  # published at or after
    until: datetime | None = None  # published before (exclusive)
    language: str | None = None
    source: str | None = None
    section: str | None = None

    def where(self) -> list[ColumnElement[bool]]:
        clauses = []
        if self.since is not None:
            clauses.append(articles.c.published_at >= self.since)
        if self.until is not None:
            clauses.append(articles.c.published_at < self.until)
        if self.language:
            clauses.append(articles.c.language == self.language)
        if self.source:
            clauses.append(articles.c.source == self.source)
        if self.section:
            clauses.append(articles.c.id.in_(
                select(article_sections.c.article_id).where(article_sections.c.section_url == self.section)))
        return clauses


SEARCH_COLUMNS = ("published_at", "language", "source", "title", "url")


def fts5_query(words: str) -> str:
    """User text as an FTS5 query that cannot be a syntax error: every word must appear
    (each quoted, so punctuation and operators are just text)."""
    terms = [term.replace('"', '""') for term in words.split()]
    return " ".join(f'"{term}"' for term in terms if term.strip('"'))


def search(connection: Connection, words: str, filters: Filters, limit: int = 50) -> list[dict[str, Any]]:
    """Articles whose title, summary or body hold every word of ``words``, best match first."""
    columns = [articles.c[c] for c in SEARCH_COLUMNS]
    if connection.dialect.name == "postgresql":
        query_ = (func.websearch_to_tsquery(literal_column("'english'::regconfig"), words)
                  .op("||")(func.websearch_to_tsquery(literal_column("'spanish'::regconfig"), words)))
        vector = literal_column("articles.search_vector")
        query = (select(*columns).where(vector.op("@@")(query_), *filters.where())
                 .order_by(desc(func.ts_rank(vector, query_)), desc(articles.c.published_at)))
    else:
        match = fts5_query(words)
        if not match:
            return []
        hits = (text("SELECT rowid AS id, bm25(articles_fts, 10.0, 5.0, 1.0) AS rank "
                     "FROM articles_fts WHERE articles_fts MATCH :match")
                .bindparams(match=match).columns(id=Integer, rank=Float).subquery("hits"))
        query = (select(*columns).join_from(articles, hits, hits.c.id == articles.c.id)
                 .where(*filters.where()).order_by(hits.c.rank, desc(articles.c.published_at)))
    return [dict(row) for row in connection.execute(query.limit(limit)).mappings()]


# --- export -----------------------------------------------------------------------------
def export_rows(connection: Connection, filters: Filters, chunk: int = 1000) -> Iterator[dict[str, Any]]:
    """Every matching article in ``EXPORT_COLUMNS`` order, by id, with its sections and
    translation links as lists; read in chunks, so memory stays flat on large databases."""
    plain = [c for c in EXPORT_COLUMNS if c not in ("sections", "translations")]
    last_id = 0
    while True:
        query = (select(*(articles.c[c] for c in plain))
                 .where(and_(articles.c.id > last_id, *filters.where()))
                 .order_by(articles.c.id).limit(chunk))
        batch = [dict(row) for row in connection.execute(query).mappings()]
        if not batch:
            return
        ids = [row["id"] for row in batch]
        sections = _links(connection, article_sections.c.section_url, ids)
        translations = _links(connection, article_translations.c.translation_url, ids)
        for row in batch:
            row["sections"] = sections.get(row["id"], [])
            row["translations"] = translations.get(row["id"], [])
            yield {column: row[column] for column in EXPORT_COLUMNS}
        last_id = ids[-1]


def _links(connection: Connection, column, ids: list[int]) -> dict[int, list[str]]:
    table = column.table
    found: dict[int, list[str]] = {}
    query = select(table.c.article_id, column).where(table.c.article_id.in_(ids)).order_by(table.c.article_id, column)
    for article_id, value in connection.execute(query):
        found.setdefault(article_id, []).append(value)
    return found

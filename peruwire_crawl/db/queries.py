"""The read side: what ``peruwire stats``, ``search`` and ``export`` ask the database.

Each function takes a connection and returns plain values (dicts, tuples), the same on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Integer,
    Text,
    and_,
    column,
    desc,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
)

from peruwire_crawl.db.schema import article_sections, article_translations, articles, crawl_runs
from peruwire_crawl.db.search import Query, matching, prepare, snippet, unindexed
from peruwire_crawl.db.types import to_utc
from peruwire_crawl.urls import canonical_url

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
        moment = to_utc(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date; use YYYY-MM-DD or an ISO 8601 time") from None
    if end_of_day and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        moment += timedelta(days=1)
    return moment


def _month(connection: Connection) -> ColumnElement[str]:
    if connection.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", articles.c.published_at), "YYYY-MM")
    return func.substr(articles.c.published_at, 1, 7)


def read_only(connection: Connection) -> None:
    """Make the connection's transaction refuse every write (``peruwire query``): SQLite's
    ``query_only`` (for as long as the connection lives: the caller's engine is its own)
    or PostgreSQL's read-only transaction."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")
    else:
        connection.exec_driver_sql("PRAGMA query_only = ON")


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


def with_zero_months(months: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Per-month counts (``counts(..., "month")``, newest first) with every month between
    the first and the last, a month without articles counting 0: a series that charts
    truthfully. "(unknown)" (no date) stays last."""
    known = dict(pair for pair in months if pair[0] != UNKNOWN)
    filled: list[tuple[str, int]] = []
    if known:
        year, month = map(int, min(known).split("-"))
        last = max(known)
        while (key := f"{year:04d}-{month:02d}") <= last:
            filled.append((key, known.get(key, 0)))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return filled[::-1] + [pair for pair in months if pair[0] == UNKNOWN]


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
    author: str | None = None

    def normalised(self) -> Filters:
        """The filters spelled the way stored values are: language and source lowercased,
        a section as its canonical URL (scheme added, trailing slash, host case)."""
        section = self.section.strip() if self.section else None
        if section:
            section = canonical_url(section if "://" in section else f"https://{section}")
        return replace(
            self,
            language=self.language.strip().lower() if self.language else None,
            source=self.source.strip().lower() if self.source else None,
            section=section,
            author=" ".join(self.author.split()) if self.author else None,
        )

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
        if self.author:
            clauses.append(articles.c.id.in_(
                select(article_authors.c.article_id).where(func.lower(article_authors.c.author) == self.author.lower())))
        return clauses


# The article_authors view (made by migration 0002), for queries.
article_authors = table("article_authors", column("article_id", Integer), column("author", Text))


def unmatched_filters(connection: Connection, filters: Filters) -> list[tuple[str, str]]:
    """The (name, value) of each value filter that no stored article has."""
    checks = (("language", filters.language, articles.c.language),
              ("source", filters.source, articles.c.source),
              ("section", filters.section, article_sections.c.section_url),
              ("author", filters.author and filters.author.lower(), func.lower(article_authors.c.author)))
    unmatched = []
    for name, value, stored in checks:
        if value and connection.execute(select(literal(1)).where(stored == value).limit(1)).first() is None:
            unmatched.append((name, value))
    return unmatched


SEARCH_COLUMNS = ("published_at", "language", "source", "title", "url")
# What --json/--csv/... print: the id, for `peruwire show ID`, first.
SEARCH_RESULT_COLUMNS = ("id", *SEARCH_COLUMNS)
SEARCH_OUTPUT_COLUMNS = (*SEARCH_RESULT_COLUMNS, "snippet")


def search(connection: Connection, words: str, filters: Filters, limit: int = 50) -> list[dict[str, Any]]:
    """Articles matching ``words`` (the syntax of ``peruwire_crawl.db.search``), best match
    first, each with a ``snippet`` around its first match. Raises ``search.EmptyQuery``."""
    query = Query.parse(words)
    hits = matching(connection, query).subquery("hits")
    columns = (*(articles.c[c] for c in SEARCH_RESULT_COLUMNS), articles.c.summary, articles.c.body)
    statement = (select(*columns).join_from(articles, hits, hits.c.id == articles.c.id)
                 .where(*filters.where())
                 .order_by(hits.c.rank, desc(articles.c.published_at), articles.c.id)
                 .limit(limit))
    rows = list(connection.execute(statement).mappings())
    # Articles whose terms are not written yet (edited by hand): matched here, ranked last.
    stale = select(*columns).where(articles.c.id.in_(unindexed(connection)), *filters.where()).order_by(articles.c.id)
    for row in connection.execute(stale).mappings():
        if len(rows) < limit and query.terms_for(row["language"]).matches(
                prepare(row["title"], row["summary"], row["body"], row["language"])):
            rows.append(row)
    found = []
    for row in rows:
        hit = {column: row[column] for column in SEARCH_RESULT_COLUMNS}
        hit["snippet"] = snippet(query, row["language"], row["title"], row["summary"], row["body"])
        found.append(hit)
    return found


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

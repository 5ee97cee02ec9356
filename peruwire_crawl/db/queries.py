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
    Integer,
    Text,
    and_,
    case,
    column,
    desc,
    func,
    literal,
    select,
    table,
)

from peruwire_crawl.db.schema import (
    article_aliases,
    article_revisions,
    article_sections,
    article_translations,
    articles,
    crawl_runs,
)
from peruwire_crawl.db.search import Query, matching, prepare, snippet, unindexed
from peruwire_crawl.times import to_stored_utc
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
        moment = to_stored_utc(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date; use YYYY-MM-DD or an ISO 8601 time") from None
    if end_of_day and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        moment += timedelta(days=1)
    return moment


def _month(connection: Connection) -> ColumnElement[str]:
    return _month_of(connection, articles.c.published_at)


def _month_of(connection: Connection, column) -> ColumnElement[str]:
    """``YYYY-MM`` of a stored UTC time, on either database."""
    if connection.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.substr(column, 1, 7)


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
                select(article_authors.c.article_id)
                .where(func.lower(article_authors.c.author) == self.author.lower())))
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


# --- one article --------------------------------------------------------------------------
ARTICLE_FIELDS = (
    "id", "url", "source", "language", "title", "summary", "published_at", "date_precision", "date_signal",
    "modified_at", "authors", "translation_of", "complete", "incomplete_reason", "listed_title",
    "listed_summary", "first_seen_at", "last_seen_at", "changed_at", "body",
)


def find_article_id(connection: Connection, key: str) -> int | None:
    """The id of the article ``key`` names: its id, its URL in any spelling, or another URL
    of it (an alias recorded by dedup)."""
    if key.strip().isdigit():
        found = connection.execute(select(articles.c.id).where(articles.c.id == int(key))).scalar()
        return found
    url = canonical_url(key if "://" in key else f"https://{key}")
    found = connection.execute(select(articles.c.id).where(articles.c.url.in_({url, key.strip()}))).scalar()
    if found is None:
        target = select(article_aliases.c.article_url).where(article_aliases.c.url.in_({url, key.strip()}))
        found = connection.execute(select(articles.c.id).where(articles.c.url.in_(target))).scalar()
    return found


def article_in_full(connection: Connection, article_id: int) -> dict[str, Any]:
    """An article with its sections, translations (both ways), revisions and the runs that
    saw it (the schema records the run of each revision, and the first and last sighting
    and change by time: the runs open at those moments)."""
    article = dict(connection.execute(select(*(articles.c[c] for c in ARTICLE_FIELDS))
                                      .where(articles.c.id == article_id)).mappings().one())
    article["sections"] = [dict(row) for row in connection.execute(
        select(article_sections.c.section_url, article_sections.c.first_seen_at)
        .where(article_sections.c.article_id == article_id).order_by(article_sections.c.section_url)).mappings()]
    linked = set(connection.execute(select(article_translations.c.translation_url)
                                    .where(article_translations.c.article_id == article_id)).scalars())
    linked |= set(connection.execute(  # articles that name this one as their translation
        select(articles.c.url).join(article_translations, article_translations.c.article_id == articles.c.id)
        .where(article_translations.c.translation_url == article["url"])).scalars())
    if article["translation_of"]:
        linked.add(article["translation_of"])
    stored = {row.url: row for row in connection.execute(
        select(articles.c.id, articles.c.url, articles.c.language, articles.c.title).where(articles.c.url.in_(linked)))}
    article["translations"] = [
        {"url": url, "id": getattr(stored.get(url), "id", None), "language": getattr(stored.get(url), "language", None),
         "title": getattr(stored.get(url), "title", None)} for url in sorted(linked)]
    article["revisions"] = [dict(row) for row in connection.execute(
        select(article_revisions.c.replaced_at, article_revisions.c.crawl_run_id, article_revisions.c.changed,
               article_revisions.c.signal, article_revisions.c.title, article_revisions.c.summary)
        .where(article_revisions.c.article_id == article_id)
        .order_by(article_revisions.c.replaced_at, article_revisions.c.id)).mappings()]
    article["aliases"] = list(connection.execute(select(article_aliases.c.url)
                                                 .where(article_aliases.c.article_url == article["url"])
                                                 .order_by(article_aliases.c.url)).scalars())
    article["runs"] = _runs_that_saw(connection, article)
    return article


def _runs_that_saw(connection: Connection, article: dict[str, Any]) -> list[dict[str, Any]]:
    moments = {"first seen": article["first_seen_at"], "last changed": article["changed_at"],
               "last seen": article["last_seen_at"]}
    seen: dict[int, dict[str, Any]] = {}
    for what, moment in moments.items():
        run = connection.execute(
            select(crawl_runs.c.id, crawl_runs.c.spider, crawl_runs.c.started_at, crawl_runs.c.status)
            .where(crawl_runs.c.started_at <= moment,
                   func.coalesce(crawl_runs.c.finished_at, moment) >= moment)
            .order_by(desc(crawl_runs.c.started_at)).limit(1)).mappings().first()
        if run is not None:
            seen.setdefault(run["id"], {**run, "saw": []})["saw"].append(what)
    for revision in article["revisions"]:
        run_id = revision["crawl_run_id"]
        if run_id is not None and run_id not in seen:
            run = connection.execute(select(crawl_runs.c.id, crawl_runs.c.spider, crawl_runs.c.started_at,
                                            crawl_runs.c.status).where(crawl_runs.c.id == run_id)).mappings().first()
            if run is not None:
                seen[run_id] = {**run, "saw": []}
        if run_id in seen:
            seen[run_id]["saw"].append("changed")
    return [dict(run, saw=", ".join(dict.fromkeys(run["saw"]))) for run in sorted(seen.values(), key=lambda r: r["id"])]


# --- the report ---------------------------------------------------------------------------
COVERAGE_FIELDS = ("title", "summary", "published_at", "modified_at", "authors", "language", "body")


def per_month(connection: Connection, filters: Filters, by: str) -> dict[str, dict[str, int]]:
    """``{value: {month: articles}}`` for ``by`` = ``section`` or ``language`` (articles
    without a date left out); months without articles are filled by ``fill_months``."""
    month = _month_of(connection, articles.c.published_at).label("month")
    if by == "section":
        value = article_sections.c.section_url
        query = select(value, month, func.count()).join_from(articles, article_sections)
    else:
        value = func.coalesce(articles.c[by], UNKNOWN)
        query = select(value, month, func.count()).select_from(articles)
    query = query.where(articles.c.published_at.is_not(None), *filters.where()).group_by(value, month)
    series: dict[str, dict[str, int]] = {}
    for key, when, count in connection.execute(query):
        series.setdefault(key, {})[when] = count
    return series


def fill_months(series: dict[str, dict[str, int]]) -> tuple[list[str], dict[str, list[int]]]:
    """Every month from the first to the last of all series, and each series' counts on
    them (0 for a month without articles)."""
    every = sorted({month for counts in series.values() for month in counts})
    if not every:
        return [], {}
    months = [month for month, _ in with_zero_months([(every[0], 0), (every[-1], 0)])][::-1]
    return months, {key: [counts.get(month, 0) for month in months] for key, counts in series.items()}


def top_authors(connection: Connection, filters: Filters, limit: int = 15) -> list[tuple[str, int]]:
    author = article_authors.c.author
    query = (select(author, func.count())
             .join_from(article_authors, articles, articles.c.id == article_authors.c.article_id)
             .where(*filters.where()).group_by(author).order_by(desc(func.count()), author).limit(limit))
    return [(row[0], row[1]) for row in connection.execute(query)]


CORRECTED_FIELDS = {"title", "summary", "body"}


def corrections_per_month(connection: Connection, filters: Filters) -> dict[str, int]:
    """Changes of title, summary or body (``article_revisions``) per month they were seen;
    a revision from before 0005 (no ``changed`` list) was a title or summary change."""
    month = _month_of(connection, article_revisions.c.replaced_at).label("month")
    query = select(month, article_revisions.c.changed).join_from(article_revisions, articles).where(*filters.where())
    counts: dict[str, int] = {}
    for when, changed in connection.execute(query):
        if not changed or CORRECTED_FIELDS & set(changed):
            counts[when] = counts.get(when, 0) + 1
    return counts


def runs_per_month(connection: Connection) -> dict[str, dict[str, int]]:
    """``{status: {month: runs}}`` by the month each run started."""
    month = _month_of(connection, crawl_runs.c.started_at).label("month")
    series: dict[str, dict[str, int]] = {}
    for status, when, count in connection.execute(
            select(crawl_runs.c.status, month, func.count()).group_by(crawl_runs.c.status, month)):
        series.setdefault(status, {})[when] = count
    return series


def field_coverage(connection: Connection, filters: Filters) -> tuple[int, dict[str, int]]:
    """How many articles match, and how many of them have each of ``COVERAGE_FIELDS``."""
    def present(name: str) -> ColumnElement[int]:
        column = articles.c[name]
        if name == "authors":
            has = func.coalesce(func.json_array_length(column) if connection.dialect.name == "sqlite"
                                else func.jsonb_array_length(column), 0) > 0
        elif isinstance(column.type, Text):
            has = func.coalesce(func.length(column), 0) > 0
        else:
            has = column.is_not(None)
        return func.sum(case((has, 1), else_=0))

    row = connection.execute(select(func.count(), *(present(name) for name in COVERAGE_FIELDS),
                                    func.sum(case((articles.c.complete, 1), else_=0)))
                             .where(*filters.where())).one()
    total = row[0]
    coverage = {name: int(value or 0) for name, value in zip((*COVERAGE_FIELDS, "complete"), row[1:], strict=True)}
    return total, coverage

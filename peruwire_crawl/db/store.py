"""Writing articles and crawl runs: the storage rules, apart from Scrapy.

``ArticleStore.write`` stores a batch of records in one transaction (all or nothing): one
locked read of the batch's stored articles (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite
writers hold the database lock from ``BEGIN IMMEDIATE``), one atomic
``INSERT … ON CONFLICT (url) DO NOTHING`` of the new ones, then an update of each stored
article a record changes. An insert that finds the URL taken by a concurrent writer re-reads
that row and updates it, so several writers never race. Rows are locked and inserted in URL
order, so two writers take them in the same order and cannot deadlock. What a record does to
a stored article:

- new URL: inserted (``first_seen_at`` = ``last_seen_at`` = ``changed_at`` = now);
- complete record (the article page was read): each field it has replaces the stored one; a
  field it lacks (null) keeps the stored value, except ``summary`` (a site may drop it);
- incomplete record (the page failed): only fills fields the stored row lacks, so a failed
  fetch never blanks a stored body or date;
- ``listed_title``/``listed_summary`` always take the listing's latest non-null value;
- a stored value replaced by another (title, summary, body, authors, dates) keeps the earlier
  values in ``article_revisions``, with the run and the signal that fetched the page
  (``peruwire_crawl.db.revisions``); a value that only fills an empty field keeps none;
- nothing changed: only ``last_seen_at`` moves;
- an article page read (or answering 304 to a re-check) records its validators and the
  moment in ``article_checks``, for the change signals (``peruwire_crawl.changes``).
Sections and translation links are added, never removed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select, update

from peruwire_crawl.db.dialect import insert_for, upsert
from peruwire_crawl.db.engine import write_transaction
from peruwire_crawl.db.revisions import revision_values
from peruwire_crawl.db.schema import (
    FINISHED,
    RUNNING,
    article_aliases,
    article_checks,
    article_revisions,
    article_sections,
    article_translations,
    articles,
    crawl_runs,
)
from peruwire_crawl.db.search import index_texts
from peruwire_crawl.identity import title_key
from peruwire_crawl.times import iso, to_stored_utc, utc_now

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"
# Why a limit: a batch may be large (PERUWIRE_STORE_BATCH_SIZE), and a database takes only
# so many parameters in one statement (SQLite 32,766).
URLS_PER_QUERY = 500

# Columns a record sets on an article, in the order of the table.
CONTENT_COLUMNS = (
    "title", "summary", "published_at", "date_precision", "date_signal", "modified_at",
    "authors", "language", "body", "translation_of", "title_key",
)
LISTING_COLUMNS = ("listed_title", "listed_summary")
# Fields of a record that are not article columns.
LINK_FIELDS = ("sections", "translations")
# How the page was read: why it was fetched (the revision's signal), its validators, and
# whether it answered 304 to a conditional re-check.
FETCH_FIELDS = ("fetch_reason", "etag", "last_modified", "not_modified", "fetched_at")
DATE_FIELDS = ("published_at", "modified_at", "fetched_at")  # ISO 8601 text or datetimes
BOOLEAN_FIELDS = ("complete", "not_modified")
RECORD_FIELDS = ("url", "source", *CONTENT_COLUMNS, "complete", "incomplete_reason", *LISTING_COLUMNS,
                 *LINK_FIELDS, *FETCH_FIELDS)


class Outcomes(Counter):
    """How many records of a write were new/updated/unchanged, and (``changed``) the URLs of
    those new or updated, in the order written: what a run's feed exports."""

    def __init__(self):
        super().__init__()
        self.changed: list[str] = []


class BadRecord(ValueError):
    """An item that can never be stored as it is (no URL, a date that is not a date)."""


def record_from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """The storable fields of an item (an ``ArticleItem`` through ItemAdapter, or a dict
    read back from a dead-letter file), checked and converted; raises ``BadRecord``."""
    url, source = item.get("url"), item.get("source")
    if not url or not source:
        raise BadRecord(f"item without url or source cannot be stored: url={url!r} source={source!r}")
    record: dict[str, Any] = {field: item.get(field) for field in RECORD_FIELDS}
    _check_types(record)
    for field in DATE_FIELDS:
        try:
            record[field] = to_stored_utc(record[field])
        except (TypeError, ValueError):
            raise BadRecord(f"{url}: {field} {record[field]!r} is not an ISO 8601 date") from None
    # Dedup finds a stored article under a changed slug by this key (peruwire_crawl.db.seen).
    record["title_key"] = title_key(record["title"]) or None
    record["authors"] = list(record["authors"] or [])
    record["sections"] = list(dict.fromkeys(record["sections"] or []))
    record["translations"] = list(dict.fromkeys(record["translations"] or []))
    record["complete"] = bool(True if record["complete"] is None else record["complete"])
    record["not_modified"] = bool(record["not_modified"])
    return record


# Fields that are lists of text; every other field but the booleans and the dates is text.
LIST_FIELDS = ("authors", *LINK_FIELDS)


def _check_types(record: Mapping[str, Any]) -> None:
    """Raise ``BadRecord`` naming the first field whose value has the wrong type (an item
    read back from a file may hold anything)."""
    for field, value in record.items():
        if value is None or field in DATE_FIELDS:
            continue
        if field in LIST_FIELDS:
            ok = isinstance(value, (list, tuple)) and all(isinstance(entry, str) for entry in value)
            expected = "a list of text"
        elif field in BOOLEAN_FIELDS:
            ok, expected = isinstance(value, bool), "true or false"
        else:
            ok, expected = isinstance(value, str), "text"
        if not ok:
            raise BadRecord(f"{record.get('url')}: {field} {value!r} is not {expected}")


def record_to_json(record: Mapping[str, Any]) -> str:
    """One line of a dead-letter file: the record with its times in ISO 8601."""
    data = {key: (iso(value) if isinstance(value, datetime) else value) for key, value in record.items()}
    return json.dumps(data, ensure_ascii=False, sort_keys=False)


def merge(stored: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """The article's values once ``record`` is applied to the ``stored`` row (rules above)."""
    kept = (*CONTENT_COLUMNS, *LISTING_COLUMNS, "complete", "incomplete_reason")
    merged = {column: stored[column] for column in kept}
    if record["complete"]:
        for column in CONTENT_COLUMNS:
            if _has(record[column]) or column == "summary":
                merged[column] = record[column]
        if not _has(record["published_at"]):  # the date, its precision and signal go together
            for column in ("date_precision", "date_signal"):
                merged[column] = stored[column]
        merged["complete"], merged["incomplete_reason"] = True, None
    else:
        for column in CONTENT_COLUMNS:
            if not _has(stored[column]):
                merged[column] = record[column]
        if not stored["complete"]:
            merged["incomplete_reason"] = record["incomplete_reason"]
    for column in LISTING_COLUMNS:
        if record[column] is not None:
            merged[column] = record[column]
    return merged


def _has(value: Any) -> bool:
    return value is not None and value != []


def _page_check(article_id: int, record: Mapping[str, Any], now: datetime) -> list[dict[str, Any]]:
    """The ``article_checks`` row of a record whose page was read or answered 304 (at the
    site's clock when known); none for a listing-only or failed record. A 304 keeps the
    validators its request sent, which the spider puts back on the record."""
    if not (record["complete"] or record["not_modified"]):
        return []
    return [{"article_id": article_id, "etag": record["etag"], "last_modified": record["last_modified"],
             "checked_at": record["fetched_at"] or now}]


class ArticleStore:
    """Stores records and crawl runs in one database (an engine made by ``make_engine``)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.dialect = engine.dialect.name
        # Statements built once: parameters are passed at execution (fast, and cached).
        # Many rows at once (SQLAlchemy's "insertmanyvalues"); a URL a concurrent writer took
        # meanwhile returns no row, hence the URL beside the id.
        self._insert_articles = (
            insert_for(self.dialect, articles)
            .on_conflict_do_nothing(index_elements=["url"])
            .returning(articles.c.id, articles.c.url)
        )
        self._select_article = select(articles).where(articles.c.url == bindparam("url")).with_for_update()
        self._touch = (update(articles).where(articles.c.id == bindparam("article_id"))
                       .values(last_seen_at=bindparam("now")))
        self._insert_sections = insert_for(self.dialect, article_sections).on_conflict_do_nothing()
        self._insert_translations = insert_for(self.dialect, article_translations).on_conflict_do_nothing()
        self._save_check = upsert(self.dialect, article_checks, ["article_id"],
                                  ["etag", "last_modified", "checked_at"])

    # --- articles ---------------------------------------------------------------------
    def write(self, records: Iterable[Mapping[str, Any]], *, run_id: int | None = None,
              now: datetime | None = None) -> Outcomes:
        """Store every record in one transaction; return how many were new/updated/unchanged
        (and which changed).

        Raises the database's error, having stored nothing, if the transaction fails.
        """
        now = now or utc_now()
        records = sorted(records, key=lambda record: record["url"])
        outcomes = Outcomes()
        unchanged: list[dict[str, Any]] = []
        sections: list[dict[str, Any]] = []
        translations: list[dict[str, Any]] = []
        changed: dict[int, Mapping[str, Any]] = {}  # article id -> its values, to index
        checks: list[dict[str, Any]] = []
        with write_transaction(self.engine) as connection:
            written = self._upsert(connection, records, now, run_id)
            for record, (article_id, outcome, values) in zip(records, written, strict=True):
                outcomes[outcome] += 1
                if outcome == UNCHANGED:
                    unchanged.append({"article_id": article_id, "now": now})
                else:
                    changed[article_id] = values
                    outcomes.changed.append(record["url"])
                sections += [{"article_id": article_id, "section_url": url, "first_seen_at": now}
                             for url in record["sections"]]
                translations += [{"article_id": article_id, "translation_url": url}
                                 for url in record["translations"]]
                checks += _page_check(article_id, record, now)
            for statement, rows in ((self._touch, unchanged), (self._insert_sections, sections),
                                    (self._insert_translations, translations), (self._save_check, checks)):
                if rows:
                    connection.execute(statement, rows)
            index_texts(connection, changed)  # search terms move with the text, in one transaction
        return outcomes

    def _upsert(self, connection: Connection, records: list[Mapping[str, Any]], now: datetime,
                run_id: int | None) -> list[tuple[int, str, Mapping[str, Any]]]:
        """Write each record (in URL order): its article's id, the outcome and the article's
        values after it, record by record."""
        stored = self._stored_articles(connection, [record["url"] for record in records])
        new = {}  # url -> values of the first record of a URL not stored
        for record in records:
            if record["url"] not in stored and record["url"] not in new:
                new[record["url"]] = self._new_values(record, now)
        inserted = {url: article_id for article_id, url in
                    (connection.execute(self._insert_articles, list(new.values())) if new else ())}
        results = []
        for record in records:
            # Each row read or inserted above serves its URL's first record only (popped).
            url = record["url"]
            article_id = inserted.pop(url, None)
            if article_id is not None:
                results.append((article_id, NEW, new[url]))
                continue
            row = stored.pop(url, None)
            if row is None:  # written by an earlier record of this batch, or by a concurrent writer
                row = connection.execute(self._select_article, {"url": url}).mappings().one()
            results.append((row["id"], *self._apply(connection, row, record, now, run_id)))
        return results

    def _stored_articles(self, connection: Connection, urls: list[str]) -> dict[str, Mapping[str, Any]]:
        """The stored rows of these URLs, locked for this transaction, by URL."""
        found = {}
        for start in range(0, len(urls), URLS_PER_QUERY):
            chunk = urls[start:start + URLS_PER_QUERY]
            query = select(articles).where(articles.c.url.in_(chunk)).order_by(articles.c.url).with_for_update()
            found.update((row["url"], row) for row in connection.execute(query).mappings())
        return found

    @staticmethod
    def _new_values(record: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        values = {column: record[column] for column in (*CONTENT_COLUMNS, *LISTING_COLUMNS)}
        values.update(url=record["url"], source=record["source"], complete=record["complete"],
                      incomplete_reason=None if record["complete"] else record["incomplete_reason"],
                      first_seen_at=now, last_seen_at=now, changed_at=now)
        return values

    def _apply(self, connection: Connection, stored: Mapping[str, Any], record: Mapping[str, Any],
               now: datetime, run_id: int | None) -> tuple[str, Mapping[str, Any]]:
        merged = merge(stored, record)
        changes = {column: value for column, value in merged.items() if value != stored[column]}
        if not changes:
            return UNCHANGED, merged  # last_seen_at is set for the whole batch in write()
        revision = revision_values(stored, merged, changes, record.get("fetch_reason"))
        if revision is not None:
            connection.execute(article_revisions.insert().values(**revision, replaced_at=now, crawl_run_id=run_id))
        connection.execute(update(articles).where(articles.c.id == stored["id"])
                           .values(last_seen_at=now, changed_at=now, **changes))
        return UPDATED, merged

    def record_sightings(self, sightings: Mapping[str, tuple[str, list[str]]],
                         now: datetime | None = None) -> None:
        """For each ``url -> (article_url, sections)``: the sections are added to the stored
        article ``article_url`` (found by its URL or an alias), and a ``url`` other than
        ``article_url`` (a dropped duplicate's) becomes its alias (first sighting wins). An
        article not stored (yet) is skipped."""
        now = now or utc_now()
        targets = sorted({target for target, _ in sightings.values()})
        if not targets:
            return
        with write_transaction(self.engine) as connection:
            found = connection.execute(select(articles.c.url, articles.c.id).where(articles.c.url.in_(targets)))
            ids = {row.url: row.id for row in found}
            by_alias = connection.execute(
                select(article_aliases.c.url, articles.c.id)
                .join(articles, articles.c.url == article_aliases.c.article_url)
                .where(article_aliases.c.url.in_([t for t in targets if t not in ids])))
            ids.update({row.url: row.id for row in by_alias})
            aliases, sections = [], []
            for url, (target, listed_in) in sightings.items():
                if target not in ids:
                    continue
                if url != target:
                    aliases.append({"url": url, "article_url": target, "first_seen_at": now})
                sections += [{"article_id": ids[target], "section_url": section, "first_seen_at": now}
                             for section in listed_in]
            if aliases:
                connection.execute(insert_for(self.dialect, article_aliases).on_conflict_do_nothing(), aliases)
            if sections:
                connection.execute(self._insert_sections, sections)

    # --- crawl runs -------------------------------------------------------------------
    def open_run(self, spider: str, started_at: datetime | None = None) -> int:
        with write_transaction(self.engine) as connection:
            return connection.execute(
                crawl_runs.insert()
                .values(spider=spider, started_at=started_at or utc_now(), status=RUNNING)
                .returning(crawl_runs.c.id)
            ).scalar_one()

    def close_run(self, run_id: int, *, status: str = FINISHED, finish_reason: str | None = None,
                  finished_at: datetime | None = None, notes: str | None = None, **counts: int) -> None:
        """Close the run: its end, status and counts (pages_fetched, new, updated, unchanged,
        duplicates, errors). ``notes`` are appended to any already recorded."""
        values: dict[str, Any] = {"finished_at": finished_at or utc_now(), "status": status,
                                  "finish_reason": finish_reason, **counts}
        if notes:
            values["notes"] = func.coalesce(crawl_runs.c.notes + "\n", "") + notes
        with write_transaction(self.engine) as connection:
            connection.execute(update(crawl_runs).where(crawl_runs.c.id == run_id).values(**values))

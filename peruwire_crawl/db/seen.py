"""Dedup's memory of earlier runs, read from the database: a ``SeenStore``
(:mod:`peruwire_crawl.identity`) for the setting ``PERUWIRE_DEDUP_STORE``::

    PERUWIRE_DEDUP_STORE = "peruwire_crawl.db.seen.DatabaseSeenStore"

It answers ``find_by_title`` from the ``(source, title_key)`` index of ``articles`` (the
storage pipeline stores every article's title key). Most items match no stored title, so
the first question about a source reads that source's stored title keys once into a set of
their hashes (a few dozen bytes an article); a title key not in it is answered "nothing
stored" without a query, and one in it (or a hash collision) is asked of the database as
before. The set is the database as the run found it: right while this process is its only
writer, since the items it stores meanwhile are in dedup's memory of the run. In cluster
mode (``PERUWIRE_REDIS_URL``) other workers store articles during the run, so every
question goes to the database. Built from a crawler, it reads the
database the crawl stores into through the crawl's engine (``db.crawl.CrawlDatabase``,
which has migrated it by the first question and disposes it at the end); built with a URL
(tests, tools), it makes an engine of its own and disposes it in :meth:`close`. It only
reads. A database it cannot read answers "nothing stored" with one warning: the crawl's
database is the one that stops a crawl for an unusable database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError

from peruwire_crawl.db.crawl import CrawlDatabase
from peruwire_crawl.db.engine import DatabaseError, describe_url, first_line, make_engine
from peruwire_crawl.db.schema import article_translations, articles
from peruwire_crawl.identity import SeenArticle

logger = logging.getLogger(__name__)


class DatabaseSeenStore:
    def __init__(self, db_url: str | None, connect: Callable[[], Engine] | None = None, *,
                 only_writer: bool = True):
        self.db_url = db_url
        # Per source, hashes of the stored title keys (see the module docstring); None: ask
        # the database every time.
        self._stored_keys: dict[str, set[int]] | None = {} if only_writer else None
        # Someone else's engine (the crawl's) is only borrowed; our own is ours to dispose.
        self._borrowed = connect is not None
        self._make_engine = connect or (lambda: make_engine(db_url))
        self._engine: Engine | None = None
        # No database in use (storage switched off): nothing is stored to compare with.
        self._broken = db_url is None

    @classmethod
    def from_crawler(cls, crawler) -> "DatabaseSeenStore":
        database = crawler.get_extension(CrawlDatabase)
        if database is None:
            return cls(None)
        return cls(database.db_url, connect=lambda: database.engine,
                   only_writer=not crawler.settings.get("PERUWIRE_REDIS_URL"))

    def find_by_title(self, source: str, title_key: str, published_at: datetime,
                      window: timedelta) -> list[SeenArticle]:
        return self._answer(source, title_key, published_at, window, every_time=False)

    def query_by_title(self, source: str, title_key: str, published_at: datetime,
                       window: timedelta) -> list[SeenArticle]:
        """``find_by_title`` asked of the database whatever the set of stored title keys
        says: for articles stored during this run (dedup's memory of the run)."""
        return self._answer(source, title_key, published_at, window, every_time=True)

    @property
    def reads_database(self) -> bool:
        """False without a database, or once it could not be read."""
        return not self._broken

    def _answer(self, source: str, title_key: str, published_at: datetime, window: timedelta,
                every_time: bool) -> list[SeenArticle]:
        if not title_key or self._broken:
            return []
        try:
            if not every_time and not self._may_be_stored(source, title_key):
                return []
            return self._query(source, title_key, published_at, window)
        except (DatabaseError, DBAPIError) as exc:
            self._broken = True
            reason = first_line(getattr(exc, "orig", None) or exc)
            logger.warning("Dedup cannot read stored articles from %s (%s): only this run's items are "
                           "checked for changed slugs", describe_url(self.db_url), reason)
            return []

    def _may_be_stored(self, source: str, title_key: str) -> bool:
        if self._stored_keys is None:
            return True
        keys = self._stored_keys.get(source)
        if keys is None:
            query = select(articles.c.title_key).where(articles.c.source == source,
                                                       articles.c.title_key.is_not(None))
            with self._connect().connect() as connection:
                keys = self._stored_keys[source] = set(map(hash, connection.execute(query).scalars()))
        return hash(title_key) in keys

    def _query(self, source: str, title_key: str, published_at: datetime,
               window: timedelta) -> list[SeenArticle]:
        query = (
            select(articles.c.id, articles.c.url, articles.c.source, articles.c.title_key,
                   articles.c.published_at, articles.c.language, articles.c.translation_of,
                   articles.c.complete)
            .where(articles.c.source == source, articles.c.title_key == title_key,
                   articles.c.published_at >= published_at - window,
                   articles.c.published_at <= published_at + window)
        )
        with self._connect().connect() as connection:
            rows = connection.execute(query).mappings().all()
            links: dict[int, list[str]] = {}
            if rows:
                found = connection.execute(
                    select(article_translations.c.article_id, article_translations.c.translation_url)
                    .where(article_translations.c.article_id.in_([row["id"] for row in rows]))
                )
                for article_id, url in found:
                    links.setdefault(article_id, []).append(url)
        return [
            SeenArticle(url=row["url"], source=row["source"], title_key=row["title_key"],
                        published_at=row["published_at"], language=row["language"],
                        translation_of=row["translation_of"], translations=tuple(links.get(row["id"], ())),
                        complete=bool(row["complete"]))
            for row in rows
        ]

    def _connect(self) -> Engine:
        if self._engine is None:
            self._engine = self._make_engine()
        return self._engine

    def close(self) -> None:
        if self._engine is not None and not self._borrowed:
            self._engine.dispose()
        self._engine = None


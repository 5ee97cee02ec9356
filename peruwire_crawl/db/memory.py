"""What earlier runs left in the database that makes the next run cheap.

- ``known_articles(urls)``: for the incremental crawl, what is stored of each listed URL
  (listing title and summary as last seen, publication date, whether its page was read);
- ``articles_to_revisit(...)``: articles whose page was never read, or published in the
  last few days, which a run fetches whatever their section pages answer;
- ``validators(url)`` / ``save_validators(...)``: each section page's ETag and
  Last-Modified, for conditional requests.

It uses the crawl's engine (``db.crawl.CrawlDatabase.engine``), taken on first use (the
crawl's database has connected and migrated by then), and leaves disposing it to its owner.
Writes go through ``write_transaction``, like storage.

The memory is a saving, never a condition: if the database fails, each question answers
"nothing known" (the run then fetches more, or keeps no validators, and loses nothing),
with one warning and the stat ``peruwire/incremental/memory_errors``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, and_, false, not_, or_, select, union

from peruwire_crawl.db.dialect import upsert
from peruwire_crawl.db.engine import write_transaction
from peruwire_crawl.db.schema import article_aliases, articles, page_validators
from peruwire_crawl.times import utc_now

logger = logging.getLogger(__name__)


def _forgiving(nothing: Callable[[], object]):
    """A question whose failure must only cost requests: ``nothing()`` is the answer then."""

    def decorate(method):
        @functools.wraps(method)
        def answer(self, *args):
            try:
                return method(self, *args)
            except Exception as error:  # why: any database failure here must only cost requests
                logger.warning("the crawl's memory of earlier runs is unavailable (%s: %s): "
                               "fetching as if nothing were known", method.__name__, error)
                if self.stats is not None:
                    self.stats.inc_value("peruwire/incremental/memory_errors")
                return nothing()

        return answer

    return decorate


@dataclass(frozen=True)
class KnownArticle:
    url: str
    listed_title: str | None
    listed_summary: str | None
    published_at: datetime | None
    complete: bool


@dataclass(frozen=True)
class Validators:
    etag: str | None = None
    last_modified: str | None = None


class CrawlMemory:
    # SQLite allows 32766 bound parameters per statement; listings hold a few dozen URLs.
    LOOKUP_CHUNK = 500

    def __init__(self, connect: Callable[[], Engine], stats=None):
        self._connect = connect  # e.g. lambda: database.engine; called on first use
        self._engine: Engine | None = None
        self.stats = stats

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = self._connect()
        return self._engine

    @_forgiving(dict)
    def known_articles(self, urls: list[str]) -> dict[str, KnownArticle]:
        """What is stored of each URL, by the URL asked. A URL known as an alias of another
        article answers with that article (its ``url`` then differs from the one asked)."""
        found: dict[str, KnownArticle] = {}
        columns = (articles.c.url, articles.c.listed_title, articles.c.listed_summary,
                   articles.c.published_at, articles.c.complete)
        by_url = select(articles.c.url.label("asked"), *columns)
        by_alias = select(article_aliases.c.url.label("asked"), *columns).join(
            article_aliases, article_aliases.c.article_url == articles.c.url
        )
        with self.engine.connect() as connection:
            for start in range(0, len(urls), self.LOOKUP_CHUNK):
                chunk = urls[start:start + self.LOOKUP_CHUNK]
                query = by_url.where(articles.c.url.in_(chunk)).union_all(
                    by_alias.where(article_aliases.c.url.in_(chunk))
                )
                for row in connection.execute(query):
                    found[row.asked] = KnownArticle(row.url, row.listed_title, row.listed_summary,
                                                    row.published_at, bool(row.complete))
        return found

    @_forgiving(list)
    def articles_to_revisit(self, sources: list[str], skip_reasons: tuple[str, ...],
                            published_since: datetime) -> list[KnownArticle]:
        """Stored articles of these sources that a run fetches again whatever their section
        pages answer: those whose page was never read (but for those whose
        ``incomplete_reason`` starts with one of ``skip_reasons``), and those published
        since ``published_since`` (news gets corrected)."""
        skipped = [articles.c.incomplete_reason.startswith(reason, autoescape=True) for reason in skip_reasons]
        never_read = and_(articles.c.complete.is_(False),
                          or_(articles.c.incomplete_reason.is_(None), not_(or_(false(), *skipped))))
        columns = select(articles.c.url, articles.c.listed_title, articles.c.listed_summary,
                         articles.c.published_at, articles.c.complete).where(articles.c.source.in_(sources))
        # Two selects, not one with OR: each is answered from its own index, where the OR
        # read every stored article's row (76 ms at 30,000 articles, against 1.5).
        query = union(columns.where(never_read), columns.where(articles.c.published_at >= published_since))
        query = query.order_by(query.selected_columns.url)
        with self.engine.connect() as connection:
            return [KnownArticle(row.url, row.listed_title, row.listed_summary, row.published_at,
                                 bool(row.complete))
                    for row in connection.execute(query)]

    @_forgiving(lambda: None)
    def validators(self, url: str) -> Validators | None:
        query = select(page_validators.c.etag, page_validators.c.last_modified).where(
            page_validators.c.url == url
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).one_or_none()
        return Validators(row.etag, row.last_modified) if row else None

    @_forgiving(lambda: None)
    def save_validators(self, by_url: dict[str, Validators]) -> None:
        if not by_url:
            return
        now = utc_now()
        rows = [
            {"url": url, "etag": v.etag, "last_modified": v.last_modified, "checked_at": now}
            for url, v in by_url.items()
        ]
        statement = upsert(self.engine.dialect.name, page_validators, ["url"],
                           ["etag", "last_modified", "checked_at"])
        with write_transaction(self.engine) as connection:
            connection.execute(statement, rows)

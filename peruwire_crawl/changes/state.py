"""What the change signals read from and keep in the database.

- ``source_signals``: per source and signal, whether the site offers it (``offered``,
  ``missing``, ``refused``), what it needs next time (``detail``: term ids, the sitemap
  index's URL) and ``since``, the site's clock at the last answer a healthy run used;
- ``article_checks`` (written by storage): when each article page was last read or
  re-checked, at the site's clock, and its validators. An article stored before revision
  0005 has no row; its ``changed_at`` stands in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from peruwire_crawl.db.dialect import upsert
from peruwire_crawl.db.engine import write_transaction
from peruwire_crawl.db.schema import article_checks, articles, crawl_runs, source_signals
from peruwire_crawl.times import to_stored_utc

OFFERED, MISSING, REFUSED = "offered", "missing", "refused"


@dataclass
class Offer:
    """What a source's site said about one signal."""

    state: str
    detail: dict[str, Any] = field(default_factory=dict)
    since: datetime | None = None
    probed_at: datetime | None = None


@dataclass(frozen=True)
class StoredArticle:
    url: str
    checked_at: datetime
    etag: str | None
    last_modified: str | None


def checked_at_of_article():
    """When an article was last read or re-checked (the site's clock), as a column to select,
    compare or order by. One stored before revision 0005 has no check row: its changed_at
    stands in."""
    return func.coalesce(article_checks.c.checked_at, articles.c.changed_at)


def _complete_articles_with_checks(source: str | None, *columns):
    """``select(*columns)`` over a source's complete articles joined to their check rows."""
    return (select(*columns)
            .select_from(articles.outerjoin(article_checks, article_checks.c.article_id == articles.c.id))
            .where(articles.c.source == source, articles.c.complete.is_(True)))


class StoredArticles:
    """A source's complete stored articles, as the change signals ask for them: how many, the
    few checked longest ago, and the ones a signal reports. Never all of them at once: a run
    re-checks a handful, and loading 10,000 rows to pick them was a quarter of an incremental
    run with nothing new (docs/performance.md). ``source=None`` stands for nothing stored (a
    full walk reads every article anyway)."""

    # How many URLs one lookup names: well under every database's limit on bound parameters.
    LOOKUP_CHUNK = 500

    def __init__(self, connect: Callable[[], Engine], source: str | None):
        self._connect = connect
        self.source = source
        self._count: int | None = None if source is not None else 0

    def __len__(self) -> int:
        if self._count is None:
            query = select(func.count()).select_from(articles).where(
                articles.c.source == self.source, articles.c.complete.is_(True))  # no join: a count
            with self._connect().connect() as connection:
                self._count = connection.execute(query).scalar_one()
        return self._count

    def checked_by(self, moment: datetime | None) -> int:
        """How many were last read or re-checked at ``moment`` or before (None: none)."""
        if moment is None or not len(self):
            return 0
        query = _complete_articles_with_checks(self.source, func.count()).where(checked_at_of_article() <= moment)
        with self._connect().connect() as connection:
            return connection.execute(query).scalar_one()

    def oldest_checked(self, limit: int) -> list[StoredArticle]:
        """The ``limit`` articles read or re-checked longest ago, oldest first."""
        if limit <= 0 or not len(self):
            return []
        return self._select(order=True, limit=limit)

    def find(self, urls: Iterable[str]) -> dict[str, StoredArticle]:
        """Those of ``urls`` that are stored, by URL."""
        wanted = list(dict.fromkeys(urls))
        found: dict[str, StoredArticle] = {}
        if not len(self):
            return found
        for start in range(0, len(wanted), self.LOOKUP_CHUNK):
            chunk = wanted[start:start + self.LOOKUP_CHUNK]
            found.update((article.url, article) for article in self._select(articles.c.url.in_(chunk)))
        return found

    def _select(self, *where, order: bool = False, limit: int | None = None) -> list[StoredArticle]:
        checked_at = checked_at_of_article()
        query = _complete_articles_with_checks(
            self.source, articles.c.url, checked_at.label("checked_at"), article_checks.c.etag,
            article_checks.c.last_modified,
        ).where(*where)
        if order:
            query = query.order_by(checked_at, articles.c.id).limit(limit)
        with self._connect().connect() as connection:
            return [StoredArticle(row.url, to_stored_utc(row.checked_at), row.etag, row.last_modified)
                    for row in connection.execute(query)]


class SignalState:
    def __init__(self, connect: Callable[[], Engine]):
        self._connect = connect  # the crawl's engine, taken on first use

    def offers(self, source: str) -> dict[str, Offer]:
        query = select(source_signals).where(source_signals.c.source == source)
        with self._connect().connect() as connection:
            rows = connection.execute(query).mappings().all()
        return {row["signal"]: Offer(row["state"], json.loads(row["detail"] or "{}"), row["since"], row["probed_at"])
                for row in rows}

    def stored_articles(self, source: str | None) -> StoredArticles:
        """The source's complete articles (none for ``None``), asked for as they are needed."""
        return StoredArticles(self._connect, source)

    def newest_check(self, source: str) -> datetime | None:
        """The site's clock at the source's most recent article read or re-check."""
        query = _complete_articles_with_checks(source, func.max(checked_at_of_article()))
        with self._connect().connect() as connection:
            newest = connection.execute(query).scalar_one()
        return to_stored_utc(newest) if newest is not None else None

    def previous_run_started(self) -> datetime | None:
        """When the run before this one started (this run's row is the newest)."""
        query = select(crawl_runs.c.started_at).order_by(crawl_runs.c.id.desc()).limit(2)
        with self._connect().connect() as connection:
            started = connection.execute(query).scalars().all()
        return to_stored_utc(started[1]) if len(started) == 2 else None

    def save(self, source: str, offers: dict[str, Offer]) -> None:
        if not offers:
            return
        rows = [{"source": source, "signal": signal, "state": offer.state, "detail": json.dumps(offer.detail),
                 "since": offer.since, "probed_at": offer.probed_at}
                for signal, offer in offers.items()]
        engine = self._connect()
        statement = upsert(engine.dialect.name, source_signals, ["source", "signal"],
                           ["state", "detail", "since", "probed_at"])
        with write_transaction(engine) as connection:
            connection.execute(statement, rows)

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
from collections.abc import Callable
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


class SignalState:
    def __init__(self, connect: Callable[[], Engine]):
        self._connect = connect  # the crawl's engine, taken on first use

    def offers(self, source: str) -> dict[str, Offer]:
        query = select(source_signals).where(source_signals.c.source == source)
        with self._connect().connect() as connection:
            rows = connection.execute(query).mappings().all()
        return {row["signal"]: Offer(row["state"], json.loads(row["detail"] or "{}"), row["since"], row["probed_at"])
                for row in rows}

    def stored_articles(self, source: str) -> list[StoredArticle]:
        """The source's complete articles, oldest-checked first."""
        checked_at = func.coalesce(article_checks.c.checked_at, articles.c.changed_at)
        query = (
            select(articles.c.url, checked_at.label("checked_at"), article_checks.c.etag,
                   article_checks.c.last_modified)
            .outerjoin(article_checks, article_checks.c.article_id == articles.c.id)
            .where(articles.c.source == source, articles.c.complete.is_(True))
            .order_by(checked_at, articles.c.id)
        )
        with self._connect().connect() as connection:
            return [StoredArticle(row.url, to_stored_utc(row.checked_at), row.etag, row.last_modified)
                    for row in connection.execute(query)]

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

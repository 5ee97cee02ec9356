"""Which listed articles a run must fetch: the incremental crawl's one rule.

A repeated run should cost requests in proportion to what is new on the site. An article's
page is fetched when it is new, when its listed title or summary changed, when its earlier
fetch failed, or when it was published in the last few days (news gets corrected); with
``-a mode=full`` every page is fetched. Anything else is "unchanged": the listing is enough.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only named: importing the database layer costs every command its start-up
    from peruwire_crawl.db.memory import KnownArticle

FULL, INCREMENTAL = "full", "incremental"


@dataclass(frozen=True)
class FetchPolicy:
    mode: str
    recent: timedelta

    @classmethod
    def from_settings(cls, settings, mode: str) -> "FetchPolicy":
        return cls(mode, timedelta(days=settings.getfloat("PERUWIRE_REFETCH_RECENT_DAYS")))

    def reason_to_fetch(self, known: KnownArticle | None, title: str | None,
                        summary: str | None, now: datetime) -> str | None:
        """Why the article page must be fetched, or None when the listing is enough."""
        if self.mode == FULL:
            return "full"
        if known is None:
            return "new"
        if not known.complete:
            return "incomplete"
        if (title, summary) != (known.listed_title, known.listed_summary):
            return "listing_changed"
        if known.published_at is not None and now - known.published_at <= self.recent:
            return "recent"
        return None

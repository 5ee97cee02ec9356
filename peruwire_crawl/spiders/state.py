"""What the `peru` spider remembers during a run: one small typed class.

Scrapy saves ``spider.state`` under ``-s JOBDIR=...`` (pickled when the spider closes, put
back when it opens), so the spider keeps a :class:`CrawlState` in it and a paused crawl
resumes where it stopped. The state is bounded: for the whole run, one entry per listed
article (its URL, and whether it needed fetching); a listing's data only until the
article's item is out; one entry per listing page.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only named here; the spider module imports no database layer (peru.py)
    from peruwire_crawl.db.memory import Validators


@dataclass
class Listing:
    """What the section listings said about an article whose item is not out yet."""

    sections: list[str] = field(default_factory=list)
    title: str | None = None
    summary: str | None = None


@dataclass
class CrawlState:
    # Every article listed (or asked for) this run, by canonical URL -> why its page is
    # fetched (incremental.FetchPolicy's reason, or a change signal's name); None: it is not.
    listed: dict[str, str | None] = field(default_factory=dict)
    # Listed articles whose item has not been yielded yet: their listing data.
    waiting: dict[str, Listing] = field(default_factory=dict)
    # An article's key -> the listed URL whose page gave it, for the few keys that differ
    # from their listed URL (see identity.ArticleKeys).
    claims: dict[str, str] = field(default_factory=dict)
    # Article requests sent and not yet answered by a callback or errback.
    in_flight: set[str] = field(default_factory=set)
    # Listing pages requested (a pagination loop, or two sections sharing a page, ends here).
    listing_pages: set[str] = field(default_factory=set)
    pages_per_section: Counter[str] = field(default_factory=Counter)
    # Section pages' ETag/Last-Modified seen this run, saved when the run succeeds.
    new_validators: dict[str, Validators] = field(default_factory=dict)
    revisits_sent: bool = False
    change_signals_sent: bool = False

    def key_of(self, listed_url: str) -> str:
        """The key under which the article listed as ``listed_url`` went out."""
        return next((key for key, claimant in self.claims.items() if claimant == listed_url), listed_url)

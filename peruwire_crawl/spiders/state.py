"""What the `peru` spider remembers during a run: one small typed class.

Scrapy saves ``spider.state`` under ``-s JOBDIR=...`` (pickled when the spider closes, put
back when it opens), so the spider keeps a :class:`CrawlState` in it and a paused crawl
resumes where it stopped. The state is bounded: for the whole run, one entry per listed
article (its URL, and whether it needed fetching); a listing's data only until the
article's item is out; one entry per listing page.
"""

from __future__ import annotations

import hashlib
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


class ListedArticles:
    """Every article listed (or asked for) this run, by canonical URL -> why its page is
    fetched (incremental.FetchPolicy's reason, or a change signal's name); None: it is not.

    The one entry per article kept for the whole run, so it is keyed by a 64-bit digest of
    the URL, not the URL: 80 bytes an article instead of 167 for a typical URL (docs/performance.md). A
    digest rather than ``hash()``, which changes from one process to the next, because
    JOBDIR carries the state over. Two URLs of one digest (odds under 1 in 10^9 in a run of
    100,000 articles) would be taken for one.
    """

    def __init__(self):
        self._reasons: dict[int, str | None] = {}

    @staticmethod
    def _key(url: str) -> int:
        return int.from_bytes(hashlib.blake2b(url.encode(), digest_size=8).digest(), "big")

    def __contains__(self, url: str) -> bool:
        return self._key(url) in self._reasons

    def __setitem__(self, url: str, reason: str | None) -> None:
        self._reasons[self._key(url)] = reason

    def get(self, url: str, default: str | None = None) -> str | None:
        return self._reasons.get(self._key(url), default)

    def __len__(self) -> int:
        return len(self._reasons)


@dataclass
class CrawlState:
    listed: ListedArticles = field(default_factory=ListedArticles)
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

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

from peruwire_crawl.digests import DigestTable, text_digest

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

    The one entry per article kept for the whole run, so it is a digest of the URL in a
    :class:`~peruwire_crawl.digests.DigestTable` (about 20 bytes an article; a dict of the
    URLs took 167), with the reason as the code of its name.
    """

    def __init__(self):
        self._reasons = DigestTable()
        self._names: list[str | None] = [None]  # code -> reason; a run has a handful

    def __contains__(self, url: str) -> bool:
        return text_digest(url) in self._reasons

    def __setitem__(self, url: str, reason: str | None) -> None:
        if reason not in self._names:
            self._names.append(reason)
        self._reasons[text_digest(url)] = self._names.index(reason)

    def get(self, url: str, default: str | None = None) -> str | None:
        code = self._reasons.get(text_digest(url))
        return default if code is None else self._names[code]

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

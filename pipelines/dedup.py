"""Drop duplicate articles (``shared/DESIGN.md``, "Duplicates").

Two rules say that two items are the same article (their parts, the title key and what
is remembered of an article, are in :mod:`peruwire_crawl.identity`):

``same_url``
    The same canonical URL (:func:`peruwire_crawl.urls.canonical_url`): one spelling per
    article, whatever the scheme, host case, trailing slash, tracking parameters or
    fragment of the link it was found by.
``same_title``
    The same source and the same :func:`title_key` under a *different* URL, published
    within ``PERUWIRE_DEDUP_TITLE_WINDOW_DAYS`` days of each other (inclusive): the site
    changed the article's slug. Not a duplicate when the two are translations of each
    other (either one's ``translations``/``translation_of`` names the other) or when both
    languages are known and differ. The rule needs both publication dates; when either is
    unknown it does not apply (counted as ``peruwire/dedup/title_unchecked/no_date``):
    keeping a possible duplicate row is better than dropping a real article.

Within a run (memory of this run's items only):

- the first item of a URL wins; a later item with the same canonical URL is dropped,
  reason ``same_url``. One exception: an item whose page could be read replaces an
  earlier *incomplete* one of the same URL (it passes, so storage can fill the row in);
- an item matching an earlier item of this run by the title rule is dropped, reason
  ``same_title``.

Across runs (what the database holds, asked through a :class:`SeenStore`):

- an article already stored under the *same* URL is **not** a duplicate: it passes, so
  that storage sees it again, upserts it and keeps a revision when its title or summary
  changed;
- an article matching a stored article of another URL by the title rule is dropped,
  reason ``same_title_stored``, and the stored URL it matched is logged.

Memory: of this run's items, this pipeline keeps two hashes an item (of its URL, and of its
source and title key) and whether its page was read, about 40 bytes in two digest tables
(:mod:`peruwire_crawl.digests`), so that a long backfill holds no growing state
(:class:`RunMemory`); the details the title rule needs
(dates, languages, translation links) are kept for the latest ``RECENT`` items only, and
for an earlier one of this run they are read back from the database, which stores it by
then. Earlier runs are never loaded: the store answers "stored articles of this source with
this title key near this date" from the database's ``(source, title_key)`` index (and,
outside cluster mode, from a set of the stored title keys' hashes, without a query, when
none matches: ``peruwire_crawl.db.seen``). The store is the class named by the setting
``PERUWIRE_DEDUP_STORE`` (built with ``from_crawler``): the project's settings name the
database-backed one (``peruwire_crawl.db.seen.DatabaseSeenStore``); without the setting,
:class:`MemorySeenStore` starts empty, and only the within-run rules act.

A dropped duplicate raises :class:`DuplicateItem`, which names the article it duplicates;
storage records the dropped URL as that article's alias, so later runs need not fetch it.

Stats: ``peruwire/dedup/passed``, ``peruwire/dedup/dropped/<reason>``,
``peruwire/dedup/replaced_incomplete`` and ``peruwire/dedup/title_unchecked/no_date``.
Drops of a repeated URL are routine and logged at DEBUG; title matches are a judgement
call and logged at INFO with both URLs, so an operator can audit them.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from scrapy.utils.misc import build_from_crawler, load_object

from peruwire_crawl.digests import DigestTable
from peruwire_crawl.health import DROPPED_DUPLICATES_STATS
from peruwire_crawl.identity import (
    DuplicateItem,
    MemorySeenStore,  # noqa: F401  (named by PERUWIRE_DEDUP_STORE as pipelines.dedup.MemorySeenStore)
    SeenArticle,
    SeenStore,
    is_same_article,
)

if TYPE_CHECKING:
    from peruwire_crawl.db.seen import DatabaseSeenStore

logger = logging.getLogger(__name__)

# With no store named, only this run is remembered.
NO_STORE = "peruwire_crawl.identity.MemorySeenStore"

SAME_URL = "same_url"
SAME_TITLE = "same_title"
SAME_TITLE_STORED = "same_title_stored"


STATS_PREFIX = "peruwire/dedup"
DROPPED_STATS = DROPPED_DUPLICATES_STATS


# Items of this run whose details stay in memory; an earlier one is read back from the
# database (where it has been stored: storage writes a batch every 100 items).
RECENT = 2000


# --- this run's items --------------------------------------------------------------------


class RunMemory:
    """The items of this run that passed, compactly (see the module docstring).

    ``store`` is where the items that left memory are found again; None (no database, e.g.
    storage switched off) keeps every item's details, as there is nowhere to find them.
    Hashes may collide: a title hash only sends the question on to the details, which
    decide; two URLs of one hash (odds of about 1 in 10^10 in a run of 100,000 articles)
    would be taken for one.
    """

    def __init__(self, store: DatabaseSeenStore | None, recent: int = RECENT):
        self.store = store
        self.recent_size = recent if store is not None else None
        self._complete = DigestTable()  # hash(url) -> 1 if its page was read, else 0
        self._titles = DigestTable()  # hash((source, title_key)) of items with a date
        self._recent: OrderedDict[str, SeenArticle] = OrderedDict()

    def remember(self, article: SeenArticle) -> None:
        self._complete[hash(article.url)] = int(article.complete)
        if article.title_key and article.published_at is not None:
            self._titles.add(hash((article.source, article.title_key)))
        self._recent.pop(article.url, None)
        self._recent[article.url] = article
        if self.recent_size is not None and len(self._recent) > self.recent_size:
            self._recent.popitem(last=False)

    def complete(self, url: str) -> bool | None:
        """Whether the page of this run's item of ``url`` was read; None: no such item."""
        code = self._complete.get(hash(url))
        return None if code is None else bool(code)

    def find_by_title(self, source: str, title_key: str, published_at: datetime,
                      window: timedelta) -> list[SeenArticle]:
        if hash((source, title_key)) not in self._titles:
            return []
        found = {article.url: article for article in self._recent.values()
                 if (article.source, article.title_key) == (source, title_key)
                 and article.published_at is not None and abs(article.published_at - published_at) <= window}
        if self.store is not None and len(self._complete) > len(self._recent):
            # Some of this run's items left memory: those the database has are this run's.
            for article in self.store.query_by_title(source, title_key, published_at, window):
                if article.url not in found and hash(article.url) in self._complete:
                    found[article.url] = article
        return list(found.values())


# --- the pipeline -------------------------------------------------------------------------


class DedupPipeline:
    """Drops duplicate articles; see the module docstring for the rules."""

    def __init__(self, store: SeenStore, window: timedelta, stats):
        self.store = store
        self.window = window
        self.stats = stats
        # The items of this run that passed; without a database nothing can be read back.
        self.run = RunMemory(store if _reads_the_database(store) else None)

    @classmethod
    def from_crawler(cls, crawler) -> "DedupPipeline":
        settings = crawler.settings
        store_class = load_object(settings.get("PERUWIRE_DEDUP_STORE") or NO_STORE)
        store = build_from_crawler(store_class, crawler)
        days = settings.getfloat("PERUWIRE_DEDUP_TITLE_WINDOW_DAYS")
        return cls(store, timedelta(days=days), crawler.stats)

    def process_item(self, item, spider=None):
        article = SeenArticle.from_item(item)
        self._check_url(article)
        self._check_title(article)
        self.run.remember(article)
        self.stats.inc_value(f"{STATS_PREFIX}/passed")
        return item

    def _check_url(self, article: SeenArticle) -> None:
        earlier_complete = self.run.complete(article.url)
        if earlier_complete is None:
            return
        if not earlier_complete and article.complete:
            logger.debug("%s: page read this time; replaces the incomplete item", article.url)
            self.stats.inc_value(f"{STATS_PREFIX}/replaced_incomplete")
            return
        logger.debug("dropped %s: its URL was already seen in this run", article.url)
        self._drop(SAME_URL, f"duplicate of {article.url}: same canonical URL as an earlier item of this run",
                   article.url)

    def _check_title(self, article: SeenArticle) -> None:
        if not article.title_key:
            return
        if article.published_at is None:
            self.stats.inc_value(f"{STATS_PREFIX}/title_unchecked/no_date")
            return
        # This run first: a match there is the more direct explanation.
        for store, reason, whose in ((self.run, SAME_TITLE, ""), (self.store, SAME_TITLE_STORED, "stored ")):
            match = self._title_match(store, article)
            if match is None:
                continue
            logger.info(
                "dropped %s: same title as %sarticle %s, published %s (a changed slug?)",
                article.url, whose, match.url, match.published_at.isoformat(),
            )
            window = f"{self.window / timedelta(days=1):g} days"
            self._drop(
                reason,
                f"duplicate of {whose}{match.url}: {article.url} has the same title, published within {window}",
                match.url,
            )

    def _title_match(self, store: SeenStore, article: SeenArticle) -> SeenArticle | None:
        candidates = store.find_by_title(article.source, article.title_key, article.published_at, self.window)
        return next((other for other in candidates if is_same_article(article, other, self.window)), None)

    def _drop(self, reason: str, message: str, duplicate_of: str) -> None:
        self.stats.inc_value(DROPPED_STATS + reason)
        # We log a one-line reason ourselves; Scrapy's own line prints the whole item.
        raise DuplicateItem(message, duplicate_of=duplicate_of, reason=reason)


def _reads_the_database(store: SeenStore) -> bool:
    from peruwire_crawl.db.seen import DatabaseSeenStore  # here: a crawl without storage needs no SQLAlchemy

    return isinstance(store, DatabaseSeenStore) and store.reads_database

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

Memory: this pipeline holds one small :class:`SeenArticle` per item of the current run
(no bodies). Earlier runs are never loaded: the store answers one question per item,
"stored articles of this source with this title key near this date", which the database
answers from its ``(source, title_key)`` index. The store is the class named by the setting
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
from datetime import timedelta

from scrapy.utils.misc import build_from_crawler, load_object

from peruwire_crawl.health import DROPPED_DUPLICATES_STATS
from peruwire_crawl.identity import (
    DuplicateItem,
    MemorySeenStore,
    SeenArticle,
    SeenStore,
    is_same_article,
)

logger = logging.getLogger(__name__)

# With no store named, only this run is remembered.
NO_STORE = "peruwire_crawl.identity.MemorySeenStore"

SAME_URL = "same_url"
SAME_TITLE = "same_title"
SAME_TITLE_STORED = "same_title_stored"


STATS_PREFIX = "peruwire/dedup"
DROPPED_STATS = DROPPED_DUPLICATES_STATS


# --- the pipeline -------------------------------------------------------------------------


class DedupPipeline:
    """Drops duplicate articles; see the module docstring for the rules."""

    def __init__(self, store: SeenStore, window: timedelta, stats):
        self.store = store
        self.window = window
        self.stats = stats
        self.run = MemorySeenStore()  # the items of this run that passed

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
        earlier = self.run.get(article.url)
        if earlier is None:
            return
        if not earlier.complete and article.complete:
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

"""NormalizePipeline: the crawl's shell around ``peruwire_crawl.normalize.article``.

The normalising itself (text, language, dates, authors, translations) lives in
``ArticleNormalizer``, so ``peruwire extract`` runs exactly what the crawl runs. This
pipeline builds it from the crawler's settings, drops items with no usable title, and turns
its report into stats and log lines.

Nothing is loaded when the run opens: the normaliser (with ftfy's tables) is imported and
built with the first item, and dateparser's language data and lingua's models load with the
first article that needs them (``ArticleNormalizer.warm_up`` would pay ~0.8 s of CPU up
front, which a run that reads no article page, e.g. an incremental run with nothing new,
never needs). The settings it reads are checked when the run starts, by the add-on.

Stats (``crawler.stats``), all under ``peruwire/normalize/``: ``items``,
``dropped/no_title``, ``not_modified_without_listing`` (a 304 passed on without a
title, see ``process_item``), ``date_signal/<signal>``, ``date_rejected/<reason>``,
``date_disagreement``, ``no_published_at``, ``no_fetched_at``, ``language/<origin>``.
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import TYPE_CHECKING

from scrapy.exceptions import DropItem

from peruwire_crawl.sources import SourceRegistry

if TYPE_CHECKING:
    from peruwire_crawl.normalize.article import ArticleNormalizer, Normalized
    from peruwire_crawl.normalize.dates import DateChoice

logger = logging.getLogger(__name__)

STATS_PREFIX = "peruwire/normalize"
# Rejections that mean the page states something impossible (logged as warnings); the
# others ("unparseable", "imprecise", "empty") mean the signal was just not usable.
IMPOSSIBLE_DATE_REASONS = frozenset({"in the future", "too early", "out of range"})


class NormalizePipeline:
    def __init__(self, settings, sources: SourceRegistry, stats=None):
        self.settings = settings
        self.sources = sources
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        # The sections file is read now: a mistake in it stops the run at its start.
        return cls(crawler.settings, SourceRegistry.from_settings(crawler.settings), stats=crawler.stats)

    @cached_property
    def normalizer(self) -> ArticleNormalizer:
        from peruwire_crawl.normalize.article import ArticleNormalizer

        return ArticleNormalizer.from_settings(self.settings, self.sources)

    def process_item(self, item):
        from peruwire_crawl.normalize.article import NoUsableTitle, item_fields

        try:
            report = self.normalizer.normalize(item)
        except NoUsableTitle as error:
            if item_fields(item).get("not_modified"):
                # A stored page that answered 304 to a re-check or a change signal carries
                # no values, only its validators and when it was checked: storage keeps the
                # stored row and moves its check on. Dropped, it would be re-checked forever.
                self._inc("not_modified_without_listing")
                return item
            self._inc("dropped/no_title")
            raise DropItem(str(error)) from None
        for key in report.counts:
            self._inc(key)
        self._log(report)
        return item

    def _log(self, report: Normalized) -> None:
        if "no_fetched_at" in report.counts:
            logger.debug("No fetched_at on %s; resolving relative dates against now", report.url)
        if report.published is not None:
            self._log_date_choice(report.url, "published", report.published)
            if report.published.chosen is None:
                logger.info("No usable publication date for %s", report.url)
        if report.modified is not None:
            self._log_date_choice(report.url, "modified", report.modified)

    def _log_date_choice(self, url: str | None, which: str, choice: DateChoice) -> None:
        for signal, rejected in choice.rejected:
            level = logging.WARNING if rejected.reason in IMPOSSIBLE_DATE_REASONS else logging.DEBUG
            logger.log(level, "Rejected %s date from %s on %s: %s", which, signal, url, rejected)
        chosen = choice.chosen
        for other, hours in choice.disagreements:
            logger.info(
                "Date signals disagree on %s: chose %s %s (%s) over %s %s, %.0f h apart",
                url, chosen.signal, chosen.isoformat(), chosen.precision,
                other.signal, other.isoformat(), hours,
            )

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"{STATS_PREFIX}/{key}")

"""NormalizePipeline: raw fields the spider saw → the contract fields of the article item.

For each item, in this order (each step may use the ones before it):

1. text: ``title`` (site-name suffix dropped when it came from ``<title>``/meta; falls back
   to the listing's title), ``summary`` (falls back to the listing's standfirst), ``body``.
   An item with no usable title is dropped: a row without a title is garbage to analysts.
2. ``language``: detected from the article's own text (``peruwire_crawl.normalize.language``).
3. ``published_at`` / ``date_precision`` / ``date_signal`` and ``modified_at``
   (``peruwire_crawl.normalize.dates``), resolved against the item's ``fetched_at``.
4. ``authors`` from the byline and the declared author list (``peruwire_crawl.normalize.authors``).
5. ``translation_of``: the first linked translation, when the article is not in the
   source's primary language.

Normalising an already normalised item changes nothing (the raw inputs are kept on the
item and the cleaners are idempotent).

Stats (``crawler.stats``), all under ``peruwire/normalize/``: ``items``,
``dropped/no_title``, ``date_signal/<signal>``, ``date_rejected/<reason>``,
``date_disagreement``, ``no_published_at``, ``no_fetched_at``, ``language/<origin>``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from peruwire_crawl.normalize.authors import clean_authors
from peruwire_crawl.normalize.dates import (
    DateChoice,
    DateContext,
    choose_date,
    parse_earliest,
    parse_instant,
    warm_up_dateparser,
    zone,
)
from peruwire_crawl.normalize.language import (
    LanguageDetector,
    article_text_sample,
    choose_language,
    detector_languages,
)
from peruwire_crawl.normalize.text import clean_body, clean_summary, clean_title
from peruwire_crawl.sources import Source, SourceRegistry

logger = logging.getLogger(__name__)

STATS_PREFIX = "peruwire/normalize"
# Rejections that mean the page states something impossible (logged as warnings); the
# others ("unparseable", "imprecise", "empty") mean the signal was just not usable.
IMPOSSIBLE_DATE_REASONS = frozenset({"in the future", "too early", "out of range"})

# Built detectors, shared by every pipeline in the process: building one costs ~1 s.
_DETECTORS: dict[tuple[str, ...], LanguageDetector] = {}


def get_detector(languages: tuple[str, ...]) -> LanguageDetector:
    if languages not in _DETECTORS:
        _DETECTORS[languages] = LanguageDetector(languages)
    return _DETECTORS[languages]


class NormalizePipeline:
    def __init__(
        self,
        sources: SourceRegistry,
        earliest: datetime,
        disagreement_hours: float,
        stats=None,
    ):
        self.sources = sources
        self.earliest = earliest
        self.disagreement_hours = disagreement_hours
        self.stats = stats
        for source in sources.sources:
            zone(source.timezone)  # a typo in sections.toml fails the crawl at start

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        return cls(
            sources=SourceRegistry.from_settings(settings),
            earliest=parse_earliest(settings.get("PERUWIRE_EARLIEST_DATE")),
            disagreement_hours=settings.getfloat("PERUWIRE_DATE_DISAGREEMENT_HOURS"),
            stats=crawler.stats,
        )

    def open_spider(self) -> None:
        """Pay the one-off costs now, not on the first article."""
        warm_up_dateparser()
        for source in self.sources.sources:
            get_detector(detector_languages(source.languages))

    # --- the item ----------------------------------------------------------------------

    def process_item(self, item):
        adapter = ItemAdapter(item)
        source = self.sources.for_url(adapter.get("url") or "")
        if not adapter.get("source"):
            adapter["source"] = source.key
        site_names = _site_names(source)

        self._normalize_text(adapter, site_names)
        self._normalize_language(adapter, source)
        self._normalize_dates(adapter, source)
        adapter["authors"] = clean_authors(adapter.get("authors"), adapter.get("byline"), site_names)
        self._link_translation(adapter, source)
        self._inc("items")
        return item

    def _normalize_text(self, adapter: ItemAdapter, site_names: list[str]) -> None:
        title = clean_title(adapter.get("title"), adapter.get("title_from"), site_names)
        if title is None:
            title = clean_title(adapter.get("listed_title"), "listing")
            if title is not None:
                adapter["title_from"] = "listing"  # so a second pass reads it the same way
        if title is None:
            self._inc("dropped/no_title")
            raise DropItem(f"no usable title after cleanup: {adapter.get('url')}")
        adapter["title"] = title
        adapter["summary"] = clean_summary(adapter.get("summary")) or clean_summary(
            adapter.get("listed_summary")
        )
        adapter["body"] = clean_body(adapter.get("body"))

    def _normalize_language(self, adapter: ItemAdapter, source: Source) -> None:
        detector = get_detector(detector_languages(source.languages))
        sample = article_text_sample(adapter["title"], adapter["summary"], adapter["body"])
        language, origin = choose_language(
            detector.detect(sample),
            declared_language=adapter.get("declared_language"),
            html_lang=adapter.get("html_lang"),
            default=source.languages[0] if source.languages else None,
        )
        adapter["language"] = language
        self._inc(f"language/{origin}")

    # --- dates -------------------------------------------------------------------------

    def _normalize_dates(self, adapter: ItemAdapter, source: Source) -> None:
        url = adapter.get("url")
        context = DateContext(
            timezone=zone(source.timezone),
            fetched_at=self._fetched_at(adapter),
            earliest=self.earliest,
            languages=_date_languages(adapter.get("language"), source),
        )
        # No candidates at all: keep what the item already says (nothing to re-derive).
        published = adapter.get("date_candidates")
        if published:
            choice = choose_date(published, context, self.disagreement_hours)
            self._report_date_choice(url, "published", choice)
            chosen = choice.chosen
            adapter["published_at"] = chosen.isoformat() if chosen else None
            adapter["date_precision"] = chosen.precision if chosen else None
            adapter["date_signal"] = chosen.signal if chosen else None
            if chosen:
                self._inc(f"date_signal/{chosen.signal}")
            else:
                self._inc("no_published_at")
                logger.info("No usable publication date for %s", url)
        modified = adapter.get("modified_candidates")
        if modified:
            choice = choose_date(modified, context)
            self._report_date_choice(url, "modified", choice)
            adapter["modified_at"] = choice.chosen.isoformat() if choice.chosen else None

    def _fetched_at(self, adapter: ItemAdapter) -> datetime:
        fetched = parse_instant(adapter.get("fetched_at"))
        if fetched is None:
            # Live crawls always set it; without it relative dates follow the wall clock.
            self._inc("no_fetched_at")
            logger.debug("No fetched_at on %s; resolving relative dates against now", adapter.get("url"))
            fetched = datetime.now(UTC)
        return fetched

    def _report_date_choice(self, url: str, which: str, choice: DateChoice) -> None:
        for signal, rejected in choice.rejected:
            self._inc(f"date_rejected/{rejected.reason.replace(' ', '_')}")
            level = logging.WARNING if rejected.reason in IMPOSSIBLE_DATE_REASONS else logging.DEBUG
            logger.log(level, "Rejected %s date from %s on %s: %s", which, signal, url, rejected)
        chosen = choice.chosen
        for other, hours in choice.disagreements:
            self._inc("date_disagreement")
            logger.info(
                "Date signals disagree on %s: chose %s %s (%s) over %s %s, %.0f h apart",
                url, chosen.signal, chosen.isoformat(), chosen.precision,
                other.signal, other.isoformat(), hours,
            )

    # --- translations ------------------------------------------------------------------

    def _link_translation(self, adapter: ItemAdapter, source: Source) -> None:
        primary = source.languages[0] if source.languages else None
        translations = adapter.get("translations") or []
        if adapter.get("language") == primary:
            adapter["translation_of"] = None  # the original keeps ``translations`` only
        elif translations and not adapter.get("translation_of"):
            adapter["translation_of"] = translations[0]

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"{STATS_PREFIX}/{key}")


def _site_names(source: Source) -> list[str]:
    """Names a site goes by in titles and author fields."""
    return [source.name, source.key, *source.hosts]


def _date_languages(language: str | None, source: Source) -> tuple[str, ...]:
    """dateparser languages: the article's own first (it decides "03/04/2023")."""
    languages = [language, *source.languages] if language else list(source.languages)
    return tuple(dict.fromkeys(code for code in languages if code in _DATEPARSER_LANGUAGES)) or ("en",)


def _dateparser_languages() -> frozenset[str]:
    from dateparser.data.languages_info import language_order

    return frozenset(language_order)


_DATEPARSER_LANGUAGES = _dateparser_languages()

"""From the raw fields a page showed to the contract fields of the article item.

``ArticleNormalizer.normalize`` does, for one item (each step may use the ones before it):

1. text: ``title`` (site-name suffix dropped when it came from ``<title>``/meta; falls back
   to the listing's title), ``summary`` (falls back to the listing's standfirst), ``body``.
   An item with no usable title raises ``NoUsableTitle``: a row without a title is garbage
   to analysts.
2. ``language``: detected from the article's own text (``language.py``).
3. ``published_at`` / ``date_precision`` / ``date_signal`` and ``modified_at`` (``dates.py``),
   resolved against the item's ``fetched_at``.
4. ``authors`` from the byline and the declared author list (``authors.py``).
5. ``translation_of``: the first linked translation, when the article is not in the
   source's primary language.

It changes the item in place and returns a ``Normalized`` report of what it decided: the
crawl's pipeline (``pipelines/normalize.py``) turns it into stats and log lines, and
``peruwire extract --explain`` shows it. Both run this same code, so what the command
prints is what the crawl stores. Normalising an already normalised item changes nothing
(the raw inputs are kept on the item and the cleaners are idempotent).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from peruwire_crawl.normalize.authors import clean_authors
from peruwire_crawl.normalize.dates import (
    DateChoice,
    DateContext,
    choose_date,
    parse_earliest,
    parse_instant,
    warm_up_dateparser,
)
from peruwire_crawl.normalize.language import (
    LanguageDetector,
    article_text_sample,
    choose_language,
    detector_languages,
)
from peruwire_crawl.normalize.text import clean_body, clean_summary, clean_title
from peruwire_crawl.sources import Source, SourceRegistry
from peruwire_crawl.times import zone

# Built detectors, shared by every normaliser in the process: building one costs ~1 s.
_DETECTORS: dict[tuple[str, ...], LanguageDetector] = {}


def get_detector(languages: tuple[str, ...]) -> LanguageDetector:
    if languages not in _DETECTORS:
        _DETECTORS[languages] = LanguageDetector(languages)
    return _DETECTORS[languages]


class NoUsableTitle(ValueError):
    """The item has no title left after cleanup (the crawl drops it)."""


@dataclass
class Normalized:
    """What normalising one item decided, for stats, logs and ``--explain``."""

    url: str | None
    counts: list[str] = field(default_factory=list)  # stat keys, e.g. "date_signal/jsonld"
    published: DateChoice | None = None  # None when the item offered no candidate
    modified: DateChoice | None = None
    language_origin: str | None = None  # "detected", "declared", "default", …
    explain: dict[str, str] = field(default_factory=dict)  # field -> the rule or signal that gave it


class ArticleNormalizer:
    def __init__(
        self,
        sources: SourceRegistry,
        earliest: datetime,
        disagreement_hours: float,
    ):
        self.sources = sources
        self.earliest = earliest
        self.disagreement_hours = disagreement_hours

    @classmethod
    def from_settings(cls, settings, sources: SourceRegistry | None = None) -> ArticleNormalizer:
        """From Scrapy settings, with peruwire's defaults in them (the add-on's); ``sources``
        when the sections file was read already."""
        return cls(
            sources=sources or SourceRegistry.from_settings(settings),
            earliest=parse_earliest(settings.get("PERUWIRE_EARLIEST_DATE")),
            disagreement_hours=settings.getfloat("PERUWIRE_DATE_DISAGREEMENT_HOURS"),
        )

    def warm_up(self) -> None:
        """Pay the one-off costs now, not on the first article."""
        warm_up_dateparser()
        for source in self.sources.sources:
            get_detector(detector_languages(source.languages))

    def normalize(self, item) -> Normalized:
        """Turn ``item``'s raw fields into its contract fields, in place."""
        adapter = item_fields(item)
        report = Normalized(url=adapter.get("url"))
        source = self.sources.for_url(adapter.get("url") or "")
        if not adapter.get("source"):
            adapter["source"] = source.key
        site_names = _site_names(source)

        self._normalize_text(adapter, site_names, report)
        self._normalize_language(adapter, source, report)
        self._normalize_dates(adapter, source, report)
        adapter["authors"] = clean_authors(adapter.get("authors"), adapter.get("byline"), site_names)
        self._link_translation(adapter, source)
        report.counts.append("items")
        return report

    def _normalize_text(self, adapter: MutableMapping, site_names: list[str], report: Normalized) -> None:
        title = clean_title(adapter.get("title"), adapter.get("title_from"), site_names)
        if title is None:
            title = clean_title(adapter.get("listed_title"), "listing")
            if title is not None:
                adapter["title_from"] = "listing"  # so a second pass reads it the same way
        if title is None:
            raise NoUsableTitle(f"no usable title after cleanup: {adapter.get('url')}")
        adapter["title"] = title
        report.explain["title"] = adapter.get("title_from") or "listing"
        summary, listed = clean_summary(adapter.get("summary")), clean_summary(adapter.get("listed_summary"))
        report.explain["summary"] = "page" if summary else "listing" if listed else "none"
        adapter["summary"] = summary or listed
        adapter["body"] = clean_body(adapter.get("body"))

    def _normalize_language(self, adapter: MutableMapping, source: Source, report: Normalized) -> None:
        detector = get_detector(detector_languages(source.languages))
        sample = article_text_sample(adapter["title"], adapter["summary"], adapter["body"])
        language, origin = choose_language(
            detector.detect(sample),
            declared_language=adapter.get("declared_language"),
            html_lang=adapter.get("html_lang"),
            default=source.languages[0] if source.languages else None,
        )
        adapter["language"] = language
        report.language_origin = origin
        report.counts.append(f"language/{origin}")
        report.explain["language"] = origin

    def _normalize_dates(self, adapter: MutableMapping, source: Source, report: Normalized) -> None:
        fetched_at = parse_instant(adapter.get("fetched_at"))
        if fetched_at is None:
            # Live crawls always set it; without it relative dates follow the wall clock.
            report.counts.append("no_fetched_at")
            fetched_at = datetime.now(UTC)
        context = DateContext(
            timezone=zone(source.timezone),
            fetched_at=fetched_at,
            earliest=self.earliest,
            languages=_date_languages(adapter.get("language"), source),
        )
        # No candidates at all: keep what the item already says (nothing to re-derive).
        published = adapter.get("date_candidates")
        if published:
            report.published = choice = choose_date(published, context, self.disagreement_hours)
            chosen = choice.chosen
            adapter["published_at"] = chosen.isoformat() if chosen else None
            adapter["date_precision"] = chosen.precision if chosen else None
            adapter["date_signal"] = chosen.signal if chosen else None
            report.counts.append(f"date_signal/{chosen.signal}" if chosen else "no_published_at")
            report.explain["published"] = chosen.signal if chosen else "no usable candidate"
        modified = adapter.get("modified_candidates")
        if modified:
            report.modified = choice = choose_date(modified, context)
            adapter["modified_at"] = choice.chosen.isoformat() if choice.chosen else None
            report.explain["modified"] = choice.chosen.signal if choice.chosen else "no usable candidate"
        for choice in (report.published, report.modified):
            for _, rejected in choice.rejected if choice else ():
                report.counts.append(f"date_rejected/{rejected.reason.replace(' ', '_')}")
        if report.published:
            report.counts.extend("date_disagreement" for _ in report.published.disagreements)

    def _link_translation(self, adapter: MutableMapping, source: Source) -> None:
        primary = source.languages[0] if source.languages else None
        translations = adapter.get("translations") or []
        if adapter.get("language") == primary:
            adapter["translation_of"] = None  # the original keeps ``translations`` only
        elif translations and not adapter.get("translation_of"):
            adapter["translation_of"] = translations[0]


def item_fields(item) -> MutableMapping:
    """An item's fields as a mutable mapping: a dict or a Scrapy Item as it is, any other
    object (the ArticleItem dataclass) through its attributes.

    Why not itemadapter: importing it imports all of Scrapy (1.2 s measured), which
    ``peruwire extract`` would pay on every call; these are the only item kinds here.
    """
    return item if isinstance(item, MutableMapping) else vars(item)


def _site_names(source: Source) -> list[str]:
    """Names a site goes by in titles and author fields."""
    return [source.name, source.key, *source.hosts]


def _date_languages(language: str | None, source: Source) -> tuple[str, ...]:
    """Languages to read a date line in: the article's own first (it decides "03/04/2023");
    ``normalize/dates.py`` keeps those dateparser knows, when (and only if) it needs dateparser."""
    languages = [language, *source.languages] if language else list(source.languages)
    return tuple(dict.fromkeys(code for code in languages if code)) or ("en",)

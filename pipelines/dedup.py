"""Drop duplicate articles (``shared/DESIGN.md``, "Duplicates").

Two rules say that two items are the same article:

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
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem
from scrapy.utils.misc import build_from_crawler, load_object

from peruwire_crawl import settings as project_defaults
from peruwire_crawl.times import to_utc_or_none
from peruwire_crawl.urls import canonical_url

logger = logging.getLogger(__name__)

# Without a store setting, only this run is remembered; the window default is settings.py's.
DEFAULT_STORE = "pipelines.dedup.MemorySeenStore"
DEFAULT_WINDOW_DAYS = project_defaults.PERUWIRE_DEDUP_TITLE_WINDOW_DAYS

SAME_URL = "same_url"
SAME_TITLE = "same_title"
SAME_TITLE_STORED = "same_title_stored"


class DuplicateItem(DropItem):
    """A dropped duplicate, saying which article it duplicates: storage records the
    duplicate's URL as an alias of ``duplicate_of`` (from the ``item_dropped`` signal), so
    later runs know that URL without fetching it."""

    def __init__(self, message: str, *, duplicate_of: str, reason: str):
        super().__init__(message, log_level="DEBUG")
        self.duplicate_of = duplicate_of
        self.reason = reason
STATS_PREFIX = "peruwire/dedup"
DROPPED_STATS = f"{STATS_PREFIX}/dropped/"


def dropped_total(stats: dict) -> int:
    """Items dropped as duplicates this run, whatever the reason."""
    return sum(value for key, value in stats.items() if key.startswith(DROPPED_STATS))


# --- title keys ---------------------------------------------------------------------------

# Removed without leaving a space, so that "Peru's"/"Peru’s"/"Perus" and "U.S."/"US" agree.
_JOINING_MARKS = frozenset("'’‘‛ʼʻ`´′.")
# "[Video] ", "[News][Peru] ": labels a listing or feed puts in front of the headline.
_LEADING_LABELS = re.compile(r"^\s*(?:\[[^\[\]]*\]\s*)+")


def title_key(title: str | None) -> str:
    """The form of a title that two spellings of one headline share.

    Insensitive to letter case, accents (``Perú`` = ``Peru``), punctuation of any kind
    including typographic quotes and dashes, symbols and emoji, and whitespace (no-break,
    zero-width and soft hyphens included). Leading bracketed labels (``[Video] ``) are
    dropped unless the title is nothing else. Apostrophes and periods vanish rather than
    separate words. A headline's own words, such as ``Video:``, are kept.

    Stripping accents can in principle join two different Spanish words (``año``/``ano``);
    the rule also needs the same source and nearby dates, so that risk is accepted.
    Returns "" for a missing or empty title: such items are never matched by title.

    >>> title_key("  “Peru’s  Congress” — ousts   Castillo!")
    'perus congress ousts castillo'
    """
    if not title:
        return ""
    unlabelled = _LEADING_LABELS.sub("", title)
    if unlabelled.strip():
        title = unlabelled
    # Decompose: accents come apart from their letters, and compatibility forms
    # (ligatures, full-width letters) become plain letters. Then casefold, and decompose
    # again what casefolding composed.
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", title).casefold())
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if char in _JOINING_MARKS or category == "Mn":  # accents and apostrophes
            continue
        if char.isspace() or category[0] in "PSZ":  # punctuation, symbols, separators
            kept.append(" ")
        elif category[0] == "C":  # control and format characters: zero-width, soft hyphen
            continue
        else:
            kept.append(char)
    return " ".join("".join(kept).split())


# --- what is remembered of an article -----------------------------------------------------


@dataclass(frozen=True)
class SeenArticle:
    """What dedup needs to know of an article, seen in this run or stored.

    ``url`` and the translation links are canonical URLs; ``published_at`` is
    timezone-aware (UTC) or None when unknown; ``language`` is an ISO 639-1 code or None.
    """

    url: str
    source: str
    title_key: str
    published_at: datetime | None
    language: str | None = None
    translation_of: str | None = None
    translations: tuple[str, ...] = ()
    complete: bool = True

    @classmethod
    def from_item(cls, item: Any) -> "SeenArticle":
        adapter = ItemAdapter(item)
        translation_of = adapter.get("translation_of")
        return cls(
            url=canonical_url(adapter.get("url") or ""),
            source=adapter.get("source") or "",
            title_key=title_key(adapter.get("title")),
            published_at=parse_time(adapter.get("published_at")),
            language=adapter.get("language") or None,
            translation_of=canonical_url(translation_of) if translation_of else None,
            translations=tuple(canonical_url(u) for u in adapter.get("translations") or () if u),
            complete=adapter.get("complete", True) is not False,
        )

    def links(self) -> set[str]:
        """URLs this article names as its translations, either way."""
        linked = set(self.translations)
        if self.translation_of:
            linked.add(self.translation_of)
        return linked


# The item's dates as aware UTC datetimes; None when absent or unreadable.
parse_time = to_utc_or_none


def _primary_language(code: str | None) -> str | None:
    return code.split("-")[0].split("_")[0].lower() if code else None


def is_same_article(new: SeenArticle, other: SeenArticle, window: timedelta) -> bool:
    """The title rule: ``other`` is ``new`` under a changed URL (see the module docstring)."""
    if new.url == other.url or not new.title_key:
        return False
    if (new.source, new.title_key) != (other.source, other.title_key):
        return False
    if new.published_at is None or other.published_at is None:
        return False
    if abs(new.published_at - other.published_at) > window:
        return False
    if other.url in new.links() or new.url in other.links():
        return False  # a translation pair that happens to share its title
    languages = (_primary_language(new.language), _primary_language(other.language))
    if None not in languages and languages[0] != languages[1]:
        return False
    return True


# --- stores -------------------------------------------------------------------------------


class SeenStore(Protocol):
    """What dedup asks of the articles stored by earlier runs.

    An implementation is named by the setting ``PERUWIRE_DEDUP_STORE`` (a dotted path) and
    built with ``from_crawler(crawler)``; one that needs a connection opens it there or on
    the ``spider_opened`` signal, and closes it on ``spider_closed``.

    Nothing is written through this interface: the storage pipeline stores the items that
    dedup lets pass, and the store reads them back in later runs.
    """

    def find_by_title(
        self, source: str, title_key: str, published_at: datetime, window: timedelta
    ) -> Iterable[SeenArticle]:
        """Stored articles of ``source`` whose title key is ``title_key`` and whose
        ``published_at`` is known and within ``window`` of ``published_at`` (inclusive).

        May include an article with the asking item's own URL; dedup ignores it. Fill
        ``translation_of``/``translations`` from what is stored (empty when nothing is), and
        ``language``. The result is expected to be small (usually empty): answer from an
        index on ``(source, title_key)``, never by loading all articles.
        """
        ...


class MemorySeenStore:
    """A :class:`SeenStore` in memory: dedup's memory of the current run, and the default
    ``PERUWIRE_DEDUP_STORE`` (empty, so nothing is known of earlier runs) until storage
    provides one that reads the database. Tests fill it with :meth:`remember`."""

    def __init__(self, articles: Iterable[SeenArticle] = ()):
        self._by_url: dict[str, SeenArticle] = {}
        self._by_title: dict[tuple[str, str], dict[str, SeenArticle]] = defaultdict(dict)
        for article in articles:
            self.remember(article)

    @classmethod
    def from_crawler(cls, crawler) -> "MemorySeenStore":
        return cls()

    def remember(self, article: SeenArticle) -> None:
        """Keep ``article``; it replaces what was kept under the same URL."""
        previous = self._by_url.get(article.url)
        if previous is not None and previous.title_key:
            self._by_title[(previous.source, previous.title_key)].pop(previous.url, None)
        self._by_url[article.url] = article
        if article.title_key:
            self._by_title[(article.source, article.title_key)][article.url] = article

    def get(self, url: str) -> SeenArticle | None:
        """The article kept under this canonical URL, if any."""
        return self._by_url.get(url)

    def find_by_title(
        self, source: str, title_key: str, published_at: datetime, window: timedelta
    ) -> list[SeenArticle]:
        candidates = self._by_title.get((source, title_key), {}).values()
        return [
            article
            for article in candidates
            if article.published_at is not None and abs(article.published_at - published_at) <= window
        ]

    def __len__(self) -> int:
        return len(self._by_url)


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
        store_class = load_object(settings.get("PERUWIRE_DEDUP_STORE") or DEFAULT_STORE)
        store = build_from_crawler(store_class, crawler)
        days = settings.getfloat("PERUWIRE_DEDUP_TITLE_WINDOW_DAYS", DEFAULT_WINDOW_DAYS)
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

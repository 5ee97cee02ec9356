"""An article's identity: what decides that two items are the same article.

Below both packages, because the crawl (storage, dedup's memory of earlier runs) and the
item pipelines (dedup) need the same answers:

- the article's key is its canonical URL (:func:`peruwire_crawl.urls.canonical_url`);
- :func:`title_key` is the form of a headline that two spellings of it share;
- :class:`SeenArticle` is what is remembered of an article, and :func:`is_same_article` the
  title rule (same source, same title key, close dates, not a translation pair);
- :class:`SeenStore` is what dedup asks of the articles earlier runs stored, and
  :class:`MemorySeenStore` the in-memory one;
- :class:`DuplicateItem` is how a dropped duplicate names the article it duplicates;
- :class:`ArticleKeys` decides which URL of a fetched page is the article's key.

The rules that apply them to a crawl's items are in ``pipelines/dedup.py``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from peruwire_crawl.times import to_utc_or_none
from peruwire_crawl.urls import canonical_url, is_http_url


class DuplicateItem(DropItem):
    """A dropped duplicate, saying which article it duplicates: storage records the
    duplicate's URL as an alias of ``duplicate_of`` (from the ``item_dropped`` signal), so
    later runs know that URL without fetching it."""

    def __init__(self, message: str, *, duplicate_of: str, reason: str):
        super().__init__(message, log_level="DEBUG")
        self.duplicate_of = duplicate_of
        self.reason = reason


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
    return " ".join(text.translate(_TITLE_KEY_CHARS).split())


class _TitleKeyChars(dict):
    """What each character becomes in a title key, for ``str.translate``: decided once per
    character from its Unicode category and kept (a loop over every character of every
    title was 0.4 ms a title)."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        category = unicodedata.category(char)
        if char in _JOINING_MARKS or category == "Mn":  # accents and apostrophes
            kept = ""
        elif char.isspace() or category[0] in "PSZ":  # punctuation, symbols, separators
            kept = " "
        elif category[0] == "C":  # control and format characters: zero-width, soft hyphen
            kept = ""
        else:
            kept = char
        self[code] = kept
        return kept


_TITLE_KEY_CHARS = _TitleKeyChars()


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
            published_at=to_utc_or_none(adapter.get("published_at")),
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


# --- which URL is an article's key ---------------------------------------------------------

# Paths that name a listing or the site itself, never one article: the home page, archives
# (tag, category, author, date, search), pagination and feeds.
_NOT_AN_ARTICLE_PATH = re.compile(
    r"^/?$|^/(?:tag|tags|category|categories|author|topics?|search|section)(?:/|$)"
    r"|/page/\d+/?$|/feed/?$|^/\d{4}(?:/\d{2}){0,2}/?$"
)
KEY_REJECTED_STATS = "peruwire/articles/key_rejected/"
DECLARED = "rel=canonical/og:url"  # what the page says its URL is
REDIRECT = "redirect"  # where the server's redirects ended


class ArticleKeys:
    """Which URL is an article's key (DESIGN.md: "canonical absolute URL of the article").

    A fetched page offers URLs for itself: the ``rel=canonical`` / ``og:url`` it declares,
    and where redirects ended. One is trusted only when it is an article URL on the source's
    hosts, not a home, section or tag page, and (for a declared URL) one that no other
    listed article is, or has claimed: a site whose every page declares
    its home page canonical, or whose article B declares A's URL, would otherwise fold
    several articles into one row. Otherwise the listed URL stays the key; each refusal is
    logged and counted (``peruwire/articles/key_rejected/<why>``).

    ``is_listed(url)`` answers whether this run listed ``url`` as an article; ``claims``
    holds only the keys that differ from their listed URL.
    """

    def __init__(self, is_listed, claims: dict[str, str], not_articles: Iterable[str] = (),
                 stats=None, log=None):
        self.is_listed = is_listed
        self.claims = claims  # key -> the listed URL that claimed it (the caller keeps it)
        self.not_articles = {canonical_url(url) for url in not_articles}  # the section pages
        self.stats = stats
        self.log = log

    def key(self, listed_url: str, offered: Iterable[tuple[str, str | None]], source) -> str:
        """The key for the article listed as ``listed_url``: the first ``(what, url)`` of
        ``offered`` (most trusted first, e.g. ``("rel=canonical", ...)``) that passes."""
        for what, url in offered:
            if not url or not is_http_url(url):
                continue
            candidate = canonical_url(url)
            if candidate == listed_url:
                return listed_url
            refusal = self._refusal(what, listed_url, candidate, source)
            if refusal is None:
                self.claims[candidate] = listed_url
                return candidate
            if self.stats is not None:
                self.stats.inc_value(KEY_REJECTED_STATS + refusal.split(":")[0].replace(" ", "_"))
            if self.log is not None:
                self.log("not using %s %s as the key of %s: %s", what, candidate, listed_url, refusal)
        return listed_url

    def _refusal(self, what: str, listed_url: str, candidate: str, source) -> str | None:
        if not source.owns(candidate):
            return "another host"
        if candidate in self.not_articles or _NOT_AN_ARTICLE_PATH.search(urlsplit(candidate).path):
            return "not an article page"
        if what == REDIRECT:
            return None  # the server sent us there: the page read is that URL's
        if self.is_listed(candidate):
            return "another listed article"
        claimant = self.claims.get(candidate)
        if claimant is not None and claimant != listed_url:
            return f"claimed by another: {claimant}"
        return None

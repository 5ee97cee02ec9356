"""The article item: one per article, the contract between spider, pipelines and storage.

The spider fills the *raw* fields from what the pages showed; the normalise pipeline turns
them into the contract fields of ``shared/DESIGN.md`` (clean text, UTC dates with precision,
language, author names). Storage reads the contract fields and the crawl facts; the raw
inputs are not stored.

``complete`` is False when the article page was not read: it failed (``incomplete_reason``
says why), or the incremental crawl judged the listing enough (``page_fetched`` False,
no reason). Storage never lets such an item blank what a complete one stored.

Dates travel as ISO 8601 strings with an explicit UTC offset (``2023-06-16T00:00:00+00:00``)
so that ``scrapy crawl peru -O items.jsonl`` keeps the timezone.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DateCandidate:
    """One date the article page offered, before it is parsed.

    ``signal`` names where it came from, most reliable first:
    ``jsonld`` (``datePublished``), ``meta`` (``article:published_time``), ``time``
    (``<time datetime>``), ``dateline`` (the human date line), ``url`` (``/YYYY/MM/DD/``).
    """

    signal: str
    value: str


@dataclass
class ArticleItem:
    # --- contract fields (DESIGN.md "The article item") ---
    url: str  # canonical absolute URL, the key
    source: str  # e.g. "peoplesdispatch"
    sections: list[str] = field(default_factory=list)  # section page URLs listing it this run
    title: str | None = None
    summary: str | None = None
    published_at: str | None = None  # ISO 8601, UTC
    date_precision: str | None = None  # "day", "minute" or "second"
    date_signal: str | None = None  # which DateCandidate.signal gave published_at
    modified_at: str | None = None  # ISO 8601, UTC
    authors: list[str] = field(default_factory=list)
    language: str | None = None  # ISO 639-1
    body: str | None = None
    translation_of: str | None = None  # URL of the original this article translates
    translations: list[str] = field(default_factory=list)  # URLs of its other-language twins

    # --- crawl facts ---
    complete: bool = True  # False when the article page was not fetched or could not be read
    page_fetched: bool = True  # False when the incremental crawl judged the listing enough
    incomplete_reason: str | None = None  # e.g. "HTTP 404", "DNS lookup failed"
    fetched_at: str | None = None  # ISO 8601 UTC time the article page was fetched
    listed_title: str | None = None  # title exactly as the section listing showed it
    listed_summary: str | None = None  # standfirst exactly as the listing showed it
    # Why the page was fetched: new, listing_changed, recent, incomplete, full, or a change
    # signal (wp_rest, sitemap, recheck: peruwire_crawl.changes); a revision records it.
    fetch_reason: str | None = None
    etag: str | None = None  # the article page's ETag / Last-Modified headers, as sent
    last_modified: str | None = None
    not_modified: bool = False  # the page answered 304 to a conditional re-check

    # --- raw inputs for the normalise pipeline (not stored) ---
    title_from: str = "listing"  # "listing", "page" (headline element) or "meta" (<title>/og:title)
    date_candidates: list[DateCandidate] = field(default_factory=list)
    modified_candidates: list[DateCandidate] = field(default_factory=list)
    byline: str | None = None  # the byline text as shown, e.g. "by Zoe Alexandra"
    html_lang: str | None = None  # the page's <html lang>, a hint only
    declared_language: str | None = None  # language the page states for itself (og:locale, JSON-LD)

"""The `peru` spider: section pages → their pagination → every listed article.

The spider only decides what to fetch next; the page objects in :mod:`peruwire_crawl.pages`
read the pages, and the item pipelines clean and store what it yields.

One article, one item: an article listed by several sections is fetched once, and its item
is held back until every section listing has been read, so that all its sections are on it.
All bookkeeping lives in ``self.state``, which Scrapy persists under ``-s JOBDIR=...``,
so a paused crawl resumes with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from peruwire_crawl.items import ArticleItem
from peruwire_crawl.pages import ArticlePage, SectionPage
from peruwire_crawl.sources import SourceRegistry
from peruwire_crawl.urls import canonical_url, is_http_url


@dataclass
class Listing:
    """What the section listings said about one article."""

    sections: list[str] = field(default_factory=list)
    title: str | None = None
    summary: str | None = None


class PeruSpider(scrapy.Spider):
    name = "peru"

    def __init__(self, *args, sections: str | None = None, mode: str = "incremental", **kwargs):
        super().__init__(*args, **kwargs)
        self.state = {}  # replaced by the saved state when resuming with JOBDIR
        self.sections_arg = sections
        if mode not in ("incremental", "full"):
            raise ValueError(f"mode must be 'incremental' or 'full', not {mode!r}")
        self.mode = mode

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.sources = SourceRegistry.from_settings(crawler.settings)
        spider.section_urls = spider._section_urls()
        # Stay on the hosts of the sections (and their sources' aliases): the offsite
        # middleware enforces it for every request and redirect.
        hosts = set()
        for url in spider.section_urls:
            source = spider.sources.for_url(url)
            hosts.update(source.hosts or (urlsplit(url).hostname,))
        spider.allowed_domains = sorted(h for h in hosts if h)
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        return spider

    def _section_urls(self) -> list[str]:
        if self.sections_arg:
            urls = [u.strip() for u in self.sections_arg.split(",") if u.strip()]
        else:
            urls = self.sources.all_sections()
        bad = [u for u in urls if not is_http_url(u)]
        if bad:
            raise ValueError(f"sections must be http(s) URLs: {', '.join(bad)}")
        return list(dict.fromkeys(canonical_url(u) for u in urls))

    # --- bookkeeping kept in self.state (persisted with JOBDIR) ---------------------------

    @property
    def _listings(self) -> dict[str, Listing]:
        return self.state.setdefault("listings", {})

    @property
    def _held(self) -> dict[str, ArticleItem]:
        return self.state.setdefault("held_items", {})

    @property
    def _listing_pages_seen(self) -> set[str]:
        return self.state.setdefault("listing_pages_seen", set())

    @property
    def _articles_in_flight(self) -> set[str]:
        """Article requests sent and not yet answered by a callback or errback."""
        return self.state.setdefault("articles_in_flight", set())

    def _listing_pages_in_flight(self, change: int = 0) -> int:
        self.state["listing_pages_in_flight"] = self.state.get("listing_pages_in_flight", 0) + change
        return self.state["listing_pages_in_flight"]

    # --- requests ---------------------------------------------------------------------------

    async def start(self):
        for url in self.section_urls:
            request = self._listing_request(url, section=url, page_number=1)
            if request is not None:
                yield request

    def _listing_request(self, url: str, section: str, page_number: int):
        if url in self._listing_pages_seen:
            return None  # a pagination loop, or two sections sharing a page
        self._listing_pages_seen.add(url)
        self._listing_pages_in_flight(+1)
        return scrapy.Request(
            url,
            callback=self.parse_section,
            errback=self.section_failed,
            meta={"section": section, "page_number": page_number},
        )

    def parse_section(self, response):
        section = response.meta["section"]
        page = SectionPage.from_response(response)
        self.crawler.stats.inc_value("peruwire/sections/pages")
        for problem in page.problems:
            self.logger.warning("section page %s: %s", response.url, problem)
        if response.meta["page_number"] == 1 and not page.entries:
            self.crawler.stats.inc_value("peruwire/sections/empty_first_page")
            self.state.setdefault("empty_sections", []).append(section)
        for entry in page.entries:
            request = self._note_listed_article(entry, section)
            if request is not None:
                yield request
        if page.next_page_url:
            next_request = self._listing_request(
                page.next_page_url, section, response.meta["page_number"] + 1
            )
            if next_request is not None:
                yield next_request
        yield from self._listing_page_done()

    def section_failed(self, failure):
        self.logger.error("section page %s failed: %s", failure.request.url, _reason(failure))
        self.crawler.stats.inc_value("peruwire/sections/failed")
        yield from self._listing_page_done()

    def _note_listed_article(self, entry, section: str):
        """Remember that ``section`` lists ``entry``; a Request the first time it is seen."""
        if not is_http_url(entry.url):
            self.crawler.stats.inc_value("peruwire/articles/skipped_scheme")
            return None
        url = canonical_url(entry.url)
        if not self._on_allowed_host(url):
            self.logger.debug("not following %s: outside the section's hosts", url)
            self.crawler.stats.inc_value("peruwire/articles/skipped_offsite")
            return None
        listing = self._listings.get(url)
        if listing is not None:
            if section not in listing.sections:
                listing.sections.append(section)
            return None
        self._listings[url] = Listing(sections=[section], title=entry.title, summary=entry.summary)
        self.crawler.stats.inc_value("peruwire/articles/listed")
        self._articles_in_flight.add(url)
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.article_failed,
            meta={"article_url": url},
        )

    def _on_allowed_host(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    # --- articles ---------------------------------------------------------------------------

    def parse_article(self, response):
        listed_url = response.meta["article_url"]
        self._articles_in_flight.discard(listed_url)
        page = ArticlePage.from_response(response)
        for problem in page.problems:
            self.logger.warning("article page %s: %s", response.url, problem)
        item = self._item_from_listing(listed_url)
        item.url = self._article_key(listed_url, response.url, page.canonical_url)
        if not item.title:
            item.title, item.title_from = page.title, page.title_from
        if item.summary is None:
            item.summary = page.summary
        item.date_candidates = page.date_candidates
        item.modified_candidates = page.modified_candidates
        item.byline = page.byline
        item.authors = page.authors
        item.html_lang = page.html_lang
        item.declared_language = page.declared_language
        item.body = page.body
        item.translations = [canonical_url(u) for u in page.translation_links]
        item.fetched_at = _fetch_time(response)
        if not page.body:
            item.complete = False
            item.incomplete_reason = "article page has no readable body"
            self.crawler.stats.inc_value("peruwire/articles/incomplete")
        self.crawler.stats.inc_value("peruwire/articles/fetched")
        yield from self._emit(item)

    def article_failed(self, failure):
        """The article page is gone or broken: keep what the listing said, marked incomplete."""
        listed_url = failure.request.meta["article_url"]
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            # Refused on our side (robots.txt): a choice, not an error of the site.
            self.crawler.stats.inc_value("peruwire/articles/not_fetched_by_choice")
            reason = f"not fetched: {failure.getErrorMessage()}"
            yield from self._emit(self._unfetched_item(listed_url, reason, error=False))
            return
        reason = _reason(failure)
        self.logger.warning("article page %s failed (%s); keeping the listing's data", listed_url, reason)
        yield from self._emit(self._unfetched_item(listed_url, reason))

    def _unfetched_item(self, listed_url: str, reason: str, error: bool = True) -> ArticleItem:
        """The item for an article whose page we could not read: the listing's data only."""
        self._articles_in_flight.discard(listed_url)
        item = self._item_from_listing(listed_url)
        # The URL still dates the article, even with no page to read.
        item.date_candidates = ArticlePage("", listed_url).date_candidates
        item.complete = False
        item.incomplete_reason = reason
        item.fetched_at = datetime.now(timezone.utc).isoformat()
        if error:
            self.crawler.stats.inc_value("peruwire/articles/incomplete")
        return item

    def _item_from_listing(self, url: str) -> ArticleItem:
        listing = self._listings[url]
        return ArticleItem(
            url=url,
            source=self.sources.for_url(url).key,
            sections=listing.sections,  # the same list: sections found later still land on it
            title=listing.title,
            title_from="listing",
            summary=listing.summary,
            listed_title=listing.title,
            listed_summary=listing.summary,
        )

    def _article_key(self, listed_url: str, final_url: str, declared_url: str | None) -> str:
        """The article's canonical URL: the page's own rel=canonical if it is on our hosts,
        else where redirects ended, else what the listing linked."""
        for candidate in (declared_url, final_url):
            if candidate and is_http_url(candidate):
                url = canonical_url(candidate)
                if self._on_allowed_host(url):
                    return url
        return listed_url

    # --- holding items until every listing page is read --------------------------------------

    def _emit(self, item: ArticleItem):
        if self._listing_pages_in_flight() > 0:
            self._hold(item)
        else:
            yield item

    def _hold(self, item: ArticleItem):
        """Hold ``item``; two listed URLs that turn out to be one article (a redirect, a
        rel=canonical) become one item carrying both listings' sections."""
        earlier = self._held.get(item.url)
        if earlier is not None:
            kept, other = (item, earlier) if item.complete and not earlier.complete else (earlier, item)
            kept.sections.extend(s for s in other.sections if s not in kept.sections)
            item = kept
        self._held[item.url] = item

    def _listing_page_done(self):
        if self._listing_pages_in_flight(-1) == 0:
            yield from self._release_held()

    def _release_held(self):
        held = self._held
        while held:
            _, item = held.popitem()
            yield item

    def spider_idle(self):
        """Safety net for requests Scrapy dropped without calling back (its duplicate filter
        ends a redirect loop that way, its offsite filter a redirect to another host): their
        articles are kept, marked incomplete, and every held item is released."""
        for url in sorted(self._articles_in_flight):
            self.logger.warning("article page %s never arrived (redirect loop or off-site redirect)", url)
            self._hold(self._unfetched_item(url, "page never arrived: redirect loop or off-site redirect"))
        if self._held:
            self.logger.info("releasing %d held articles at idle", len(self._held))
            self.state["listing_pages_in_flight"] = 0
            self.crawler.engine.crawl(
                scrapy.Request(
                    "data:,",
                    callback=self._flush_held,
                    dont_filter=True,
                    meta={"dont_obey_robotstxt": True},
                )
            )
            raise DontCloseSpider

    def _flush_held(self, response):
        yield from self._release_held()


def _reason(failure) -> str:
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    return f"{failure.type.__name__}: {failure.getErrorMessage()}"


def _fetch_time(response) -> str:
    """When the page was fetched, by the server's Date header (replay sets it to the
    snapshot's moment, so relative dates resolve the same way every day)."""
    header = response.headers.get("Date")
    if header:
        try:
            return parsedate_to_datetime(header.decode("latin-1")).astimezone(timezone.utc).isoformat()
        except (TypeError, ValueError):
            pass
    return datetime.now(timezone.utc).isoformat()

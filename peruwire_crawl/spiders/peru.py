"""The `peru` spider: section pages → their pagination → every listed article.

The spider only decides what to fetch next; the page objects in :mod:`peruwire_crawl.pages`
read the pages, and the item pipelines clean and store what it yields.

One article, one item: an article listed by several sections is fetched once, and its item
is held back until every section listing has been read, so that all its sections are on it.
All bookkeeping lives in ``self.state``, which Scrapy persists under ``-s JOBDIR=...``,
so a paused crawl resumes with it.

Incremental by default (:mod:`peruwire_crawl.incremental`): a section page is asked
"changed since?" (ETag / Last-Modified from the last run; a 304 means nothing new), an
article page is fetched only when the policy says so, and a section's pagination is walked
only while its pages list something that needed fetching. ``-a mode=full`` walks everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from peruwire_crawl.changes import SIGNALS as CHANGE_SIGNALS
from peruwire_crawl.changes import ChangeSignals, Refetch
from peruwire_crawl.db.crawl import CrawlDatabase
from peruwire_crawl.db.memory import CrawlMemory, Validators
from peruwire_crawl.health import EMPTY_SECTIONS_STAT
from peruwire_crawl.incremental import FULL, INCREMENTAL, FetchPolicy
from peruwire_crawl.items import ArticleItem
from peruwire_crawl.normalize.dates import url_date_candidates
from peruwire_crawl.pages import ArticlePage, SectionPage
from peruwire_crawl.pages.sites import rules_for
from peruwire_crawl.signals import run_judged
from peruwire_crawl.sources import SourceRegistry
from peruwire_crawl.times import server_time
from peruwire_crawl.urls import canonical_url, is_http_url

# Scrapy's RobotsTxtMiddleware says so in the IgnoreRequest it raises (it has no subclass).
ROBOTS_REFUSAL = "robots.txt"
NOT_FETCHED = "not fetched: "
# Incomplete articles whose failure will not pass by itself are not retried at the start of
# every run (a page listing them again still gets them fetched): gone pages and refusals.
PERMANENT_FAILURES = ("HTTP 404", "HTTP 410", NOT_FETCHED)


@dataclass
class Listing:
    """What the section listings said about one article."""

    sections: list[str] = field(default_factory=list)
    title: str | None = None
    summary: str | None = None


class PeruSpider(scrapy.Spider):
    name = "peru"

    def __init__(self, *args, sections: str | None = None, mode: str = INCREMENTAL, **kwargs):
        super().__init__(*args, **kwargs)
        self.state = {}  # replaced by the saved state when resuming with JOBDIR
        self.sections_arg = sections
        if mode not in (INCREMENTAL, FULL):
            raise ValueError(f"mode must be '{INCREMENTAL}' or '{FULL}', not {mode!r}")
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
        # Without storage there is no memory of earlier runs, and no change signals.
        spider.changes = ChangeSignals.from_crawler(crawler)
        crawler.signals.connect(spider.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.run_judged, signal=run_judged)
        return spider

    def spider_opened(self, spider):
        """The settings' defaults and the crawl's database exist once the crawl has opened
        (Scrapy builds the spider before the add-on and the extensions)."""
        self.policy = FetchPolicy.from_settings(self.crawler.settings, self.mode)
        database = self.crawler.get_extension(CrawlDatabase)
        # Without storage there is no memory of earlier runs: every article is new.
        self.memory = CrawlMemory(lambda: database.engine) if database is not None else None

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
    def _fetch_reasons(self) -> dict[str, str | None]:
        """Per listed article: why its page is fetched this run (None: it is not)."""
        return self.state.setdefault("fetch_reasons", {})

    @property
    def _new_validators(self) -> dict[str, Validators]:
        """Section pages' ETag/Last-Modified seen this run, saved when the run succeeds."""
        return self.state.setdefault("new_validators", {})

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
        for request in self._revisit_requests():
            yield request
        for request in self._changed_articles(self._ask_change_signals()):
            yield request

    def _revisit_requests(self):
        """Articles whose page an earlier run could not read, and articles published in the
        last few days, are fetched again even when their section pages answer 304
        (incremental mode; a full run lists them anyway)."""
        if self.mode == FULL or self.memory is None or self.state.get("revisits_sent"):
            return
        self.state["revisits_sent"] = True  # once per crawl, also across JOBDIR pauses
        sources = sorted({self.sources.for_url(url).key for url in self.section_urls})
        since = datetime.now(timezone.utc) - self.policy.recent
        revisits = self._guarded(self.memory.articles_to_revisit, sources, PERMANENT_FAILURES, since) or []
        for article in revisits:
            if article.url not in self._listings:
                self._listings[article.url] = Listing(title=article.listed_title, summary=article.listed_summary)
                yield self._article_request(article.url, reason="recent" if article.complete else "incomplete")

    def _listing_request(self, url: str, section: str, page_number: int):
        if url in self._listing_pages_seen:
            return None  # a pagination loop, or two sections sharing a page
        self._listing_pages_seen.add(url)
        self._listing_pages_in_flight(+1)
        return scrapy.Request(
            url,
            headers=self._conditional_headers(url),
            callback=self.parse_section,
            errback=self.section_failed,
            meta={"section": section, "page_number": page_number, "listing_url": url,
                  "handle_httpstatus_list": [304]},
        )

    def _conditional_headers(self, url: str) -> dict[str, str]:
        """"Changed since?" headers from the last run's validators (incremental mode only)."""
        if self.mode == FULL or self.memory is None:
            return {}
        known = self._guarded(self.memory.validators, url)
        headers = {}
        if known and known.etag:
            headers["If-None-Match"] = known.etag
        if known and known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        return headers

    def parse_section(self, response):
        if response.status == 304:
            self.crawler.stats.inc_value("peruwire/sections/not_modified")
            yield from self._listing_page_done()
            return
        section = response.meta["section"]
        self._remember_validators(response)
        page = SectionPage.from_response(response, rules_for(response.url, self.sources))
        self.crawler.stats.inc_value("peruwire/sections/pages")
        for problem in page.problems:
            self.logger.warning("section page %s: %s", response.url, problem)
        if response.meta["page_number"] == 1 and not page.entries:
            self.crawler.stats.inc_value("peruwire/sections/empty_first_page")
            empty = self.crawler.stats.get_value(EMPTY_SECTIONS_STAT, [])
            self.crawler.stats.set_value(EMPTY_SECTIONS_STAT, [*empty, section])
        listed = self._listed_articles(page.entries)
        now = datetime.fromisoformat(_fetch_time(response))
        known = self._known_articles(list(listed))
        articles_here = []
        for url, entry in listed.items():
            article = known.get(url)
            if article is not None and article.url != url:
                # A URL dedup found to be another of a stored article's (a changed slug):
                # the listing is that article's.
                self.crawler.stats.inc_value("peruwire/articles/known_alias")
                url = article.url
            articles_here.append(url)
            yield from self._note_listed_article(url, entry, section, article, now)
        # Walk on only while this page lists something that needed fetching.
        something_new = self.mode == FULL or any(
            self._fetch_reasons.get(url) not in (None, *CHANGE_SIGNALS) for url in articles_here)
        if page.next_page_url and something_new:
            next_request = self._listing_request(
                page.next_page_url, section, response.meta["page_number"] + 1
            )
            if next_request is not None:
                yield next_request
        elif page.next_page_url:
            self.crawler.stats.inc_value("peruwire/sections/stopped_early")
        yield from self._listing_page_done()

    def _remember_validators(self, response) -> None:
        etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
        if etag or modified:
            # Keyed by the URL we ask for next time, not where a redirect may have ended.
            self._new_validators[response.meta["listing_url"]] = Validators(
                etag.decode("latin-1") if etag else None,
                modified.decode("latin-1") if modified else None,
            )

    def _listed_articles(self, entries) -> dict:
        """The entries worth following, by canonical URL (off-site and odd schemes left out)."""
        listed = {}
        for entry in entries:
            if not is_http_url(entry.url):
                self.crawler.stats.inc_value("peruwire/articles/skipped_scheme")
                continue
            url = canonical_url(entry.url)
            if not self._on_allowed_host(url):
                self.logger.debug("not following %s: outside the section's hosts", url)
                self.crawler.stats.inc_value("peruwire/articles/skipped_offsite")
                continue
            listed.setdefault(url, entry)
        return listed

    def _known_articles(self, urls: list[str]) -> dict:
        if self.mode == FULL or self.memory is None:
            return {}
        return self._guarded(self.memory.known_articles, urls) or {}

    def _guarded(self, call, *args):
        """A call on the crawl's memory of earlier runs. If the database fails, the run goes
        on as if it remembered nothing: it fetches more (or saves no validators), and loses
        nothing."""
        try:
            return call(*args)
        except Exception as error:  # why: any database failure here must only cost requests
            self.logger.warning("the crawl's memory of earlier runs is unavailable (%s: %s): "
                                "fetching as if nothing were known", call.__name__, error)
            self.crawler.stats.inc_value("peruwire/incremental/memory_errors")
            return None

    def section_failed(self, failure):
        self.logger.error("section page %s failed: %s", failure.request.url, _reason(failure))
        self.crawler.stats.inc_value("peruwire/sections/failed")
        yield from self._listing_page_done()

    def _note_listed_article(self, url: str, entry, section: str, known, now: datetime):
        """Remember that ``section`` lists the article; the first time it is seen, either a
        Request for its page or, when the listing is enough, its listing-only item."""
        listing = self._listings.get(url)
        if listing is not None:
            if section not in listing.sections:
                listing.sections.append(section)
            return
        self._listings[url] = Listing(sections=[section], title=entry.title, summary=entry.summary)
        self.crawler.stats.inc_value("peruwire/articles/listed")
        reason = self.policy.reason_to_fetch(known, entry.title, entry.summary, now)
        if reason is None:
            self._fetch_reasons[url] = None
            self.crawler.stats.inc_value("peruwire/articles/not_fetched_unchanged")
            yield from self._emit(self._listing_only_item(url))
            return
        yield self._article_request(url, reason)

    def _article_request(self, url: str, reason: str):
        self._fetch_reasons[url] = reason
        self.crawler.stats.inc_value(f"peruwire/articles/fetch_reason/{reason}")
        self._articles_in_flight.add(url)
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.article_failed,
            # The listing travels with the request: in cluster mode another worker may read the page.
            meta={"article_url": url, "listing": self._listings[url]},
        )

    def _listing_only_item(self, url: str) -> ArticleItem:
        """An unchanged article, seen again in a listing: storage moves its last_seen_at and
        records its sections, and keeps everything it has."""
        item = self._unfetched_item(url, reason=None, error=False)
        item.page_fetched = False
        return item

    # --- change signals (peruwire_crawl.changes) --------------------------------------------

    def _ask_change_signals(self) -> list:
        """The change signals' first requests: incremental runs, once per crawl."""
        if self.changes is None or self.mode == FULL or self.state.get("change_signals_sent"):
            return []
        self.state["change_signals_sent"] = True
        return self._guarded(self.changes.start, self.section_urls, self._source_key,
                             self.parse_change_signal, self.change_signal_failed) or []

    def _source_key(self, url: str) -> str:
        return self.sources.for_url(url).key

    def _changed_articles(self, asked):
        """What the change signals ask for: their own requests, counted as listing pages in
        flight (items wait for their answers, so an edited article's item still gathers its
        sections), and stored articles to read again, conditionally, whatever their
        listings said."""
        for wanted in asked:
            if not isinstance(wanted, Refetch):
                self._listing_pages_in_flight(+1)
                yield wanted
            elif not self._fetch_reasons.get(wanted.url):  # not read this run already
                self._listings.setdefault(wanted.url, Listing())  # title and summary from the page
                request = self._article_request(wanted.url, wanted.signal)
                yield request.replace(headers=wanted.conditional_headers(), meta={
                    **request.meta, "handle_httpstatus_list": [304],
                    "validators": (wanted.etag, wanted.last_modified)})

    def parse_change_signal(self, response):
        yield from self._changed_articles(self.changes.read(response=response))
        yield from self._listing_page_done()

    def change_signal_failed(self, failure):
        yield from self._changed_articles(self.changes.read(failure=failure))
        yield from self._listing_page_done()

    def _not_modified_item(self, url: str, response) -> ArticleItem:
        item = self._listing_only_item(url)
        item.not_modified, item.fetch_reason = True, self._fetch_reasons.get(url)
        item.etag, item.last_modified = response.meta["validators"]
        item.fetched_at = _fetch_time(response)
        self.crawler.stats.inc_value("peruwire/articles/not_modified")
        return item

    def _on_allowed_host(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    # --- articles ---------------------------------------------------------------------------

    def parse_article(self, response):
        listed_url = response.meta["article_url"]
        self._listings.setdefault(listed_url, response.meta.get("listing") or Listing())
        if response.status == 304:  # a change signal's conditional re-read: unchanged
            yield from self._emit(self._not_modified_item(listed_url, response))
            return
        self._articles_in_flight.discard(listed_url)
        page = ArticlePage.from_response(response, rules_for(response.url, self.sources))
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
        item.fetch_reason = self._fetch_reasons.get(listed_url)
        item.etag, item.last_modified = (
            (response.headers.get(name) or b"").decode("latin-1") or None for name in ("ETag", "Last-Modified"))
        if not page.body:
            item.complete = False
            item.incomplete_reason = "article page has no readable body"
            self.crawler.stats.inc_value("peruwire/articles/incomplete")
        self.crawler.stats.inc_value("peruwire/articles/fetched")
        yield from self._emit(item)

    def article_failed(self, failure):
        """The article page is gone or broken: keep what the listing said, marked incomplete."""
        listed_url = failure.request.meta["article_url"]
        self._listings.setdefault(listed_url, failure.request.meta.get("listing") or Listing())
        if failure.check(IgnoreRequest) and ROBOTS_REFUSAL in failure.getErrorMessage():
            # Refused on our side: a choice, not an error of the site.
            self.crawler.stats.inc_value("peruwire/articles/not_fetched_by_choice")
            reason = NOT_FETCHED + failure.getErrorMessage()
            yield from self._emit(self._unfetched_item(listed_url, reason, error=False))
            return
        reason = _reason(failure)
        self.logger.warning("article page %s failed (%s); keeping the listing's data", listed_url, reason)
        yield from self._emit(self._unfetched_item(listed_url, reason))

    def _unfetched_item(self, listed_url: str, reason: str | None, error: bool = True) -> ArticleItem:
        """The item for an article whose page we could not read: the listing's data only."""
        self._articles_in_flight.discard(listed_url)
        item = self._item_from_listing(listed_url)
        # The URL still dates the article, even with no page to read.
        item.date_candidates = url_date_candidates(listed_url)
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

    @property
    def _shared_crawl(self) -> bool:
        """Cluster mode (docs/scale-out.md): other workers read this crawl's pages too, so
        this process's bookkeeping sees only its share; items are not held (a killed worker
        would lose them) and the never-arrived net is off."""
        return bool(self.crawler.settings.get("PERUWIRE_REDIS_URL"))

    def _emit(self, item: ArticleItem):
        if self._listing_pages_in_flight() > 0 and not self._shared_crawl:
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
        for url in sorted(self._articles_in_flight if not self._shared_crawl else ()):
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

    def run_judged(self, spider, healthy: bool):
        """Keep the section pages' validators only after a healthy run that stored
        everything: a 304 next time must not hide what this run missed (articles it failed
        to store, a section whose layout broke)."""
        if self.memory is None:
            return
        stats = self.crawler.stats
        stored_all = not stats.get_value("peruwire/store/items_failed") and not stats.get_value(
            "peruwire/store/batches_failed"
        )
        if healthy and stored_all:
            self._guarded(self.memory.save_validators, self._new_validators)


def _reason(failure) -> str:
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    return f"{failure.type.__name__}: {failure.getErrorMessage()}"


def _fetch_time(response) -> str:
    """When the page was fetched, by the server's Date header (replay sets it to the
    snapshot's moment, so relative dates resolve the same way every day); our clock when
    the header is missing or absurd (see ``times.server_time``)."""
    moment = server_time(response.headers.get("Date")) or datetime.now(timezone.utc)
    return moment.isoformat()

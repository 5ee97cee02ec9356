"""The `peru` spider: section pages → their pagination → every listed article.

The spider only decides what to fetch next; the page objects in :mod:`peruwire_crawl.pages`
read the pages, and the item pipelines clean and store what it yields.

One article, one item, out as soon as it is complete: an article is fetched once, and its
item carries the sections that had listed it by then; a section that lists it later adds
itself by the ``article_listed_again`` signal, which storage turns into an update. So a
stop at any moment loses no article whose page was read, and the spider holds no items.
What it remembers during the run is one :class:`~peruwire_crawl.spiders.state.CrawlState`
in ``self.state``, which Scrapy persists under ``-s JOBDIR=...``.

Incremental by default (:mod:`peruwire_crawl.incremental`): a section page is asked
"changed since?" (ETag / Last-Modified from the last run; a 304 means nothing new), an
article page is fetched only when the policy says so, and a section's pagination is walked
only while its pages list something that needed fetching. ``-a mode=full`` walks everything.
Every walk is bounded: ``PERUWIRE_MAX_SECTION_PAGES`` listing pages per section,
``PERUWIRE_MAX_LISTING_PAGES`` per run, and the run time budget ``CLOSESPIDER_TIMEOUT``;
a bound that is hit is logged and makes the run unhealthy. A full walk of an archive whose
pagination prints its last page asks for ``PERUWIRE_LISTING_PAGES_AHEAD`` pages beyond the
next at once. Listing pages wait behind the article pages already asked for (a lower
priority), so the walk never runs far ahead of the articles it found: the queue holds a few
listing pages' articles, not the archive's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from peruwire_crawl.addon import ConfigError
from peruwire_crawl.health import EMPTY_SECTIONS_STAT, LIMITS_HIT_STAT
from peruwire_crawl.identity import DECLARED, REDIRECT, ArticleKeys
from peruwire_crawl.incremental import FULL, INCREMENTAL, FetchPolicy
from peruwire_crawl.items import ArticleItem
from peruwire_crawl.signals import article_listed_again, run_judged
from peruwire_crawl.sources import SourceRegistry
from peruwire_crawl.spiders.state import CrawlState, Listing
from peruwire_crawl.times import server_time
from peruwire_crawl.urls import canonical_url, is_http_url

# Listing pages are fetched after the article requests waiting in the scheduler: otherwise
# (Scrapy's queue is last in, first out) the walk would race to the archive's end and queue
# every article of it at once, in memory.
LISTING_PRIORITY = -1
# Scrapy's RobotsTxtMiddleware says so in the IgnoreRequest it raises (it has no subclass).
ROBOTS_REFUSAL = "robots.txt"
NOT_FETCHED = "not fetched: "
# Incomplete articles whose failure will not pass by itself are not retried at the start of
# every run (a page listing them again still gets them fetched): gone pages and refusals.
PERMANENT_FAILURES = ("HTTP 404", "HTTP 410", NOT_FETCHED)
INCOMPLETE_STATS = "peruwire/articles/incomplete"
ARGUMENTS = "-a sections=URL[,URL...] and -a mode=full"
# The page objects (extruct), the database (SQLAlchemy), the change signals and the date
# rules are imported where the crawl first needs them, not with this module: Scrapy imports
# the spider module for every command (`scrapy list`, `scrapy settings`), and those imports
# were half of such a command's start-up (docs/performance.md). An import inside a function
# costs well under a microsecond once the module is loaded.


class PeruSpider(scrapy.Spider):
    name = "peru"
    custom_settings = {
        # Scrapy re-reads and parses a callback's source to look for `return value` in a
        # generator whenever its cache (weakly keyed by the bound method) has lost it: 4% of
        # a crawl's CPU. tests/test_spider_callbacks.py makes that check once, for every callback.
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
    }

    def __init__(self, *args, sections: str | None = None, mode: str = INCREMENTAL, **kwargs):
        # A misspelt argument would be ignored silently; Scrapyd's own (_job) start with "_".
        unknown = sorted(name for name in kwargs if not name.startswith("_"))
        if unknown:
            raise ConfigError(f"{self.name} takes no spider argument {unknown[0]!r}: it takes {ARGUMENTS}")
        super().__init__(*args, **kwargs)
        self.state = {}  # replaced by the saved state when resuming with JOBDIR
        self.sections_arg = sections
        if mode not in (INCREMENTAL, FULL):
            raise ConfigError(f"the spider argument mode must be '{INCREMENTAL}' or '{FULL}', not {mode!r}: "
                              "give -a mode=full, or leave it out for an incremental run")
        self.mode = mode

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.sources = SourceRegistry.from_settings(crawler.settings)
        spider.section_urls = spider._section_urls()
        # Stay on the hosts of the sections' sources: the offsite middleware enforces it for
        # every request and redirect, and only their articles are followed.
        spider.crawled_sources = list({source.key: source for source in map(spider.sources.for_url,
                                                                           spider.section_urls)}.values())
        spider.allowed_domains = sorted({host for source in spider.crawled_sources for host in source.hosts})
        # Without storage there is no memory of earlier runs, and no change signals.
        from peruwire_crawl.changes import ChangeSignals

        spider.changes = ChangeSignals.from_crawler(crawler)
        crawler.signals.connect(spider.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        # An article request is in flight once the engine has it (scheduled, or dropped by a
        # filter): what `scrapy parse` or `scrapy check` only looks at never is.
        crawler.signals.connect(spider.request_handed_over, signal=signals.request_scheduled)
        crawler.signals.connect(spider.request_handed_over, signal=signals.request_dropped)
        crawler.signals.connect(spider.run_judged, signal=run_judged)
        return spider

    def spider_opened(self, spider):
        """The settings' defaults and the crawl's database exist once the crawl has opened
        (Scrapy builds the spider before the add-on and the extensions)."""
        settings = self.crawler.settings
        self.policy = FetchPolicy.from_settings(settings, self.mode)
        self.max_section_pages = settings.getint("PERUWIRE_MAX_SECTION_PAGES")
        self.max_listing_pages = settings.getint("PERUWIRE_MAX_LISTING_PAGES")
        self.listing_pages_ahead = settings.getint("PERUWIRE_LISTING_PAGES_AHEAD")
        from peruwire_crawl.db.crawl import CrawlDatabase
        from peruwire_crawl.db.memory import CrawlMemory

        database = self.crawler.get_extension(CrawlDatabase)
        # Without storage there is no memory of earlier runs: every article is new.
        self.memory = CrawlMemory(lambda: database.engine, self.crawler.stats) if database is not None else None
        from peruwire_crawl.worker import WorkerProcess

        self.worker = self.crawler.get_extension(WorkerProcess)  # None: pages are read here

    def _section_urls(self) -> list[str]:
        example = ("give e.g. -a sections=https://peoplesdispatch.org/tag/peru/, "
                   "or leave it out for the configured sections")
        if self.sections_arg is not None:
            urls = [u.strip() for u in self.sections_arg.split(",") if u.strip()]
            if not urls:
                raise ConfigError(f"the spider argument sections is empty: {example}")
            named_by = "the spider argument sections"
        else:
            urls = self.sources.all_sections()
            named_by = "the sections file (PERUWIRE_SECTIONS_FILE)"
        bad = [u for u in urls if not is_http_url(u)]
        if bad:
            raise ConfigError(f"{named_by} must list http(s) URLs, not {bad[0]!r}: {example}")
        return list(dict.fromkeys(canonical_url(u) for u in urls))

    @property
    def crawl(self) -> CrawlState:
        """This run's state, in ``self.state`` (which JOBDIR saves and restores)."""
        return self.state.setdefault("crawl", CrawlState())

    @cached_property
    def keys(self) -> ArticleKeys:
        return ArticleKeys(is_listed=lambda url: url in self.crawl.listed, claims=self.crawl.claims,
                           not_articles=self.section_urls, stats=self.crawler.stats, log=self.logger.info)

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
        if self.mode == FULL or self.memory is None or self.crawl.revisits_sent:
            return
        self.crawl.revisits_sent = True  # once per crawl, also across JOBDIR pauses
        sources = sorted(source.key for source in self.crawled_sources)
        since = datetime.now(UTC) - self.policy.recent
        revisits = self.memory.articles_to_revisit(sources, PERMANENT_FAILURES, since)
        for article in revisits:
            if article.url not in self.crawl.listed:
                self.crawl.waiting[article.url] = Listing(title=article.listed_title, summary=article.listed_summary)
                yield self._article_request(article.url, reason="recent" if article.complete else "incomplete")

    def _listing_request(self, url: str, section: str, page_number: int):
        crawl = self.crawl
        if url in crawl.listing_pages:
            return None  # a pagination loop, or two sections sharing a page
        if crawl.pages_per_section[section] >= self.max_section_pages:
            return self._limit_hit(f"section {section}: stopped after {self.max_section_pages} listing pages "
                                   "(PERUWIRE_MAX_SECTION_PAGES)")
        if len(crawl.listing_pages) >= self.max_listing_pages:
            return self._limit_hit(f"the run stopped reading listings after {self.max_listing_pages} pages "
                                   "(PERUWIRE_MAX_LISTING_PAGES)")
        crawl.listing_pages.add(url)
        crawl.pages_per_section[section] += 1
        return scrapy.Request(
            url,
            headers=self._conditional_headers(url),
            callback=self.parse_section,
            errback=self.section_failed,
            priority=LISTING_PRIORITY,
            meta={"section": section, "page_number": page_number, "listing_url": url,
                  "handle_httpstatus_list": [304]},
        )

    def _limit_hit(self, reason: str) -> None:
        """A bound on the walk was reached: said once, and the run is judged unhealthy."""
        hit = self.crawler.stats.get_value(LIMITS_HIT_STAT, [])
        if reason not in hit:
            self.logger.warning("%s; what was read is kept", reason)
            self.crawler.stats.set_value(LIMITS_HIT_STAT, [*hit, reason])
        return None

    def _conditional_headers(self, url: str) -> dict[str, str]:
        """"Changed since?" headers from the last run's validators (incremental mode only)."""
        if self.mode == FULL or self.memory is None:
            return {}
        known = self.memory.validators(url)
        headers = {}
        if known and known.etag:
            headers["If-None-Match"] = known.etag
        if known and known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        return headers

    def parse(self, response):
        """A page no callback was named for (`scrapy parse URL`): a section listing or an
        article, as the page itself says (peruwire_crawl/pages/kind.py)."""
        from peruwire_crawl.pages.kind import ARTICLE, page_kind

        if page_kind(response.text, response.url) == ARTICLE:
            return self.parse_article(response)
        return self.parse_section(response)

    def parse_section(self, response):
        """A section page: its articles to fetch, then its next page.

        @url https://peoplesdispatch.org/tag/new-peru-left/
        @article_requests 8
        @next_page
        """
        if "section" not in response.meta:  # asked for by hand (scrapy parse, check)
            self.crawl.listing_pages.add(response.url)
            response.meta.update(section=response.url, page_number=1, listing_url=response.url)
        if response.status == 304:
            self.crawler.stats.inc_value("peruwire/sections/not_modified")
            return
        section = response.meta["section"]
        self._remember_validators(response)
        from peruwire_crawl.pages import SectionPage
        from peruwire_crawl.pages.sites import rules_for

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
        # Walk on only while this page lists something that needed fetching (a change signal
        # asking for an article is no news of the listing).
        from peruwire_crawl.changes import SIGNALS as CHANGE_SIGNALS

        something_new = self.mode == FULL or any(
            self.crawl.listed.get(url) not in (None, *CHANGE_SIGNALS) for url in articles_here)
        if page.next_page_url and something_new:
            for url, number in self._listing_pages_after(page, response.meta["page_number"]):
                next_request = self._listing_request(url, section, number)
                if next_request is not None:
                    yield next_request
        elif page.next_page_url:
            self.crawler.stats.inc_value("peruwire/sections/stopped_early")

    def _listing_pages_after(self, page, page_number: int) -> list[tuple[str, int]]:
        """(URL, number) of the listing pages to ask for after this one: the next, and in a
        full walk up to ``PERUWIRE_LISTING_PAGES_AHEAD`` more, where the pagination says how
        many pages there are and its links follow one pattern (WordPress's /page/N/).
        Pages asked for already are left out by ``_listing_request``."""
        pages = [(page.next_page_url, page_number + 1)]
        last = min(page.last_page_number or 0, page_number + 1 + self.listing_pages_ahead)
        if self.mode == FULL and last > page_number + 1 and page.page_url(page_number + 1) == page.next_page_url:
            pages += [(page.page_url(number), number) for number in range(page_number + 2, last + 1)]
        return pages

    def _remember_validators(self, response) -> None:
        etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
        if etag or modified:
            from peruwire_crawl.db.memory import Validators

            # Keyed by the URL we ask for next time, not where a redirect may have ended.
            self.crawl.new_validators[response.meta["listing_url"]] = Validators(
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
            if not any(source.owns(url) for source in self.crawled_sources):
                self.logger.debug("not following %s: outside the section's hosts", url)
                self.crawler.stats.inc_value("peruwire/articles/skipped_offsite")
                continue
            listed.setdefault(url, entry)
        return listed

    def _known_articles(self, urls: list[str]) -> dict:
        if self.mode == FULL or self.memory is None:
            return {}
        return self.memory.known_articles(urls)

    def section_failed(self, failure):
        self.logger.error("section page %s failed: %s", failure.request.url, _reason(failure))
        self.crawler.stats.inc_value("peruwire/sections/failed")
        if failure.request.meta.get("page_number") == 1:
            self.crawler.stats.inc_value("peruwire/sections/failed_first_page")

    def _note_listed_article(self, url: str, entry, section: str, known, now: datetime):
        """Remember that ``section`` lists the article; the first time it is seen, either a
        Request for its page or, when the listing is enough, its listing-only item."""
        crawl = self.crawl
        if url in crawl.listed:
            self._listed_again(url, section)
            return
        self.crawler.stats.inc_value("peruwire/articles/listed")
        reason = self.policy.reason_to_fetch(known, entry.title, entry.summary, now)
        crawl.listed[url] = reason
        crawl.waiting[url] = Listing(sections=[section], title=entry.title, summary=entry.summary)
        if reason is None:
            self.crawler.stats.inc_value("peruwire/articles/not_fetched_unchanged")
            yield self._listing_only_item(url)
            return
        yield self._article_request(url, reason)

    def _listed_again(self, url: str, section: str) -> None:
        """Another section lists an article already seen: on its item if that is not out
        yet, else sent to storage as an update of the stored article's sections."""
        waiting = self.crawl.waiting.get(url)
        if waiting is not None:
            if section not in waiting.sections:
                waiting.sections.append(section)
            return
        self.crawler.signals.send_catch_log(article_listed_again, url=self.crawl.key_of(url), section=section)

    def _article_request(self, url: str, reason: str):
        self.crawl.listed[url] = reason
        self.crawler.stats.inc_value(f"peruwire/articles/fetch_reason/{reason}")
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.article_failed,
            # The listing travels with the request: in cluster mode another worker may read the page.
            meta={"article_url": url, "listing": self.crawl.waiting[url]},
        )

    def _listing_only_item(self, url: str) -> ArticleItem:
        """An unchanged article, seen again in a listing: storage moves its last_seen_at and
        records its sections, and keeps everything it has."""
        item = self._unfetched_item(url, reason=None, error=False)
        item.page_fetched = False
        return item

    # --- change signals (peruwire_crawl.changes) --------------------------------------------

    def _ask_change_signals(self) -> list:
        """The change signals' first requests, once per crawl. A full walk reads every
        article anyway: it only learns what the site offers, for the incremental runs."""
        if self.changes is None or self.crawl.change_signals_sent:
            return []
        self.crawl.change_signals_sent = True
        try:
            return self.changes.start(self.section_urls, self._source_key, self.parse_change_signal,
                                      self.change_signal_failed, refetch=self.mode != FULL)
        except Exception as error:  # why: the signals are a saving; their failure must only cost them
            self.logger.warning("change signals unavailable (%s: %s); the listings alone decide what is read",
                                type(error).__name__, error)
            self.crawler.stats.inc_value("peruwire/changes/errors")
            return []

    def _source_key(self, url: str) -> str:
        return self.sources.for_url(url).key

    def _changed_articles(self, asked):
        """What the change signals ask for: their own requests, and stored articles to read
        again, conditionally, whatever their listings said."""
        from peruwire_crawl.changes import Refetch

        for wanted in asked:
            if not isinstance(wanted, Refetch):
                yield wanted
            elif not self.crawl.listed.get(wanted.url):  # not read this run already
                self.crawl.waiting.setdefault(wanted.url, Listing())  # title and summary from the page
                request = self._article_request(wanted.url, wanted.signal)
                yield request.replace(headers=wanted.conditional_headers(), meta={
                    **request.meta, "handle_httpstatus_list": [304],
                    "validators": (wanted.etag, wanted.last_modified)})

    def parse_change_signal(self, response):
        yield from self._changed_articles(self.changes.read(response=response))

    def change_signal_failed(self, failure):
        yield from self._changed_articles(self.changes.read(failure=failure))

    def _not_modified_item(self, url: str, response) -> ArticleItem:
        item = self._listing_only_item(url)
        item.not_modified, item.fetch_reason = True, self.crawl.listed.get(url)
        item.etag, item.last_modified = response.meta["validators"]
        item.fetched_at = _fetch_time(response)
        self.crawler.stats.inc_value("peruwire/articles/not_modified")
        return item

    # --- articles ---------------------------------------------------------------------------

    def request_handed_over(self, request, spider=None):
        if request.callback == self.parse_article and "article_url" in request.meta:
            self.crawl.in_flight.add(request.meta["article_url"])

    async def parse_article(self, response):
        """An article page: its item, with every field the page shows (the page is read in
        the worker process where there is one: ``peruwire_crawl/worker.py``).

        @url https://peoplesdispatch.org/2023/06/16/perus-de-facto-president-blames-protesters-for-their-own-deaths-at-the-hands-of-state-forces/
        @article title published_at body
        """
        # Asked for by hand (scrapy parse, check): no listing named it.
        listed_url = response.meta.setdefault("article_url", canonical_url(response.url))
        # In cluster mode the listing travels with the request: another worker may have read it.
        self.crawl.waiting.setdefault(listed_url, response.meta.get("listing") or Listing())
        if response.status == 304:  # a change signal's conditional re-read: unchanged
            yield self._not_modified_item(listed_url, response)
            return
        from peruwire_crawl.pages.article import read_article
        from peruwire_crawl.pages.sites import rules_for

        received = (response.body, response.encoding, response.url, rules_for(response.url, self.sources))
        reading = await self.worker.run(read_article, *received) if self.worker else read_article(*received)
        for problem in reading.problems:
            self.logger.warning("article page %s: %s", response.url, problem)
        page = reading.fields
        item = self._item_from_listing(listed_url)
        item.url = self.keys.key(listed_url, ((DECLARED, page["canonical_url"]), (REDIRECT, response.url)),
                                 self.sources.for_url(listed_url))
        if not item.title:
            item.title, item.title_from = page["title"], page["title_from"]
        if item.summary is None:
            item.summary = page["summary"]
        item.date_candidates = page["date_candidates"]
        item.modified_candidates = page["modified_candidates"]
        item.byline = page["byline"]
        item.authors = page["authors"]
        item.html_lang = page["html_lang"]
        item.declared_language = page["declared_language"]
        item.body = page["body"]
        item.translations = [canonical_url(u) for u in page["translation_links"]]
        item.fetched_at = _fetch_time(response)
        item.fetch_reason = self.crawl.listed.get(listed_url)
        item.etag, item.last_modified = (
            (response.headers.get(name) or b"").decode("latin-1") or None for name in ("ETag", "Last-Modified"))
        if reading.media_only:
            # A video or gallery post: no body is what the page is, not a failure to read it.
            item.media_only = True
            self.crawler.stats.inc_value("peruwire/articles/media_only")
        elif not item.body:
            item.complete = False
            item.incomplete_reason = "article page has no readable body"
            self._count_incomplete(item.incomplete_reason)
        self.crawler.stats.inc_value("peruwire/articles/fetched")
        yield item

    def article_failed(self, failure):
        """The article page is gone or broken: keep what the listing said, marked incomplete."""
        listed_url = failure.request.meta["article_url"]
        self.crawl.waiting.setdefault(listed_url, failure.request.meta.get("listing") or Listing())
        if failure.check(IgnoreRequest) and ROBOTS_REFUSAL in failure.getErrorMessage():
            # Refused on our side: a choice, not an error of the site.
            self.crawler.stats.inc_value("peruwire/articles/not_fetched_by_choice")
            reason = NOT_FETCHED + failure.getErrorMessage()
            yield self._unfetched_item(listed_url, reason, error=False)
            return
        reason = _reason(failure)
        self.logger.warning("article page %s failed (%s); keeping the listing's data", listed_url, reason)
        yield self._unfetched_item(listed_url, reason)

    def _unfetched_item(self, listed_url: str, reason: str | None, error: bool = True) -> ArticleItem:
        """The item for an article whose page we could not read: the listing's data only."""
        from peruwire_crawl.normalize.dates import url_date_candidates

        item = self._item_from_listing(listed_url)
        # The URL still dates the article, even with no page to read.
        item.date_candidates = url_date_candidates(listed_url)
        item.complete = False
        item.incomplete_reason = reason
        item.fetched_at = datetime.now(UTC).isoformat()
        if error:
            self._count_incomplete(reason)
        return item

    def _count_incomplete(self, reason: str) -> None:
        """An article whose page was asked for and not read: counted, and why."""
        self.crawler.stats.inc_value(INCOMPLETE_STATS)
        why = reason.split(":")[0].strip().replace(" ", "_")[:60]
        self.crawler.stats.inc_value(f"{INCOMPLETE_STATS}_reason/{why}")

    def _item_from_listing(self, url: str) -> ArticleItem:
        """The article's item from what its listings said; from here on the item carries its
        sections, and its listing data is no longer kept."""
        self.crawl.in_flight.discard(url)
        listing = self.crawl.waiting.pop(url, None) or Listing()
        return ArticleItem(
            url=url,
            source=self.sources.for_url(url).key,
            sections=list(listing.sections),
            title=listing.title,
            title_from="listing",
            summary=listing.summary,
            listed_title=listing.title,
            listed_summary=listing.summary,
        )

    # --- the end of the run -----------------------------------------------------------------

    @property
    def _shared_crawl(self) -> bool:
        """Cluster mode (docs/scale-out.md): other workers read this crawl's pages too, so
        this process's bookkeeping sees only its share and the never-arrived net is off."""
        return bool(self.crawler.settings.get("PERUWIRE_REDIS_URL"))

    def spider_idle(self):
        """Safety net for requests Scrapy dropped without calling back (its duplicate filter
        ends a redirect loop that way, its offsite filter a redirect to another host): their
        articles are kept, marked incomplete."""
        lost = sorted(self.crawl.in_flight) if not self._shared_crawl else []
        if not lost:
            return
        for url in lost:
            self.logger.warning("article page %s never arrived (redirect loop or off-site redirect)", url)
        # Items can only come from a callback: one request answered here, never sent out.
        self.crawler.engine.crawl(
            scrapy.Request("data:,", callback=self._never_arrived, cb_kwargs={"urls": lost},
                           dont_filter=True, meta={"dont_obey_robotstxt": True})
        )
        raise DontCloseSpider

    def _never_arrived(self, response, urls: list[str]):
        for url in urls:
            if url in self.crawl.in_flight:
                yield self._unfetched_item(url, "page never arrived: redirect loop or off-site redirect")

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
            self.memory.save_validators(self.crawl.new_validators)


def _reason(failure) -> str:
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    return f"{failure.type.__name__}: {failure.getErrorMessage()}"


def _fetch_time(response) -> str:
    """When the page was fetched, by the server's Date header (replay sets it to the
    snapshot's moment, so relative dates resolve the same way every day); our clock when
    the header is missing or absurd (see ``times.server_time``)."""
    moment = server_time(response.headers.get("Date")) or datetime.now(UTC)
    return moment.isoformat()

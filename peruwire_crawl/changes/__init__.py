"""Change signals: which stored article pages a run should read again, without walking the
archive.

A section listing only says what it lists; an edit to an article deep in the archive (a
paragraph added, a new title) does not reach its first page. Each run asks the site, per
source, the cheapest question it answers, in this order:

1. ``wp_rest``: the WordPress REST API, "posts of these tags modified since the last run"
   (:mod:`.wordpress`), one or two requests;
2. ``sitemap``: the sitemaps' ``<lastmod>`` (:mod:`.sitemaps`), the index plus the post
   sitemaps that changed;
3. ``recheck``: a rolling re-check by conditional GET of a bounded slice of articles,
   oldest-checked first (:mod:`.recheck`), when neither of the others answered.

An article whose reported modification is newer than when its page was last read
(``article_checks``, at the site's clock) is fetched again; storage keeps the earlier
values as a revision with the signal's name. Nothing here adds an article: the listings
stay the truth for what a section lists. What a site offers is probed once (by a full walk
or a source's first run, when no question is needed yet) and remembered
(``source_signals``), a missing or refused signal is probed again after
``PERUWIRE_CHANGE_SIGNALS_REPROBE_DAYS``; the fall-back is quiet (INFO lines) and said once
in the run's summary line (stat ``peruwire/changes/summary``).

The spider asks :meth:`ChangeSignals.start` for the first requests, hands every answer to
:meth:`ChangeSignals.read`, and fetches each :class:`Refetch` it gets back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from peruwire_crawl.addon import ConfigError
from peruwire_crawl.changes import recheck, sitemaps, wordpress
from peruwire_crawl.changes.state import MISSING, OFFERED, REFUSED, Offer, SignalState, StoredArticles
from peruwire_crawl.db.crawl import CrawlDatabase
from peruwire_crawl.signals import run_judged
from peruwire_crawl.times import http_date_to_utc, iso, to_utc_or_none
from peruwire_crawl.urls import canonical_url

logger = logging.getLogger(__name__)

WP_REST, SITEMAP, RECHECK = "wp_rest", "sitemap", "recheck"
SIGNALS = (WP_REST, SITEMAP, RECHECK)  # cheapest first
NAMES = {WP_REST: "REST API", SITEMAP: "sitemaps", RECHECK: "re-check"}
UNREACHABLE = "unreachable"  # no answer this run: said in the summary, never remembered
STATS = "peruwire/changes/"
SUMMARY_STAT = STATS + "summary"
# Kept in the re-check's detail: the source's newest check as the run began.
PREVIOUS_NEWEST_CHECK = "newest_check_at_start"
MAX_REST_PAGES = 10  # 1,000 posts changed since the last run is a backfill: run -a mode=full


@dataclass(frozen=True)
class Refetch:
    """An article page to read again, and the validators to send with it."""

    url: str
    signal: str
    etag: str | None = None
    last_modified: str | None = None

    def conditional_headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclass
class _SourceRun:
    """One source's signals during this run."""

    key: str
    origin: str
    sections: list[str]
    stored: StoredArticles
    offers: dict[str, Offer]
    signal: str | None = None  # the signal being asked
    queue: list[tuple[str, tuple]] = field(default_factory=list)  # its next requests: (step, arguments)
    answered_by: str | None = None
    unavailable: list[str] = field(default_factory=list)
    new_since: dict[str, datetime] = field(default_factory=dict)
    refetched: set[str] = field(default_factory=set)


class ChangeSignals:
    def __init__(self, crawler, state: SignalState, enabled: tuple[str, ...], recheck_period: timedelta,
                 recheck_max: int, reprobe_after: timedelta):
        self.crawler = crawler
        self.state = state
        self.enabled = enabled
        self.recheck_period = recheck_period
        self.recheck_max = recheck_max
        self.reprobe_after = reprobe_after
        self._runs: dict[str, _SourceRun] = {}
        self._callback: Callable | None = None
        self._errback: Callable | None = None

    @property
    def stats(self):
        return self.crawler.stats  # set once the crawl starts, after the spider is built

    @classmethod
    def from_crawler(cls, crawler) -> "ChangeSignals | None":
        """None when ``PERUWIRE_CHANGE_SIGNALS`` is empty (or storage is off: no memory)."""
        settings = crawler.settings
        asked = {name.strip() for name in settings.getlist("PERUWIRE_CHANGE_SIGNALS") if name.strip()}
        enabled = tuple(s for s in SIGNALS if s in asked)
        unknown = asked - set(SIGNALS)
        if unknown:
            raise ConfigError(f"PERUWIRE_CHANGE_SIGNALS names unknown signal(s) {', '.join(sorted(unknown))}: "
                              f"give some of {', '.join(SIGNALS)}, or -s PERUWIRE_CHANGE_SIGNALS= for none")
        if not enabled or not settings.getbool("PERUWIRE_STORE_ENABLED"):
            return None
        signals = cls(
            # The crawl's engine, asked for when the crawl has started (extensions exist then).
            crawler, SignalState(lambda: crawler.get_extension(CrawlDatabase).engine), enabled,
            recheck_period=timedelta(days=settings.getfloat("PERUWIRE_RECHECK_DAYS")),
            recheck_max=settings.getint("PERUWIRE_RECHECK_MAX_PER_RUN"),
            reprobe_after=timedelta(days=settings.getfloat("PERUWIRE_CHANGE_SIGNALS_REPROBE_DAYS")),
        )
        crawler.signals.connect(signals.run_judged, signal=run_judged)
        return signals

    # --- the spider's side ---------------------------------------------------------------

    def start(self, section_urls: list[str], source_of: Callable[[str], str],
              callback: Callable, errback: Callable, *, refetch: bool = True) -> list:
        """The first requests of each source's signals (or the re-check's refetches).

        ``refetch=False`` is for a run that reads every listed article anyway (a full walk):
        it asks the signals only to learn what the site offers and the site's clock, and
        reads nothing again, so that the next incremental run pays only its one question.
        A source with nothing stored yet is asked the same way.
        """
        self._callback, self._errback = callback, errback
        by_source: dict[str, list[str]] = {}
        for url in section_urls:
            by_source.setdefault(source_of(url), []).append(url)
        found: list = []
        for key, sections in by_source.items():
            stored = self.state.stored_articles(key if refetch else None)
            parts = urlsplit(sections[0])
            run = _SourceRun(key, f"{parts.scheme}://{parts.netloc}", sections, stored, self.state.offers(key))
            self._runs[key] = run
            found += self._next_signal(run)
        self._publish_summary()
        return found

    def read(self, response=None, failure=None) -> list:
        """What an answer (or a failure) of a signal's request leads to: more requests of
        the signal, a fall-back to the next signal, and articles to read again."""
        request = response.request if response is not None else failure.request
        run = self._runs.get(request.meta["change_source"])
        if run is None or run.signal != request.meta["change_signal"]:
            return []  # a signal given up meanwhile, or a crawl resumed from JOBDIR
        step = request.meta["change_step"]
        if failure is not None:
            found = self._failed(run, step, failure)
        else:
            try:
                found = self._answered(run, step, response)
            except (wordpress.NotAnAnswer, sitemaps.NotASitemap) as error:
                found = self._unavailable(run, MISSING, f"{request.url}: {error}")
        self._publish_summary()
        return found

    # --- asking, signal by signal ----------------------------------------------------------

    def _next_signal(self, run: _SourceRun) -> list:
        order = SIGNALS[SIGNALS.index(run.signal) + 1:] if run.signal else SIGNALS
        for signal in order:
            run.signal, run.queue = signal, []
            if signal not in self.enabled:
                continue
            if signal == RECHECK:
                return self._recheck(run)
            known = run.offers.get(signal)
            if known and known.state != OFFERED and not self._reprobe_due(known):
                run.unavailable.append(f"{NAMES[signal]} {known.state}")
                continue
            planned = self._plan_rest(run) if signal == WP_REST else self._plan_sitemaps(run)
            if planned:
                return self._continue(run)
        run.signal = None
        return []

    def _reprobe_due(self, offer: Offer) -> bool:
        return offer.probed_at is None or datetime.now(timezone.utc) - offer.probed_at >= self.reprobe_after

    def _continue(self, run: _SourceRun) -> list:
        """The signal's next request, or, its questions all answered, nothing more."""
        while run.queue:
            step, arguments = run.queue.pop(0)
            url = self._url(run, step, arguments)
            if url is None:
                return self._unavailable(run, MISSING, f"no term {arguments[1]!r} in the site's {arguments[0]}")
            self.stats.inc_value(f"{STATS}requests/{run.signal}")
            return [scrapy.Request(url, callback=self._callback, errback=self._errback, dont_filter=True,
                                   meta={"change_source": run.key, "change_signal": run.signal,
                                         "change_step": step, "change_args": arguments})]
        run.answered_by = run.signal
        offer = run.offers.setdefault(run.signal, Offer(OFFERED))
        offer.state, offer.probed_at = OFFERED, datetime.now(timezone.utc)
        return []

    def _unavailable(self, run: _SourceRun, state: str, reason: str, remember: bool = True) -> list:
        logger.info("change signal %s of %s unavailable (%s); falling back", run.signal, run.key, reason)
        self.stats.inc_value(f"{STATS}unavailable/{run.signal}")
        run.unavailable.append(f"{NAMES[run.signal]} {state}")
        if remember:
            run.offers[run.signal] = Offer(state, {}, None, datetime.now(timezone.utc))
        return self._next_signal(run)

    def _failed(self, run: _SourceRun, step: str, failure) -> list:
        remember = True
        status = failure.value.response.status if failure.check(HttpError) else None
        if status is not None and status < 500:
            state, reason = (REFUSED if status in (401, 403) else MISSING), f"HTTP {status}"
        elif status is None and failure.check(IgnoreRequest):  # (HttpError is an IgnoreRequest too)
            state, reason = REFUSED, failure.getErrorMessage() or "refused"
        else:
            # No answer from the site (DNS, a timeout, a 5xx after the retries): it says nothing
            # about what the site offers, so this run falls back and the next one asks again.
            state, reason, remember = UNREACHABLE, f"{failure.type.__name__}: {failure.getErrorMessage()}", False
        if step == "index" and any(queued == "index" for queued, _ in run.queue):
            return self._continue(run)  # probing: try the next place a sitemap index may be
        return self._unavailable(run, state, f"{failure.request.url}: {reason}", remember)

    def _answered(self, run: _SourceRun, step: str, response) -> list:
        site_now = http_date_to_utc(response.headers.get("Date")) or datetime.now(timezone.utc)
        arguments = tuple(response.request.meta["change_args"])
        found: list = []
        if step == "terms":
            run.offers[WP_REST].detail.setdefault(arguments[0], {}).update(wordpress.term_ids(response.body))
        elif step == "posts":
            run.new_since.setdefault(WP_REST, site_now)
            found += self._refetch_newer(run, wordpress.changed_posts(response.body), WP_REST)
            taxonomy, slugs, page = arguments
            if page < min(wordpress.total_pages(response.headers), MAX_REST_PAGES):
                run.queue.insert(0, ("posts", (taxonomy, slugs, page + 1)))
        elif step == "index":
            kind, entries = sitemaps.read(response.body)
            run.queue = [queued for queued in run.queue if queued[0] != "index"]  # found it
            run.offers[SITEMAP].detail["index"] = response.request.url
            run.new_since.setdefault(SITEMAP, site_now)
            if kind == "urlset":
                found += self._refetch_newer(run, entries, SITEMAP)
            elif run.stored:  # nothing stored: the index answered what the site offers, enough
                since = run.offers[SITEMAP].since
                run.queue += [("urlset", (url,)) for url in sitemaps.post_sitemaps(entries, since)]
        elif step == "urlset":
            found += self._refetch_newer(run, sitemaps.read(response.body)[1], SITEMAP)
        return found + self._continue(run)

    # --- the three signals -----------------------------------------------------------------

    def _plan_rest(self, run: _SourceRun) -> bool:
        terms = [wordpress.section_term(url) for url in run.sections]
        if None in terms:
            run.unavailable.append(f"{NAMES[WP_REST]}: a section is no tag or category archive")
            return False
        offer = run.offers.setdefault(WP_REST, Offer(MISSING))
        slugs_by_taxonomy: dict[str, list[str]] = {}
        for taxonomy, slug in terms:
            slugs_by_taxonomy.setdefault(taxonomy, []).append(slug)
        for taxonomy, slugs in sorted(slugs_by_taxonomy.items()):
            unknown = [slug for slug in slugs if slug not in offer.detail.get(taxonomy, {})]
            if unknown:
                run.queue.append(("terms", (taxonomy, sorted(set(unknown)))))
        run.queue += [("posts", (taxonomy, sorted(set(slugs)), 1))
                      for taxonomy, slugs in sorted(slugs_by_taxonomy.items())]
        return True

    def _plan_sitemaps(self, run: _SourceRun) -> bool:
        offer = run.offers.setdefault(SITEMAP, Offer(MISSING))
        known = offer.detail.get("index")
        candidates = [known] if known else [run.origin + path for path in sitemaps.INDEX_PATHS]
        run.queue = [("index", (url,)) for url in candidates]
        return True

    def _url(self, run: _SourceRun, step: str, arguments: tuple) -> str | None:
        if step == "terms":
            return wordpress.terms_url(run.origin, *arguments)
        if step == "posts":
            taxonomy, slugs, page = arguments
            ids = run.offers[WP_REST].detail.get(taxonomy, {})
            missing = [slug for slug in slugs if slug not in ids]
            if missing:
                return None
            since = run.offers[WP_REST].since or self._first_read(run)
            return wordpress.posts_url(run.origin, taxonomy, [ids[slug] for slug in slugs], since, page)
        return arguments[0]  # a sitemap's own URL

    @staticmethod
    def _first_read(run: _SourceRun) -> datetime:
        """When the source's longest-unchecked article was read; nothing read yet (a first
        run): now, so that "modified since now" answers the site's clock only."""
        oldest = run.stored.oldest_checked(1)
        return oldest[0].checked_at if oldest else datetime.now(timezone.utc)

    def _refetch_newer(self, run: _SourceRun, reported: Iterable[tuple[str, datetime | None]], signal: str) -> list:
        """The stored articles whose reported modification is newer than our last read."""
        reported = [(canonical_url(link), modified) for link, modified in reported]
        stored = run.stored.find(url for url, _ in reported)
        found = []
        for url, modified in reported:
            article = stored.get(url)
            if article is None or modified is None or modified <= article.checked_at or url in run.refetched:
                continue
            run.refetched.add(url)
            self.stats.inc_value(f"{STATS}refetch/{signal}")
            found.append(Refetch(url, signal, article.etag, article.last_modified))
        return found

    def _recheck(self, run: _SourceRun) -> list:
        previous = self.state.previous_run_started()
        elapsed = datetime.now(timezone.utc) - previous if previous else None
        offer = run.offers.setdefault(RECHECK, Offer(OFFERED))
        # What the previous run read (after a backfill: everything) was just checked and owes
        # nothing yet. Told apart on the site's clock, which is what checks are stored in: the
        # newest check as each run began is kept for the next one.
        if PREVIOUS_NEWEST_CHECK in offer.detail:
            due = run.stored.checked_by(to_utc_or_none(offer.detail[PREVIOUS_NEWEST_CHECK]))
        else:
            due = len(run.stored)  # no record of the previous run: all are counted
        offer.detail[PREVIOUS_NEWEST_CHECK] = iso(self.state.newest_check(run.key))
        size, offer.detail["owed"] = recheck.slice_size(due, elapsed, self.recheck_period,
                                                        self.recheck_max, offer.detail.get("owed", 0.0))
        offer.state, offer.probed_at = OFFERED, datetime.now(timezone.utc)  # kept, with what it owes
        run.answered_by = RECHECK
        self.stats.inc_value(f"{STATS}refetch/{RECHECK}", size)
        return [Refetch(a.url, RECHECK, a.etag, a.last_modified) for a in run.stored.oldest_checked(size)]

    # --- the end of the run --------------------------------------------------------------------

    def _publish_summary(self) -> None:
        """`change signals: peoplesdispatch REST API (sitemaps missing)` for the summary line."""
        parts = []
        for run in self._runs.values():
            used = NAMES[run.answered_by] if run.answered_by else "none"
            gaps = f" ({', '.join(dict.fromkeys(run.unavailable))})" if run.unavailable else ""
            parts.append(f"{run.key} {used}{gaps}")
        if parts:
            self.stats.set_value(SUMMARY_STAT, "change signals: " + "; ".join(parts))

    def run_judged(self, spider, healthy: bool) -> None:
        """Keep what the sites offer; move each signal's ``since`` on only after a healthy
        run that stored everything (an edit this run failed to store is asked for again)."""
        stored_all = not self.stats.get_value("peruwire/store/items_failed") and not self.stats.get_value(
            "peruwire/store/batches_failed")
        for run in self._runs.values():
            if healthy and stored_all:
                for signal, since in run.new_since.items():
                    if signal == run.answered_by:
                        run.offers[signal].since = since
            try:
                self.state.save(run.key, {s: o for s, o in run.offers.items() if o.probed_at is not None})
            except Exception as error:  # why: forgetting costs a probe next run, nothing more
                logger.warning("could not save what %s offers as change signals: %s", run.key, error)

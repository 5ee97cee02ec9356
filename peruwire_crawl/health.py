"""Was a run healthy? The checks, the verdict, and the exit status that tells cron.

One home for "what makes a run unhealthy": the :class:`RunMonitor` extension counts field
coverage as items are scraped and, when the run ends, judges it once: each failed check
gives one sentence an operator can act on, and the :class:`Verdict` carries them with the
exit status. The project's ``crawl`` command exits with that status; the crawl's database
(:mod:`peruwire_crawl.db.crawl`) stores it in the run's ``crawl_runs`` row.

The most common silent failure of a scraper is a changed layout: the site still answers
200, but a section suddenly lists nothing, or articles stop yielding a date or a body.
The exit statuses below are explained for operators in docs/operations.md.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from itemadapter import ItemAdapter
from scrapy import signals

from peruwire_crawl.identity import DuplicateItem
from peruwire_crawl.signals import run_judged

logger = logging.getLogger(__name__)

OK = 0  # the run finished and every health check passed
UNHEALTHY = 1  # the run finished but a health check failed, or it did not finish
ALREADY_RUNNING = 75  # another run holds this database, or it is locked (EX_TEMPFAIL): skipped, try later
CONFIG_ERROR = 78  # a bad setting, spider argument, file or database URL: nothing fetched (EX_CONFIG)

# Where a component that decided the status early (the database at start) puts it.
EXIT_CODE_STAT = "peruwire/exit_code"
HEALTH_REASONS_STAT = "peruwire/health/failed_checks"
# Which change signal each source answered by (peruwire_crawl.changes), said once per run.
CHANGES_SUMMARY_STAT = "peruwire/changes/summary"
# Finish reasons of runs that stopped before crawling, with the statuses above.
ALREADY_RUNNING_REASON = "already_running"
STORAGE_UNAVAILABLE_REASON = "storage_unavailable"
DATABASE_BUSY_REASON = "database_busy"
# Runs that never started crawling: nothing to judge.
NOT_STARTED_REASONS = (ALREADY_RUNNING_REASON, DATABASE_BUSY_REASON)
RUN_LOCK_LOST_REASON = "run_lock_lost"  # a run that lost its lock stops writing (UNHEALTHY)

# Item fields whose coverage on fetched article pages is checked (setting
# PERUWIRE_HEALTH_MIN_COVERAGE maps field -> minimum share of complete articles having it).
COVERAGE_STAT = "peruwire/health/coverage/{field}"
COMPLETE_ITEMS_STAT = "peruwire/health/complete_items"
# List-valued stats the spider sets: section URLs whose first page listed nothing, or could
# not be read; the bounds on the walk that were reached (PERUWIRE_MAX_*_PAGES).
EMPTY_SECTIONS_STAT = "peruwire/sections/empty_urls"
UNREADABLE_SECTIONS_STAT = "peruwire/sections/unreadable_urls"
LIMITS_HIT_STAT = "peruwire/health/limits_hit"
DROPPED_DUPLICATES_STATS = "peruwire/dedup/dropped/"
# Items that left the pipelines without being stored (not duplicates), and why.
DROPPED_ITEMS_STAT = "peruwire/items/dropped"
FAILED_ITEMS_STAT = "peruwire/items/failed"
# Articles: each fetch asked for is counted once by its reason (a retry is not another);
# an incomplete one is an article page asked for and not read.
ARTICLE_FETCHES_STATS = "peruwire/articles/fetch_reason/"
INCOMPLETE_STAT = "peruwire/articles/incomplete"

# Why a run ended early, for the operator (Scrapy's finish reasons).
STOPPED_REASONS = {
    "shutdown": "the run was stopped (SIGTERM or Ctrl-C) before it finished; what it had read is stored",
    "closespider_timeout": "the run's time budget (CLOSESPIDER_TIMEOUT) ran out before it finished; "
                           "what it had read is stored",
}


@dataclass(frozen=True)
class HealthThresholds:
    min_coverage: dict[str, float]
    max_error_rate: float
    min_sample: int
    max_storage_failures: int
    max_lost_items: int

    @classmethod
    def from_settings(cls, settings) -> HealthThresholds:
        return cls(
            min_coverage={k: float(v) for k, v in settings.getdict("PERUWIRE_HEALTH_MIN_COVERAGE").items()},
            max_error_rate=settings.getfloat("PERUWIRE_HEALTH_MAX_ERROR_RATE"),
            min_sample=settings.getint("PERUWIRE_HEALTH_MIN_SAMPLE"),
            max_storage_failures=settings.getint("PERUWIRE_HEALTH_MAX_STORAGE_FAILURES"),
            max_lost_items=settings.getint("PERUWIRE_HEALTH_MAX_LOST_ITEMS"),
        )


@dataclass(frozen=True)
class Verdict:
    """The run's verdict: the exit status and the reason of every failed check."""

    exit_code: int
    failures: tuple[str, ...] = ()

    @property
    def healthy(self) -> bool:
        return self.exit_code == OK


def failed_checks(stats: dict, thresholds: HealthThresholds) -> list[str]:
    """Every failed check's reason; an empty list means the run was healthy."""
    reasons = [_finish_reason(stats), _read_no_section(stats)]
    reasons += [f"section {url} could not be read" for url in stats.get(UNREADABLE_SECTIONS_STAT, [])]
    reasons += [f"section {url} lists no article on its first page" for url in stats.get(EMPTY_SECTIONS_STAT, [])]
    reasons += stats.get(LIMITS_HIT_STAT, [])
    reasons += _coverage(stats, thresholds)
    reasons.append(_article_failures(stats, thresholds))
    reasons.append(_listing_failures(stats, thresholds))
    reasons.append(_storage_failures(stats, thresholds.max_storage_failures))
    reasons.append(_lost_items(stats, thresholds.max_lost_items))
    return [reason for reason in reasons if reason]


def _finish_reason(stats: dict) -> str | None:
    reason = stats.get("finish_reason", "finished")
    if reason == "finished":
        return None
    return STOPPED_REASONS.get(reason, f"the crawl ended with reason {reason!r}, not 'finished'")


def _read_no_section(stats: dict) -> str | None:
    """A run that read no section page at all (a reused JOBDIR, every section failing)
    collected nothing, however cleanly it finished."""
    read = stats.get("peruwire/sections/pages", 0) + stats.get("peruwire/sections/not_modified", 0)
    return None if read else "the run read no section page"


def _coverage(stats: dict, thresholds: HealthThresholds) -> list[str]:
    complete = stats.get(COMPLETE_ITEMS_STAT, 0)
    if complete < max(thresholds.min_sample, 1):
        return []  # too few articles read for a share to mean anything
    reasons = []
    for field, minimum in sorted(thresholds.min_coverage.items()):
        share = stats.get(COVERAGE_STAT.format(field=field), 0) / complete
        if share < minimum:
            reasons.append(
                f"only {share:.0%} of {complete} fetched articles have {field} (minimum {minimum:.0%})"
            )
    return reasons


def articles_asked(stats: dict) -> int:
    """Article pages the run asked for, each once however often it was retried."""
    return sum(value for key, value in stats.items() if key.startswith(ARTICLE_FETCHES_STATS))


def _article_failures(stats: dict, thresholds: HealthThresholds) -> str | None:
    asked, failed = articles_asked(stats), stats.get(INCOMPLETE_STAT, 0)
    return _rate_failure("articles", failed, asked, thresholds)


def _listing_failures(stats: dict, thresholds: HealthThresholds) -> str | None:
    failed = stats.get("peruwire/sections/failed", 0)
    asked = failed + stats.get("peruwire/sections/pages", 0) + stats.get("peruwire/sections/not_modified", 0)
    return _rate_failure("listing pages", failed, asked, thresholds)


def _rate_failure(what: str, failed: int, asked: int, thresholds: HealthThresholds) -> str | None:
    if asked < max(thresholds.min_sample, 1):
        return None  # too few for a share to mean anything
    rate = failed / asked
    if rate > thresholds.max_error_rate:
        return f"{failed} of {asked} {what} could not be read ({rate:.0%}, maximum {thresholds.max_error_rate:.0%})"
    return None


def _storage_failures(stats: dict, maximum: int) -> str | None:
    lost = stats.get("peruwire/store/items_failed", 0)
    if lost > maximum:
        return f"{lost} items could not be stored (see the dead-letter file named in the log)"
    return None


def _lost_items(stats: dict, maximum: int) -> str | None:
    dropped, failed = stats.get(DROPPED_ITEMS_STAT, 0), stats.get(FAILED_ITEMS_STAT, 0)
    if dropped + failed <= maximum:
        return None
    why = [f"{count} {kind} ({key.rpartition('/')[2].replace('_', ' ')})"
           for prefix, kind in ((DROPPED_ITEMS_STAT, "dropped"), (FAILED_ITEMS_STAT, "failed"))
           for key, count in sorted(stats.items()) if key.startswith(prefix + "/")]
    return f"{dropped + failed} items left the pipelines without being stored: {', '.join(why)}"


def run_errors(stats: dict) -> int:
    """Errors of a run, as the summary line and ``crawl_runs.errors`` report them: ERROR log
    lines plus items that could not be stored as they were."""
    return stats.get("log_count/ERROR", 0) + stats.get("peruwire/store/item_errors", 0)


def dropped_total(stats: dict) -> int:
    """Items dropped as duplicates this run, whatever the reason."""
    return sum(value for key, value in stats.items() if key.startswith(DROPPED_DUPLICATES_STATS))


def _short_reason(text: str) -> str:
    """A stat key's last part from an exception message: "no usable title after cleanup:
    https://…" -> "no_usable_title_after_cleanup"."""
    return (text.split(":")[0].strip().lower().replace(" ", "_") or "unknown")[:60]


class RunMonitor:
    """The extension that judges the run: coverage as items pass, the verdict at the end.

    :meth:`verdict` decides once; whoever asks first (this extension's ``spider_closed``, or
    the crawl's database closing its ``crawl_runs`` row) gets the same answer, so the
    stored verdict does not depend on the order of signal handlers.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.thresholds = HealthThresholds.from_settings(crawler.settings)
        self.started = time.monotonic()
        self.stats_file = crawler.settings.get("PERUWIRE_STATS_FILE")
        self._verdict: Verdict | None = None
        self.shared_run = None  # cluster mode: see share_run()

    @classmethod
    def from_crawler(cls, crawler):
        monitor = cls(crawler)
        crawler.signals.connect(monitor.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(monitor.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(monitor.item_error, signal=signals.item_error)
        crawler.signals.connect(monitor.spider_closed, signal=signals.spider_closed)
        return monitor

    def item_scraped(self, item, spider):
        adapter = ItemAdapter(item)
        if not adapter.get("complete", True):
            return  # coverage is a property of article pages we actually read
        self.stats.inc_value(COMPLETE_ITEMS_STAT)
        for field in self.thresholds.min_coverage:
            # A media post has no body by nature: it counts as having what it can have.
            if adapter.get(field) or (field == "body" and adapter.get("media_only")):
                self.stats.inc_value(COVERAGE_STAT.format(field=field))

    def item_dropped(self, item, response, exception, spider=None):
        """An item a pipeline dropped: a duplicate is an article stored once; anything else
        is an article lost, counted with its reason."""
        if isinstance(exception, DuplicateItem) or ItemAdapter(item).get("not_modified"):
            return  # a duplicate, or a 304 re-check of a stored article: nothing was lost
        self.stats.inc_value(DROPPED_ITEMS_STAT)
        self.stats.inc_value(f"{DROPPED_ITEMS_STAT}/{_short_reason(str(exception))}")

    def item_error(self, item, response, spider=None, failure=None):
        """An item a pipeline failed on with an error (Scrapy logs the traceback)."""
        self.stats.inc_value(FAILED_ITEMS_STAT)
        kind = failure.type.__name__ if failure is not None else "error"
        self.stats.inc_value(f"{FAILED_ITEMS_STAT}/{kind}")

    def share_run(self, coordinator) -> None:
        """Cluster mode (peruwire_crawl/cluster/): judge the run on the counts of every
        process sharing it, so all exit alike. ``coordinator.shared_stats(stats)`` returns
        those counts and the failures only the cluster can see."""
        self.shared_run = coordinator

    def verdict(self, reason: str) -> Verdict:
        """Judge the run that ended with ``reason`` (once; later calls get the same)."""
        if self._verdict is None:
            self._verdict = self._judge(reason)
        return self._verdict

    def _judge(self, reason: str) -> Verdict:
        stats = dict(self.stats.get_stats())  # a snapshot, before our own log lines count
        stats.setdefault("finish_reason", reason)
        decided = self.stats.get_value(EXIT_CODE_STAT)
        if reason in NOT_STARTED_REASONS:
            return Verdict(ALREADY_RUNNING)  # the run never started: there is nothing to check
        if reason == STORAGE_UNAVAILABLE_REASON:
            return Verdict(CONFIG_ERROR)  # nor did this one: its one log line says why
        extra = []
        if self.shared_run is not None:
            stats, extra = self.shared_run.shared_stats(stats)
        failures = failed_checks(stats, self.thresholds) + extra
        for failure in failures:
            logger.error("health check failed: %s", failure)
        self.stats.set_value(HEALTH_REASONS_STAT, failures)
        # A component that already decided (storage: database unreachable) keeps its status.
        exit_code = decided if decided is not None else (UNHEALTHY if failures else OK)
        self.stats.set_value(EXIT_CODE_STAT, exit_code)
        logger.info("%s", summary_line(self.crawler.spider.name, stats, time.monotonic() - self.started, failures))
        verdict = Verdict(exit_code, tuple(failures))
        self.crawler.signals.send_catch_log(signal=run_judged, spider=self.crawler.spider,
                                            healthy=not failures)
        return verdict

    def spider_closed(self, spider, reason):
        self.verdict(reason)
        self._write_stats_file()

    def _write_stats_file(self):
        """The final stats as JSON, for monitoring scripts (and the end-to-end tests)."""
        if self.stats_file:
            Path(self.stats_file).parent.mkdir(parents=True, exist_ok=True)
            Path(self.stats_file).write_text(
                json.dumps(self.stats.get_stats(), default=str, indent=1, sort_keys=True), "utf-8"
            )


def summary_line(spider_name: str, stats: dict, seconds: float, failures: list[str]) -> str:
    """`peru: 3 new, 1 updated, 25 unchanged, 2 duplicates, 0 errors; articles: 31 listed,
    6 read, 0 incomplete, 0 lost, 0 not stored; 9 requests in 41 s — healthy`"""
    verdict = "healthy" if not failures else f"UNHEALTHY ({len(failures)} failed checks)"
    lost = stats.get(DROPPED_ITEMS_STAT, 0) + stats.get(FAILED_ITEMS_STAT, 0)
    return (
        f"{spider_name}: {stats.get('peruwire/store/new', 0)} new, "
        f"{stats.get('peruwire/store/updated', 0)} updated, "
        f"{stats.get('peruwire/store/unchanged', 0)} unchanged, "
        f"{dropped_total(stats)} duplicates, {run_errors(stats)} errors; "
        f"articles: {stats.get('peruwire/articles/listed', 0)} listed, "
        f"{stats.get('peruwire/articles/fetched', 0)} read, {stats.get(INCOMPLETE_STAT, 0)} incomplete, "
        f"{lost} lost, {stats.get('peruwire/store/items_failed', 0)} not stored; "
        f"{stats.get('downloader/request_count', 0)} requests in {seconds:.0f} s — {verdict}"
        + (f"; {stats[CHANGES_SUMMARY_STAT]}" if stats.get(CHANGES_SUMMARY_STAT) else "")
    )

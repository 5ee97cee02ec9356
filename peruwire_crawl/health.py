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

from peruwire_crawl.signals import run_judged

logger = logging.getLogger(__name__)

OK = 0  # the run finished and every health check passed
UNHEALTHY = 1  # the run finished but a health check failed, or it did not finish
ALREADY_RUNNING = 75  # another run holds this database, or it is locked (EX_TEMPFAIL): skipped, try later
CONFIG_ERROR = 78  # the database URL is wrong or the database unreachable (EX_CONFIG)

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
# Section URLs whose first page listed nothing (a list-valued stat set by the spider).
EMPTY_SECTIONS_STAT = "peruwire/sections/empty_urls"
DROPPED_DUPLICATES_STATS = "peruwire/dedup/dropped/"


@dataclass(frozen=True)
class HealthThresholds:
    min_coverage: dict[str, float]
    max_error_rate: float
    max_storage_failures: int

    @classmethod
    def from_settings(cls, settings) -> "HealthThresholds":
        return cls(
            min_coverage={k: float(v) for k, v in settings.getdict("PERUWIRE_HEALTH_MIN_COVERAGE").items()},
            max_error_rate=settings.getfloat("PERUWIRE_HEALTH_MAX_ERROR_RATE"),
            max_storage_failures=settings.getint("PERUWIRE_HEALTH_MAX_STORAGE_FAILURES"),
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
    reasons += [f"section {url} lists no article on its first page" for url in stats.get(EMPTY_SECTIONS_STAT, [])]
    reasons += _coverage(stats, thresholds.min_coverage)
    reasons.append(_error_rate(stats, thresholds.max_error_rate))
    reasons.append(_storage_failures(stats, thresholds.max_storage_failures))
    return [reason for reason in reasons if reason]


def _finish_reason(stats: dict) -> str | None:
    reason = stats.get("finish_reason", "finished")
    return None if reason == "finished" else f"the crawl ended with reason {reason!r}, not 'finished'"


def _read_no_section(stats: dict) -> str | None:
    """A run that read no section page at all (a reused JOBDIR, every section failing)
    collected nothing, however cleanly it finished."""
    read = stats.get("peruwire/sections/pages", 0) + stats.get("peruwire/sections/not_modified", 0)
    return None if read else "the run read no section page"


def _coverage(stats: dict, min_coverage: dict[str, float]) -> list[str]:
    complete = stats.get(COMPLETE_ITEMS_STAT, 0)
    if not complete:
        return []  # nothing fetched (an incremental run with nothing new) covers nothing
    reasons = []
    for field, minimum in sorted(min_coverage.items()):
        share = stats.get(COVERAGE_STAT.format(field=field), 0) / complete
        if share < minimum:
            reasons.append(
                f"only {share:.0%} of {complete} fetched articles have {field} (minimum {minimum:.0%})"
            )
    return reasons


def _error_rate(stats: dict, maximum: float) -> str | None:
    responses = stats.get("downloader/response_count", 0)
    failed = stats.get("peruwire/sections/failed", 0) + stats.get("peruwire/articles/incomplete", 0)
    requests = max(responses, failed, 1)
    rate = failed / requests
    if rate > maximum:
        return f"{failed} of {requests} pages failed ({rate:.0%}, maximum {maximum:.0%})"
    return None


def _storage_failures(stats: dict, maximum: int) -> str | None:
    lost = stats.get("peruwire/store/items_failed", 0)
    if lost > maximum:
        return f"{lost} items could not be stored (see the dead-letter file named in the log)"
    return None


def run_errors(stats: dict) -> int:
    """Errors of a run, as the summary line and ``crawl_runs.errors`` report them: ERROR log
    lines plus items that could not be stored as they were."""
    return stats.get("log_count/ERROR", 0) + stats.get("peruwire/store/item_errors", 0)


def dropped_total(stats: dict) -> int:
    """Items dropped as duplicates this run, whatever the reason."""
    return sum(value for key, value in stats.items() if key.startswith(DROPPED_DUPLICATES_STATS))


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
        crawler.signals.connect(monitor.spider_closed, signal=signals.spider_closed)
        return monitor

    def item_scraped(self, item, spider):
        adapter = ItemAdapter(item)
        if not adapter.get("complete", True):
            return  # coverage is a property of article pages we actually read
        self.stats.inc_value(COMPLETE_ITEMS_STAT)
        for field in self.thresholds.min_coverage:
            if adapter.get(field):
                self.stats.inc_value(COVERAGE_STAT.format(field=field))

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
    """`peru: 3 new, 1 updated, 25 unchanged, 2 duplicates, 0 errors, 7 requests in 41 s — healthy`"""
    verdict = "healthy" if not failures else f"UNHEALTHY ({len(failures)} failed checks)"
    return (
        f"{spider_name}: {stats.get('peruwire/store/new', 0)} new, "
        f"{stats.get('peruwire/store/updated', 0)} updated, "
        f"{stats.get('peruwire/store/unchanged', 0)} unchanged, "
        f"{dropped_total(stats)} duplicates, {run_errors(stats)} errors, "
        f"{stats.get('downloader/request_count', 0)} requests in {seconds:.0f} s — {verdict}"
        + (f"; {stats[CHANGES_SUMMARY_STAT]}" if stats.get(CHANGES_SUMMARY_STAT) else "")
    )

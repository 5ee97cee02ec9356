"""The run monitor: field coverage, health checks, the summary line and the exit status.

Built from_crawler like any Scrapy extension and driven by signals. At the end of a run it
decides whether the run was healthy (:mod:`peruwire_crawl.health`), logs one line per
failed check and one summary line, and puts the exit status in the stats, which the
project's ``crawl`` command returns to cron or systemd.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from itemadapter import ItemAdapter
from scrapy import signals

from peruwire_crawl import exitcodes
from peruwire_crawl.signals import run_judged
from peruwire_crawl.health import COMPLETE_ITEMS_STAT, COVERAGE_STAT, HealthThresholds, failed_checks, run_errors
from pipelines.dedup import dropped_total

logger = logging.getLogger(__name__)

HEALTH_REASONS_STAT = "peruwire/health/failed_checks"
# Which change signal each source answered by (peruwire_crawl.changes), said once per run.
CHANGES_SUMMARY_STAT = "peruwire/changes/summary"


class RunMonitor:
    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.thresholds = HealthThresholds.from_settings(crawler.settings)
        self.started = time.monotonic()
        self.stats_file = crawler.settings.get("PERUWIRE_STATS_FILE")

    @classmethod
    def from_crawler(cls, crawler):
        monitor = cls(crawler)
        crawler.signals.connect(monitor.item_scraped, signal=signals.item_scraped)
        # Extensions are built before item pipelines, so this handler runs before the storage
        # pipeline's: the crawl_runs row it closes then carries the health verdict.
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

    def spider_closed(self, spider, reason):
        stats = dict(self.stats.get_stats())  # a snapshot, before our own log lines count
        stats.setdefault("finish_reason", reason)
        if reason in exitcodes.NOT_STARTED_REASONS:
            self._write_stats_file()  # the run never started: there is nothing to check
            return
        reasons = failed_checks(stats, spider.state.get("empty_sections", []), self.thresholds)
        for failure in reasons:
            logger.error("health check failed: %s", failure)
        self.stats.set_value(HEALTH_REASONS_STAT, reasons)
        # A component that already decided (storage: database unreachable) keeps its status.
        if self.stats.get_value(exitcodes.EXIT_CODE_STAT) is None:
            self.stats.set_value(
                exitcodes.EXIT_CODE_STAT, exitcodes.UNHEALTHY if reasons else exitcodes.OK
            )
        logger.info("%s", summary_line(spider.name, stats, time.monotonic() - self.started, reasons))
        self._write_stats_file()
        self.crawler.signals.send_catch_log(signal=run_judged, spider=spider, healthy=not reasons)

    def _write_stats_file(self):
        """The final stats as JSON, for monitoring scripts (and the end-to-end tests)."""
        if self.stats_file:
            Path(self.stats_file).parent.mkdir(parents=True, exist_ok=True)
            Path(self.stats_file).write_text(
                json.dumps(self.stats.get_stats(), default=str, indent=1, sort_keys=True), "utf-8"
            )


def summary_line(spider_name: str, stats: dict, seconds: float, failures: list[str]) -> str:
    """`peru: 3 new, 1 updated, 25 unchanged, 2 duplicates, 0 errors, 7 requests in 41 s — healthy`"""
    duplicates = dropped_total(stats)
    errors = run_errors(stats)
    verdict = "healthy" if not failures else f"UNHEALTHY ({len(failures)} failed checks)"
    return (
        f"{spider_name}: {stats.get('peruwire/store/new', 0)} new, "
        f"{stats.get('peruwire/store/updated', 0)} updated, "
        f"{stats.get('peruwire/store/unchanged', 0)} unchanged, "
        f"{duplicates} duplicates, {errors} errors, "
        f"{stats.get('downloader/request_count', 0)} requests in {seconds:.0f} s — {verdict}"
        + (f"; {stats[CHANGES_SUMMARY_STAT]}" if stats.get(CHANGES_SUMMARY_STAT) else "")
    )

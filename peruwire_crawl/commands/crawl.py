"""`scrapy crawl`, with an exit status a scheduler can act on.

Scrapy's own command exits 1 only when the crawler fails to start. Ours also exits with the
status the run's extensions decided (see :mod:`peruwire_crawl.health`), so an unhealthy
run or a run skipped because another holds the database is visible to cron and systemd.

A configuration mistake (a setting, a spider argument, a file or directory a setting
names, a database URL that cannot work) stops the run before any request: one log line
that names the setting and the fix, exit status 78, and a ``failed`` row in ``crawl_runs``
wherever the database itself is usable (``peruwire runs`` shows it).
"""

import asyncio
import logging
from pathlib import Path

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from peruwire_crawl.addon import ConfigError, apply_defaults, check_settings
from peruwire_crawl.health import CONFIG_ERROR, EXIT_CODE_STAT, UNHEALTHY
from peruwire_crawl.teardown import freeze_for_exit

logger = logging.getLogger(__name__)

CONFIG_ERROR_REASON = "configuration_error"


class Command(ScrapyCrawlCommand):
    config_error: ConfigError | None = None

    def process_options(self, args, opts):
        super().process_options(args, opts)
        # Scrapy opens the log file when the crawler process is made, before run(): a file in
        # a missing directory must be caught here, and the run then says so on stderr.
        log_file = self.settings.get("LOG_FILE")
        if log_file and not Path(log_file).parent.is_dir():
            self.config_error = ConfigError(
                f"LOG_FILE (--logfile) names {log_file}, in a directory that does not exist: "
                f"create {Path(log_file).parent} first, or log elsewhere")
            self.settings.set("LOG_FILE", None, priority="cmdline")

    def run(self, args, opts):
        if len(args) != 1:
            raise UsageError("give exactly one spider name, e.g. `scrapy crawl peru`")
        # Imported here, near the bottom of the stack, rather than where the downloader would
        # import it, about 130 frames deep: the module's deprecated aliases each call
        # inspect.stack(), whose cost grows with the depth and the modules loaded (CPython
        # issue 92041). 0.1 s less on every run (docs/performance.md).
        import scrapy.core.downloader.handlers.http11  # noqa: F401

        try:
            self._crawl(args[0], opts)
        finally:
            freeze_for_exit()  # Scrapy's command line exits when the command returns

    def _crawl(self, spider_name: str, opts) -> None:
        crawler = self._create_crawler(spider_name)
        if self.config_error is None:
            try:
                check_settings(apply_defaults(crawler.settings.copy()))
            except ConfigError as error:
                self.config_error = error
        if self.config_error is None:
            self._on_config_error(self.crawler_process.crawl(crawler, **opts.spargs))
            self.crawler_process.start()
        if self.config_error is not None:
            self._refuse(crawler)
            return
        if self.crawler_process.bootstrap_failed:
            self.exitcode = UNHEALTHY
            return
        if crawler.stats is not None:
            self.exitcode = crawler.stats.get_value(EXIT_CODE_STAT, self.exitcode) or 0

    def _on_config_error(self, started) -> None:
        """Keep a ConfigError the spider raised while it was built (a bad ``-a``) for
        ``_refuse``, rather than letting it out as a traceback. ``started`` is an asyncio
        task (the asyncio reactor, peruwire's) or a Deferred (Scrapy's other reactors)."""
        if isinstance(started, asyncio.Future):
            started.add_done_callback(self._crawl_task_done)
        else:
            started.addErrback(self._crawl_failed)

    def _crawl_task_done(self, task: asyncio.Future) -> None:
        error = None if task.cancelled() else task.exception()
        if isinstance(error, ConfigError):
            self.config_error = error
        elif error is not None:
            # Read above, so asyncio will not report it: say it as asyncio would have.
            logger.error("the crawl could not start", exc_info=(type(error), error, error.__traceback__))

    def _crawl_failed(self, failure):
        failure.trap(ConfigError)
        self.config_error = failure.value

    def _refuse(self, crawler) -> None:
        logger.error("%s", self.config_error)
        self.exitcode = CONFIG_ERROR
        # Imported here: Scrapy imports every command's module for any command (`scrapy list`),
        # and the database layer is a third of such a command's start-up.
        from peruwire_crawl.db.crawl import record_refused_run

        record_refused_run(apply_defaults(crawler.settings.copy()), crawler.spidercls.name,
                           CONFIG_ERROR_REASON, str(self.config_error))

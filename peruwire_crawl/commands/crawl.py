"""`scrapy crawl`, with an exit status a scheduler can act on.

Scrapy's own command exits 1 only when the crawler fails to start. Ours also exits with the
status the run's extensions decided (see :mod:`peruwire_crawl.health`), so an unhealthy
run or a run skipped because another holds the database is visible to cron and systemd.
"""

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from peruwire_crawl.health import EXIT_CODE_STAT, UNHEALTHY


class Command(ScrapyCrawlCommand):
    def run(self, args, opts):
        if len(args) != 1:
            raise UsageError("give exactly one spider name, e.g. `scrapy crawl peru`")
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = UNHEALTHY
            return
        if crawler.stats is not None:
            self.exitcode = crawler.stats.get_value(EXIT_CODE_STAT, self.exitcode) or 0

"""Settings for `scrapy crawl peru`: Scrapy's own, and the components peruwire adds.

The defaults of peruwire's own settings (``PERUWIRE_*``) are in peruwire_crawl/addon.py.
Override any setting for one run with ``-s NAME=value``; docs/operations.md explains each
default and why it was chosen.
"""

BOT_NAME = "peruwire"
SPIDER_MODULES = ["peruwire_crawl.spiders"]
NEWSPIDER_MODULE = "peruwire_crawl.spiders"

# peruwire's own settings (PERUWIRE_*) and their defaults are set by this add-on
# (peruwire_crawl/addon.py); any of them given here or with -s wins over its default.
ADDONS = {
    "peruwire_crawl.addon.Peruwire": 0,
    # Cluster mode (docs/scale-out.md): with PERUWIRE_REDIS_URL set, the crawl becomes one
    # worker of a cluster sharing its queue through Redis (scrapy-redis); without it, nothing.
    "peruwire_crawl.cluster.addon.Cluster": 100,
}

# --- items -------------------------------------------------------------------------------
# How many items and requests of one response are handed on at once. Scrapy's default, 100,
# starts 100 asyncio tasks for every response under the asyncio reactor; peruwire's
# pipelines finish each item without waiting, so more than a few slots only cost those
# tasks: 12% of a crawl's CPU, measured on the synthetic site (docs/performance.md).
CONCURRENT_ITEMS = 4

# --- politeness -------------------------------------------------------------------------
# Names the project and a contact URL, so a site's owners can reach whoever runs the crawl:
# operators should put their own contact here, e.g. -s "USER_AGENT=peruwire/0.1 (+mailto:you@example.org)".
USER_AGENT = "peruwire/0.1 (+https://github.com/peruwire/peruwire)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
# The run's time budget, in seconds: a run still going after 2 h is stopped gracefully,
# keeps what it read, and is judged unhealthy (pagination that never ends, a crawl trap).
CLOSESPIDER_TIMEOUT = 2 * 60 * 60
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
REDIRECT_MAX_TIMES = 5

# --- components -------------------------------------------------------------------------
# No cookies: articles are public pages, and a crawler that keeps none sends no session id,
# is not followed from one run to the next, and reads what any first visitor gets (and
# skips the cookie jar's work on every request and response).
COOKIES_ENABLED = False

DOWNLOADER_MIDDLEWARES = {
    # Next to the downloader, like HttpCacheMiddleware: every other middleware (retry,
    # redirects, decompression) sees replayed responses exactly as it would live ones.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    # Scrapy's, with every request that waits for a host's robots.txt checked (robotstxt.py).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "peruwire_crawl.robotstxt.RobotsTxtMiddleware": 100,
    "peruwire_crawl.middlewares.BackoffRetryMiddleware": 550,
    "peruwire_crawl.middlewares.ReplayMiddleware": 950,
    "peruwire_crawl.middlewares.RecordMiddleware": 960,
}

EXTENSIONS = {
    # Feeds (-o/-O) hold the articles a run added or changed, as stored (peruwire_crawl/feeds.py).
    # Before CrawlDatabase: it reads them back when the run ends, before the engine is closed.
    "scrapy.extensions.feedexport.FeedExporter": None,
    "peruwire_crawl.feeds.StoredFeedExporter": 50,
    # The crawl's database: engine, run lock, migrations, the crawl_runs row.
    "peruwire_crawl.db.crawl.CrawlDatabase": 100,
    # The worker process that reads article pages, on the second core (peruwire_crawl/worker.py).
    "peruwire_crawl.worker.WorkerProcess": 200,
    # Health checks, the summary line and the verdict (exit status).
    "peruwire_crawl.health.RunMonitor": 500,
    # Cancelled download timeouts swept every second, not every 30 (peruwire_crawl/timer_sweep.py).
    "peruwire_crawl.timer_sweep.CancelledTimerSweep": 600,
}

# Contracts of the spider's callbacks, run by `scrapy check peru` (peruwire_crawl/contracts.py).
SPIDER_CONTRACTS = {
    "peruwire_crawl.contracts.ArticleRequestsContract": 10,
    "peruwire_crawl.contracts.NextPageContract": 10,
    "peruwire_crawl.contracts.ArticleContract": 10,
}

# Our Scrapy commands (peruwire_crawl/commands/): `crawl` exits with the run's status,
# `settings` shows the add-on's defaults, `parse`/`shell`/`check` never touch the database.
COMMANDS_MODULE = "peruwire_crawl.commands"

ITEM_PIPELINES = {
    "pipelines.normalize.NormalizePipeline": 300,
    "pipelines.dedup.DedupPipeline": 400,
    "pipelines.store.StorePipeline": 800,
}

# Scrapy's duplicate request filter, its fingerprints kept in 20 bytes a request instead of
# 110 (peruwire_crawl/dupefilter.py); a backfill sends one request an article.
DUPEFILTER_CLASS = "peruwire_crawl.dupefilter.CompactDupeFilter"

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
# An unattended crawl needs no interactive console: both of Scrapy's run code inside the
# process for whoever holds their password or token. Turn on for debugging with -s.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

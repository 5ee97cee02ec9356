"""Settings for `scrapy crawl peru`: every default in one place.

Override any of them for one run with ``-s NAME=value``; docs/operations.md explains each
default and why it was chosen.
"""

BOT_NAME = "peruwire"
SPIDER_MODULES = ["peruwire_crawl.spiders"]
NEWSPIDER_MODULE = "peruwire_crawl.spiders"

# --- peruwire's own settings ------------------------------------------------------------
# SQLAlchemy URL of the database; the environment variable of the same name wins over
# this default, and `-s PERUWIRE_DB_URL=...` wins over both.
PERUWIRE_DB_URL = "sqlite:///peruwire.db"
# Sources and their section pages (None = the sections.toml shipped in the package).
PERUWIRE_SECTIONS_FILE = None
# Answer every request from this fixtures directory (see fixtures/README.md); never touch
# the network. A URL with no fixture gets a 404 and a warning naming it.
PERUWIRE_REPLAY = None
# Save every response of the crawl into this directory, in the fixture format.
PERUWIRE_RECORD = None
# Dates: human date lines carry no zone; the source's timezone (sections.toml) applies.
# A published date earlier than this is impossible for the sites we crawl, and rejected.
PERUWIRE_EARLIEST_DATE = "1990-01-01"
# When two date signals disagree by more than this many hours the choice is logged.
PERUWIRE_DATE_DISAGREEMENT_HOURS = 24
# Same source + same title key within this many days under another URL = same article.
PERUWIRE_DEDUP_TITLE_WINDOW_DAYS = 7
# Where dedup learns what earlier runs stored (a SeenStore built with from_crawler);
# pipelines.dedup.MemorySeenStore knows nothing of earlier runs.
PERUWIRE_DEDUP_STORE = "peruwire_crawl.db.seen.DatabaseSeenStore"

# Incremental crawl: an article published within this many days has its page fetched again
# on every run, since news gets corrected (peruwire_crawl/incremental.py).
PERUWIRE_REFETCH_RECENT_DAYS = 3
# Change signals (peruwire_crawl/changes/): how a run learns which stored articles were
# edited without walking the archive, cheapest first; remove one to switch it off, give
# an empty list for none. A signal a site lacks is probed again after so many days.
PERUWIRE_CHANGE_SIGNALS = ["wp_rest", "sitemap", "recheck"]
PERUWIRE_CHANGE_SIGNALS_REPROBE_DAYS = 30
# The rolling re-check (sites with neither REST API nor sitemaps): every stored article's
# page is asked "changed since?" once within this many days, a slice per run, at most
# this many per run.
PERUWIRE_RECHECK_DAYS = 30
PERUWIRE_RECHECK_MAX_PER_RUN = 50

# --- storage (pipelines/store.py) ---------------------------------------------------------
PERUWIRE_STORE_ENABLED = True
PERUWIRE_STORE_BATCH_SIZE = 100  # items per transaction: a crash loses at most this many
PERUWIRE_DB_BUSY_TIMEOUT = 10.0  # seconds a writer waits for a lock (SQLite busy_timeout, PG lock_timeout)
# PostgreSQL: seconds one statement may run (statement_timeout; the client also gives up 5 s
# later if the server stops answering), and seconds a connection attempt may take.
PERUWIRE_DB_STATEMENT_TIMEOUT = 30.0
PERUWIRE_DB_CONNECT_TIMEOUT = 10.0
# PostgreSQL: seconds between the run lock's keep-alive queries (idle_session_timeout must
# be longer); the lock is also checked before every write batch.
PERUWIRE_DB_LOCK_KEEPALIVE = 30.0
# A non-empty SQLite file without peruwire's tables is refused, left untouched; True adds
# peruwire's tables to it.
PERUWIRE_DB_ADOPT = False
PERUWIRE_STORE_RETRY_DELAY = 5.0  # seconds before retrying a batch the database refused
PERUWIRE_STORE_CLOSE_RETRIES = 3  # attempts at the end of the run before the dead-letter file
# Items the database refused to the end of the run are written here (`peruwire ingest FILE`).
PERUWIRE_DEAD_LETTER_FILE = "peruwire-dead-letter.jsonl"

# Health checks at the end of every run (docs/operations.md): a failed check makes
# `scrapy crawl peru` exit 1. Coverage = share of fetched article pages with the field.
PERUWIRE_HEALTH_MIN_COVERAGE = {"title": 1.0, "published_at": 0.9, "body": 0.8}
PERUWIRE_HEALTH_MAX_ERROR_RATE = 0.2
PERUWIRE_HEALTH_MAX_STORAGE_FAILURES = 0
# Write the final crawl stats as JSON to this file at the end of every run (for monitoring).
PERUWIRE_STATS_FILE = None

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
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# 429/503 are retried after the server's Retry-After (capped), else after 2, 4, 8 s.
PERUWIRE_RETRY_AFTER_MAX = 300
PERUWIRE_RETRY_BACKOFF_BASE = 2.0
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
REDIRECT_MAX_TIMES = 5

# --- components -------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # Next to the downloader, like HttpCacheMiddleware: every other middleware (retry,
    # redirects, decompression) sees replayed responses exactly as it would live ones.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "peruwire_crawl.middlewares.BackoffRetryMiddleware": 550,
    "peruwire_crawl.middlewares.ReplayMiddleware": 950,
    "peruwire_crawl.middlewares.RecordMiddleware": 960,
}

EXTENSIONS = {
    "peruwire_crawl.extensions.RunMonitor": 500,
}

# Our `crawl` command returns the run's health as the exit status (peruwire_crawl/exitcodes.py).
COMMANDS_MODULE = "peruwire_crawl.commands"

ITEM_PIPELINES = {
    "pipelines.normalize.NormalizePipeline": 300,
    "pipelines.dedup.DedupPipeline": 400,
    "pipelines.store.StorePipeline": 800,
}

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
# An unattended crawl needs no interactive console: both of Scrapy's run code inside the
# process for whoever holds their password or token. Turn on for debugging with -s.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

"""The peruwire add-on: every ``PERUWIRE_*`` setting's default, in one place.

``settings.py`` enables it (``ADDONS``); Scrapy then calls :meth:`Peruwire.update_settings`
when a crawler is made, and each default is set with ``setdefault`` at the add-on's
priority, so any value given elsewhere wins: ``settings.py`` or a ``-s NAME=value`` on the
command line, a spider's ``custom_settings``, a test's settings dict. Components read their
settings only through ``crawler.settings``, never from a module.

The environment variable ``PERUWIRE_DB_URL`` takes the place of the built-in database
default; a ``PERUWIRE_DB_URL`` setting from any source wins over it. ``scrapy settings
--get PERUWIRE_DB_URL`` prints the value a crawl started the same way would use.

docs/operations.md explains each default and why it was chosen.
"""

from __future__ import annotations

import os
from typing import Any

from scrapy.settings import BaseSettings, Settings
from scrapy.utils.project import get_project_settings

DB_URL_SETTING = "PERUWIRE_DB_URL"
BUILT_IN_DB_URL = "sqlite:///peruwire.db"

DEFAULTS: dict[str, Any] = {
    # SQLAlchemy URL of the database (the environment variable of the same name replaces
    # this default: see database_url_default()).
    DB_URL_SETTING: BUILT_IN_DB_URL,
    # Sources and their section pages (None = the sections.toml shipped in the package).
    "PERUWIRE_SECTIONS_FILE": None,
    # Answer every request from this fixtures directory (see fixtures/README.md); never touch
    # the network. A URL with no fixture gets a 404 and a warning naming it.
    "PERUWIRE_REPLAY": None,
    # Save every response of the crawl into this directory, in the fixture format.
    "PERUWIRE_RECORD": None,
    # Dates: human date lines carry no zone; the source's timezone (sections.toml) applies.
    # A published date earlier than this is impossible for the sites we crawl, and rejected.
    "PERUWIRE_EARLIEST_DATE": "1990-01-01",
    # When two date signals disagree by more than this many hours the choice is logged.
    "PERUWIRE_DATE_DISAGREEMENT_HOURS": 24,
    # Same source + same title key within this many days under another URL = same article.
    "PERUWIRE_DEDUP_TITLE_WINDOW_DAYS": 7,
    # Where dedup learns what earlier runs stored (a SeenStore built with from_crawler);
    # peruwire_crawl.identity.MemorySeenStore knows nothing of earlier runs.
    "PERUWIRE_DEDUP_STORE": "peruwire_crawl.db.seen.DatabaseSeenStore",
    # Incremental crawl: an article published within this many days has its page fetched
    # again on every run, since news gets corrected (peruwire_crawl/incremental.py).
    "PERUWIRE_REFETCH_RECENT_DAYS": 3,
    # Change signals (peruwire_crawl/changes/): how a run learns which stored articles were
    # edited without walking the archive, cheapest first; remove one to switch it off, give
    # an empty list for none. A signal a site lacks is probed again after so many days.
    "PERUWIRE_CHANGE_SIGNALS": ["wp_rest", "sitemap", "recheck"],
    "PERUWIRE_CHANGE_SIGNALS_REPROBE_DAYS": 30,
    # The rolling re-check (sites with neither REST API nor sitemaps): every stored article's
    # page is asked "changed since?" once within this many days, a slice per run, at most
    # this many per run.
    "PERUWIRE_RECHECK_DAYS": 30,
    "PERUWIRE_RECHECK_MAX_PER_RUN": 50,
    # --- storage (peruwire_crawl/rundb.py, pipelines/store.py) ---
    "PERUWIRE_STORE_ENABLED": True,
    "PERUWIRE_STORE_BATCH_SIZE": 100,  # items per transaction: a crash loses at most this many
    # Seconds a writer waits for a lock (SQLite busy_timeout, PostgreSQL lock_timeout).
    "PERUWIRE_DB_BUSY_TIMEOUT": 10.0,
    # PostgreSQL: seconds one statement may run (statement_timeout; the client also gives up
    # 5 s later if the server stops answering), and seconds a connection attempt may take.
    "PERUWIRE_DB_STATEMENT_TIMEOUT": 30.0,
    "PERUWIRE_DB_CONNECT_TIMEOUT": 10.0,
    # PostgreSQL: seconds between the run lock's keep-alive queries (idle_session_timeout
    # must be longer); the lock is also checked before every write batch.
    "PERUWIRE_DB_LOCK_KEEPALIVE": 30.0,
    # A non-empty SQLite file without peruwire's tables is refused and left untouched;
    # True adds peruwire's tables to it.
    "PERUWIRE_DB_ADOPT": False,
    "PERUWIRE_STORE_RETRY_DELAY": 5.0,  # seconds before retrying a batch the database refused
    "PERUWIRE_STORE_CLOSE_RETRIES": 3,  # attempts at the end of the run before the dead-letter file
    # Items the database refused to the end of the run are written here (`peruwire ingest FILE`).
    "PERUWIRE_DEAD_LETTER_FILE": "peruwire-dead-letter.jsonl",
    # --- run health (peruwire_crawl/health.py): a failed check makes the crawl exit 1 ---
    # Coverage = share of fetched article pages with the field.
    "PERUWIRE_HEALTH_MIN_COVERAGE": {"title": 1.0, "published_at": 0.9, "body": 0.8},
    "PERUWIRE_HEALTH_MAX_ERROR_RATE": 0.2,
    "PERUWIRE_HEALTH_MAX_STORAGE_FAILURES": 0,
    # Write the final crawl stats as JSON to this file at the end of every run (for monitoring).
    "PERUWIRE_STATS_FILE": None,
    # --- politeness (peruwire_crawl/middlewares.py) ---
    # 429/503 are retried after the server's Retry-After (capped), else after 2, 4, 8 s.
    "PERUWIRE_RETRY_AFTER_MAX": 300,
    "PERUWIRE_RETRY_BACKOFF_BASE": 2.0,
}


def database_url_default() -> str:
    """The database URL when no setting names one: the environment's, else the built-in."""
    return os.environ.get(DB_URL_SETTING) or BUILT_IN_DB_URL


class Peruwire:
    """Scrapy add-on: sets every peruwire default that nothing else has set."""

    @classmethod
    def update_pre_crawler_settings(cls, settings: BaseSettings) -> None:
        # Before any crawler (and its spider) is made, so a spider's from_crawler sees them.
        apply_defaults(settings)

    def update_settings(self, settings: BaseSettings) -> None:
        apply_defaults(settings)  # again, for spider settings that came in between


def apply_defaults(settings: BaseSettings) -> BaseSettings:
    """Set each default that ``settings`` lacks, at the add-on's priority."""
    # First, so that the environment's URL replaces the built-in one in the loop below.
    settings.setdefault(DB_URL_SETTING, database_url_default(), priority="addon")
    for name, value in DEFAULTS.items():
        settings.setdefault(name, value, priority="addon")
    return settings


def crawl_settings() -> Settings:
    """The settings a ``scrapy crawl`` started in this directory would see before its
    command line: the project's (when there is one), then peruwire's defaults. For code
    that runs outside a crawl, such as the ``peruwire`` command."""
    return apply_defaults(get_project_settings())

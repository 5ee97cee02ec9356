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
import tomllib
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # why not at the top: `peruwire` commands read DEFAULTS without paying for Scrapy
    from scrapy.settings import BaseSettings, Settings

# Components Scrapy imports even when their own setting switches them off: it imports every
# listed component, to let it refuse or to leave out one set to None. With the setting off,
# the add-on takes them off the list, so their modules never load; switched on (with -s),
# they stay listed. Setting, component list, component: what its import costs every run.
SWITCHED_OFF_COMPONENTS = (
    # aiohttp: 0.17 s of CPU.
    ("REMOTE_CONTROL_ENABLED", "EXTENSIONS_BASE", "scrapy.extensions.remote_control.RemoteControl"),
    # tldextract and requests: 50 ms (peruwire keeps no cookies, settings.py).
    ("COOKIES_ENABLED", "DOWNLOADER_MIDDLEWARES_BASE", "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"),
)
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
    # Bounds on every walk: listing pages read per section and per run (pagination that
    # never ends stops here; the run is then unhealthy). The run's time budget is Scrapy's
    # CLOSESPIDER_TIMEOUT (settings.py).
    "PERUWIRE_MAX_SECTION_PAGES": 2000,
    "PERUWIRE_MAX_LISTING_PAGES": 10000,
    # A full walk of an archive whose pagination prints its last page asks for this many
    # listing pages beyond the next at once (0: one after the other); the downloader's
    # politeness settings still decide how fast they are fetched.
    "PERUWIRE_LISTING_PAGES_AHEAD": 4,
    # Article pages are read in a worker process, on the second core (peruwire_crawl/worker.py);
    # False reads them in the crawl's own process.
    "PERUWIRE_WORKER_PROCESS": True,
    # Seconds between the ticks that let Twisted drop the timers the downloader cancelled
    # (peruwire_crawl/timer_sweep.py); 0: no ticks, and a fast crawl holds 30 s of them.
    "PERUWIRE_TIMER_SWEEP_INTERVAL": 1.0,
    # --- storage (peruwire_crawl/db/crawl.py, pipelines/store.py) ---
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
    # Share of the articles (of the listing pages) asked for whose page could not be read;
    # retries are not counted, and a media post without a body is no failure.
    "PERUWIRE_HEALTH_MAX_ERROR_RATE": 0.2,
    # A ratio (coverage, error rate) fails a run only over at least this many articles.
    "PERUWIRE_HEALTH_MIN_SAMPLE": 10,
    "PERUWIRE_HEALTH_MAX_STORAGE_FAILURES": 0,
    # Items that left the pipelines without being stored (dropped, or failed with an error).
    "PERUWIRE_HEALTH_MAX_LOST_ITEMS": 0,
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
        for enabling_setting, components, component in SWITCHED_OFF_COMPONENTS:
            if not settings.getbool(enabling_setting):
                settings[components].delete(component, priority="addon")


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
    from scrapy.utils.project import get_project_settings

    return apply_defaults(get_project_settings())


# --- checking the values ------------------------------------------------------------------
class ConfigError(ValueError):
    """A setting or spider argument that cannot work, said in one sentence that names it
    and the fix. ``scrapy crawl`` turns it into exit status 78 before any request."""


def check_settings(settings: BaseSettings) -> None:
    """Raise ``ConfigError`` for the first peruwire setting whose value cannot work. Each
    value is read the way its component reads it, so what passes here cannot fail later."""
    for name, default in DEFAULTS.items():
        check = _CHECKS.get(name) or _check_like(default)
        if check is not None:
            check(settings, name)


def _fix(name: str, example: str) -> str:
    return f"give e.g. -s {name}={example}, or leave it out for the default"


def _check_like(default):
    """The check for a setting that only has to be of its default's type."""
    if isinstance(default, bool):
        return _read_as("getbool", "True or False")
    if isinstance(default, (int, float)):  # durations, shares, hours: fractions allowed
        return _read_as("getfloat", "a number", minimum=0)
    return None


def _read_as(getter: str, kind: str, minimum: float | None = None):
    """The check that reads a setting with ``settings.<getter>`` (getint, getfloat…)."""
    def check(settings: BaseSettings, name: str) -> None:
        try:
            value = getattr(settings, getter)(name)
        except (TypeError, ValueError):
            value = None
        if value is None or (minimum is not None and value < minimum):
            default = DEFAULTS[name]
            raise ConfigError(f"{name} must be {kind}{' ≥ 0' if minimum is not None else ''}, "
                              f"not {settings.get(name)!r}: {_fix(name, default)}")
    return check


def _check_coverage(settings: BaseSettings, name: str) -> None:
    example = "'{\"title\": 1.0, \"body\": 0.8}'"
    try:
        shares = settings.getdict(name)
        valid = all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1
                    for v in shares.values())
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise ConfigError(f"{name} must be a JSON object of item fields and shares between 0 and 1, "
                          f"not {settings.get(name)!r}: {_fix(name, example)}")


def _check_date(settings: BaseSettings, name: str) -> None:
    try:
        date.fromisoformat(str(settings.get(name)))
    except ValueError:
        raise ConfigError(f"{name} must be a date as YYYY-MM-DD, not {settings.get(name)!r}: "
                          f"{_fix(name, DEFAULTS[name])}") from None


def _check_sections_file(settings: BaseSettings, name: str) -> None:
    path = settings.get(name)
    if not path:
        return  # the sections.toml shipped in the package
    fix = "give the path of a sections file like the shipped peruwire_crawl/sections.toml"
    if not Path(path).is_file():
        raise ConfigError(f"{name} names {path}, which is not a file: {fix}")
    try:
        tomllib.loads(Path(path).read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name} names {path}, which is not valid TOML ({exc}): {fix}") from None


def _check_replay_roots(settings: BaseSettings, name: str) -> None:
    value = settings.get(name)
    missing = [root for root in str(value or "").split(os.pathsep) if root and not Path(root).is_dir()]
    if missing:
        raise ConfigError(f"{name} names {missing[0]}, which is not a directory: give a fixtures "
                          f"directory, e.g. -s {name}=fixtures/peoplesdispatch")


def _check_importable(settings: BaseSettings, name: str) -> None:
    try:
        from scrapy.utils.misc import load_object

        load_object(settings.get(name))
    except (ImportError, NameError, AttributeError, ValueError):
        raise ConfigError(f"{name} names {settings.get(name)!r}, which cannot be imported: "
                          f"{_fix(name, DEFAULTS[name])}") from None


def _check_db_url(settings: BaseSettings, name: str) -> None:
    from sqlalchemy.engine import make_url  # here: `scrapy list` and `--help` need no SQLAlchemy
    from sqlalchemy.exc import ArgumentError

    url = settings.get(name)
    fix = (f"set it (setting or environment variable) to a file such as {BUILT_IN_DB_URL} "
           "or a server such as postgresql+psycopg://user@host/dbname")
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018  (a port that is not a number fails only when read)
    except ValueError:
        raise ConfigError(f"{name} is not a database URL (its port is not a number): {fix}") from None
    except (ArgumentError, TypeError):
        raise ConfigError(f"{name} is not a database URL: {fix}") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"{name} names a {backend} database, which is neither SQLite nor PostgreSQL: {fix}")
    if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ConfigError(f"{name} {url!r} is an in-memory SQLite database, gone when the crawl ends "
                          f"(an empty shell variable after sqlite:// gives this): {fix}")


# Counts, which their components read as whole numbers (every other number may be 2.5).
_WHOLE_NUMBER = _read_as("getint", "a whole number", minimum=0)
_CHECKS = {
    "PERUWIRE_STORE_BATCH_SIZE": _WHOLE_NUMBER,
    "PERUWIRE_STORE_CLOSE_RETRIES": _WHOLE_NUMBER,
    "PERUWIRE_HEALTH_MAX_STORAGE_FAILURES": _WHOLE_NUMBER,
    "PERUWIRE_RECHECK_MAX_PER_RUN": _WHOLE_NUMBER,
    DB_URL_SETTING: _check_db_url,
    "PERUWIRE_SECTIONS_FILE": _check_sections_file,
    "PERUWIRE_REPLAY": _check_replay_roots,
    "PERUWIRE_EARLIEST_DATE": _check_date,
    "PERUWIRE_DEDUP_STORE": _check_importable,
    "PERUWIRE_HEALTH_MIN_COVERAGE": _check_coverage,
}

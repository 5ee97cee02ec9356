"""What `scrapy parse`, `scrapy shell` and `scrapy check` leave out: they are for looking
at pages, not crawl runs. Storage is off (no database is opened, nothing is written, no
``crawl_runs`` row is recorded, and the spider remembers no earlier run), and no run is
judged (no health checks, no verdict).

The priority is the one Scrapy's own ``check`` command uses for switching item pipelines
off: above a spider's ``custom_settings``, below the command line, so that a ``-s`` given
on purpose still wins (docs/operations.md, "Scrapy's tools").
"""

from scrapy.settings import SETTINGS_PRIORITIES

ABOVE_SPIDER = (SETTINGS_PRIORITIES["spider"] + SETTINGS_PRIORITIES["cmdline"]) // 2
RUN_MONITOR = "peruwire_crawl.health.RunMonitor"


def not_a_run(settings, *, store: bool = False) -> None:
    """Switch off what makes a crawl a run; ``store`` keeps storage (``parse --pipelines``)."""
    if not store:
        settings.set("PERUWIRE_STORE_ENABLED", False, priority=ABOVE_SPIDER)
    extensions = dict(settings.getdict("EXTENSIONS"))
    extensions[RUN_MONITOR] = None
    settings.set("EXTENSIONS", extensions, priority=ABOVE_SPIDER)

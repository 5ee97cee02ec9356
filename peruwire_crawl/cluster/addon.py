"""The cluster add-on: with ``PERUWIRE_REDIS_URL`` set, the crawl becomes a cluster worker.

Enabled in settings.py (``ADDONS``); without the setting (or the environment variable of the
same name) it only sets the cluster settings' defaults and changes nothing else, so a
single-process crawl is exactly what it was. With it, at the add-on's priority (a user's
``-s`` still wins):

- ``SCHEDULER``: :class:`~peruwire_crawl.cluster.scheduler.ClusterScheduler`, scrapy-redis's
  scheduler, priority queue and duplicate filter on the cluster run's Redis keys;
- the :class:`~peruwire_crawl.cluster.worker.ClusterWorker` extension and its spider
  middleware (join or seed, heartbeats, acknowledgements, the shared verdict).

Items are written in batches as in a single process (``PERUWIRE_STORE_BATCH_SIZE``): a
request leaves the worker's taken set only once its items are committed, so a worker killed
at any moment loses nothing that another worker will not fetch again.

docs/scale-out.md explains each setting.
"""

from __future__ import annotations

import os

from peruwire_crawl.cluster import REDIS_URL_SETTING

DEFAULTS = {
    REDIS_URL_SETTING: None,
    "PERUWIRE_CLUSTER_KEY_PREFIX": "peruwire",
    "PERUWIRE_CLUSTER_WORKER_NAME": None,  # None: host:pid
    "PERUWIRE_CLUSTER_HEARTBEAT": 5.0,
    "PERUWIRE_CLUSTER_WORKER_TIMEOUT": 30.0,
    "PERUWIRE_CLUSTER_CLOSE_WAIT": 60.0,
    "PERUWIRE_CLUSTER_IDLE_POLL": 0.5,
}
ADDON_PRIORITY = "addon"


class Cluster:
    """Scrapy add-on: cluster mode when PERUWIRE_REDIS_URL is set."""

    def update_settings(self, settings) -> None:
        # The environment's URL counts as a default: any setting of it (even empty) wins.
        if settings.getpriority(REDIS_URL_SETTING) is None and os.environ.get(REDIS_URL_SETTING):
            settings.set(REDIS_URL_SETTING, os.environ[REDIS_URL_SETTING], priority=ADDON_PRIORITY)
        for name, value in DEFAULTS.items():
            settings.setdefault(name, value, priority=ADDON_PRIORITY)
        if not settings.get(REDIS_URL_SETTING):
            return
        settings.set("SCHEDULER", "peruwire_crawl.cluster.scheduler.ClusterScheduler", priority=ADDON_PRIORITY)
        settings.set_in_component_priority_dict("EXTENSIONS", "peruwire_crawl.cluster.worker.ClusterWorker", 600)
        settings.set_in_component_priority_dict(
            "SPIDER_MIDDLEWARES", "peruwire_crawl.cluster.worker.ClusterSpiderMiddleware", 10)

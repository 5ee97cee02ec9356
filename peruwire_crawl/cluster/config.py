"""The cluster's settings, read once from Scrapy's settings (defaults in :mod:`.addon`)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from peruwire_crawl.cluster import REDIS_URL_SETTING


def redis_url(settings) -> str | None:
    """The cluster's Redis URL: the setting, else the environment variable, else None
    (single-process mode)."""
    return settings.get(REDIS_URL_SETTING) or os.environ.get(REDIS_URL_SETTING) or None


@dataclass(frozen=True)
class ClusterConfig:
    redis_url: str
    # Every key of the cluster starts with this; two clusters (or test runs) sharing one
    # Redis database stay apart by using different prefixes.
    key_prefix: str
    # This worker's name in Redis, the log and crawl_runs.notes (unique per live worker).
    worker: str
    # Seconds between heartbeats; a worker silent for worker_timeout seconds is taken for
    # dead and its taken requests go back to the queue.
    heartbeat: float
    worker_timeout: float
    # Seconds a worker waits, at the end of the run, for the others' final counts.
    close_wait: float
    # Seconds between checks for new work while this worker is idle and others are busy.
    idle_poll: float

    @classmethod
    def from_settings(cls, settings) -> "ClusterConfig | None":
        url = redis_url(settings)
        if not url:
            return None
        return cls(
            redis_url=url,
            key_prefix=settings.get("PERUWIRE_CLUSTER_KEY_PREFIX"),
            worker=settings.get("PERUWIRE_CLUSTER_WORKER_NAME") or default_worker_name(),
            heartbeat=settings.getfloat("PERUWIRE_CLUSTER_HEARTBEAT"),
            worker_timeout=settings.getfloat("PERUWIRE_CLUSTER_WORKER_TIMEOUT"),
            close_wait=settings.getfloat("PERUWIRE_CLUSTER_CLOSE_WAIT"),
            idle_poll=settings.getfloat("PERUWIRE_CLUSTER_IDLE_POLL"),
        )


def default_worker_name() -> str:
    """``host:pid``: unique among the live workers of any number of machines."""
    return f"{socket.gethostname()}:{os.getpid()}"

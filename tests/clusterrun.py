"""Cluster workers as an operator starts them: the same ``scrapy crawl peru`` command, N times.

Used by tests/test_cluster_e2e.py and benchmarks/bench_cluster.py. Each worker is its own
subprocess with its own log, items file and stats file, on one shared Redis key prefix and
one PostgreSQL database; the crawl obeys robots.txt as always, and politeness delays are
switched off so the crawl is bound by the workers' CPU, not by waiting.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from crawling import REPO, CrawlFiles, CrawlResult, crawl_command, crawl_env

# Faster heartbeats so a killed worker is noticed sooner than the default half minute; the
# timeout stays long enough for a worker starved of CPU on a busy test machine.
TEST_CLUSTER_SETTINGS = {
    "PERUWIRE_CLUSTER_HEARTBEAT": 1,
    "PERUWIRE_CLUSTER_WORKER_TIMEOUT": 15,
    "PERUWIRE_CLUSTER_CLOSE_WAIT": 60,
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS": 8,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
    "LOG_LEVEL": "INFO",
}


@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    files: CrawlFiles
    log_file: Path
    result: CrawlResult | None = field(default=None)

    def wait(self, timeout: float) -> CrawlResult:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.result = self.files.result(self.process.returncode, self.log_file.read_text("utf-8", "replace"))
        return self.result

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind, as when a machine dies."""
        os.kill(self.process.pid, signal.SIGKILL)

    def log(self) -> str:
        return self.log_file.read_text("utf-8", "replace") if self.log_file.exists() else ""


def start_worker(tmp_path: Path, name: str, *, sections: list[str], redis_url: str, prefix: str,
                 db_url: str, settings: dict | None = None) -> Worker:
    files = CrawlFiles.next_in(tmp_path)
    files.items.touch()  # reserve the run number
    all_settings = {**TEST_CLUSTER_SETTINGS, "PERUWIRE_REDIS_URL": redis_url,
                    "PERUWIRE_CLUSTER_KEY_PREFIX": prefix, "PERUWIRE_CLUSTER_WORKER_NAME": name,
                    **(settings or {})}
    command = crawl_command(tmp_path, files, "-a", "sections=" + ",".join(sections), replay=None,
                            db_url=db_url, settings=all_settings)
    log_file = tmp_path / f"{name}.log"
    with log_file.open("w") as log:
        process = subprocess.Popen(command, cwd=REPO, env=crawl_env(), stdout=log, stderr=subprocess.STDOUT)
    return Worker(name, process, files, log_file)


def start_cluster(tmp_path: Path, count: int, *, stagger: float = 0.0, **options) -> list[Worker]:
    """``count`` workers started with the same command (``stagger`` seconds apart)."""
    workers = []
    for number in range(1, count + 1):
        workers.append(start_worker(tmp_path, f"worker-{number}", **options))
        if stagger:
            time.sleep(stagger)
    return workers


def wait_until_joined(workers: list[Worker], redis_url: str, prefix: str, timeout: float = 180) -> None:
    """Until every worker sends heartbeats in the cluster's run (it has started and joined)."""
    import redis

    server = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    try:
        while len(list(server.scan_iter(match=f"{prefix}:*:heartbeat:*"))) < len(workers):
            for worker in workers:
                assert worker.process.poll() is None, f"{worker.name} exited before joining:\n{worker.log()[-3000:]}"
            assert time.monotonic() < deadline, f"not every worker joined within {timeout} s"
            time.sleep(0.2)
    finally:
        server.close()


def wait_all(workers: list[Worker], timeout: float = 300) -> list[CrawlResult]:
    deadline = time.monotonic() + timeout
    return [w.wait(max(1.0, deadline - time.monotonic())) for w in workers]

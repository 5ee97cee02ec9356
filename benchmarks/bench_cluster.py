"""Throughput of a cluster crawl with 1, 2 and 3 workers, beside a single-process crawl.

    .venv/bin/python benchmarks/bench_cluster.py                      # 3 hosts x 5 pages x 20 articles
    .venv/bin/python benchmarks/bench_cluster.py --workers 1 2 3 --pages 5 --per-page 20 --json

Needs a Redis and a PostgreSQL server: ``PERUWIRE_TEST_REDIS_URL`` and
``PERUWIRE_TEST_POSTGRES_URL`` (as for the tests); each crawl gets a fresh database and a
key prefix of its own, both removed afterwards.

Every crawl is real ``scrapy crawl peru`` subprocesses (tests/clusterrun.py) on the
multi-host site of tests/clustersite.py, served from this process on 127.0.0.1-3, with
politeness delays off so the crawl is bound by CPU. Reported per crawl: wall time from the
first worker's start to the last worker's exit (start-up included, as an operator sees it),
pages fetched, pages/s, articles stored, and each worker's share of the pages. The
single-process crawl (no PERUWIRE_REDIS_URL, same database kind) is the baseline.

This is a script, not a test: timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from clusterrun import TEST_CLUSTER_SETTINGS, start_cluster, wait_all  # noqa: E402
from clustersite import ClusterSite, SiteShape  # noqa: E402
from crawling import crawl  # noqa: E402


class FreshDatabase:
    """A PostgreSQL database of its own for one crawl, dropped afterwards."""

    def __init__(self, server_url: str):
        self.admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        self.name = f"peruwire_bench_{uuid.uuid4().hex[:10]}"
        self.url = make_url(server_url).set(database=self.name).render_as_string(hide_password=False)

    def __enter__(self) -> str:
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        return self.url

    def __exit__(self, *exc) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def stored(db_url: str) -> int:
    engine = create_engine(db_url)
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM articles WHERE body IS NOT NULL")).scalar()
    engine.dispose()
    return count


def cluster_crawl(workers: int, shape: SiteShape, redis_url: str, postgres_url: str) -> dict:
    prefix = f"peruwire-bench-{uuid.uuid4().hex[:10]}"
    with tempfile.TemporaryDirectory() as tmp, ClusterSite(shape) as site, FreshDatabase(postgres_url) as db:
        started = time.monotonic()
        procs = start_cluster(Path(tmp), workers, sections=site.section_urls(), redis_url=redis_url,
                              prefix=prefix, db_url=db)
        results = wait_all(procs, timeout=1800)
        seconds = time.monotonic() - started
        server = redis.Redis.from_url(redis_url)
        for key in server.scan_iter(match=f"{prefix}:*"):
            server.delete(key)
        pages = [r.stats.get("downloader/response_count", 0) for r in results]
        return {"mode": f"cluster, {workers} worker{'s' if workers > 1 else ''}", "workers": workers,
                "exit": [r.returncode for r in results], "seconds": round(seconds, 1),
                "pages": sum(pages), "pages_per_s": round(sum(pages) / seconds, 2),
                "stored": stored(db), "shares": [round(p / max(1, sum(pages)), 2) for p in pages]}


def single_crawl(shape: SiteShape, postgres_url: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp, ClusterSite(shape) as site, FreshDatabase(postgres_url) as db:
        settings = {k: v for k, v in TEST_CLUSTER_SETTINGS.items() if not k.startswith("PERUWIRE_CLUSTER")}
        started = time.monotonic()
        result = crawl(Path(tmp), "-a", "sections=" + ",".join(site.section_urls()), replay=None,
                       db_url=db, settings=settings, timeout=1800)
        seconds = time.monotonic() - started
        pages = result.stats.get("downloader/response_count", 0)
        return {"mode": "single process (baseline)", "workers": 1, "exit": [result.returncode],
                "seconds": round(seconds, 1), "pages": pages, "pages_per_s": round(pages / seconds, 2),
                "stored": stored(db), "shares": [1.0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--pages", type=int, default=5)
    parser.add_argument("--per-page", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    redis_url, postgres_url = os.environ.get("PERUWIRE_TEST_REDIS_URL"), os.environ.get("PERUWIRE_TEST_POSTGRES_URL")
    if not (redis_url and postgres_url):
        sys.exit("set PERUWIRE_TEST_REDIS_URL and PERUWIRE_TEST_POSTGRES_URL")
    shape = SiteShape(hosts=args.hosts, pages=args.pages, per_page=args.per_page)
    rows = [single_crawl(shape, postgres_url)]
    rows += [cluster_crawl(n, shape, redis_url, postgres_url) for n in args.workers]
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    base = rows[0]["pages_per_s"]
    print(f"site: {shape.hosts} hosts x {shape.pages} listing pages x {shape.per_page} articles, "
          f"{os.cpu_count()} cores")
    print("| crawl | wall time (s) | pages | pages/s | vs. baseline | articles stored | each worker's share | exit |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['mode']} | {row['seconds']} | {row['pages']} | {row['pages_per_s']} | "
              f"{row['pages_per_s'] / base:.2f}x | {row['stored']} | "
              f"{' / '.join(f'{s:.0%}' for s in row['shares'])} | {' '.join(map(str, row['exit']))} |")


if __name__ == "__main__":
    main()

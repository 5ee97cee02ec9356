"""Storage throughput and memory: synthetic articles through the real StorePipeline.

    .venv/bin/python benchmarks/bench_storage.py                       # 10k and 100k on SQLite
    .venv/bin/python benchmarks/bench_storage.py --sizes 10000 --db postgresql+psycopg://postgres@127.0.0.1/bench

Each size runs in a fresh process on a fresh database (a temporary SQLite file unless
--db is given; a PostgreSQL database given with --db is emptied first): a first crawl stores
N new articles, a second crawl sees the same N again (unchanged, so only last_seen_at moves).
Reported: articles per second for each crawl, and the process's peak resident memory
(``ru_maxrss``, which includes the interpreter and libraries) next to its baseline after
imports. Items are made one at a time, as a spider yields them, so memory reflects storage.
Their text is the benchmark site's (``synthetic_site.py``): Spanish and English titles,
standfirsts and 7,000-character bodies, so the search index does the work a crawl gives it;
200 distinct articles are made before the clock starts and then repeated under new URLs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

TEXTS = 200  # distinct articles; the rest repeat them under other URLs


def article_texts() -> list[dict]:
    from synthetic_site import Site

    site = Site(TEXTS, "https://peoplesdispatch.org")
    return [{"title": site.title(n), "summary": site.excerpt(n), "body": "\n\n".join(site.paragraphs(n)),
             "language": site.language(n)} for n in range(TEXTS)]


def items(n: int, texts: list[dict]):
    from peruwire_crawl.items import ArticleItem

    for i in range(n):
        yield ArticleItem(
            url=f"https://peoplesdispatch.org/2023/{1 + i % 12:02d}/{1 + i % 28:02d}/article-{i}/",
            source="peoplesdispatch",
            sections=[f"https://peoplesdispatch.org/tag/section-{i % 5}/"],
            published_at=f"2023-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00+00:00",
            date_precision="day",
            authors=["Peoples Dispatch"],
            **texts[i % TEXTS],
        )


def crawl(db_url: str, n: int, batch_size: int, texts: list[dict]) -> float:
    from scrapy import Spider, signals
    from scrapy.utils.test import get_crawler

    from peruwire_crawl.db.crawl import CrawlDatabase
    from pipelines.store import StorePipeline

    crawler = get_crawler(Spider, {"ADDONS": {"peruwire_crawl.addon.Peruwire": 0},
                                   "EXTENSIONS": {CrawlDatabase: 100},
                                   "PERUWIRE_DB_URL": db_url, "PERUWIRE_STORE_BATCH_SIZE": batch_size})
    crawler.spider = Spider.from_crawler(crawler, name="bench")
    pipeline = StorePipeline.from_crawler(crawler)
    crawler.get_extension(CrawlDatabase).spider_opened()
    started = time.perf_counter()
    for item in items(n, texts):
        pipeline.process_item(item)
    pipeline.close_spider()
    seconds = time.perf_counter() - started
    crawler.signals.send_catch_log(signals.spider_closed, spider=crawler.spider, reason="finished")
    assert crawler.stats.get_value("peruwire/store/items_failed", 0) == 0
    return seconds


def reset_postgres(db_url: str) -> None:
    from sqlalchemy import text

    from peruwire_crawl.db.engine import make_engine

    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def one(n: int, db_url: str, batch_size: int) -> dict:
    import pipelines.store  # noqa: F401  (imports count in the baseline, not in storage)

    texts = article_texts()
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if db_url.startswith("postgresql"):
        reset_postgres(db_url)
    first = crawl(db_url, n, batch_size, texts)
    second = crawl(db_url, n, batch_size, texts)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"articles": n, "batch_size": batch_size, "db": db_url.split(":")[0],
            "new_per_s": round(n / first), "unchanged_per_s": round(n / second),
            "new_seconds": round(first, 1), "unchanged_seconds": round(second, 1),
            "baseline_rss_mb": round(baseline), "peak_rss_mb": round(peak)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file per size)")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.db, args.batch_size)))
        return
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            db_url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
            result = subprocess.run(
                [sys.executable, __file__, "--one", str(n), "--db", db_url, "--batch-size", str(args.batch_size)],
                capture_output=True, text=True, check=True, cwd=folder)
            row = json.loads(result.stdout.strip().splitlines()[-1])
        print(f"{row['db']:>10}  {n:>7} articles  new {row['new_per_s']:>6}/s ({row['new_seconds']} s)  "
              f"unchanged {row['unchanged_per_s']:>6}/s ({row['unchanged_seconds']} s)  "
              f"peak RSS {row['peak_rss_mb']} MB (baseline {row['baseline_rss_mb']} MB)", flush=True)


if __name__ == "__main__":
    os.environ.pop("PERUWIRE_DB_URL", None)
    main()

"""peruwire side by side with a bare one-file Scrapy spider, on the same synthetic site.

    python benchmarks/bench_crawl.py                          # 1k, 2k and 10k articles, 3 pairs each
    python benchmarks/bench_crawl.py --sizes 1000 --pairs 1   # a quick look
    python benchmarks/bench_crawl.py --sizes 2000,10000,30000 --json results.json

What runs (each command a whole process, as an operator starts it):
- a synthetic WordPress site on 127.0.0.1 in its own process (benchmarks/synthetic_site.py:
  listing pages of 10, ~10 KB articles, gzip, ETags);
- **peruwire**: ``scrapy crawl peru -a mode=full`` into a fresh SQLite file, then the same
  crawl incremental (nothing new on the site) against that file;
- **bare**: benchmarks/bare_spider.py in a project of its own (``scrapy crawl bare``,
  items to a JSON-lines file), then again (it has no memory: it re-crawls everything), and
  once reading only robots.txt and the first listing page (``-a follow=no``): the least any
  Scrapy crawl of the site costs, the floor for peruwire's run with nothing new;
- start-up: ``scrapy list`` in both projects, and ``peruwire --help``.

Both crawls get the same Scrapy settings (``COMMON_SETTINGS``: 16 concurrent requests, no
delay, no AutoThrottle, robots.txt obeyed). The machine may be shared and noisy, so runs
are paired (peruwire, bare, peruwire, bare…) in one invocation: each figure is the median
over the pairs, and each ratio the median of the pair-by-pair ratios. Wall = start to exit;
CPU = user + system of the process and the children it waited for; peak RSS = the largest
resident size (the operating system's accounting of the finished process, via wait4).
Requests = what the site answered, counted by the site.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_site import ServedSite, article_language, article_number  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BARE_SPIDER = Path(__file__).resolve().parent / "bare_spider.py"
BIN = Path(sys.executable).parent

COMMON_SETTINGS = {
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "ROBOTSTXT_OBEY": "True",
    "TELNETCONSOLE_ENABLED": "False",
    "LOG_LEVEL": "INFO",
}


@dataclass
class Run:
    wall: float  # seconds
    cpu: float  # seconds, user + system
    rss_mb: float  # peak resident set
    requests: int
    exit_code: int


def run_process(argv: list[str], cwd: Path, site: ServedSite | None = None, log: Path | None = None) -> Run:
    """Run one whole process; its wall time, CPU and peak RSS from the OS's accounting."""
    if site is not None:
        site.reset_requests()
    output = open(log, "ab") if log else subprocess.DEVNULL
    try:
        started = time.monotonic()
        process = subprocess.Popen(argv, cwd=cwd, stdout=output, stderr=output, env=_clean_env())
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - started
    finally:
        if log:
            output.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        rss_mb=usage.ru_maxrss / 1024,  # Linux: kilobytes
        requests=site.requests() if site is not None else 0,
        exit_code=process.returncode,
    )


def _clean_env() -> dict[str, str]:
    # The operator's own PERUWIRE_* variables must not change what is measured.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERUWIRE_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def settings_args(settings: dict[str, str]) -> list[str]:
    return [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]


def make_bare_project(directory: Path) -> Path:
    """A project holding only the bare spider: scrapy.cfg, a settings module, the spider."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(BARE_SPIDER, directory / "bare_spider.py")
    (directory / "bare_settings.py").write_text('BOT_NAME = "bare"\nSPIDER_MODULES = ["bare_spider"]\n')
    (directory / "scrapy.cfg").write_text("[settings]\ndefault = bare_settings\n")
    return directory


class Bench:
    def __init__(self, workdir: Path, keep_logs: bool):
        self.workdir = workdir
        self.bare_project = make_bare_project(workdir / "bare_project")
        self.logs = workdir / "logs" if keep_logs else None
        if self.logs:
            self.logs.mkdir(exist_ok=True)
        self.scrapy = str(BIN / "scrapy")

    def _log(self, name: str) -> Path | None:
        return self.logs / f"{name}.log" if self.logs else None

    def peruwire_crawl(self, site: ServedSite, db: Path, full: bool, tag: str) -> Run:
        argv = [self.scrapy, "crawl", "peru", "-a", f"sections={site.section_url}"]
        if full:
            argv += ["-a", "mode=full"]
        # A full walk stops at PERUWIRE_MAX_SECTION_PAGES listing pages (2,000: 20,000 articles)
        # and calls the run unhealthy; the synthetic site's one section is meant to be walked whole.
        pages = site.articles // 10 + 10
        argv += settings_args({**COMMON_SETTINGS, "PERUWIRE_DB_URL": f"sqlite:///{db}",
                               "PERUWIRE_MAX_SECTION_PAGES": str(pages), "PERUWIRE_MAX_LISTING_PAGES": str(pages)})
        run = run_process(argv, ROOT, site, self._log(f"peruwire-{tag}"))
        if run.exit_code != 0:
            raise SystemExit(f"peruwire crawl ({tag}) exited {run.exit_code}; rerun with --keep-logs")
        return run

    def bare_crawl(self, site: ServedSite, items: Path, tag: str, follow: bool = True) -> Run:
        argv = [self.scrapy, "crawl", "bare", "-a", f"start={site.section_url}", "-O", str(items)]
        if not follow:
            argv += ["-a", "follow=no"]
        argv += settings_args(COMMON_SETTINGS)
        run = run_process(argv, self.bare_project, site, self._log(f"bare-{tag}"))
        if run.exit_code != 0:
            raise SystemExit(f"bare crawl ({tag}) exited {run.exit_code}; rerun with --keep-logs")
        return run

    def size(self, articles: int, pairs: int) -> dict:
        """Full crawls and incremental re-runs, peruwire and bare in turn."""
        peruwire_full, bare_full, peruwire_again, bare_again, bare_first_page = [], [], [], [], []
        with ServedSite(articles) as site:
            for pair in range(pairs):
                db = self.workdir / f"peruwire-{articles}-{pair}.db"
                items = self.workdir / f"bare-{articles}-{pair}.jsonl"
                peruwire_full.append(self.peruwire_crawl(site, db, full=True, tag=f"{articles}-{pair}-full"))
                bare_full.append(self.bare_crawl(site, items, tag=f"{articles}-{pair}-full"))
                _check_counts(articles, db, items)
                # A scheduled run comes hours after the walk, whose writes (800 MB at 30,000
                # articles) are on disk by then; without this, the next run's first SQLite
                # checkpoint would wait for the kernel to write them back (0.3-0.5 s at 30,000).
                os.sync()
                peruwire_again.append(self.peruwire_crawl(site, db, full=False, tag=f"{articles}-{pair}-again"))
                bare_again.append(self.bare_crawl(site, items, tag=f"{articles}-{pair}-again"))
                bare_first_page.append(self.bare_crawl(site, items, tag=f"{articles}-{pair}-first-page",
                                                       follow=False))
                for leftover in [*self.workdir.glob(f"{db.name}*"), items]:
                    leftover.unlink()
        return {
            "articles": articles,
            "full": compare(peruwire_full, bare_full),
            "again": compare(peruwire_again, bare_again),
            # The floor of a run with nothing new: a bare crawl of robots.txt and one page.
            "again_vs_first_page": compare(peruwire_again, bare_first_page),
        }

    def startup(self, pairs: int) -> dict:
        scrapy_list = [self.scrapy, "list"]
        peruwire_help = [str(BIN / "peruwire"), "--help"]
        peruwire_list, bare_list, helps = [], [], []
        for _ in range(pairs):
            peruwire_list.append(run_process(scrapy_list, ROOT))
            bare_list.append(run_process(scrapy_list, self.bare_project))
            helps.append(run_process(peruwire_help, ROOT))
        return {
            "scrapy list": compare(peruwire_list, bare_list),
            "peruwire --help (vs bare scrapy list)": compare(helps, bare_list),
        }


def _check_counts(articles: int, db: Path, items: Path) -> None:
    """Both crawls must have read every article, each with its date and the language the
    site wrote it in, or the comparison means nothing."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT url, language, published_at FROM articles").fetchall()
    # Line by line: the file holds every article's body, and a benchmark process grown by it
    # would hand its size on to the next crawl it forks (peak RSS is counted from the fork).
    with items.open(encoding="utf-8") as lines:
        yielded = sum(1 for line in lines if line.strip())
    if len(rows) != articles or yielded != articles:
        raise SystemExit(f"expected {articles} articles: peruwire stored {len(rows)}, bare yielded {yielded}")
    wrong = [
        url for url, language, published in rows
        if not published or language != article_language(article_number(url))
    ]
    if wrong:
        raise SystemExit(f"peruwire stored {len(wrong)} articles with a wrong language or no date, e.g. {wrong[0]}")


def compare(peruwire: list[Run], bare: list[Run]) -> dict:
    def median(runs: list[Run], field: str) -> float:
        return statistics.median(getattr(run, field) for run in runs)

    def ratio(field: str) -> float | None:
        pairs = [
            getattr(a, field) / getattr(b, field) for a, b in zip(peruwire, bare, strict=True) if getattr(b, field)
        ]
        return statistics.median(pairs) if pairs else None

    fields = ("wall", "cpu", "rss_mb", "requests")
    return {
        "peruwire": {field: median(peruwire, field) for field in fields},
        "bare": {field: median(bare, field) for field in fields},
        "ratio": {field: ratio(field) for field in fields},
        "runs": {"peruwire": [asdict(r) for r in peruwire], "bare": [asdict(r) for r in bare]},
    }


# --- report ------------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import scrapy

    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}, Scrapy {scrapy.__version__}, load average "
        + " ".join(f"{x:.1f}" for x in os.getloadavg())
    )


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "n":
        return f"{value:,.0f}"
    if unit == "ms":
        return f"{value:.2f} ms"
    return f"{value:.2f} {unit}" if unit != "MB" else f"{value:.0f} MB"


def report(results: dict) -> str:
    lines = [f"machine: {results['machine']}"]
    if "load_average_at_end" in results:
        lines.append("load average at the end: " + " ".join(f"{x:.1f}" for x in results["load_average_at_end"]))
    lines += [f"pairs per figure: {results['pairs']} (medians; ratio = median of paired ratios)", ""]
    lines.append(f"| {'':44} | {'peruwire':>10} | {'bare':>10} | {'ratio':>7} |")
    lines.append(f"|{'-' * 46}|{'-' * 11}:|{'-' * 11}:|{'-' * 8}:|")

    def row(label: str, comparison: dict, field: str, unit: str):
        p, b, r = comparison["peruwire"][field], comparison["bare"][field], comparison["ratio"][field]
        lines.append(f"| {label:44} | {_fmt(p, unit):>10} | {_fmt(b, unit):>10} | {_fmt(r, 'x'):>7} |")

    for size in results["sizes"]:
        n = size["articles"]
        full = size["full"]
        row(f"{n:,} articles, full: wall", full, "wall", "s")
        row(f"{n:,} articles, full: CPU", full, "cpu", "s")
        per_article = {
            key: {"cpu": full[key]["cpu"] * 1000 / n} for key in ("peruwire", "bare")
        }
        per_article["ratio"] = {"cpu": full["ratio"]["cpu"]}
        row(f"{n:,} articles, full: CPU per article", per_article, "cpu", "ms")
        row(f"{n:,} articles, full: peak RSS", full, "rss_mb", "MB")
        row(f"{n:,} articles, full: requests", full, "requests", "n")
        again = size["again"]
        row(f"{n:,} articles, again, nothing new: wall", again, "wall", "s")
        row(f"{n:,} articles, again: CPU", again, "cpu", "s")
        row(f"{n:,} articles, again: peak RSS", again, "rss_mb", "MB")
        row(f"{n:,} articles, again: requests", again, "requests", "n")
        if "again_vs_first_page" in size:
            floor = size["again_vs_first_page"]
            row(f"{n:,}, again vs bare first page only: wall", floor, "wall", "s")
            row(f"{n:,}, again vs bare first page only: RSS", floor, "rss_mb", "MB")
            row(f"{n:,}, again vs bare first page only: requests", floor, "requests", "n")
    for label, comparison in results["startup"].items():
        row(f"{label}: wall", comparison, "wall", "s")
        row(f"{label}: CPU", comparison, "cpu", "s")
        row(f"{label}: peak RSS", comparison, "rss_mb", "MB")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,2000,10000", help="articles on the site, comma-separated")
    parser.add_argument("--pairs", type=int, default=3, help="peruwire/bare pairs per figure (default 3)")
    parser.add_argument("--no-startup", action="store_true", help="skip the start-up comparison")
    parser.add_argument("--json", type=Path, help="also write every run's figures to this file")
    parser.add_argument("--keep-logs", type=Path, metavar="DIR", help="keep the crawls' logs in DIR")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    results = {"machine": machine(), "pairs": args.pairs, "sizes": [], "startup": {}}
    with tempfile.TemporaryDirectory(prefix="peruwire-bench-") as tmp:
        workdir = Path(args.keep_logs) if args.keep_logs else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        bench = Bench(workdir, keep_logs=bool(args.keep_logs))
        if not args.no_startup:
            results["startup"] = bench.startup(max(args.pairs, 5))
        for articles in sizes:
            print(f"crawling {articles:,} articles ({args.pairs} pairs)…", file=sys.stderr, flush=True)
            results["sizes"].append(bench.size(articles, args.pairs))
            # What is measured so far, in case a long run is stopped.
            print(report(results), file=sys.stderr, flush=True)
            if args.json:
                args.json.write_text(json.dumps(results, indent=2))
    results["load_average_at_end"] = os.getloadavg()
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

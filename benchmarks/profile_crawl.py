"""Where a crawl's CPU goes: one `scrapy crawl peru` of the synthetic site under cProfile.

    python benchmarks/profile_crawl.py                    # 1,000 articles, full walk
    python benchmarks/profile_crawl.py --articles 300 --incremental --top 40
    python benchmarks/profile_crawl.py --save crawl.prof  # then: python -m pstats crawl.prof

The profiler counts CPU time (``time.process_time``), not wall time, so other work on a
shared machine does not show up in it. The crawl runs in a child process with the same
settings as benchmarks/bench_crawl.py; the report lists peruwire's own functions (and the
libraries they call) by cumulative CPU, after the total.
"""

from __future__ import annotations

import argparse
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_crawl import BIN, COMMON_SETTINGS, ROOT, settings_args  # noqa: E402
from synthetic_site import ServedSite  # noqa: E402

# Run in the child: Scrapy's command line under a CPU-time profiler, stats saved on exit.
# argv: OUTFILE, then scrapy's arguments.
CHILD = """
import cProfile, sys, time
from scrapy.cmdline import execute
out, sys.argv = sys.argv[1], ["scrapy", *sys.argv[2:]]
profile = cProfile.Profile(time.process_time)
try:
    profile.runcall(execute)
except SystemExit:
    pass
finally:
    profile.dump_stats(out)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--incremental", action="store_true", help="profile the re-run with nothing new")
    parser.add_argument("--top", type=int, default=30, help="how many functions to list")
    parser.add_argument("--save", type=Path, help="keep the profile in this file")
    parser.add_argument(
        "--filter", default="peruwire_crawl|pipelines|ftfy|lingua|dateparser|extruct|sqlalchemy|parsel|lxml",
        help="regular expression on file/function names to list",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="peruwire-profile-") as tmp:
        out = args.save or Path(tmp) / "crawl.prof"
        db = Path(tmp) / "profile.db"
        with ServedSite(args.articles) as site:
            settings = settings_args({**COMMON_SETTINGS, "PERUWIRE_DB_URL": f"sqlite:///{db}", "LOG_LEVEL": "WARNING"})
            crawl = ["crawl", "peru", "-a", f"sections={site.section_url}", *settings]
            full = [*crawl, "-a", "mode=full"]
            if args.incremental:  # the first, full run fills the database, unprofiled
                subprocess.run([str(BIN / "scrapy"), *full], cwd=ROOT, check=True, capture_output=True)
            profiled = crawl if args.incremental else full
            subprocess.run([str(BIN / "python"), "-c", CHILD, str(out), *profiled], cwd=ROOT, check=True)
        stats = pstats.Stats(str(out))
        print(f"total CPU: {stats.total_tt:.2f} s for {args.articles:,} articles"
              f" ({'incremental, nothing new' if args.incremental else 'full walk'})")
        stats.sort_stats("cumulative").print_stats(args.filter, args.top)


if __name__ == "__main__":
    main()

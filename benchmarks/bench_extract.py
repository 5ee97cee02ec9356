"""What reading one article page costs: in process (what the crawl pays) and as a command.

    python benchmarks/bench_extract.py                         # ../shared/realpages, if it is there
    python benchmarks/bench_extract.py --pages DIR [--pages DIR ...] --whole-process 20

Pages: every ``*.html`` under the directories given (default: the development set of real
pages beside the repository, ``../shared/realpages``, or ``$PERUWIRE_REALPAGES``). Saved pages
carry no URL here, so each is read as ``https://example.org/<its file name>/``: the generic
rules, as for any site peruwire has no rules for.

In process, CPU time (``time.process_time``) per page, after three pages of warm-up (imports,
the normaliser, the language detector's models), for:
- **peruwire**: ``peruwire_crawl.pages.reading.extract``, the page object and the normaliser
  as the crawl runs them;
- **trafilatura alone** (the baseline, in the same run): ``trafilatura.extract`` on the same
  page, fast mode, no comments or tables, as the second opinion calls it;
- and how many pages asked trafilatura for a second opinion.

Whole process: ``peruwire extract FILE --url URL`` on the first N pages, wall time each,
beside ``python -c pass`` (the interpreter's own start) in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
DEFAULT_PAGES = Path(os.environ.get("PERUWIRE_REALPAGES") or ROOT.parent / "shared" / "realpages")
WARM_UP = 3


def page_files(directories: list[Path]) -> list[Path]:
    return sorted(path for directory in directories for path in directory.rglob("*.html"))


def url_for(path: Path) -> str:
    return f"https://example.org/{path.stem}/"


def in_process(files: list[Path]) -> dict:
    import trafilatura

    from peruwire_crawl.pages import second_opinion
    from peruwire_crawl.pages.reading import extract

    asked = []
    original = second_opinion.trafilatura_paragraphs

    def counted(html, url):
        asked.append(url)
        return original(html, url)

    import peruwire_crawl.pages.article as article_module

    article_module.trafilatura_paragraphs = counted
    pages = [(path.read_bytes(), url_for(path)) for path in files]
    ours, theirs = [], []
    for number, (html, url) in enumerate(pages):
        started = time.process_time()
        extract(html, url)
        spent = time.process_time() - started
        started = time.process_time()
        trafilatura.extract(html.decode("utf-8", "replace"), url=url, fast=True, include_comments=False,
                            include_tables=False)
        baseline = time.process_time() - started
        if number >= WARM_UP:
            ours.append(spent * 1000)
            theirs.append(baseline * 1000)
    article_module.trafilatura_paragraphs = original
    return {"peruwire": ours, "trafilatura alone": theirs, "asked": len(asked), "pages": len(pages)}


def whole_process(files: list[Path], count: int) -> dict:
    peruwire = str(BIN / "peruwire")
    runs = {"peruwire extract FILE": [], "python -c pass": []}
    for path in files[:count]:  # paired: one of each, in turn
        for name, argv in (("peruwire extract FILE", [peruwire, "extract", str(path), "--url", url_for(path)]),
                           ("python -c pass", [sys.executable, "-c", "pass"])):
            started = time.monotonic()
            subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            runs[name].append((time.monotonic() - started) * 1000)
    return runs


def describe(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    over = sum(value > 200 for value in values)
    return (f"median {statistics.median(values):7.1f} ms   p90 {p90:7.1f} ms   max {max(values):7.1f} ms   "
            f"over 200 ms: {over}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=Path, action="append", help="a directory of saved pages (repeatable)")
    parser.add_argument("--whole-process", type=int, default=20, metavar="N",
                        help="time `peruwire extract` on the first N pages (0: skip)")
    args = parser.parse_args()
    directories = args.pages or [DEFAULT_PAGES]
    files = page_files(directories)
    if len(files) <= WARM_UP:
        print(f"no pages to measure under {', '.join(map(str, directories))}", file=sys.stderr)
        return 1
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"{len(files)} pages under {', '.join(map(str, directories))}; load average {load}")
    measured = in_process(files)
    print(f"in process, CPU per page ({len(files) - WARM_UP} pages after {WARM_UP} of warm-up):")
    for name in ("peruwire", "trafilatura alone"):
        print(f"  {name:<20} {describe(measured[name])}")
    print(f"  trafilatura asked for a second opinion on {measured['asked']} of {measured['pages']} pages")
    if args.whole_process:
        print(f"whole process, wall per command ({args.whole_process} pages, paired):")
        for name, values in whole_process(files, args.whole_process).items():
            print(f"  {name:<22} median {statistics.median(values):7.0f} ms   max {max(values):7.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

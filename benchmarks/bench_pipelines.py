"""How fast items go through the item pipelines, and what date parsing costs per item.

    .venv/bin/python benchmarks/bench_pipelines.py            # 3000 items, text report
    .venv/bin/python benchmarks/bench_pipelines.py -n 10000 --json

Reports:
- items/s through NormalizePipeline alone, and through NormalizePipeline + DedupPipeline
  (both built with ``from_crawler`` as Scrapy builds them; dedup is skipped, saying so,
  when ``pipelines.dedup`` is not importable);
- date parsing per item (``choose_date`` only) for three kinds of pages: machine-readable
  dates (JSON-LD/meta/URL, plus a date line that is never read), a date line only, and the
  URL only, with the number of dateparser calls each made. Machine-readable dates must make
  none.

This is a script, not a test: timings depend on the machine. One-off costs (dateparser's
language data, lingua's models) are paid before timing starts, as ``open_spider`` does in
a crawl.
"""

from __future__ import annotations

import argparse
import copy
import inspect
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from peruwire_crawl.items import ArticleItem, DateCandidate  # noqa: E402
from peruwire_crawl.normalize.dates import DateContext, choose_date  # noqa: E402
from pipelines.normalize import NormalizePipeline  # noqa: E402

SITE = "https://peoplesdispatch.org"
FETCHED_AT = datetime(2023, 7, 1, 12, 0, tzinfo=UTC)
TITLES_EN = [
    "Peru’s de facto president blames protesters for their own deaths at the hands of state forces",
    "Tens of thousands on the streets of Peru in national strike",
    "Peruvian President Pedro Castillo leaves Free Peru party",
    "Outrage in Peru following Court’s decision to release former dictator Alberto Fujimori",
    "Finally, a popular Left born in Peru",
]
TITLES_ES = [
    "Enver León: “La mayoría de los peruanos quieren un cambio de Constitución”",
    "Miles de personas marchan en Lima contra el gobierno de facto",
]
BODY_EN = "<p>" + "Peru is living through a deep political crisis after the ouster of Pedro Castillo. " * 8 + "</p>"
BODY_ES = "<p>" + "Perú atraviesa una profunda crisis política tras la destitución de Pedro Castillo. " * 8 + "</p>"
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]
MONTHS_ES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
             "septiembre", "octubre", "noviembre", "diciembre"]

DATE_KINDS = ("machine", "dateline", "url")


def make_item(index: int) -> ArticleItem:
    """A realistic raw item; every third one has only a date line, every fifth is Spanish."""
    day = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=index % 1200, minutes=index)
    spanish = index % 5 == 0
    titles = TITLES_ES if spanish else TITLES_EN
    url = f"{SITE}/{day:%Y/%m/%d}/article-{index}/"
    if spanish:
        dateline = f"{day.day} de {MONTHS_ES[day.month - 1]} de {day.year} por Zoe Alexandra"
    else:
        dateline = f"{MONTHS_EN[day.month - 1]} {day.day}, {day.year} by Zoe Alexandra"
    kind = DATE_KINDS[index % 3]
    return ArticleItem(
        url=url,
        source="peoplesdispatch",
        title=f"{titles[index % len(titles)]} ({index}) - Peoples Dispatch",
        title_from="meta",
        summary="Protesters were blamed for their own deaths&nbsp;[&hellip;]",
        body=BODY_ES if spanish else BODY_EN,
        date_candidates=date_candidates(kind, day, dateline, url),
        byline=dateline,
        authors=["Peoples Dispatch"],
        html_lang="en-US",
        translations=[f"{SITE}/{day:%Y/%m/%d}/twin-{index}/"],
        fetched_at=FETCHED_AT.isoformat(),
    )


def date_candidates(kind: str, day: datetime, dateline: str, url: str) -> list[DateCandidate]:
    if kind == "machine":
        return [
            DateCandidate("jsonld", day.isoformat()),
            DateCandidate("meta", day.isoformat()),
            DateCandidate("dateline", dateline),
            DateCandidate("url", url),
        ]
    if kind == "dateline":
        return [DateCandidate("dateline", dateline), DateCandidate("url", url)]
    return [DateCandidate("url", url)]


def build(pipeline_class, settings: dict):
    crawler = get_crawler(settings_dict=settings)
    pipeline = pipeline_class.from_crawler(crawler)
    open_spider = getattr(pipeline, "open_spider", None)
    if open_spider is not None:
        # Scrapy 2.13+ calls open_spider() without a spider when it takes none.
        if "spider" in inspect.signature(open_spider).parameters:
            open_spider(None)
        else:
            open_spider()
    return pipeline


def load_dedup():
    try:
        from pipelines.dedup import DedupPipeline
    except ImportError as error:
        return None, f"pipelines.dedup not importable ({error})"
    return DedupPipeline, None


def run_through(pipelines, items) -> tuple[float, int, int]:
    """Seconds spent, items passed, items dropped."""
    passed = dropped = 0
    start = time.perf_counter()
    for item in items:
        try:
            for pipeline in pipelines:
                item = pipeline.process_item(item)
            passed += 1
        except DropItem:
            dropped += 1
    return time.perf_counter() - start, passed, dropped


class DateparserCounter:
    """Counts dateparser calls made through peruwire_crawl.normalize.dates."""

    def __init__(self):
        from dateparser.date import DateDataParser  # what normalize/dates.py imports when it needs it

        self.calls = 0
        self._parser_class = DateDataParser
        self._original = DateDataParser.get_date_data

    def __enter__(self):
        counter = self

        def counting(parser, *args, **kwargs):
            counter.calls += 1
            return counter._original(parser, *args, **kwargs)

        self._parser_class.get_date_data = counting
        return self

    def __exit__(self, *exc):
        self._parser_class.get_date_data = self._original


def date_cost(items_per_kind: int) -> dict:
    context = DateContext(timezone=UTC, fetched_at=FETCHED_AT, languages=("en", "es"))
    report = {}
    for kind in DATE_KINDS:
        candidate_lists = [
            make_item(index).date_candidates
            for index in range(DATE_KINDS.index(kind), items_per_kind * 3, 3)
        ]
        with DateparserCounter() as counter:
            start = time.perf_counter()
            for candidates in candidate_lists:
                choose_date(candidates, context, disagreement_hours=24)
            elapsed = time.perf_counter() - start
        report[kind] = {
            "items": len(candidate_lists),
            "us_per_item": round(elapsed / len(candidate_lists) * 1e6, 1),
            "dateparser_calls": counter.calls,
        }
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--items", type=int, default=3000, help="items per run (default 3000)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)

    items = [make_item(index) for index in range(args.items)]
    with tempfile.TemporaryDirectory() as tmp:
        settings = {
            "ADDONS": {"peruwire_crawl.addon.Peruwire": 0},  # peruwire's setting defaults
            "PERUWIRE_DEDUP_STORE": "peruwire_crawl.identity.MemorySeenStore",  # this run only
            "PERUWIRE_EARLIEST_DATE": "1990-01-01",
            "PERUWIRE_DB_URL": f"sqlite:///{tmp}/bench.db",
            "LOG_LEVEL": "WARNING",
        }
        normalize = build(NormalizePipeline, settings)
        run_through([normalize], copy.deepcopy(items[:50]))  # warm caches once more

        seconds, passed, dropped = run_through([normalize], copy.deepcopy(items))
        report = {
            "items": args.items,
            "normalize": _rate(seconds, passed, dropped),
        }

        dedup_class, why_not = load_dedup()
        if dedup_class is None:
            report["normalize+dedup"] = {"skipped": why_not}
        else:
            pipelines = [build(NormalizePipeline, settings), build(dedup_class, settings)]
            seconds, passed, dropped = run_through(pipelines, copy.deepcopy(items))
            report["normalize+dedup"] = _rate(seconds, passed, dropped)

    report["date_parsing"] = date_cost(max(1, args.items // 3))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0


def _rate(seconds: float, passed: int, dropped: int) -> dict:
    total = passed + dropped
    return {
        "seconds": round(seconds, 3),
        "items_per_second": round(total / seconds, 1) if seconds else None,
        "ms_per_item": round(seconds / total * 1000, 3) if total else None,
        "passed": passed,
        "dropped": dropped,
    }


def print_report(report: dict) -> None:
    print(f"{report['items']} items (1/3 machine-readable dates, 1/3 date line only, 1/3 URL only)")
    for name in ("normalize", "normalize+dedup"):
        result = report[name]
        if "skipped" in result:
            print(f"  {name:<16} skipped: {result['skipped']}")
            continue
        print(
            f"  {name:<16} {result['items_per_second']:>9.1f} items/s  "
            f"{result['ms_per_item']:.3f} ms/item  (passed {result['passed']}, dropped {result['dropped']})"
        )
    print("date parsing per item (choose_date, with the disagreement check):")
    for kind, result in report["date_parsing"].items():
        print(
            f"  {kind:<16} {result['us_per_item']:>9.1f} µs/item  "
            f"dateparser calls: {result['dateparser_calls']} for {result['items']} items"
        )


if __name__ == "__main__":
    sys.exit(main())

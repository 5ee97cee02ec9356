"""Requests per run with each change signal: the costs in docs/operations.md.

    .venv/bin/python benchmarks/change_signal_costs.py            # every kind of site
    .venv/bin/python benchmarks/change_signal_costs.py neither    # one kind

For each kind of site (REST API and sitemaps; sitemaps only; neither), against the
modelled WordPress site of the tests (tests/wpsite.py, on 127.0.0.1, fixtures
peoplesdispatch-wp/ and peoplesdispatch-edited/), four `scrapy crawl peru` runs on a fresh
SQLite database: the full first crawl; a run where nothing changed; the run after one
year-old article got a paragraph and another old one a new title; and one more quiet run.
Printed: the requests each run sent (Scrapy's ``downloader/request_count``, robots.txt
included), what the signals asked and which articles they had fetched again.
The rolling re-check runs with its defaults (30 days, at most 50 a run): between two runs a
few seconds apart its slice is a fraction of an article (none), so the "edited" run of a site with neither
signal finds the edits only when the slice reaches them (see the operations doc).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.crawling import FIXTURES, crawl  # noqa: E402
from tests.wpsite import WordPressSite  # noqa: E402

SECTIONS = ("/tag/new-peru-left/", "/tag/impeachment-of-martin-vizcarra/", "/tag/peru/")
BEFORE = [FIXTURES / "peoplesdispatch-wp", FIXTURES / "peoplesdispatch"]
AFTER = [FIXTURES / "peoplesdispatch-edited", *BEFORE]
SITES = {"REST API + sitemaps": {"rest": True, "sitemaps": True},
         "sitemaps only": {"rest": False, "sitemaps": True},
         "neither": {"rest": False, "sitemaps": False},
         "neither, a whole re-check period between runs": {"rest": False, "sitemaps": False}}
# The last site's runs stand for runs a whole PERUWIRE_RECHECK_DAYS apart: each re-checks
# every article the run before it did not read (the most one run can cost, within
# PERUWIRE_RECHECK_MAX_PER_RUN).
WHOLE_PERIOD = {"PERUWIRE_RECHECK_DAYS": 1e-6, "PERUWIRE_RECHECK_MAX_PER_RUN": 100}
SETTINGS = {"AUTOTHROTTLE_ENABLED": False, "PERUWIRE_CHANGE_SIGNALS": "wp_rest,sitemap,recheck"}


def main(names: list[str]) -> None:
    print("| site | run | requests | signal requests | re-read by a signal | updated |")
    print("|---|---|---|---|---|---|")
    for name, offers in SITES.items():
        if names and name.split(",")[0] not in names and name not in names:
            continue
        settings = {**SETTINGS, **(WHOLE_PERIOD if "whole" in name else {})}
        with tempfile.TemporaryDirectory() as folder, WordPressSite(BEFORE, **offers) as site:
            for label, roots in (("full crawl", BEFORE), ("nothing changed", BEFORE),
                                 ("two old articles edited", AFTER), ("nothing changed again", AFTER)):
                site.roots = roots
                result = crawl(Path(folder), "-a", "sections=" + ",".join(site.url(s) for s in SECTIONS),
                               replay=None, settings=settings)
                stats = result.stats
                asked = sum(v for k, v in stats.items() if k.startswith("peruwire/changes/requests/"))
                reread = sum(v for k, v in stats.items() if k.startswith("peruwire/articles/fetch_reason/")
                             and k.rsplit("/", 1)[1] in ("wp_rest", "sitemap", "recheck"))
                print(f"| {name} | {label} | {stats.get('downloader/request_count')} | {asked} | {reread} "
                      f"| {stats.get('peruwire/store/updated', 0)} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])  # site names to measure (default: all)

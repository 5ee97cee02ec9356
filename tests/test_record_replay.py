"""PERUWIRE_RECORD saves a live crawl in the fixture format; PERUWIRE_REPLAY plays it back.

The "live" site is a fixture site served on 127.0.0.1 by the test server, so recording
needs no network; replaying the recording must then give the very same items. (The stock
WordPress site: on 127.0.0.1 no site-specific rules apply, and it needs none.)
"""

from __future__ import annotations

import pytest

from peruwire_crawl import replay
from tests.crawling import FIXTURES, crawl
from tests.faultsite import FaultSite

pytestmark = pytest.mark.slow

SECTION = "/category/peru/"
COMPARED = ("url", "title", "summary", "published_at", "authors", "language", "body", "sections", "complete")


def comparable(items: list[dict]) -> list[dict]:
    return sorted(({field: item[field] for field in COMPARED} for item in items), key=lambda i: i["url"])


def test_a_recorded_crawl_replays_to_the_same_items(tmp_path):
    recording = tmp_path / "recording"
    with FaultSite(FIXTURES / "stockwp", "noticias.example.org") as site:
        section = site.url(SECTION)
        live = crawl(tmp_path / "live", "-a", f"sections={section}", replay=None,
                     settings={"PERUWIRE_RECORD": recording, "AUTOTHROTTLE_ENABLED": False})
    assert live.returncode == 0, live.log[-3000:]
    assert len(live.items) == 5
    assert live.stat("peruwire/record/responses") == live.stat("downloader/response_count")
    # A browsable mirror: the section page is where the format says it is.
    assert replay.url_to_path(recording, section).is_file()

    replayed = crawl(tmp_path / "replayed", "-a", f"sections={section}", replay=recording)
    assert replayed.returncode == 0, replayed.log[-3000:]
    assert replayed.stat("peruwire/replay/missing", 0) == 0
    assert comparable(replayed.items) == comparable(live.items)


def test_replay_answers_404_and_names_a_url_it_has_no_fixture_for(tmp_path):
    missing = "https://peoplesdispatch.org/tag/no-such-section/"
    result = crawl(tmp_path, "-a", f"sections={missing}")
    assert result.stat("downloader/response_status_count/404") == 1
    assert f"replay: no fixture for {missing}" in result.log
    assert result.returncode == 1  # a section that cannot be read is a failed check

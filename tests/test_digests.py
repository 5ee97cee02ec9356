"""The run's compact per-article memory (peruwire_crawl/digests.py) and the duplicate
request filter built on it (peruwire_crawl/dupefilter.py)."""

from __future__ import annotations

import pickle

from hypothesis import given
from hypothesis import strategies as st
from scrapy import Request
from scrapy.utils.test import get_crawler

from peruwire_crawl.digests import DigestTable, text_digest
from peruwire_crawl.dupefilter import CompactDupeFilter
from peruwire_crawl.spiders.state import ListedArticles

# Any int, 0 and negative ones (hash() values) included, and ints alike in their low bits,
# which land on the same slot and must probe past each other.
DIGESTS = st.one_of(st.integers(-(2**70), 2**70), st.integers(0, 40).map(lambda n: n << 40))


@given(st.lists(st.tuples(DIGESTS, st.integers(0, 255)), max_size=3000), st.lists(DIGESTS, max_size=50))
def test_a_digest_table_answers_as_a_dict_of_the_same_digests_would(writes, others):
    table, expected = DigestTable(capacity=8), {}
    for digest, code in writes:
        table[digest] = code
        expected[(digest % 2**64) or 1] = code
    assert len(table) == len(expected)
    for digest in [digest for digest, _ in writes] + others:
        stored = (digest % 2**64) or 1
        assert (digest in table) == (stored in expected)
        assert table.get(digest) == expected.get(stored)
    copy = pickle.loads(pickle.dumps(table))  # JOBDIR pickles the spider's state
    assert len(copy) == len(table) and all(copy.get(digest) == table.get(digest) for digest, _ in writes)


def test_a_text_digest_is_the_same_in_every_process():
    # Fixed here, because JOBDIR carries digests from one process to the next (hash() varies).
    assert text_digest("abc") == 0xD8BB14D833D59559


def test_the_listed_articles_keep_each_reason_and_survive_jobdir_pickling():
    listed = ListedArticles()
    listed["https://example.org/a/"] = "recent"
    listed["https://example.org/b/"] = None
    listed["https://example.org/c/"] = "wp_rest"
    listed["https://example.org/a/"] = "listing_changed"
    again = pickle.loads(pickle.dumps(listed, protocol=4))
    assert len(again) == 3
    assert again.get("https://example.org/a/") == "listing_changed"
    assert again.get("https://example.org/b/", "absent") is None
    assert again.get("https://example.org/never/", "absent") == "absent"
    assert "https://example.org/c/" in again and "https://example.org/d/" not in again


def test_the_duplicate_filter_remembers_requests_across_a_jobdir_resume(tmp_path):
    crawler = get_crawler(settings_dict={"JOBDIR": str(tmp_path)})
    first = CompactDupeFilter.from_crawler(crawler)
    assert not first.request_seen(Request("https://example.org/a/"))
    assert first.request_seen(Request("https://example.org/a/"))
    assert not first.request_seen(Request("https://example.org/b/"))
    first.close("shutdown")
    resumed = CompactDupeFilter.from_crawler(get_crawler(settings_dict={"JOBDIR": str(tmp_path)}))
    assert resumed.request_seen(Request("https://example.org/a/"))
    assert resumed.request_seen(Request("https://example.org/b/"))
    assert not resumed.request_seen(Request("https://example.org/c/"))

"""robots.txt is obeyed by every request, also those that wait for a host's robots.txt
together (see peruwire_crawl/robotstxt.py for the Scrapy behaviour this guards against)."""

from __future__ import annotations

import pytest
from clustersite import PRIVATE_PREFIX, ClusterSite, SiteShape
from crawling import crawl

pytestmark = pytest.mark.slow


def test_requests_waiting_together_for_robots_txt_are_all_checked(tmp_path):
    with ClusterSite(SiteShape(hosts=1, pages=1, per_page=2)) as site:
        [section] = site.section_urls()
        [private] = site.private_urls()
        # Three first requests to one host at once: all three wait for its robots.txt.
        sections = [section, private, private.replace("internal-memo", "other-memo")]
        result = crawl(tmp_path, "-a", "sections=" + ",".join(sections), replay=None,
                       settings={"AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 8})
    assert site.hits_under(PRIVATE_PREFIX) == 0, result.log[-3000:]
    assert result.stat("robotstxt/forbidden") == 2  # both; the listed memo is one of them
    assert result.stat("robotstxt/request_count") == 1

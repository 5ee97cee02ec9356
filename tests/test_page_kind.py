"""Recognising a section listing from an article, for `scrapy parse URL` with no callback."""

from __future__ import annotations

import pytest

from peruwire_crawl.pages.kind import ARTICLE, SECTION, page_kind
from peruwire_crawl.pages.regenerate import fixture_pages

PAGES = fixture_pages()


@pytest.mark.parametrize("page", PAGES, ids=[p.url for p in PAGES])
def test_every_fixture_page_is_recognised(page):
    assert page_kind(page.path.read_text("utf-8"), page.url) == page.kind


@pytest.mark.parametrize("html, url, kind", [
    # WordPress' body classes win over the URL ...
    ('<body class="archive date">', "https://example.org/2023/06/16/", SECTION),
    ('<body class="single single-post">', "https://example.org/a-page/", ARTICLE),
    # ... and without them the permalink decides.
    ("<p>no classes</p>", "https://example.org/2023/06/16/slug/", ARTICLE),
    ("<p>no classes</p>", "https://example.org/tag/peru/page/2/", SECTION),
    ("", "https://example.org/2023/06/16/slug/?utm_source=x", ARTICLE),
])
def test_body_classes_then_the_permalink(html, url, kind):
    assert page_kind(html, url) == kind

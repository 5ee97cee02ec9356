"""Which kind of page a response is: a section listing or an article.

The crawl always knows (it asked for the page), but `scrapy parse URL` and `scrapy check`
hand the spider a bare URL. WordPress says it on the page: its ``<body>`` classes start
archives with ``archive`` (tag, category, author, date) or ``blog``/``search``, and single
posts with ``single``. Without those classes, a ``/YYYY/MM/DD/slug/`` permalink is an
article; anything else is read as a listing.
"""

from __future__ import annotations

import re

from parsel import Selector

SECTION, ARTICLE = "section", "article"

LISTING_BODY_CLASSES = frozenset({"archive", "blog", "search", "home"})
ARTICLE_BODY_CLASSES = frozenset({"single", "single-post"})
ARTICLE_PATH = re.compile(r"/\d{4}/\d{2}/\d{2}/[^/]+/?$")


def page_kind(html: str, url: str) -> str:
    classes = set((Selector(text=html or "<html/>").css("body::attr(class)").get() or "").split())
    if classes & ARTICLE_BODY_CLASSES:
        return ARTICLE
    if classes & LISTING_BODY_CLASSES:
        return SECTION
    path = url.split("?", 1)[0].split("#", 1)[0]
    return ARTICLE if ARTICLE_PATH.search(path) else SECTION

"""A selector that needs a class name or an id the page lacks is not run (``Document.matchable``).

The pre-check may only ever skip a selector that would have found nothing: these tests hold
it to that on every fixture page, with every selector of every site's rules, and on the
selector shapes that could fool it (``:not()``, attribute values with dots, groups, ids).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from peruwire_crawl.pages.document import Document, could_match
from peruwire_crawl.pages.rules import GENERIC_WORDPRESS
from peruwire_crawl.pages.sites.peoplesdispatch import RULES as PEOPLES_DISPATCH

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PAGES = sorted(FIXTURES.rglob("*.html"))
SELECTORS = sorted({css for rules in (PEOPLES_DISPATCH, GENERIC_WORDPRESS) for field in dataclasses.fields(rules)
                    if isinstance(getattr(rules, field.name), tuple) for css in getattr(rules, field.name)})


@pytest.mark.parametrize("path", PAGES, ids=lambda path: str(path.relative_to(FIXTURES)))
def test_a_skipped_selector_would_have_found_nothing(path):
    document = Document(path.read_bytes(), "https://peoplesdispatch.org/")
    kept = set(document.matchable(SELECTORS))
    for css in SELECTORS:
        if css not in kept:
            assert document.selector.css(css) == [], css
    assert kept, "every selector was skipped: the page's names were not read"


PAGE = Document(
    '<html><body id="top"><article class="post  hentry\tformat-standard"><h1 class="entry-title">T</h1>'
    '<a href="/file.pdf">f</a><p class="md:flex">x</p></article></body></html>', "https://example.org/")
NAMES = PAGE._names


@pytest.mark.parametrize(("css", "can"), [
    (".hentry", True),                      # one of several names, split at tabs and double spaces
    (".format-standard h1", True),
    (".entry-content", False),              # no element carries it
    ("article.post.missing", False),        # every class of a compound is needed
    ("#top .post", True),
    ("#content", False),
    (".entry-content, .entry-title", True),  # a group can match when one alternative can
    (".entry-content, #content", False),
    ("h2 a[href]", True),                   # no class or id to check: always run
    ("a[href$='.pdf']", True),              # the dot in an attribute value is no class
    ("p:not(.lead)", True),                 # the class under :not() is not needed
    (".missing:not(.post)", False),
    (".md\\:flex", True),                   # an escaped colon belongs to the name
    ("body::attr(class)", True),            # parsel's pseudo-elements
    ("[class*=excerpt]", True),             # a substring test is left to the query
    ("p:::", True),                         # unparseable: the query itself will say so
])
def test_could_match(css, can):
    assert could_match(css, *NAMES) is can
    if not can:
        assert PAGE.selector.css(css) == []

"""The generic extractor's rules, each on a small modelled page (not a copy of any real one).

Structured data first (JSON-LD in every nesting, microdata, Open Graph and article:*), then
the page's markup; bylines and date lines in several languages.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from peruwire_crawl.normalize.authors import clean_authors, split_names
from peruwire_crawl.normalize.dates import DateContext, parse_candidate
from peruwire_crawl.pages import ArticlePage

URL = "https://news.example.net/world/a-story"
BODY = "<div class='story-text'><p>" + "Words of the article body. " * 12 + "</p></div>"


def page(head: str = "", body: str = BODY) -> ArticlePage:
    return ArticlePage(f"<html><head>{head}</head><body><main>{body}</main></body></html>", URL)


def jsonld(data) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


# --- JSON-LD in all its nestings ---------------------------------------------------------
@pytest.mark.parametrize("data", [
    {"@type": "WebPage", "mainEntity": {"@type": "NewsArticle", "datePublished": "2025-01-05T15:23:59+01:00",
                                        "author": {"@type": "Person", "name": "Ana Quispe"}}},
    {"@graph": [{"@type": "WebPage"}, {"@type": "NewsArticle", "datePublished": "2025-01-05T15:23:59+01:00",
                                       "author": [{"@type": "Person", "name": "Ana Quispe"}]}]},
    [{"@type": "BreadcrumbList"}, {"@type": "ReportageNewsArticle", "datePublished": "2025-01-05T15:23:59+01:00",
                                   "author": "Ana Quispe"}],
], ids=["mainEntity", "graph", "top-level-array"])
def test_the_article_node_is_found_however_it_is_nested(data):
    found = page(jsonld(data))
    assert [(c.signal, c.value) for c in found.date_candidates] == [("jsonld", "2025-01-05T15:23:59+01:00")]
    assert found.authors == ["Ana Quispe"]


def test_a_person_given_by_given_and_family_name():
    data = {"@type": "NewsArticle", "author": [{"@type": "Person", "givenName": "Ana María", "familyName": "Quispe"}]}
    assert page(jsonld(data)).authors == ["Ana María Quispe"]


# --- authors: the most trusted kind that has any ---------------------------------------------
def test_the_publisher_is_not_an_author_next_to_a_person():
    data = {"@type": "NewsArticle", "author": [{"@type": "Person", "name": "Ana Quispe"},
                                               {"@type": "Organization", "name": "Example Media Group"}],
            "publisher": {"@type": "Organization", "name": "Example Media Group"}}
    assert page(jsonld(data)).authors == ["Ana Quispe"]


def test_the_publisher_alone_is_a_collective_byline_and_kept():
    data = {"@type": "NewsArticle", "author": {"@type": "Organization", "name": "Example News"}}
    assert page(jsonld(data) + '<meta property="og:site_name" content="Example News">').authors == ["Example News"]


def test_meta_author_is_only_the_last_resort():
    head = jsonld({"@type": "NewsArticle", "author": {"name": "Ana Quispe"}}) + '<meta name="author" content="Example Media Group">'
    assert page(head).authors == ["Ana Quispe"]
    assert page('<meta name="author" content="Luis Paz">').authors == ["Luis Paz"]


def test_microdata_author_and_date_when_there_is_no_json_ld():
    body = ("<article itemscope itemtype='https://schema.org/NewsArticle'>"
            "<meta itemprop='datePublished' content='2025-01-05T15:23:59+01:00'>"
            "<p itemprop='author' itemscope itemtype='https://schema.org/Person'><span itemprop='name'>Ana Quispe</span></p>"
            + BODY + "</article>")
    found = page(body=body)
    assert found.authors == ["Ana Quispe"]
    assert ("microdata", "2025-01-05T15:23:59+01:00") in [(c.signal, c.value) for c in found.date_candidates]


def test_article_published_time_in_its_colon_spelling():
    found = page('<meta property="article:published:time" content="2024-10-23T15:48:15+00:00">')
    assert [(c.signal, c.value) for c in found.date_candidates] == [("meta", "2024-10-23T15:48:15+00:00")]


# --- bylines in several languages ------------------------------------------------------------
@pytest.mark.parametrize("byline, expected", [
    ("Von Karim Weber", ["Karim Weber"]),
    ("Von: JÖRG SCHMIDT", ["JÖRG SCHMIDT"]),
    ("Par Claire Dubois", ["Claire Dubois"]),
    ("Door Jan de Vries", ["Jan de Vries"]),
    ("Av Lena Holm", ["Lena Holm"]),
    ("Autor: Ana Quispe", ["Ana Quispe"]),
    ("Anna Weber und Lea Braun", ["Anna Weber", "Lea Braun"]),
    ("Trine Holm og Tôrtia Berg", ["Trine Holm", "Tôrtia Berg"]),
    ("Claire Dubois et Marc Petit", ["Claire Dubois", "Marc Petit"]),
    ("Ana Quispe e Luís Paz", ["Ana Quispe", "Luís Paz"]),
    ("Dolores Chang For Example.com", ["Dolores Chang"]),
    ("Aaron Kline | Example News", ["Aaron Kline"]),
    ("a.quispe@example.net", []),
    ("Ursula von der Leyen", ["Ursula von der Leyen"]),  # "von" inside a name stays
])
def test_byline_conventions(byline, expected):
    assert split_names(byline) == expected


def test_the_same_name_from_byline_and_metadata_counts_once():
    assert clean_authors(["Karim Weber"], "Von Karim Weber") == ["Karim Weber"]


# --- dates -------------------------------------------------------------------------------------
CONTEXT = DateContext(timezone=UTC, fetched_at=datetime(2025, 6, 1, tzinfo=UTC))


def test_a_dotted_date_is_day_first_even_on_an_english_page():
    parsed = parse_candidate("dateline", "05.01.2025, 15:23", CONTEXT)
    assert parsed.local_date.isoformat() == "2025-01-05"


def test_numeric_dates_are_day_first_outside_us_english():
    german = DateContext(timezone=UTC, fetched_at=CONTEXT.fetched_at, languages=("de", "en"))
    assert parse_candidate("dateline", "03/04/2025", german).local_date.isoformat() == "2025-04-03"
    assert parse_candidate("dateline", "03/04/2025", CONTEXT).local_date.isoformat() == "2025-03-04"


def test_a_time_is_kept_as_stated_beside_its_utc_value():
    with_offset = parse_candidate("jsonld", "2025-02-02T09:00:00+01:00", CONTEXT)
    assert (with_offset.isoformat(), with_offset.stated_isoformat()) == ("2025-02-02T08:00:00+00:00", "2025-02-02T09:00:00+01:00")
    naive = parse_candidate("jsonld", "2023-04-28 18:11:01.0", CONTEXT)
    assert naive.stated_isoformat() == "2023-04-28T18:11:01"  # the page gave no zone
    assert parse_candidate("url", "2023-04-28", CONTEXT).stated_isoformat() == "2023-04-28"


# --- markup ------------------------------------------------------------------------------------
def test_a_page_builder_widget_is_content_not_a_sidebar():
    body = ("<div class='elementor-widget-container'><p>" + "Builder text paragraph. " * 10 + "</p>"
            "<p>" + "More of the builder's article. " * 8 + "</p></div>"
            "<div class='widget widget_recent_entries'><p>" + "Recent posts list. " * 3 + "</p></div>")
    found = page(body=body)
    assert found.body.startswith("Builder text paragraph.") and "Recent posts" not in found.body


# --- titles ------------------------------------------------------------------------------------
def test_two_agreeing_declarations_outweigh_a_differing_headline_element():
    head = (jsonld({"@type": "NewsArticle", "headline": "Miners march on Lima"})
            + '<meta property="og:title" content="Miners march on Lima | Example News">'
            + '<meta property="og:site_name" content="Example News">')
    found = page(head, "<h1><span class='kicker'>Protests</span>Miners march on Lima</h1>" + BODY)
    assert (found.title, found.title_from) == ("Miners march on Lima", "meta")


def test_the_headline_element_wins_when_the_declarations_agree_with_it_or_each_other_not():
    agreeing = page(jsonld({"@type": "NewsArticle", "headline": "Miners march on Lima"})
                    + '<meta property="og:title" content="Miners march on Lima">', "<h1>Miners march on Lima</h1>" + BODY)
    assert (agreeing.title, agreeing.title_from) == ("Miners march on Lima", "page")
    split = page(jsonld({"@type": "NewsArticle", "headline": "SEO headline one"})
                 + '<meta property="og:title" content="Another social title">', "<h1>Miners march on Lima</h1>" + BODY)
    assert (split.title, split.title_from) == ("Miners march on Lima", "page")


def test_paragraph_blocks_split_by_an_ad_are_read_as_one_body():
    def block(word: str) -> str:
        return "<div class='para'><p>" + f"{word} paragraph of the story, long enough to count. " * 4 + "</p></div>"

    body = ("<div class='story'>" + block("First") + "<div class='ad'>Advertisement</div>"
            + block("Second") + block("Third") + "</div>"
            + "<div class='teaser'><p>Another story you may like.</p></div>")
    found = page(body=body)
    assert [line.split()[0] for line in found.body.split("\n\n")] == ["First", "Second", "Third"]

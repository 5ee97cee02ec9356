"""Structured data and meta lines read from modelled snippets: the JSON-LD and Open Graph
readers (``pages/document.py``) and the short-line searches behind the date line and the
byline (``pages/article.py``)."""

from __future__ import annotations

from peruwire_crawl.pages import ArticlePage
from peruwire_crawl.pages.document import Document

URL = "https://unknown.example.net/2024/05/02/a-story/"
BODY = "".join(f"<p>Paragraph {n} of the story, long enough to be read as body text by any reader.</p>"
               for n in range(1, 6))


def document(head: str, html_attrs: str = "") -> Document:
    return Document(f"<html{html_attrs}><head>{head}</head><body><p>x</p></body></html>", URL)


# --- JSON-LD ---------------------------------------------------------------------------
def test_a_json_ld_block_with_a_comment_line_and_a_trailing_comma_is_read():
    block = ('<script type="application/ld+json"><!-- generated -->\n'
             '{"@type": "NewsArticle", /* the story */ "headline": "A story",}</script>')
    assert [node["headline"] for node in document(block).jsonld_nodes] == ["A story"]


def test_arrays_and_graphs_are_flattened_and_a_broken_block_is_a_problem_not_a_crash():
    blocks = ('<script type="application/ld+json">[{"@type": "WebSite", "name": "Example"},'
              ' {"@graph": [{"@type": "NewsArticle", "headline": "A story"}]}]</script>'
              '<script type="application/ld+json">{"@type": </script>')
    found = document(blocks)
    assert [node["@type"] for node in found.jsonld_nodes] == ["WebSite", "NewsArticle"]
    assert found.problems and found.problems[0].startswith("JSON-LD block 2 could not be read")


# --- Open Graph --------------------------------------------------------------------------
def test_open_graph_and_article_properties_are_read_in_page_order():
    head = ('<meta property="og:title" content="A story"><meta property="article:tag" content="water">'
            '<meta property="article:tag" content="mining"><meta property="twitter:title" content="no">')
    assert document(head).og_properties == [("og:title", "A story"), ("article:tag", "water"),
                                            ("article:tag", "mining")]


def test_a_prefix_the_page_declares_counts_and_one_it_does_not_is_ignored():
    head = '<meta property="fb:app_id" content="123"><meta property="custom:kind" content="story">'
    assert document(head, ' prefix="custom: https://example.net/ns#"').og_properties == [("custom:kind", "story")]


# --- short lines: the date line and the byline -----------------------------------------------
def article(header: str) -> ArticlePage:
    return ArticlePage(f"<html><body><main><div class='story-head'><h1>A story</h1>{header}</div>"
                       f"<div class='story-text'>{BODY}</div></main></body></html>", URL)


def test_a_byline_line_is_found_beside_a_long_hidden_script():
    script = "<script>" + "var tracking = 1; " * 400 + "</script>"
    found = article(f"<div class='story-meta'>{script}<span>By Ana Quispe</span></div>")
    assert found.byline == "By Ana Quispe"


def test_the_innermost_short_line_is_the_date_line_and_long_blocks_are_skipped():
    long_block = "<div class='promo'>" + "<span>Read more stories about the valley and its people. </span>" * 20 + "</div>"
    found = article(f"{long_block}<div class='story-meta'><span class='when'>16 de marzo de 2023</span>"
                    "<span class='who'>Por Lucía Huamán</span></div>")
    assert [c.value for c in found.date_candidates if c.signal == "dateline"] == ["16 de marzo de 2023"]
    assert found.byline == "Por Lucía Huamán"


def test_a_line_inside_the_body_is_never_the_date_line():
    found = ArticlePage(f"<html><body><main><h1>A story</h1><div class='story-text'>{BODY}"
                        "<p>On June 16, 2023 the council met.</p></div></main></body></html>", URL)
    assert not [c for c in found.date_candidates if c.signal == "dateline"]

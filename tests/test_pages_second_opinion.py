"""The body's second opinion (pages/second_opinion.py) and its use by the article page.

Small modelled pages: a paragraph both readers keep is body; one only our container holds
(a newsletter box, an author's bio) is not; where our container holds much less than
trafilatura found, its reading replaces ours; a site's own body rule is never second-guessed.
"""

from __future__ import annotations

import pytest

from peruwire_crawl.pages import ArticlePage
from peruwire_crawl.pages.rules import GENERIC_WORDPRESS, SiteRules
from peruwire_crawl.pages.second_opinion import MIN_BODY, drop_noise, merge_bodies, without_fields

URL = "https://unknown.example.net/2024/05/02/a-story/"
STORY = [f"Paragraph {n} of the story tells the reader what the council decided about the water supply "
         "of the valley this week." for n in range(1, 6)]
PARAGRAPHS = "".join(f"<p>{text}</p>" for text in STORY)
SIGN_UP = "Sign up for our weekly letter and never miss a story from the valley again."


def page(body_html: str, rules: tuple[SiteRules, ...] | None = None) -> ArticlePage:
    return ArticlePage(f"<html><head><title>A story</title></head><body>{body_html}</body></html>", URL, rules)


def wordpress(inside: str) -> str:
    return f"<article class='post'><h1 class='entry-title'>A story</h1><div class='entry-content'>{inside}</div></article>"


# --- the merge rule --------------------------------------------------------------------
def test_our_paragraphs_that_the_second_opinion_also_kept_stay():
    assert merge_bodies([*STORY, "Tell us what YOU think..."], STORY) == STORY


def test_a_paragraph_split_or_trimmed_differently_still_agrees():
    theirs = [STORY[0][:60], STORY[0][60:], *STORY[1:]]
    assert merge_bodies(STORY, theirs) == STORY


def test_a_short_line_agrees_only_when_its_words_appear_in_a_row():
    assert merge_bodies([*STORY, "updated twice"], [*STORY, "It was updated twice today."]) == [*STORY, "updated twice"]
    assert merge_bodies([*STORY, "twice updated"], [*STORY, "It was updated twice today."]) == STORY


def test_their_reading_replaces_ours_when_ours_holds_much_less():
    assert merge_bodies(STORY[:1], STORY) == STORY


def test_a_fragment_never_replaces_ours():
    fragment = ["Home", "Contact us"]
    assert len(" ".join(fragment)) < MIN_BODY
    assert merge_bodies([], fragment) == []


def test_no_second_opinion_or_no_agreement_keeps_ours():
    assert merge_bodies(STORY, None) == STORY
    other = [f"Another text entirely, line {n}, about a football match won in the last minute." for n in range(5)]
    assert merge_bodies(STORY, other[:1]) == STORY


def test_noise_and_the_fields_of_their_own_leave_their_reading():
    comment = "A very long reader comment that goes on and on."
    assert drop_noise([*STORY, comment], f"Comments: {comment} Reply") == STORY
    assert drop_noise([comment], comment) is None
    assert without_fields(["A story", "The standfirst, said once.", *STORY], "A story", "The standfirst, said once") == STORY


# --- on article pages ------------------------------------------------------------------
def test_a_newsletter_box_inside_the_stock_body_container_is_left_out():
    found = page(wordpress(PARAGRAPHS + f"<div class='newsletter-signup'><p>{SIGN_UP}</p></div>"))
    assert found.body.split("\n\n") == STORY
    assert found.origins["body"] == "generic-wordpress rule body: .entry-content, cross-checked with trafilatura"


def test_an_authors_bio_at_the_end_is_left_out():
    found = page(wordpress(PARAGRAPHS + "<div class='author-bio'><p>Ana Quispe writes about water and "
                                        "mining for the paper since 2019.</p></div>"))
    assert found.body.split("\n\n") == STORY


def test_text_set_with_line_breaks_and_no_paragraphs_is_read():
    lines = [f"Line {n} of a long story about the election results in the southern provinces, told at length."
             for n in range(1, 8)]
    found = page(f"<div class='menu'><a href='/a'>A</a> <a href='/b'>B</a></div><div class='story'><h1>Results</h1>"
                 f"<div class='txt'>{'<br><br>'.join(lines)}</div></div>")
    assert found.body.split("\n\n") == lines
    assert found.origins["body"] == "trafilatura (our container held much less)"


def test_the_headline_is_not_taken_into_the_body():
    lines = "<br><br>".join(STORY)
    found = page(f"<div class='story'><h1>Water for the valley</h1><div class='txt'>{lines}</div></div>")
    assert "Water for the valley" not in found.body and found.body.split("\n\n") == STORY


def test_a_sites_own_body_rule_is_not_second_guessed():
    own = SiteRules(name="example", body=(".story-body",))
    found = page(f"<div class='story-body'>{PARAGRAPHS}<div class='newsletter-signup'><p>{SIGN_UP}</p></div></div>",
                 rules=(own, GENERIC_WORDPRESS))
    assert found.body.split("\n\n") == [*STORY, SIGN_UP]
    assert found.origins["body"] == "example rule body: .story-body"


def test_a_page_builders_post_content_widget_is_the_article_not_noise():
    widget = ("<div class='elementor-element elementor-widget elementor-widget-theme-post-content'>"
              f"<div class='elementor-widget-container'>{PARAGRAPHS}</div></div>")
    found = page(f"<div class='elementor-widget elementor-widget-heading'><h1>A story</h1></div>{widget}"
                 "<div class='widget sidebar-box'><p>Other stories you might like from this same week.</p></div>")
    assert found.body.split("\n\n") == STORY


# --- when the second opinion is asked -----------------------------------------------------
def _no_second_opinion(*_args, **_kwargs):
    raise AssertionError("trafilatura was asked")


def test_a_container_of_plain_prose_that_holds_the_page_is_not_second_guessed(monkeypatch):
    monkeypatch.setattr("peruwire_crawl.pages.article.trafilatura_paragraphs", _no_second_opinion)
    found = page(wordpress(PARAGRAPHS + "<ul><li>A list item that is also a whole sentence of prose.</li></ul>"))
    assert found.body.split("\n\n") == [*STORY, "A list item that is also a whole sentence of prose."]
    assert found.origins["body"] == "generic-wordpress rule body: .entry-content"


MORE = "".join(f"<p>{text.replace('Paragraph', 'Another paragraph')}</p>" for text in STORY)
ASKING_PAGES = {
    "a box inside the container": wordpress(PARAGRAPHS + f"<div class='newsletter-signup'><p>{SIGN_UP}</p></div>"),
    "a line that is not prose": wordpress(PARAGRAPHS + "<p>Tags: water, council</p>"),
    "text outside the container": ("<article class='post'><h1 class='entry-title'>A story</h1>"
                                   f"<div class='entry-content'>{PARAGRAPHS}</div><div class='more'>{MORE}</div></article>"),
    "a fragment": wordpress(f"<p>{STORY[0]}</p>"),
}


@pytest.mark.parametrize("html", ASKING_PAGES.values(), ids=ASKING_PAGES.keys())
def test_a_container_that_looks_unsure_asks_for_the_second_opinion(monkeypatch, html):
    asked = []
    monkeypatch.setattr("peruwire_crawl.pages.article.trafilatura_paragraphs", lambda *args: asked.append(args))
    page(html).body  # noqa: B018 (computing the field asks, or not)
    assert len(asked) == 1

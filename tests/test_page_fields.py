"""The @field declaration (peruwire_crawl/pages/fields.py): to_dict and problems derive from it."""

from __future__ import annotations

from peruwire_crawl.pages import ArticlePage, SectionPage
from peruwire_crawl.pages.document import Page
from peruwire_crawl.pages.fields import field, fields_of


class CountingPage(Page):
    calls = 0

    @field(missing="no headline found")
    def headline(self) -> str | None:
        type(self).calls += 1
        return self.document.selector.css("h1::text").get()

    @field(default=list)
    def broken(self) -> list:
        raise KeyError("the layout changed")


def test_fields_are_listed_in_declaration_order_with_the_base_classes_first():
    class MorePage(CountingPage):
        @field
        def extra(self) -> int:
            return 1

    assert list(fields_of(MorePage)) == ["headline", "broken", "extra"]
    assert list(fields_of(ArticlePage))[:3] == ["canonical_url", "title", "title_from"]
    assert list(fields_of(SectionPage)) == ["name", "entries", "next_page_url", "last_page_number"]


def test_to_dict_holds_every_declared_field_once_computed():
    CountingPage.calls = 0
    page = CountingPage("<html><body><h1>Hello</h1></body></html>", "https://d.example/a/")
    assert page.to_dict() == {"url": "https://d.example/a/", "headline": "Hello", "broken": [],
                              "problems": ["broken: KeyError: 'the layout changed'"]}
    page.to_dict(), page.problems, page.headline
    assert CountingPage.calls == 1


def test_a_field_declared_as_required_is_a_problem_when_empty():
    page = CountingPage("<html><body><p>no headline</p></body></html>", "https://d.example/a/")
    assert "no headline found" in page.problems
    assert CountingPage("", "https://d.example/a/").problems[-1] == "the page is empty"


def test_a_failing_field_names_itself_in_problems_and_gives_its_default():
    page = CountingPage("<h1>x</h1>", "https://d.example/a/")
    assert page.broken == [] and page.broken is page.broken  # a fresh default, cached
    assert page.problems == ["broken: KeyError: 'the layout changed'"]

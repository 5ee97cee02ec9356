"""A section page (tag or category archive): its name, its listed articles, its next page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from parsel import Selector

from peruwire_crawl.pages.document import Page, element_text, first_match
from peruwire_crawl.pages.fields import field

# Pagination words for "the next, older page" in English and Spanish WordPress themes.
# Spanish "Entradas siguientes" means *newer* posts, so only the singular "siguiente" counts.
PAGINATION_ANCESTOR = "ancestor::*[self::nav or contains(@class, 'pagination') or contains(@class, 'nav-links')]"
NEXT_WORDS = re.compile(r"\b(next|older|siguiente|anteriores|más antiguas|mas antiguas)\b", re.IGNORECASE)
PAGINATION_LINKS = f"//a[@href][{PAGINATION_ANCESTOR}]"
# The current page's number: not a link, marked as WordPress marks it.
CURRENT_PAGE = ("//*[not(self::a)][@aria-current='page' or contains(concat(' ', @class, ' '), ' current ')]"
                f"[{PAGINATION_ANCESTOR}]")
# A page number as WordPress prints it: "7", "214", "1,234" or "1.234" (number_format_i18n).
PAGE_NUMBER_TEXT = re.compile(r"\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+|\d+")
# Where a WordPress archive URL says which page it is: /page/7/ (pretty permalinks), ?paged=7.
PAGE_NUMBER_IN_URL = re.compile(r"(?:/page/|[?&]paged=)(\d+)(?=[/?&#]|$)")


@dataclass(frozen=True)
class ListingEntry:
    url: str  # absolute, exactly as linked (tracking parameters and all): not canonicalised
    title: str | None
    summary: str | None


class SectionPage(Page):

    @field
    def name(self) -> str | None:
        """The archive heading, e.g. "New Peru left"."""
        for rules in self.rules:
            found = first_match(self.document.selector, self.document.matchable(rules.section_name), skip_noise=True)
            if found:
                return element_text(found[0])
        return None

    @field(default=list, missing="no article entries found")
    def entries(self) -> list[ListingEntry]:
        """Listed articles in page order, each URL once."""
        seen: set[str] = set()
        entries = []
        for entry in map(self._read_entry, self._entry_elements()):
            if entry is not None and entry.url not in seen:
                seen.add(entry.url)
                entries.append(entry)
        return entries

    @field
    def next_page_url(self) -> str | None:
        for rules in self.rules:
            for node in first_match(self.document.selector, self.document.matchable(rules.next_page)):
                url = self.document.absolute(node.attrib.get("href"))
                if url and url != self.url:
                    return url
        return self._next_by_link_text()

    @field
    def last_page_number(self) -> int | None:
        """The archive's number of pages, where its pagination prints it: WordPress links the
        last page by number ("1 2 3 … 214 Next"), and marks the current one (the last page's
        own number on the last page)."""
        numbers = [number for number in map(_page_number, self.document.selector.xpath(CURRENT_PAGE)) if number]
        if self._last_page_link:
            numbers.append(self._last_page_link[0])
        return max(numbers, default=None)

    def page_url(self, number: int) -> str | None:
        """The URL of the archive's page ``number``, written as its last page's link is (only
        the page number differs); None where that link holds no page number to change."""
        if not self._last_page_link:
            return None
        last_number, url = self._last_page_link
        in_url = [m for m in PAGE_NUMBER_IN_URL.finditer(url) if int(m.group(1)) == last_number]
        if len(in_url) != 1:
            return None
        return f"{url[:in_url[0].start(1)]}{number}{url[in_url[0].end(1):]}"

    # --- helpers ---------------------------------------------------------------------
    @cached_property
    def _last_page_link(self) -> tuple[int, str] | None:
        """(number, URL) of the highest-numbered page the pagination links to."""
        best = None
        for link in self.document.selector.xpath(PAGINATION_LINKS):
            number, url = _page_number(link), self.document.absolute(link.attrib.get("href"))
            if number and url and (best is None or number > best[0]):
                best = (number, url)
        return best

    def _entry_elements(self) -> list[Selector]:
        for rules in self.rules:
            found = first_match(self.document.selector, self.document.matchable(rules.listing_entry), skip_noise=True)
            if found:
                return found
        return []

    def _read_entry(self, element: Selector) -> ListingEntry | None:
        link = self._first_in_entry(element, "listing_link")
        if link is None:
            return None
        url = self.document.absolute(link.attrib.get("href"))
        if url is None:
            return None
        summary = self._first_in_entry(element, "listing_summary")
        return ListingEntry(
            url=url,
            title=element_text(link),
            summary=element_text(summary) if summary is not None else None,
        )

    def _first_in_entry(self, element: Selector, field: str) -> Selector | None:
        for rules in self.rules:
            found = first_match(element, self.document.matchable(getattr(rules, field)))
            if found:
                return found[0]
        return None

    def _next_by_link_text(self) -> str | None:
        """Last resort: a pagination link reading "Next"/"Older posts"/"Siguiente"."""
        for link in self.document.selector.css("a[href]"):
            classes = link.attrib.get("class", "") + " " + link.attrib.get("rel", "")
            in_pagination = link.xpath(PAGINATION_ANCESTOR)
            if "prev" in classes or not in_pagination:
                continue
            if NEXT_WORDS.search(element_text(link) or ""):
                return self.document.absolute(link.attrib.get("href"))
        return None


def _page_number(element: Selector) -> int | None:
    """The page number a pagination element shows ("7", "1,234"), or None for "Next" etc."""
    text = element_text(element) or ""
    return int(re.sub(r"\D", "", text)) if PAGE_NUMBER_TEXT.fullmatch(text) else None

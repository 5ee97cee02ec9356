"""A section page (tag or category archive): its name, its listed articles, its next page."""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsel import Selector

from peruwire_crawl.pages.document import Page, element_text, first_match
from peruwire_crawl.pages.fields import field

# Pagination words for "the next, older page" in English and Spanish WordPress themes.
# Spanish "Entradas siguientes" means *newer* posts, so only the singular "siguiente" counts.
PAGINATION_ANCESTOR = "ancestor::*[self::nav or contains(@class, 'pagination') or contains(@class, 'nav-links')]"
NEXT_WORDS = re.compile(r"\b(next|older|siguiente|anteriores|más antiguas|mas antiguas)\b", re.IGNORECASE)


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
            found = first_match(self.document.selector, rules.section_name, skip_noise=True)
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
            for node in first_match(self.document.selector, rules.next_page):
                url = self.document.absolute(node.attrib.get("href"))
                if url and url != self.url:
                    return url
        return self._next_by_link_text()

    # --- helpers ---------------------------------------------------------------------
    def _entry_elements(self) -> list[Selector]:
        for rules in self.rules:
            found = first_match(self.document.selector, rules.listing_entry, skip_noise=True)
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
            found = first_match(element, getattr(rules, field))
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

"""Contracts for `scrapy check peru`: what each callback must give on a real page.

Scrapy's own ``@returns requests N`` counts requests but cannot tell an article from the
next page, and ``@scrapes field`` only checks that a field exists, which every field of a
dataclass item always does. These contracts say what the crawl relies on:

- ``@article_requests N``: at least N requests for article pages (``parse_article``);
- ``@next_page``: one request for the section's next page (``parse_section``), not the
  page itself;
- ``@article title published_at body``: exactly one item, read from the page itself
  (``complete``), whose named fields hold a value. ``published_at`` means a publication
  date the page states (JSON-LD, meta tags, ``<time>`` or the date line): the date in the
  URL alone does not count, since it is there even when the page's markup changed.

Run them on the saved fixtures (``-s PERUWIRE_REPLAY=fixtures/peoplesdispatch``, no
network) or on the live site to see whether its layout still reads.
"""

from __future__ import annotations

from itemadapter import ItemAdapter, is_item
from scrapy import Request
from scrapy.contracts import Contract
from scrapy.exceptions import ContractFail

# Date signals that the page states; "url" is derived from the link, not read from the page.
PAGE_DATE_SIGNALS = frozenset({"jsonld", "meta", "time", "dateline"})


def _requests_to(output, callback_name: str) -> list[Request]:
    return [r for r in output if isinstance(r, Request)
            and getattr(r.callback, "__name__", None) == callback_name]


class ArticleRequestsContract(Contract):
    """``@article_requests N``: the section page yields at least N article requests."""

    name = "article_requests"

    def post_process(self, output):
        minimum = int(self.args[0]) if self.args else 1
        found = _requests_to(output, "parse_article")
        if len(found) < minimum:
            raise ContractFail(f"{len(found)} article requests, expected at least {minimum}")


class NextPageContract(Contract):
    """``@next_page``: the section page yields a request for its next page."""

    name = "next_page"

    def pre_process(self, response):
        self.page_url = response.url

    def post_process(self, output):
        following = [r for r in _requests_to(output, "parse_section") if r.url != self.page_url]
        if len(following) != 1:
            raise ContractFail(f"{len(following)} requests for a next page, expected 1")


class ArticleContract(Contract):
    """``@article field …``: one complete item whose named fields are all filled."""

    name = "article"

    def post_process(self, output):
        items = [x for x in output if is_item(x)]
        if len(items) != 1:
            raise ContractFail(f"{len(items)} items, expected 1")
        item = ItemAdapter(items[0])
        if not item.get("complete", True):
            raise ContractFail(f"the article was not read from its page: {item.get('incomplete_reason')}")
        missing = [name for name in self.args if not self._has(item, name)]
        if missing:
            raise ContractFail(f"the article has no {', '.join(missing)}")

    @staticmethod
    def _has(item: ItemAdapter, name: str) -> bool:
        if name == "published_at" and not item.get(name):
            # A spider item carries the page's date signals; the normalise pipeline picks one.
            return any(c.signal in PAGE_DATE_SIGNALS for c in item.get("date_candidates") or [])
        return bool(item.get(name))

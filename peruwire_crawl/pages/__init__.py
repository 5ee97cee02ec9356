"""Page objects: plain classes that read one saved page and return plain values.

``SectionPage`` reads a tag/category archive, ``ArticlePage`` an article. They fetch
nothing and know nothing of the crawl (the spider decides what to request); they never
raise on a bad page, they list ``problems`` instead. Site quirks live in ``sites/``.
"""

from peruwire_crawl.pages.article import ArticlePage
from peruwire_crawl.pages.section import ListingEntry, SectionPage

__all__ = ["ArticlePage", "ListingEntry", "SectionPage"]

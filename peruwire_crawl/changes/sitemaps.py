"""Sitemaps as a change signal: each article's ``<lastmod>``.

WordPress core publishes ``/wp-sitemap.xml`` (an index of ``wp-sitemap-posts-post-N.xml``
files, each ``<url>`` with its ``<lastmod>``); Yoast SEO and Rank Math publish
``/sitemap_index.xml`` (``post-sitemap.xml``, ``post-sitemap2.xml`` …, the index giving
each file's ``<lastmod>``, so an unchanged file need not be read). Parsing is Scrapy's own
sitemap reader (``scrapy.utils.sitemap``).
"""

from __future__ import annotations

from datetime import datetime, timezone

from scrapy.utils.sitemap import Sitemap

# Tried in this order; what answered is remembered per source.
INDEX_PATHS = ("/wp-sitemap.xml", "/sitemap_index.xml")
# Which files of an index list posts (pages, tags and authors do not concern us).
POST_SITEMAP_MARKERS = ("wp-sitemap-posts-post-", "post-sitemap")


class NotASitemap(ValueError):
    """The response is no sitemap (an HTML page, a soft 404)."""


def read(body: bytes) -> tuple[str, list[tuple[str, datetime | None]]]:
    """``(type, [(loc, lastmod), …])``, type ``sitemapindex`` or ``urlset``."""
    try:
        sitemap = Sitemap(body)
        entries = [(entry["loc"], lastmod(entry.get("lastmod"))) for entry in sitemap if entry.get("loc")]
    except Exception as error:  # why: lxml raises several kinds for bytes that are not XML
        raise NotASitemap(f"not a sitemap ({type(error).__name__})") from None
    if sitemap.type not in ("sitemapindex", "urlset"):
        raise NotASitemap(f"not a sitemap (root element {sitemap.type!r})")
    return sitemap.type, entries


def post_sitemaps(entries: list[tuple[str, datetime | None]], since: datetime | None) -> list[str]:
    """The files of an index that list posts and may have changed since ``since``."""
    return [loc for loc, modified in entries
            if any(marker in loc for marker in POST_SITEMAP_MARKERS)
            and (since is None or modified is None or modified > since)]


def lastmod(value: str | None) -> datetime | None:
    """A W3C datetime (``2023-07-08T09:30:00+00:00``, or a bare date) in UTC."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)

"""WordPress's REST API as a change signal: "which posts of these tags changed since?".

Two kinds of request, both answered with JSON lists (the public WordPress REST API
reference, ``/wp/v2/``):

- terms, once per source (the ids are remembered): ``/wp-json/wp/v2/tags?slug=a,b`` (and
  ``categories``) gives each section's term id;
- posts, every run: ``/wp-json/wp/v2/posts?tags=ID,…&modified_after=…&orderby=modified``
  with ``_fields=link,modified_gmt``, a page of up to 100 small objects; the
  ``X-WP-TotalPages`` header says whether there is another page.

``modified_after`` is read by WordPress in the site's own timezone, which we do not know,
so the query asks a day further back and :func:`changed_posts` compares ``modified_gmt``
(always UTC) itself.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode, urlsplit

# Section URL path prefix -> the REST API's taxonomy collection.
TAXONOMIES = {"tag": "tags", "category": "categories"}
PER_PAGE = 100
TIMEZONE_MARGIN = timedelta(days=1)


class NotAnAnswer(ValueError):
    """The response is not what the REST API sends (an HTML page, a login wall, an error)."""


def section_term(section_url: str) -> tuple[str, str] | None:
    """``https://site/tag/new-peru-left/`` -> ``("tags", "new-peru-left")``; None for a
    section the REST API cannot select (a search page, an author archive)."""
    segments = [s for s in urlsplit(section_url).path.split("/") if s]
    if "page" in segments:  # a later page of an archive: its first page names the term
        segments = segments[:segments.index("page")]
    if len(segments) >= 2 and segments[0] in TAXONOMIES:
        return TAXONOMIES[segments[0]], segments[-1]  # nested categories: the last slug
    return None


def terms_url(origin: str, taxonomy: str, slugs: list[str]) -> str:
    query = urlencode({"slug": ",".join(sorted(slugs)), "_fields": "id,slug", "per_page": PER_PAGE})
    return f"{origin}/wp-json/wp/v2/{taxonomy}?{query}"


def posts_url(origin: str, taxonomy: str, term_ids: list[int], since: datetime, page: int = 1) -> str:
    after = (since - TIMEZONE_MARGIN).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    query = urlencode({
        taxonomy: ",".join(str(i) for i in sorted(term_ids)), "modified_after": after,
        "orderby": "modified", "order": "desc", "per_page": PER_PAGE, "page": page,
        "_fields": "link,modified_gmt",
    })
    return f"{origin}/wp-json/wp/v2/posts?{query}"


def read_list(body: bytes) -> list[dict]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise NotAnAnswer("the answer is not JSON") from None
    if not isinstance(data, list) or not all(isinstance(entry, dict) for entry in data):
        raise NotAnAnswer("the answer is not a list of objects")
    return data


def term_ids(body: bytes) -> dict[str, int]:
    """The ``slug -> id`` of a terms answer."""
    return {str(term["slug"]): int(term["id"]) for term in read_list(body) if "slug" in term and "id" in term}


def changed_posts(body: bytes) -> list[tuple[str, datetime]]:
    """``(link, modified)`` of each post in a posts answer (modified in UTC)."""
    posts = []
    for post in read_list(body):
        link, modified = post.get("link"), post.get("modified_gmt")
        if not isinstance(link, str) or not isinstance(modified, str):
            continue
        try:
            moment = datetime.fromisoformat(modified.removesuffix("Z"))
        except ValueError:
            continue
        posts.append((link, moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment))
    return posts


def total_pages(headers) -> int:
    try:
        return max(1, int(headers.get("X-WP-TotalPages") or 1))
    except (TypeError, ValueError):
        return 1

"""Peoples Dispatch (peoplesdispatch.org).

The site's real class names are unknown (shared/SOURCE.md); these selectors match the
modelled theme in fixtures/peoplesdispatch/ and must be checked against a recorded live
page (fixtures/README.md, "Refreshing from the live site") before they are trusted.
What is known: the listing shows title + standfirst; the article shows title, standfirst,
a "June 16, 2023 by Peoples Dispatch" line, a photo caption, an optional cross-language
link, then the body.
"""

from peruwire_crawl.pages.rules import SiteRules

RULES = SiteRules(
    name="peoplesdispatch",
    section_name=(".pd-archive-title",),
    listing_entry=(".pd-archive-list article.pd-card",),
    listing_link=(".pd-card-title a[href]",),
    listing_summary=(".pd-card-excerpt",),
    next_page=(".pd-pagination a.next[href]",),
    article_root=("article.pd-single",),
    article_title=(".pd-single-title",),
    article_summary=(".pd-single-excerpt",),
    # Yoast fills the meta description from the body when a post has no standfirst.
    summary_from_meta=False,
    dateline=(".pd-single-meta .pd-date",),
    byline=(".pd-single-meta",),
    body=(".pd-single-content",),
    body_skip=(".pd-share", ".pd-translation-note"),
)

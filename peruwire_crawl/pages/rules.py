"""Where each field lives in a page: CSS selectors per site, with generic WordPress fallbacks.

Every rule is a tuple of CSS selectors tried in order of trust; the first that finds
anything wins. A page object asks the site's rules first and the generic rules after, so a
site module only has to name what is special about that site (Fundus style), and a layout
change on the site degrades to the generic rules instead of to nothing.

Where even the generic selectors find nothing (a theme with class names of its own), the page
objects fall back to markup-agnostic heuristics (article.py: the densest paragraph container
for the body, the short line with a date or a "by …" for the dateline and byline), so a new
WordPress site is read without writing code.
"""

from __future__ import annotations

from dataclasses import dataclass

Selectors = tuple[str, ...]


@dataclass(frozen=True)
class SiteRules:
    name: str
    # --- section (tag/category archive) pages ---
    section_name: Selectors = ()
    listing_entry: Selectors = ()  # one element per listed article
    listing_link: Selectors = ()  # inside an entry: the link whose text is the title
    listing_summary: Selectors = ()  # inside an entry: the standfirst/excerpt
    next_page: Selectors = ()  # <a>/<link> elements whose href is the next (older) page
    # --- article pages ---
    article_root: Selectors = ()  # the element holding the article (not sidebars)
    article_title: Selectors = ()
    article_summary: Selectors = ()
    # Whether <meta name=description>/og:description may stand in for a missing standfirst.
    # WordPress SEO plugins fill it from the body when an article has no excerpt, so a site
    # whose pages always show their standfirst turns this off.
    summary_from_meta: bool = True
    dateline: Selectors = ()  # element whose text holds the human date
    byline: Selectors = ()  # element whose text holds "by X" / "por X"
    body: Selectors = ()  # container of the body paragraphs
    body_skip: Selectors = ()  # elements inside the body that are not body text


# Stock WordPress themes (Twenty Ten … Twenty Twenty-Three, Genesis, Astra) and the
# classes WordPress itself prints (hentry, entry-title, page-numbers, posted-on, byline).
GENERIC_WORDPRESS = SiteRules(
    name="generic-wordpress",
    section_name=("h1.page-title span", "h1.page-title", "h1.archive-title", ".archive-header h1",
                  ".page-header h1", ".taxonomy-description h1", "main h1"),
    listing_entry=("article", ".hentry", ".type-post", ".post"),
    listing_link=(".entry-title a[href]", ".post-title a[href]", "h2 a[href]", "h3 a[href]",
                  "a[rel~=bookmark][href]"),
    listing_summary=(".entry-summary", ".entry-excerpt", ".post-excerpt", ".excerpt",
                     ".entry-content", ".post-content", "p"),
    next_page=("link[rel~=next][href]", "a[rel~=next][href]", "a.next.page-numbers[href]",
               ".pagination a.next[href]", ".nav-previous a[href]"),
    article_root=("article.post", "article.type-post", "main article", "article", ".hentry",
                  "main", "#content", "body"),
    article_title=("h1.entry-title", "h1.post-title", "h1.wp-block-post-title", "h1"),
    # The classes themes give a standfirst, then the same words inside a theme's own class
    # ("pd-single-excerpt", "td-post-sub-title"), then a subheading set right under the headline.
    article_summary=(".entry-summary", ".entry-excerpt", ".post-excerpt", ".standfirst",
                     ".entry-subtitle", ".subtitle", ".excerpt", ".lead", ".deck", ".dek",
                     "[class*=standfirst]", "[class*=excerpt]", "[class*=subtitle]",
                     "[class*=sub-title]", "h1 + h2"),
    dateline=(".posted-on", ".entry-date", ".post-date", ".wp-block-post-date", ".entry-meta .date",
              ".date", "time"),
    byline=(".byline", ".entry-author", ".post-author", ".author", ".entry-meta"),
    body=(".entry-content", ".post-content", ".article-content", "[itemprop=articleBody]",
          ".wp-block-post-content"),
    body_skip=("figure", "figcaption", ".wp-caption", ".wp-caption-text", ".sharedaddy",
               "[class*=share]", ".jp-relatedposts", "[class*=related]", ".more-link",
               "aside", "nav", "form", "script", "style", "noscript"),
)

"""An article page: the raw values the normalise pipeline turns into an ArticleItem."""

from __future__ import annotations

import dataclasses
import itertools
import re
from functools import cached_property
from typing import Any

from parsel import Selector

from peruwire_crawl.items import DateCandidate
from peruwire_crawl.normalize.dates import url_date_candidates
from peruwire_crawl.normalize.text import clean_title
from peruwire_crawl.pages.document import (
    NOISE_OR_COMMENTS_TEST,
    NOISE_OR_COMMENTS_XPATH,
    NOISE_TEST,
    Page,
    clean_text,
    element_text,
    first_match,
    is_left_out,
    is_noise_within,
    selector_group,
)
from peruwire_crawl.pages.fields import field, fields_of
from peruwire_crawl.pages.rules import GENERIC_WORDPRESS, SiteRules
from peruwire_crawl.pages.second_opinion import (
    drop_noise,
    looks_complete,
    merge_bodies,
    trafilatura_paragraphs,
    without_fields,
)

BYLINE = re.compile(r"\b(by|por)\s+\S.*$", re.IGNORECASE)
# A human date inside a longer line ("Publicado el 16 de marzo de 2023", "June 16, 2023 by …").
_MONTH = r"[A-Za-zÁÉÍÓÚáéíóúñ]{3,10}\.?"
HUMAN_DATE = re.compile(
    rf"\b\d{{1,2}}\s+de\s+{_MONTH}\s+(?:de|del)\s+\d{{4}}"  # 16 de marzo de 2023
    rf"|\b{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}"  # June 16, 2023
    rf"|\b\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}"  # 16 June 2023 / 16 junio, 2023
    r"|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{4}\b"  # 16/06/2023
    r"|\b\d{4}-\d{2}-\d{2}\b",
    re.IGNORECASE,
)
# Links to the same article in another language, as WordPress sites write them by hand.
TRANSLATION_TEXT = re.compile(
    r"\b(lee|leer|léelo|read|ver|versión|version)\b.{0,20}\b(español|castellano|spanish|english|inglés)\b"
    r"|\b(english|spanish|español|inglés)\s+(version|versión)\b",
    re.IGNORECASE,
)
PHOTO_CREDIT = re.compile(r"^\(?\s*(photo|foto|image|imagen)s?\s*:", re.IGNORECASE)
BODY_BLOCKS = "p, h2, h3, h4, li, blockquote"
_SPACE = re.compile(r"\s+")
# --- for the markup-agnostic fallbacks (used only when no selector of any rule matched) ---
# A date or byline line is short: "March 16, 2023 by Zoe Alexandra", "Publicado el … por X".
META_LINE_MAX = 100
# Elements whose text is never the date/byline line: headlines (a title may say "by") and
# the photo with its caption.
NOT_META_LINE = {"h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "script", "style"}
# A byline written out without author markup: "By Jane Doe", "Por Redacción".
BYLINE_START = re.compile(r"^(?i:by|por)\s+[A-ZÁÉÍÓÚÑ]")
# Elements that mark the author: WordPress' rel=author / .author vcard, schema.org, themes.
AUTHOR_MARK = "a[rel~=author], [itemprop=author], [class*=author]"
# What SEO plugins append when they cut the body short for a meta description.
TRUNCATION = re.compile(r"\s*(\[\s*(…|\.\.\.)\s*\]|…|\.\.\.)\s*$")


def _is_article_type(node: dict) -> bool:
    types = node.get("@type")
    types = types if isinstance(types, list) else [types]
    return any(isinstance(t, str) and (t.endswith("Article") or t.endswith("Posting")) for t in types)


# WordPress marks post formats on the article and the body ("format-video"); an embedded
# player is the other sign of a post whose content is media.
MEDIA_POST_CLASS = re.compile(r"\b(?:post-)?format-(?:video|audio|gallery)\b")
MEDIA_ELEMENTS = ("video, audio, iframe[src*='youtube'], iframe[src*='vimeo'], "
                  ".wp-block-embed-youtube, .wp-block-video, .wp-block-audio")


class ArticlePage(Page):

    # --- identity -------------------------------------------------------------------
    @field
    def canonical_url(self) -> str | None:
        return self.document.link_href("canonical") or self.document.absolute(self.document.og("og:url"))

    @field(missing="no title found")
    def title(self) -> str | None:
        return self._title_and_source[0]

    @field
    def title_from(self) -> str | None:
        """"page" when the title came from the headline element, "meta" from <title>/og:title."""
        return self._title_and_source[1]

    @field
    def summary(self) -> str | None:
        """The standfirst; a meta description only where the site rules allow it."""
        standfirst = self._standfirst
        if standfirst or not self.rules[0].summary_from_meta:
            return standfirst
        description = self.document.og("og:description") or self.document.meta_name("description")
        if description and _is_body_opening(description, "\n\n".join(self._container_paragraphs)):
            return None  # filled in from the body by an SEO plugin: not a standfirst
        return description

    @cached_property
    def _standfirst(self) -> str | None:
        return self._first_text("article_summary", within_article=True)

    # --- dates --------------------------------------------------------------------------
    @field(default=list, missing="no date found")
    def date_candidates(self) -> list[DateCandidate]:
        """Every published date the page offers, most reliable signal first."""
        candidates = [DateCandidate("jsonld", value) for value in self._jsonld_values("datePublished")]
        candidates += [DateCandidate("microdata", v) for v in self._microdata_values("datePublished")]
        published_meta = self._og_values("article:published_time", "article:published:time")
        candidates += [DateCandidate("meta", v) for v in published_meta]
        candidates += [DateCandidate("time", v) for v in self._time_values(published=True)]
        dateline = self._dateline()
        if dateline:
            candidates.append(DateCandidate("dateline", dateline))
        candidates += url_date_candidates(self.url, self.canonical_url)
        return _unique(candidates)

    @field(default=list)
    def modified_candidates(self) -> list[DateCandidate]:
        candidates = [DateCandidate("jsonld", value) for value in self._jsonld_values("dateModified")]
        candidates += [DateCandidate("microdata", v) for v in self._microdata_values("dateModified")]
        modified_meta = self._og_values("article:modified_time", "article:modified:time", "og:updated_time")
        candidates += [DateCandidate("meta", v) for v in modified_meta]
        candidates += [DateCandidate("time", v) for v in self._time_values(published=False)]
        return _unique(candidates)

    # --- people and language ------------------------------------------------------------
    @field
    def byline(self) -> str | None:
        """The byline as shown, from "by"/"por" on: "by Zoe Alexandra"."""
        line = self._first_text("byline", within_article=True) or self._byline_line()
        if not line:
            return None
        match = BYLINE.search(line)
        return match.group(0) if match else line

    @field(default=list)
    def authors(self) -> list[str]:
        """Author names the page states in markup, the most trusted kind that has any:
        structured data (the article's JSON-LD ``author``, else microdata
        ``itemprop=author``), else hCard/rel=author links in the article, else
        ``<meta name=author>``. The publisher's own name (JSON-LD ``publisher``,
        ``og:site_name``) is dropped next to a person's, unless the byline states it.

        Why not all of them together: ``<meta name=author>`` and the structured data's
        fallbacks often hold the publisher ("Condé Nast") when a person wrote the piece,
        and author links outside the byline are commenters' or related posts' authors.
        """
        found = {
            "JSON-LD author": [name for node in self._article_nodes()
                               for name in self._jsonld_author_names(node.get("author"))],
            "microdata author": self._microdata_author_names(),
            "hCard/rel=author": [element_text(link) for link in
                                 self._article_root().css(".author.vcard .fn, .vcard .fn, a[rel~=author]")],
            "<meta name=author>": [self.document.meta_name("author")],
        }
        publishers = {_loose_key(name) for name in self._publisher_names()}
        byline = _loose_key(self.byline or "")
        for origin, names in found.items():
            names = [name for name in names if name]
            people = [name for name in names if _loose_key(name) not in publishers or _loose_key(name) in byline]
            names = people or names  # the publisher alone is a collective byline: kept
            if names:
                self.origins["authors"] = origin
                return _unique(names)
        self.origins["authors"] = "none"
        return []

    @field
    def html_lang(self) -> str | None:
        return clean_text(self.document.selector.xpath("/html/@lang").get())

    @field
    def declared_language(self) -> str | None:
        """The language the page's metadata declares (JSON-LD inLanguage, og:locale).

        Site-wide on WordPress, so it can contradict the text (a Spanish article on an
        en-US site): a hint for the language step, not an answer.
        """
        for node in self._article_nodes() + self.document.jsonld_nodes:
            if isinstance(node.get("inLanguage"), str):
                return clean_text(node["inLanguage"])
        return self.document.og("og:locale")

    # --- content ------------------------------------------------------------------------
    @field(missing="no body text found")
    def body(self) -> str | None:
        """Body paragraphs joined by blank lines; captions, cross-links and widgets left out;
        where our container looks unsure of itself, merged with trafilatura's reading of the
        page (``second_opinion.py``)."""
        ours = self._container_paragraphs
        if self._body_rule is not None and self._body_rule is not GENERIC_WORDPRESS:
            return "\n\n".join(ours) or None  # a site's own rule is exact by design: no second opinion
        if looks_complete(ours, self._body_root, self._paragraph_letters_outside_body):
            return "\n\n".join(ours)  # plain prose that holds the page's paragraphs: nothing to ask
        # The headline and the standfirst are fields of their own; trafilatura counts them as body.
        theirs = without_fields(trafilatura_paragraphs(self.document.text, self.url), self.title, self._standfirst)
        # What our rules call sidebars, widgets and comments stays out of its reading too.
        merged = merge_bodies(ours, drop_noise(theirs, self._noise_words))
        if merged != ours:
            self.origins["body"] = (f"{self.origins['body']}, cross-checked with trafilatura" if merged and ours
                                    and set(merged) <= set(ours) else "trafilatura (our container held much less)")
        return "\n\n".join(merged) or None

    @cached_property
    def _container_paragraphs(self) -> list[str]:
        container = self._body_container
        if container is None:
            return []
        skipped = self._skipped_elements(container)
        paragraphs = []
        for block in container.css(BODY_BLOCKS):
            if _inside(block.root, skipped, container.root) or _has_block_ancestor(block.root, container.root):
                continue
            text = element_text(block)
            if text and not PHOTO_CREDIT.match(text) and not _is_translation_note(text):
                paragraphs.append(text)
        return paragraphs

    @field(default=list)
    def translation_links(self) -> list[str]:
        """URLs of this article in another language: hand-written cross-links, hreflang."""
        urls = []
        for link in self._article_root().css("a[href]"):
            if _is_translation_note(element_text(link) or ""):
                urls.append(self.document.absolute(link.attrib.get("href")))
        for link in self.document.selector.css("link[rel~=alternate][hreflang][href]"):
            if link.attrib.get("hreflang", "").lower() != "x-default":
                urls.append(self.document.absolute(link.attrib.get("href")))
        own = {self.url, self.canonical_url}
        return _unique([url for url in urls if url and url not in own])

    @cached_property
    def media_only(self) -> bool:
        """A video, audio or gallery post: its content is media, not paragraphs, so a
        missing body is what the page is, not a failure to read it. (A property, not a
        field: it decides how the crawl judges the page and is not stored.)"""
        root = self._article_root()
        classes = " ".join(root.xpath("./@class").getall() + self.document.selector.css("body::attr(class)").getall())
        if MEDIA_POST_CLASS.search(classes):
            return True
        return bool(root.css(MEDIA_ELEMENTS))

    # --- helpers ------------------------------------------------------------------------
    @cached_property
    def _title_and_source(self) -> tuple[str | None, str | None]:
        heading = self._first_text("article_title", within_article=True) or self._first_text("article_title")
        structured = self._structured_titles()
        if heading and len(structured) >= 2 and _loose_key(structured[0][1]) == _loose_key(structured[1][1]) \
                and _loose_key(structured[0][1]) != _loose_key(heading):
            # Two declarations of the publisher agree and the headline element does not: the
            # element is more likely a kicker-glued or wrong <h1> than both declarations wrong.
            self.origins["title"] = f"{structured[0][0]} (agrees with {structured[1][0]}; the headline element differs)"
            return structured[0][1], "meta"
        if heading:
            self.origins["title"] = self.origins["article_title"]
            return heading, "page"
        og_title = self.document.og("og:title")
        fallback = og_title or clean_text(self.document.selector.css("title::text").get())
        self.origins["title"] = "og:title" if og_title else "<title>"
        return (fallback, "meta") if fallback else (None, None)

    def _article_root(self) -> Selector:
        """The element holding the article, so sidebars and related posts stay out."""
        return self._found_article_root

    @cached_property
    def _found_article_root(self) -> Selector:  # why cached: a dozen fields ask, each query walks the page
        for rules in self.rules:
            found = first_match(self.document.selector, self.document.matchable(rules.article_root), skip_noise=True)
            if found:
                return found[0]
        return self.document.selector

    def _first_text(self, field: str, within_article: bool = False) -> str | None:
        scope = self._article_root() if within_article else self.document.selector
        ordered = [(rules, css) for rules in self.rules for css in self.document.matchable(getattr(rules, field))]
        for position, (rules, css) in enumerate(ordered):
            if position == 1 and not scope.css(selector_group(tuple(css for _, css in ordered[1:]))):
                return None  # why: one query tells that none of the others matches (no standfirst), not one each
            for node in scope.css(css):
                if is_noise_within(node, scope):
                    continue  # e.g. a related-posts card's excerpt inside the article
                text = element_text(node)
                if text:
                    self.origins[field] = f"{rules.name} rule {field}: {css}"
                    return text
        return None

    def _article_nodes(self) -> list[dict]:
        return [node for node in self.document.jsonld_nodes if _is_article_type(node)]

    def _jsonld_values(self, key: str) -> list[str]:
        """Values of ``key`` on Article nodes first, then on any other node (WebPage)."""
        others = [node for node in self.document.jsonld_nodes if not _is_article_type(node)]
        values = [node.get(key) for node in self._article_nodes() + others]
        return [clean_text(v) for v in values if isinstance(v, str) and clean_text(v)]

    def _jsonld_author_names(self, author) -> list[str]:
        """Names from a JSON-LD author: a string, a Person (``name``, else ``givenName`` and
        ``familyName``), an @id reference, or a list of those."""
        if isinstance(author, list):
            return [name for one in author for name in self._jsonld_author_names(one)]
        if isinstance(author, str):
            return [clean_text(author)] if clean_text(author) else []
        if not isinstance(author, dict):
            return []
        if not author.get("name") and author.get("@id"):
            author = self.document.jsonld_by_id(author["@id"]) or {}
        name = author.get("name")
        if isinstance(name, list):
            return [clean_text(one) for one in name if isinstance(one, str) and clean_text(one)]
        if not isinstance(name, str):
            parts = [author.get(key) for key in ("givenName", "familyName")]
            name = " ".join(part for part in parts if isinstance(part, str))
        return [clean_text(name)] if clean_text(name) else []

    def _structured_titles(self) -> list[tuple[str, str]]:
        """(origin, title) the publisher declares: JSON-LD headline, og:title, twitter:title,
        with the site's name cut off the meta tags' titles."""
        site_names = [name for name in self._publisher_names() if name]
        headlines = [node.get("headline") for node in self._article_nodes()]
        found = [("JSON-LD headline", next((h for h in headlines if isinstance(h, str) and h.strip()), None)),
                 ("og:title", clean_title(self.document.og("og:title"), "meta", site_names)),
                 ("twitter:title", clean_title(self.document.meta_name("twitter:title"), "meta", site_names))]
        return [(origin, clean_title(title, "page")) for origin, title in found if title and clean_title(title, "page")]

    def _microdata_author_names(self) -> list[str]:
        """``itemprop=author`` of the page's Article microdata (read with extruct)."""
        if self._article_nodes() or not self.document.selector.css("[itemprop=author]"):
            return []
        names = []
        for item in self.document.microdata_items:
            if _is_article_type(item):
                names += self._jsonld_author_names(item.get("properties", {}).get("author"))
        if not names:  # an author marked up outside any Article item
            for node in self.document.selector.css("[itemprop=author]"):
                inner = node.css("[itemprop=name]")
                names.append(element_text(inner[0] if inner else node))
        return names

    def _publisher_names(self) -> list[str]:
        names = [self.document.og("og:site_name")]
        for node in self._article_nodes():
            publisher = node.get("publisher")
            if isinstance(publisher, dict) and not publisher.get("name") and publisher.get("@id"):
                publisher = self.document.jsonld_by_id(publisher["@id"]) or {}
            if isinstance(publisher, dict):
                names.append(publisher.get("name") if isinstance(publisher.get("name"), str) else None)
        return [name for name in names if name]

    def _og_values(self, *names: str) -> list[str]:
        return [clean_text(value) for prop, value in self.document.og_properties if prop in names and clean_text(value)]

    def _microdata_values(self, prop: str) -> list[str]:
        """``itemprop=prop`` of the article, when the page has no JSON-LD Article: the first
        one in the article (related items further down carry their own)."""
        if self._article_nodes():
            return []
        for node in self._article_root().css(f"[itemprop={prop}]"):
            value = clean_text(node.attrib.get("content") or node.attrib.get("datetime"))
            if value:
                return [value]
        return []

    def _time_values(self, published: bool) -> list[str]:
        """<time datetime> inside the article: the published one, or the "updated" one."""
        values = []
        for node in self._article_root().css("time[datetime]"):
            is_updated = "updated" in node.attrib.get("class", "") and "published" not in node.attrib.get("class", "")
            if is_updated != published:
                values.append(clean_text(node.attrib["datetime"]))
        return [value for value in values if value][:1]

    def _dateline(self) -> str | None:
        line = self._first_text("dateline", within_article=True)
        if not line:
            found = self._meta_line(lambda text: bool(HUMAN_DATE.search(text)))
            return HUMAN_DATE.search(found).group(0) if found else None
        match = HUMAN_DATE.search(line)
        if match:
            return match.group(0)
        return line if len(line) <= 40 else None  # a long line is not a date

    # --- markup-agnostic fallbacks ------------------------------------------------------
    def _meta_line(self, wanted) -> str | None:
        """Text of the innermost short line in the article, outside the body, that ``wanted``.

        Why: every theme prints the date and author as one short line near the headline,
        but each names its classes differently ("pd-single-meta", "td-post-date"). The
        innermost matching element is taken so a short header around it adds no words.
        """
        root = self._article_root()
        for element in root.root.iter() if hasattr(root.root, "tag") else ():  # document order
            if not self._is_meta_line(element, root) or not wanted(self._short_line(element)):
                continue
            while True:  # narrow down to the innermost element that still matches
                inner = next((child for child in element
                              if self._is_meta_line(child, root) and wanted(self._short_line(child))), None)
                if inner is None:
                    return self._short_line(element)
                element = inner
        return None

    @cached_property
    def _letter_counts(self) -> dict:
        """How many visible letters (no spaces) each element of the article root shows at
        least, by lxml element, counted in one pass from the leaves up.

        Why: the date-line and byline searches want short lines only. Reading every
        element's text anew made them quadratic in the page's size (1.7 s on one long page);
        with these counts an element's text is built only when it can be short.
        """
        root = self._article_root().root
        letters: dict = {}
        if not hasattr(root, "tag"):
            return letters
        for element in reversed(list(root.iter())):  # every element after its descendants
            if isinstance(element.tag, str) and not is_left_out(element):
                letters[element] = _letters(element.text) + sum(letters[child] + _letters(child.tail)
                                                                for child in element if child in letters)
        return letters

    @cached_property
    def _paragraph_letters_outside_body(self) -> int:
        """Letters of the article root's <p>s outside the body container and its noise:
        text our container may have missed."""
        root, body = self._article_root().root, self._body_root
        if not hasattr(root, "iter"):
            return 0
        in_body = set(body.iter("p")) if body is not None else set()
        outside = [p for p in root.iter("p") if p not in in_body]
        if outside:  # why ask only now: finding the noise is a query of its own
            outside = [p for p in outside if p not in self._noise_below_root]
        return sum(_letters(p.text_content()) for p in outside)

    @property
    def _body_root(self):
        """The body container's lxml element, or None."""
        return self._body_container.root if self._body_container is not None else None

    @cached_property
    def _body_elements(self) -> set:
        return set(self._body_root.iter()) if self._body_root is not None else set()

    def _short_line(self, element) -> str | None:
        """The element's visible text when it is a short line outside the body, else None."""
        cache = self.__dict__.setdefault("_short_line_cache", {})
        if element not in cache:
            text = None
            short = self._letter_counts.get(element, META_LINE_MAX + 1) <= META_LINE_MAX
            if short and element not in self._body_elements:
                text = element_text(element)
                text = text if text and len(text) <= META_LINE_MAX else None
            cache[element] = text
        return cache[element]

    def _is_meta_line(self, element, root: Selector) -> bool:
        """A short line outside the body (which may quote dates and "by"), not a headline,
        caption or script, and not in a sidebar or widget below the article root."""
        if not isinstance(element.tag, str) or element.tag.lower() in NOT_META_LINE:
            return False
        if self._short_line(element) is None:
            return False
        return element not in self._noise_below_root

    @cached_property
    def _noise_below_root(self) -> set:
        """Every element in or under a sidebar, widget or related block inside the article
        root (``is_noise_within`` for all of them at once: one query, not one per element)."""
        return {element for noise in self._article_root().xpath(f".//*[{NOISE_TEST}]") for element in noise.root.iter()}

    def _byline_line(self) -> str | None:
        """The line around the author's name, else a short line reading "By …"/"Por …".

        Why: generic byline classes (.byline, .author) are often renamed by themes, but the
        author link keeps rel=author or a class with "author" in it, and the words around it
        ("March 16, 2023 by Zoe Alexandra") are the byline as shown.
        """
        root = self._article_root()
        for mark in root.css(AUTHOR_MARK):
            for element in [mark.root, *mark.root.iterancestors()]:  # innermost first
                if element is root.root.getparent():
                    break  # climbed out of the article
                text = self._short_line(element)
                if text is None:
                    break  # long, or in the body: every ancestor further out is too
                if self._is_meta_line(element, root) and BYLINE.search(text):
                    return text
        return self._meta_line(lambda text: bool(BYLINE_START.search(text)))

    @cached_property
    def _noise_words(self) -> str:
        """The words of the page's sidebars, menus, widgets, related blocks and comments (the
        outermost of each, the body's own wrappers excepted), for ``drop_noise``."""
        body = self._body_root
        keep = set(body.iterancestors()) | {body} if body is not None else set()
        found = [node.root for node in self.document.selector.xpath(f"//*[{NOISE_OR_COMMENTS_TEST}]")]
        noise = set(found)  # the outermost of each nest, found in Python (an ancestor test per element is slow)
        outermost = [el for el in found if el not in keep and not any(up in noise for up in el.iterancestors())]
        return " ".join(element_text(el) or "" for el in outermost)

    @cached_property
    def _body_rule(self) -> SiteRules | None:
        """The rules whose body selector gave the body container (None: the densest run)."""
        self._body_container  # noqa: B018 (it records the rule)
        return self.__dict__.get("_found_body_rule")

    @cached_property
    def _body_container(self) -> Selector | None:
        root = self._article_root()
        for rules in self.rules:
            for css in self.document.matchable(rules.body):
                found = root.css(css)
                if found:
                    self.origins["body"] = f"{rules.name} rule body: {css}"
                    self.__dict__["_found_body_rule"] = rules
                    return found[0]
        # A theme with containers of its own: the densest paragraphs, in the article first
        # (so the sidebar cannot win), then anywhere (the article root may be a wrong guess).
        self.origins["body"] = "the densest paragraph container (no body rule matched)"
        return _densest_paragraph_container(root) or _densest_paragraph_container(self.document.selector)

    def _skipped_elements(self, container: Selector) -> set:
        selectors = tuple(css for rules in self.rules for css in self.document.matchable(rules.body_skip))
        return {node.root for node in container.css(selector_group(selectors))} if selectors else set()


@dataclasses.dataclass
class ArticleReading:
    """What the crawl takes from one article page, as plain data: every field's value, the
    page's problems, and whether it is a media post. Plain data so that it can come back
    from the worker process that read the page (``peruwire_crawl/worker.py``)."""

    fields: dict[str, Any]
    problems: list[str]
    media_only: bool


def read_article(body: bytes, declared: str | None, url: str, rules: tuple[SiteRules, ...]) -> ArticleReading:
    """Read an article page from its response's bytes and declared charset."""
    page = ArticlePage.from_body(body, declared, url, rules)
    problems = page.problems  # reads every field
    values = {name: getattr(page, name) for name in fields_of(ArticlePage)}
    # Why only without a body: whether it is a media post decides nothing otherwise.
    return ArticleReading(values, problems, media_only=not values["body"] and page.media_only)


def _densest_paragraph_container(scope: Selector) -> Selector | None:
    """The element whose own <p> children hold the most text, noise and comments left out.

    Why: the classic text-density heuristic (Readability, boilerpipe). Whatever a theme
    calls its content div, the article's paragraphs sit side by side in it, while menus,
    cards and widgets hold links and short lines, not runs of <p>. Captions and
    translation cross-links do not count towards a container's weight.
    """
    weights: dict = {}
    elements: dict = {}
    for candidate in scope.xpath("descendant-or-self::*[p]"):
        if is_noise_within(candidate, scope, NOISE_OR_COMMENTS_XPATH):
            continue
        weight = sum(len(text) for text in map(element_text, candidate.xpath("./p"))
                     if text and not PHOTO_CREDIT.match(text) and not _is_translation_note(text))
        weights[candidate.root] = weights.get(candidate.root, 0) + weight
        elements[candidate.root] = candidate
        # Readability's rule: a grandparent earns half its grandchildren's weight, so the
        # wrapper of paragraph blocks split by ads or pull quotes can win over one block.
        parent = candidate.root.getparent()
        if parent is not None and parent is not scope.root.getparent():
            weights[parent] = weights.get(parent, 0) + weight / 2
    best = max(weights, key=weights.get, default=None)
    if best is None or not weights[best]:
        return None
    return elements.get(best) or Selector(root=best)


def _is_body_opening(description: str, body: str | None) -> bool:
    """True when a meta description is only the body's first words.

    Why: SEO plugins (Yoast, Rank Math, All in One SEO) fill the description from the start
    of the body when an article has no excerpt; that is not a standfirst, and passing it
    off as one repeats the body's first sentence as the summary.
    """
    if not body:
        return False
    words = TRUNCATION.sub("", " ".join(description.split())).casefold()
    return bool(words) and " ".join(body.split()).casefold().startswith(words)


def _is_translation_note(text: str) -> bool:
    return len(text) <= 60 and bool(TRANSLATION_TEXT.search(text))


def _letters(text: str | None) -> int:
    return len(_SPACE.sub("", text)) if text else 0


def _inside(element, skipped: set, stop) -> bool:
    """Whether ``element`` or an ancestor of it up to ``stop`` is one of ``skipped``."""
    if not skipped:
        return False
    for el in itertools.chain((element,), element.iterancestors()):
        if el in skipped:
            return True
        if el is stop:
            return False
    return False


def _has_block_ancestor(element, stop) -> bool:
    """True for a <p> inside a <li>/<blockquote> already taken whole, so no text repeats."""
    for ancestor in element.iterancestors():
        if ancestor is stop:
            return False
        if isinstance(ancestor.tag, str) and ancestor.tag in ("p", "li", "blockquote", "h2", "h3", "h4"):
            return True
    return False


def _loose_key(text: str) -> str:
    """Letters and digits only, case-folded: "STERN.de" and "stern de" are one name."""
    return "".join(char for char in text.casefold() if char.isalnum())


def _unique(values: list) -> list:
    seen, result = [], []
    for value in values:
        if value not in seen:
            seen.append(value)
            result.append(value)
    return result

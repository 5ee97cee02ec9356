"""A parsed HTML page that never raises: decoding, selectors, text, structured data.

Page objects build on one ``Document``. Anything that goes wrong while reading the page
(undecodable bytes, a broken JSON-LD block) becomes a sentence in ``problems`` instead of an
exception, because one odd page must not stop an unattended crawl.
"""

from __future__ import annotations

import json
import re
from functools import cached_property, lru_cache
from typing import Iterable
from urllib.parse import urljoin

import cssselect
import jstyleson
import lxml.etree
from cssselect import parser as css_parser
from parsel import Selector
from w3lib.encoding import html_to_unicode

from peruwire_crawl.pages.fields import fields_of, plain
from peruwire_crawl.pages.rules import SiteRules
from peruwire_crawl.pages.sites import rules_for

# Elements whose text a reader never sees as content.
HIDDEN_TAGS = {"script", "style", "noscript", "template", "svg", "button", "select", "input"}
HIDDEN_CLASSES = ("screen-reader-text", "sr-only", "visually-hidden")
# Visible, but links to the article rather than words of it ("Continue reading", "Leer más").
NOT_CONTENT_CLASSES = ("more-link",)
# Inline elements join their text to the neighbours; every other element is a word break.
INLINE_TAGS = {"a", "abbr", "b", "bdi", "cite", "code", "em", "i", "mark", "q", "s", "small",
               "span", "strong", "sub", "sup", "u"}

# Any of those class names within an element's class attribute (a substring test, as
# "sr-only-focusable" is screen-reader text too).
_LEFT_OUT_CLASS = re.compile("|".join(map(re.escape, HIDDEN_CLASSES + NOT_CONTENT_CLASSES)))

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
# What XPath's normalize-space() counts as space: not every Unicode space, as str.split() does.
_XML_SPACE = re.compile(r"[ \t\r\n]+")
# Compiled once, and plain strings: parsel's Selector.xpath wraps each result in an object.
_CLASS_VALUES = lxml.etree.XPath("//@class", smart_strings=False)
_ID_VALUES = lxml.etree.XPath("//@id", smart_strings=False)
# JSON-LD and Open Graph are read here, as extruct reads them (its JSON-LD reader's comment
# rules, its Open Graph prefixes); extruct's package imports all its readers (RDFa, rdflib,
# microformats: 0.16 s), which is most of what `peruwire extract` would wait for on a page
# without microdata. Its microdata reader is still used, for pages that have microdata.
_COMMENT_LINE = re.compile(r"^\s*(//.*|<!--.*-->)", re.MULTILINE)
_OG_PREFIXES = {"og", "music", "video", "article", "book", "profile", "product"}
_PREFIX_DECLARATION = re.compile(r"\s*(\w+):\s*(\S+)")

# Containers whose links are navigation or promotion, not the page's own content.
# <body> is never noise, nor a layout wrapper naming content and sidebar together: themes
# put layout classes there (Twenty Seventeen <body class="has-sidebar">, Genesis
# <body class="content-sidebar"> and <div class="content-sidebar-wrap">), and taking them
# for a sidebar would make the whole page noise.
# Page builders (Elementor: "elementor-widget-container") call every content block a
# widget (its "elementor-widget-theme-post-content" is the article itself), and layouts
# name a wrapper after the sidebar it makes room for ("l-sidebar-fixed l-article-body"):
# neither is a widget area or a sidebar.
NOISE_TEST = (
    "not(self::body or self::html) and (self::aside or self::nav"
    " or (self::footer and not(ancestor::article))"
    " or (contains(@class, 'widget') and not(contains(@class, 'widget-container') or contains(@class, 'widget-wrap')"
    " or contains(@class, 'widget-text') or contains(@class, 'post-content')))"
    " or (contains(@class, 'sidebar') and not(contains(@class, 'content') or contains(@class, 'article-body')))"
    " or contains(@class, 'related') or contains(@class, 'most-read') or contains(@class, 'popular'))"
)
NOISE_XPATH = f"ancestor-or-self::*[{NOISE_TEST}]"
# Noise, or the reader comments under an article (WordPress: #comments, .comments-area,
# .comment-list): long comment threads would otherwise win a text-density contest.
NOISE_OR_COMMENTS_TEST = (
    f"not(self::body or self::html) and (({NOISE_TEST}) or @id='comments' or contains(@class, 'comment'))"
)
NOISE_OR_COMMENTS_XPATH = f"ancestor-or-self::*[{NOISE_OR_COMMENTS_TEST}]"


def decode_html(html: str | bytes | None) -> str:
    """Text of the page; bytes are decoded from their BOM or <meta charset>, else UTF-8."""
    if html is None:
        return ""
    if isinstance(html, bytes):
        _, html = html_to_unicode(None, html)
    # lxml refuses str input that declares an encoding, and stops at NUL characters.
    html = html.lstrip("\ufeff").replace("\x00", "")
    return _XML_DECLARATION.sub("", html, count=1)


def decode_body(body: bytes | None, declared: str | None) -> tuple[str, list[str]]:
    """A response's text, from its bytes and the charset it declared, and any problem met
    decoding it.

    Scrapy's ``response.text`` replaces bytes that are invalid in the declared charset with
    U+FFFD, which no later step can repair. A page that is not what it declares (a Latin-1
    page sent as UTF-8, a common server misconfiguration) is read as Windows-1252 instead,
    the superset of Latin-1 that browsers use, and the mismatch is reported.
    """
    body = body or b""
    declared = declared or "utf-8"
    try:
        return body.decode(declared), []
    except (UnicodeDecodeError, LookupError):
        text = body.decode("cp1252", errors="replace")
        return text, [f"the page is not valid {declared} as declared; read it as windows-1252"]


def clean_text(text: str | None) -> str | None:
    """Collapse runs of whitespace (incl. no-break spaces); empty becomes None."""
    if text is None:
        return None
    text = " ".join(text.split())
    return text or None


def element_text(node: Selector | lxml.etree._Element) -> str | None:
    """Visible text of an element: hidden and screen-reader-only parts left out."""
    element = node.root if isinstance(node, Selector) else node
    if not hasattr(element, "tag"):  # an attribute or text result, not an element
        return clean_text(str(element))
    parts: list[str] = []
    walker = lxml.etree.iterwalk(element, events=("start", "end"))
    for event, el in walker:
        if event == "start":
            if is_left_out(el):
                walker.skip_subtree()
                continue
            if not _is_inline(el):
                parts.append(" ")
            parts.append(el.text or "")
        else:
            if not _is_inline(el):
                parts.append(" ")
            if el is not element:
                parts.append(el.tail or "")
    return clean_text("".join(parts))


def is_left_out(el) -> bool:
    """True for an element whose text is not shown: comments, scripts, hidden and a11y-only parts."""
    tag = el.tag
    if not isinstance(tag, str):  # comments and processing instructions
        return True
    if tag in HIDDEN_TAGS or tag.lower() in HIDDEN_TAGS:
        return True
    classes = el.get("class")
    return classes is not None and _LEFT_OUT_CLASS.search(classes) is not None


def _is_inline(el) -> bool:
    # The HTML parser gives lower-case tags, so the first test nearly always decides.
    tag = el.tag
    return tag in INLINE_TAGS or (isinstance(tag, str) and tag.lower() in INLINE_TAGS)


def is_noise(node: Selector) -> bool:
    """True for elements inside sidebars, menus, widgets and related-post blocks."""
    return bool(node.xpath(NOISE_XPATH))


def is_noise_within(node: Selector, scope: Selector, xpath: str = NOISE_XPATH) -> bool:
    """True when a noise container lies between ``scope`` (excluded) and ``node``.

    Only the part of the tree below ``scope`` counts: once an element was chosen as the
    article, what wraps it was judged already (and a theme's wrapper may have a class
    such as "comments-open" that the comment test below would otherwise take for noise).
    """
    around = scope.xpath(f"count({xpath})").get() if hasattr(scope.root, "tag") else "0"
    return float(node.xpath(f"count({xpath})").get()) > float(around)


def could_match(css: str, class_names: frozenset[str], ids: frozenset[str]) -> bool:
    """False when every alternative of ``css`` needs a class name or an id that is not
    among those given (a page's): the selector cannot match there, and need not be run."""
    return any(needed_classes <= class_names and needed_ids <= ids
               for needed_classes, needed_ids in _needed_names(css))


@lru_cache(maxsize=1024)
def _needed_names(css: str) -> tuple[tuple[frozenset[str], frozenset[str]], ...]:
    """For each alternative of a selector group: the class names and ids an element it
    matches must carry, by cssselect's own parse of it."""
    try:
        return tuple(_names_in(alternative.parsed_tree) for alternative in cssselect.parse(css))
    except cssselect.SelectorError:
        return ((frozenset(), frozenset()),)  # let the query itself say what is wrong


def _names_in(tree) -> tuple[frozenset[str], frozenset[str]]:
    if isinstance(tree, css_parser.Class):
        classes, ids = _names_in(tree.selector)
        return classes | {tree.class_name}, ids
    if isinstance(tree, css_parser.Hash):
        classes, ids = _names_in(tree.selector)
        return classes, ids | {tree.id}
    if isinstance(tree, css_parser.CombinedSelector):  # "a b", "a > b": both parts must be there
        (classes, ids), (more_classes, more_ids) = _names_in(tree.selector), _names_in(tree.subselector)
        return classes | more_classes, ids | more_ids
    if isinstance(tree, css_parser.Element) or getattr(tree, "selector", None) is None:
        return frozenset(), frozenset()
    # Attributes, pseudo-classes, :not(), :has(), :is(): only what they qualify is needed
    # (an element matching "p:not(.x)" need not carry, and must not carry, the class x).
    return _names_in(tree.selector)


def first_match(scope: Selector, selectors: Iterable[str], skip_noise: bool = False) -> list[Selector]:
    """Elements of the first CSS selector (in order of trust) that finds any."""
    for css in selectors:
        found = [node for node in scope.css(css) if not (skip_noise and is_noise(node))]
        if found:
            return found
    return []


@lru_cache(maxsize=256)
def selector_group(selectors: tuple[str, ...]) -> str:
    """The CSS selector group that matches what any of ``selectors`` matches."""
    return ", ".join(selectors)


class Document:
    """One HTML page: its selector, its JSON-LD nodes and its Open Graph properties."""

    def __init__(self, html: str | bytes | None, url: str):
        self.url = url
        self.problems: list[str] = []
        self.text = self._decode(html)
        self.selector = self._parse(self.text)

    @property
    def is_empty(self) -> bool:
        return not self.text.strip()

    def _decode(self, html) -> str:
        try:
            return decode_html(html)
        except Exception as error:  # why: unknown encodings must not stop the crawl
            self.problems.append(f"could not decode the page: {error}")
            return ""

    def _parse(self, text: str) -> Selector:
        try:
            selector = Selector(text=text or "<html></html>", base_url=self.url)
            if not hasattr(selector.root, "tag"):
                raise ValueError("no HTML element")
            return selector
        except Exception as error:
            self.problems.append(f"could not parse the HTML: {error}")
            return Selector(text="<html></html>", base_url=self.url)

    def matchable(self, selectors: Iterable[str]) -> tuple[str, ...]:
        """Those of ``selectors`` that can match on this page, in their order.

        Why: site rules list many selectors in order of trust, and most of them miss on any
        one page (a theme has its own class names); each miss is an XPath walk of the tree,
        while a selector that needs a class name or an id the page does not carry is told by
        a set look-up (``could_match``): on the benchmark's listing pages, 40 of 65 queries.
        """
        class_names, ids = self._names
        return tuple(css for css in selectors if could_match(css, class_names, ids))

    @cached_property
    def _names(self) -> tuple[frozenset[str], frozenset[str]]:
        """Every class name and every id on the page. Class names are split where XPath's
        normalize-space splits them (cssselect's class test), ids are whole values."""
        root = self.selector.root
        if not hasattr(root, "xpath"):
            return frozenset(), frozenset()
        class_names = frozenset(_XML_SPACE.split(" ".join(_CLASS_VALUES(root))))
        return class_names - {""}, frozenset(_ID_VALUES(root))

    def absolute(self, href: str | None) -> str | None:
        href = (href or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            return None
        return urljoin(self.url, href)

    # --- JSON-LD -----------------------------------------------------------------------
    @cached_property
    def jsonld_nodes(self) -> list[dict]:
        """Every JSON-LD object on the page: arrays, ``@graph`` members and the ``mainEntity``
        of a WebPage flattened out (news sites nest their NewsArticle in all three ways)."""
        nodes: list[dict] = []
        scripts = self.selector.xpath('//script[@type="application/ld+json"]')
        for number, script in enumerate(scripts, start=1):
            try:
                items = _jsonld_items(script.root.xpath("string()"))
            except Exception as error:  # why: one broken block must not hide the others
                self.problems.append(f"JSON-LD block {number} could not be read: {error}")
                continue
            nodes.extend(_flatten_graph(items))
        return nodes

    @cached_property
    def microdata_items(self) -> list[dict]:
        """The page's microdata items (extruct), flattened like ``jsonld_nodes``; extruct's
        microdata reader is imported only for a page that has microdata."""
        if not self.selector.css("[itemscope]"):
            return []
        try:
            from extruct.w3cmicrodata import MicrodataExtractor

            items = MicrodataExtractor().extract_items(self.selector.root, base_url=self.url)
        except Exception as error:  # why: broken microdata must not hide the rest of the page
            self.problems.append(f"microdata could not be read: {error}")
            return []
        return [dict(item, **{"@type": item.get("type")}) for item in items if isinstance(item, dict)]

    def jsonld_by_id(self, node_id: str) -> dict | None:
        return next((node for node in self.jsonld_nodes if node.get("@id") == node_id), None)

    # --- Open Graph and other <meta> -------------------------------------------------------
    @cached_property
    def og_properties(self) -> list[tuple[str, str]]:
        """``og:*`` and ``article:*`` properties in page order (a property may repeat)."""
        root = self.selector.root
        if not hasattr(root, "xpath"):
            return []
        heads = root.xpath("//head")
        prefixes = set(_OG_PREFIXES)  # the well-known ones, and any the page declares
        for element in ([root] if root.tag == "html" else []) + heads[:1]:
            prefixes.update(name for name, _ in _PREFIX_DECLARATION.findall(element.get("prefix") or ""))
        return [(meta.get("property"), meta.get("content")) for head in heads
                for meta in head.xpath("meta[@property and @content]")
                if meta.get("property").partition(":")[0] in prefixes]

    def og(self, name: str) -> str | None:
        values = (clean_text(value) for prop, value in self.og_properties if prop == name)
        return next((value for value in values if value), None)

    def meta_name(self, name: str) -> str | None:
        value = self.selector.xpath(
            "//meta[translate(@name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')=$name]/@content",
            name=name,
        ).get()
        return clean_text(value)

    def link_href(self, rel: str) -> str | None:
        """Absolute href of the first ``<link rel=...>`` with that rel token."""
        href = self.selector.xpath(
            "//link[contains(concat(' ', normalize-space(@rel), ' '), concat(' ', $rel, ' '))]/@href", rel=rel
        ).get()
        return self.absolute(href)


def _jsonld_items(script: str) -> list:
    """The objects of one JSON-LD block; a leading HTML or JavaScript comment line and
    comments or trailing commas inside are forgiven (jstyleson), as browsers' readers do."""
    try:
        data = json.loads(script, strict=False)
    except ValueError:
        data = jstyleson.loads(_COMMENT_LINE.sub("", script), strict=False)
    return [item for item in (data if isinstance(data, list) else [data]) if item]


def _flatten_graph(items) -> list[dict]:
    nodes: list[dict] = []
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, list):
            nodes.extend(_flatten_graph(item))
            continue
        if not isinstance(item, dict):
            continue
        for container in ("@graph", "mainEntity"):
            if isinstance(item.get(container), list | dict):
                nodes.extend(_flatten_graph(item[container]))
        if "@type" in item:
            nodes.append(item)
    return nodes


class Page:
    """What every page object shares: the parsed document, the site's rules, and being
    built from a Scrapy response (strictly decoded) or from HTML and a URL (tests).

    Subclasses declare their fields with ``@field`` (``fields.py``); ``to_dict`` and
    ``problems`` are derived from that declaration.
    """

    def __init__(self, html: str | bytes | None, url: str, rules: tuple[SiteRules, ...] | None = None):
        self.url = url
        self.document = Document(html, url)
        # The crawl passes its source's rules; without them, the shipped configuration's.
        self.rules = rules or rules_for(url)
        # field -> the rule or signal that gave its value, for ``peruwire extract --explain``
        self.origins: dict[str, str] = {}

    @classmethod
    def from_response(cls, response, rules: tuple[SiteRules, ...] | None = None):
        return cls.from_body(response.body, getattr(response, "encoding", None), response.url, rules)

    @classmethod
    def from_body(cls, body: bytes, declared: str | None, url: str, rules: tuple[SiteRules, ...] | None = None):
        """The page from a response's bytes and declared charset (what a worker process gets)."""
        text, problems = decode_body(body, declared)
        page = cls(text, url, rules)
        page.document.problems.extend(problems)
        return page

    def to_dict(self) -> dict:
        """Every declared field as JSON-ready data, with the page's URL and its problems."""
        values = {"url": self.url}
        values.update((name, plain(getattr(self, name))) for name in fields_of(type(self)))
        values["problems"] = self.problems
        return values

    def explain(self) -> dict[str, str]:
        """Which rule or signal gave each field that says so (every field is read first)."""
        self.to_dict()
        return dict(self.origins)

    @property
    def problems(self) -> list[str]:
        """What could not be read, in sentences: the document's troubles, then every field
        declared with ``missing=`` that came out empty. Reads every field first, so the
        problems met while reading them are in."""
        declared = fields_of(type(self))
        values = {name: getattr(self, name) for name in declared}
        if self.document.is_empty:
            return [*self.document.problems, "the page is empty"]
        return [*self.document.problems,
                *(spec.missing for name, spec in declared.items() if spec.missing and not values[name])]

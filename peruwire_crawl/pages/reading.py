"""What the crawl would store for one article page: the code behind ``peruwire extract``.

    peruwire extract saved-page.html --url https://example.org/2024/05/02/story/
    peruwire extract https://example.org/2024/05/02/story/ --explain

Its two command lines (``peruwire extract``, in ``cli/extract.py``, and ``python -m
peruwire_crawl.extract``) are thin shells over :func:`run` and :func:`render`; it lives here,
below both, because the import layers keep ``cli`` and ``extract`` apart (pyproject.toml).

``published`` is the date as the page states it (a day as "2024-05-02", a time in the
page's own offset, or with none where the page gives none); ``published_utc`` is what the
crawl stores (a time the page states without a zone is read in the source's timezone).

It runs the crawl's own code on the page: the article page object (``pages/``) and the
normaliser (``normalize/article.py``), so it is also the tool to see why a field came out
wrong (``--explain`` says which rule or signal gave each field). Output is one JSON object
on stdout; a problem is an :class:`ExtractError`, one sentence the shells print on stderr
(``peruwire: error: …``) with exit status 1.

A URL is fetched once, politely: the project's ``USER_AGENT``, ``DOWNLOAD_TIMEOUT`` and
robots.txt rule (``ROBOTSTXT_OBEY``) apply, as in the crawl.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.request
import urllib.robotparser
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from peruwire_crawl.items import ArticleItem
from peruwire_crawl.pages import ArticlePage
from peruwire_crawl.pages.document import decode_html
from peruwire_crawl.pages.fields import fields_of

# Fields printed, in this order (DESIGN.md "The article item" names).
OUTPUT_FIELDS = ("title", "summary", "published", "published_utc", "date_precision", "modified", "authors", "language",
                 "body", "translations", "canonical_url")
# The first bytes of a page must show markup within this much text, or it is not HTML.
SNIFF_CHARS = 4096


class ExtractError(Exception):
    """A problem to tell the user in one sentence."""


def item_from_page(page: ArticlePage, url: str, fetched_at: str) -> ArticleItem:
    """The article item the spider makes from an article page with no listing behind it:
    every declared page field that is also an item field, under the same name."""
    item_fields = {spec.name for spec in dataclasses.fields(ArticleItem)}
    raw = {name: getattr(page, name) for name in fields_of(ArticlePage) if name in item_fields}
    raw["title_from"] = raw.get("title_from") or "listing"
    return ArticleItem(url=page.canonical_url or url, source="", translations=page.translation_links,
                       fetched_at=fetched_at, **raw)


_NORMALIZER = None


def default_normalizer():
    """The normaliser with the project's default settings, built once per process."""
    global _NORMALIZER
    if _NORMALIZER is None:
        from peruwire_crawl.normalize.article import ArticleNormalizer

        _NORMALIZER = ArticleNormalizer.from_settings(_project_settings())
    return _NORMALIZER


def extract(html: str | bytes, url: str, *, fetched_at: str | None = None, normalizer=None) -> dict:
    """Everything the crawl would store for this page, plus ``explain`` and ``problems``."""
    from peruwire_crawl.normalize.article import NoUsableTitle

    page = ArticlePage(html, url)
    item = item_from_page(page, url, fetched_at or datetime.now(UTC).isoformat())
    report = None
    try:
        report = (normalizer or default_normalizer()).normalize(item)
        explain = dict(report.explain)
    except NoUsableTitle:
        item.title = None
        explain = {"title": "none found: the crawl would drop this article"}
    explain.update(_page_explain(page, explain))
    chosen = report.published.chosen if report and report.published else None
    result = {
        "title": item.title,
        "summary": item.summary,
        "published": chosen.stated_isoformat() if chosen else None,
        "published_utc": item.published_at,
        "date_precision": item.date_precision,
        "modified": item.modified_at,
        "authors": item.authors,
        "language": item.language,
        "body": item.body,
        "translations": item.translations,
        "canonical_url": item.url,
    }
    result["explain"] = {name: explain[name] for name in OUTPUT_FIELDS if name in explain}
    result["problems"] = page.problems
    return result


def _page_explain(page: ArticlePage, normalized: dict[str, str]) -> dict[str, str]:
    """The page object's origins, worded per output field, with the normaliser's choices."""
    origins = page.explain()
    explain = {}
    if page.title:
        explain["title"] = f"{origins.get('title')} (taken from the {normalized.get('title', 'page')})"
    if "article_summary" in origins and normalized.get("summary") == "page":
        explain["summary"] = origins["article_summary"]
    if "body" in origins:
        explain["body"] = origins["body"]
    byline = f"byline {page.byline!r}" if page.byline else None
    parts = (byline, origins.get("authors"))
    explain["authors"] = "; ".join(part for part in parts if part and part != "none") or "none"
    for which, candidates in (("published", page.date_candidates), ("modified", page.modified_candidates)):
        signal = normalized.get(which)
        value = next((c.value for c in candidates if c.signal == signal), None)
        if signal:
            explain[which] = f"{signal} {value!r}" if value else signal
    return explain


# --- reading the page ---------------------------------------------------------------------
def is_web_address(target: str) -> bool:
    return urlsplit(target).scheme in ("http", "https")


def read_file(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExtractError(f"there is no file {path}") from None
    except OSError as error:
        raise ExtractError(f"cannot read {path}: {error.strerror or error}") from None
    if not looks_like_html(data):
        raise ExtractError(f"{path} is not an HTML page")
    return data


def looks_like_html(data: bytes) -> bool:
    """True when the start of ``data`` is text with markup in it (not an image, PDF, JSON…)."""
    head = data[:SNIFF_CHARS]
    if b"\x00" in head.replace(b"\x00\x00", b"") and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # binary
    text = decode_html(head).lstrip().lower()
    return text.startswith("<") and any(mark in text for mark in ("<html", "<!doctype html", "<head", "<body",
                                                                  "<meta", "<title", "<div", "<p", "<article"))


def fetch(url: str, settings=None) -> tuple[bytes, str]:
    """The page at ``url`` and its final URL, fetched as the crawl fetches (politely)."""
    settings = settings or _project_settings()
    agent = settings.get("USER_AGENT")
    timeout = settings.getfloat("DOWNLOAD_TIMEOUT")
    if settings.getbool("ROBOTSTXT_OBEY") and not _robots_allow(url, agent, timeout):
        raise ExtractError(f"robots.txt of {urlsplit(url).hostname} does not allow fetching {url}")
    request = urllib.request.Request(url, headers={"User-Agent": agent, "Accept": "text/html,*/*;q=0.5"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data, final_url = response.read(), response.geturl()
    except urllib.error.HTTPError as error:
        raise ExtractError(f"{url} answered HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        raise ExtractError(f"could not fetch {url}: {getattr(error, 'reason', error)}") from None
    if not looks_like_html(data):
        raise ExtractError(f"{url} is not an HTML page")
    return data, final_url


def _robots_allow(url: str, agent: str, timeout: float) -> bool:
    parts = urlsplit(url)
    robots = urllib.request.Request(f"{parts.scheme}://{parts.netloc}/robots.txt", headers={"User-Agent": agent})
    try:
        with urllib.request.urlopen(robots, timeout=timeout) as response:
            lines = response.read().decode("utf-8", "replace").splitlines()
    except urllib.error.HTTPError as error:
        return error.code not in (401, 403)  # no robots.txt: allowed; a refused one: not
    except (urllib.error.URLError, OSError):
        return True  # as Scrapy does: an unreachable robots.txt does not forbid
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(lines)
    return parser.can_fetch(agent, url)


def _project_settings():
    """The settings a crawl started here would see (project, then peruwire's defaults)."""
    from peruwire_crawl.addon import crawl_settings  # why here: it imports Scrapy (~0.5 s)

    return crawl_settings()


def run(target: str, url: str | None = None, *, explain: bool = False, settings=None) -> dict:
    """Read ``target`` (a saved file or a web address) and extract it; raises ExtractError."""
    if is_web_address(target) and not Path(target).exists():
        data, final_url = fetch(target, settings)
        url = url or final_url
    else:
        data = read_file(Path(target))
        url = url or Path(target).resolve().as_uri()
    result = extract(data, url)
    if not explain:
        del result["explain"]
    return result


def render(result: dict, compact: bool = False) -> str:
    if compact:
        return json.dumps(result, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(result, ensure_ascii=False, indent=2)

"""Canonical article URLs: one spelling per article, used as its key.

The spider calls :func:`canonical_url` on every link before it fetches it, and dedup and
storage key articles by it, so two spellings of one address are one article
(``shared/DESIGN.md``, "Duplicates").

What ``canonical_url`` does, in order:

1. **w3lib.url.canonicalize_url** does the generic work: strips surrounding whitespace and
   removes tabs/newlines inside (URL Standard), lowercases scheme and host, encodes an
   international host as IDNA, percent-encodes the path and query consistently (``%7e`` ->
   ``~``, ``é`` -> ``%C3%A9``), resolves ``.``/``..`` segments, sorts query parameters and
   drops the fragment.
2. The rest is hand-written here, because w3lib has no notion of it:

   - **default port** dropped (``:80`` for http, ``:443`` for https) and a trailing dot on
     the host dropped (``peoplesdispatch.org.``); w3lib keeps both.
   - **http is upgraded to https.** WordPress sites answer on both and redirect http to
     https, and old articles still link to each other with ``http://``; the design says
     the scheme is ignored, so both spellings must give one key. Not upgraded: a URL with
     an explicit non-default port (``http://host:8080/``), ``localhost`` and IP addresses
     (test servers that speak plain http).
   - **tracking parameters** removed: ``utm_*`` and the click/mail ids in
     :data:`TRACKING_PARAMETERS` (case-insensitive), plus ``amp``. w3lib's
     ``url_query_cleaner`` removes them, but only by exact name, so the names present are
     picked here first (``utm_`` is a prefix, not a name). Deliberately *kept*: ``ref``
     and ``source`` (some sites use them for content), ``p``/``page_id`` (WordPress
     shortlinks), ``lang`` (WPML/Polylang language, a translation is another article). A
     tracking parameter we miss costs at worst a duplicate row, which dedup's title rule
     catches; removing a meaningful one would merge two articles.
   - **WordPress AMP pages**: a trailing ``/amp/`` path segment (AMP plugin) is removed,
     as long as something precedes it (``/amp/`` alone stays).
   - **trailing slash**: a path whose last segment has no dot gets a trailing slash
     (``/2023/01/05/slug`` -> ``/2023/01/05/slug/``), as WordPress permalinks have one
     and redirect to it; a last segment with a dot is a file (``/feed.xml``,
     ``/wp-content/uploads/x.jpg``) and is left alone. WordPress slugs never contain dots.
     This matches the fixture layout (``peruwire_crawl.replay``).

``www.`` is *not* removed: it is a different host name, and a source lists the hosts it
answers on (``sections.toml``). Path letter case is kept (servers may be case-sensitive).

Anything that is not an absolute http(s) URL (``mailto:``, ``javascript:``, a relative or
scheme-relative link, text that w3lib cannot parse) is returned stripped but otherwise
unchanged: there is no base URL here to resolve it against; the spider resolves links
with ``response.urljoin`` first. ``canonical_url`` never raises on a string, and
``canonical_url(canonical_url(u)) == canonical_url(u)`` for every string (tested with
hypothesis).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from w3lib.url import canonicalize_url, url_query_cleaner

HTTP_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters that only say how a reader arrived, never which article it is.
TRACKING_PREFIXES = ("utm_",)
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",  # Facebook
        "gclid",  # Google Ads
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",  # Microsoft Ads
        "yclid",  # Yandex
        "twclid",  # Twitter/X
        "igshid",  # Instagram
        "mc_cid",  # Mailchimp
        "mc_eid",
        "_ga",  # Google Analytics cross-domain
        "_gl",
        "_hsenc",  # HubSpot
        "_hsmi",
        "mkt_tok",  # Marketo
        "amp",  # ?amp / ?amp=1: the AMP rendering of the same article
    }
)
AMP_SEGMENT = "amp"


@lru_cache(maxsize=4096)  # why: a crawl asks for the same few URLs of each article 4 times, 0.05 ms each
def canonical_url(url: str) -> str:
    """The one spelling of ``url`` used to fetch and to key an article.

    >>> canonical_url("HTTP://PeoplesDispatch.org:80/2023/01/05/peru-x?utm_source=tw#top")
    'https://peoplesdispatch.org/2023/01/05/peru-x/'
    """
    text = url.strip()
    if not is_http_url(text):
        return text
    try:
        canonical = _canonicalize_http(text)
    except ValueError:  # bad port, bad IPv6 literal, bad IDNA host (UnicodeError)...
        return text
    return canonical or text


def is_http_url(url: str) -> bool:
    """True for an absolute http or https URL with a host; the only URLs we fetch."""
    try:
        parts = urlsplit(url.strip())
        return parts.scheme in HTTP_SCHEMES and bool(parts.hostname)
    except ValueError:
        return False


def url_host(url: str) -> str:
    """The host of ``url``, lowercased, without port or trailing dot; "" when it has none."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".").lower()


def same_site(url: str, hosts: Iterable[str]) -> bool:
    """True when ``url`` is on one of ``hosts`` (exact host names, case-insensitive).

    ``www.example.org`` and ``example.org`` are different hosts: list both, as
    ``sections.toml`` does.
    """
    host = url_host(url)
    return bool(host) and host in {h.rstrip(".").lower() for h in hosts}


# --- the hand-written steps ---------------------------------------------------------------


def _canonicalize_http(url: str) -> str:
    canonical = canonicalize_url(url)  # sorts the query, drops the fragment
    canonical = _drop_tracking_parameters(canonical)
    parts = urlsplit(canonical)
    scheme = parts.scheme
    host = (parts.hostname or "").rstrip(".")
    if not host or scheme not in HTTP_SCHEMES:
        return ""
    port = parts.port  # raises ValueError when out of range
    if port == DEFAULT_PORTS[scheme]:
        port = None
    if scheme == "http" and port is None and not _is_local(host):
        scheme = "https"
    netloc = _netloc(parts, host, port)
    path = _wordpress_path(parts.path)
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def _drop_tracking_parameters(url: str) -> str:
    _, _, query = url.partition("?")
    if not query:
        return url
    names = {pair.partition("=")[0] for pair in query.split("&")}
    tracking = [name for name in names if _is_tracking(name)]
    if not tracking:
        return url
    return url_query_cleaner(url, tracking, remove=True, unique=False)


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMETERS or name.startswith(TRACKING_PREFIXES)


def _is_local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _netloc(parts, host: str, port: int | None) -> str:
    """Rebuild user:password@host:port from the lowercased host and the kept port."""
    if ":" in host:  # IPv6 literal, which urlsplit returned without its brackets
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    return f"{netloc}:{port}" if port is not None else netloc


def _wordpress_path(path: str) -> str:
    segments = [s for s in path.split("/") if s]
    while len(segments) > 1 and segments[-1].lower() == AMP_SEGMENT:
        segments.pop()
    if not segments:
        return "/"
    trailing_slash = path.endswith("/") or "." not in segments[-1]
    return "/" + "/".join(segments) + ("/" if trailing_slash else "")

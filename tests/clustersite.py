"""A news site on several loopback addresses, for cluster tests and the scale-out benchmark.

Each address (127.0.0.1, 127.0.0.2, 127.0.0.3, ...) is one more host to Scrapy, with its own
robots.txt, Peru tag archive (``/tag/peru/``, paginated) and articles, on the same port.
The pages are generated here, modelled on a stock WordPress theme (the classes WordPress
prints: hentry, entry-title, entry-summary, entry-content, posted-on, page-numbers), which
the page objects' generic WordPress rules read; fixtures/README.md says so too.

Every listing also links one article under ``/private/``, which each host's robots.txt
disallows: a crawl that obeys robots.txt never asks for it.

The server counts every request by (host, path), so a test can check that each article was
fetched exactly once across all workers. ``delay`` slows every article response (seconds),
for tests that must kill a worker while it has requests in flight; :meth:`hold` keeps every
article response waiting (at most a minute) until :meth:`release`, for tests that need a
crawl to be running while they do something else.
"""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from html import escape

ARTICLE_PREFIX = "/2024/"
PRIVATE_PREFIX = "/private/"
SECTION_PATH = "/tag/peru/"

_TOPICS = [
    ("Miners strike in {region}", "Workers at two copper mines stopped work over unpaid wages."),
    ("Teachers march in {region}", "Thousands of teachers walked to the regional government offices."),
    ("Farmers block roads in {region}", "Potato farmers protest the price of fertiliser imports."),
    ("Water dispute reaches {region}", "Communities downstream of a new dam say the river runs dry."),
    ("Elections called in {region}", "The regional council set a date for the vote on its governor."),
]
_REGIONS = ["Arequipa", "Cusco", "Puno", "Piura", "Junín", "Ayacucho", "Loreto", "Tacna", "Áncash"]
_SENTENCES = [
    "Representatives of the assemblies said the talks with the government would continue next week.",
    "Local media reported that the police had been deployed along the main roads of the region.",
    "The ministry said in a statement that a commission would travel to the area on Thursday.",
    "Residents told reporters that the measures would stay in place until their demands were met.",
    "Opposition lawmakers asked the prime minister to appear before Congress to explain the decision.",
    "A spokesperson for the regional federation said more than forty communities had joined.",
    "Economists warned that a long stoppage would hit exports in the second half of the year.",
    "The ombudsman's office called on all sides to avoid violence and to return to dialogue.",
]


@dataclass(frozen=True)
class SiteShape:
    hosts: int = 3  # 127.0.0.1 .. 127.0.0.N
    pages: int = 2  # listing pages per host
    per_page: int = 10  # articles per listing page
    paragraphs: int = 12  # paragraphs per article (more: more parsing work per page)


class ClusterSite:
    def __init__(self, shape: SiteShape = SiteShape(), delay: float = 0.0):
        self.shape = shape
        self.delay = delay
        self.hits: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._servers: list = []
        self._serving = False
        self._released = threading.Event()
        self._released.set()
        self.port = 0

    def hold(self) -> None:
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    # --- addresses ------------------------------------------------------------------
    @property
    def addresses(self) -> list[str]:
        return [f"127.0.0.{n}" for n in range(1, self.shape.hosts + 1)]

    def origin(self, address: str) -> str:
        return f"http://{address}:{self.port}"

    def section_urls(self) -> list[str]:
        return [self.origin(a) + SECTION_PATH for a in self.addresses]

    def article_paths(self) -> list[str]:
        count = self.shape.pages * self.shape.per_page
        return [_article_path(n) for n in range(count)]

    def article_urls(self) -> list[str]:
        return [self.origin(a) + p for a in self.addresses for p in self.article_paths()]

    def private_urls(self) -> list[str]:
        return [self.origin(a) + _private_path() for a in self.addresses]

    # --- what was asked -----------------------------------------------------------------
    def article_hits(self) -> Counter[str]:
        with self._lock:
            return Counter({f"{self.origin(h)}{p}": n for (h, p), n in self.hits.items()
                            if p.startswith(ARTICLE_PREFIX)})

    def hits_under(self, prefix: str) -> int:
        with self._lock:
            return sum(n for (_, p), n in self.hits.items() if p.startswith(prefix))

    # --- serving ------------------------------------------------------------------------
    def __enter__(self) -> "ClusterSite":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        for attempt in range(20):
            try:
                self._bind_all(_free_port() if attempt or not self.port else self.port)
                break
            except OSError:
                self.close()
        else:
            raise RuntimeError("no port free on every loopback address")
        for server in self._servers:
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        self._serving = True

    def _bind_all(self, port: int) -> None:
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 10

            def do_GET(self):  # noqa: N802 - the name http.server calls
                host = self.server.server_address[0]
                path = self.path.split("?", 1)[0]
                with site._lock:
                    site.hits[(host, path)] += 1
                status, body, content_type = site.respond(host, path)
                if path.startswith(ARTICLE_PREFIX):
                    site._released.wait(timeout=60)
                    if site.delay:
                        time.sleep(site.delay)
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            # Several workers connect at once: the default backlog (5) would refuse some,
            # and a refused robots.txt means "everything allowed" to Scrapy.
            request_queue_size = 128
            daemon_threads = True

        self.port = port
        for address in self.addresses:
            server = Server((address, port), Handler)
            self._servers.append(server)

    def close(self) -> None:
        self.release()
        for server in self._servers:
            if self._serving:
                server.shutdown()
            server.server_close()
        self._servers = []
        self._serving = False

    # --- pages ----------------------------------------------------------------------------
    def respond(self, address: str, path: str) -> tuple[int, str, str]:
        html = "text/html; charset=UTF-8"
        if path == "/robots.txt":
            return 200, f"User-agent: *\nDisallow: {PRIVATE_PREFIX}\n", "text/plain"
        if path == SECTION_PATH:
            return 200, self._listing(address, 1), html
        prefix = SECTION_PATH + "page/"
        if path.startswith(prefix) and path[len(prefix):].strip("/").isdigit():
            number = int(path[len(prefix):].strip("/"))
            if 2 <= number <= self.shape.pages:
                return 200, self._listing(address, number), html
        if path in set(self.article_paths()) or path == _private_path():
            return 200, self._article(address, path), html
        return 404, _page(self.origin(address), "Not found", "<p>Nothing here.</p>"), html

    def _listing(self, address: str, number: int) -> str:
        origin = self.origin(address)
        first = (number - 1) * self.shape.per_page
        cards = [_card(origin, n) for n in range(first, first + self.shape.per_page)]
        if number == 1:
            cards.append(_card(origin, None))
        links = ""
        if number > 1:
            previous = SECTION_PATH if number == 2 else f"{SECTION_PATH}page/{number - 1}/"
            links += f'<a class="prev page-numbers" href="{origin}{previous}">&laquo; Newer posts</a> '
        if number < self.shape.pages:
            links += f'<a class="next page-numbers" href="{origin}{SECTION_PATH}page/{number + 1}/">Older posts &raquo;</a>'
        body = (
            '<header class="archive-header"><h1 class="archive-title">Tag: <span>Peru</span></h1></header>\n'
            + "".join(cards)
            + f'<nav class="navigation pagination" aria-label="Posts"><div class="nav-links">{links}</div></nav>\n'
        )
        return _page(origin, "Peru", body)

    def _article(self, address: str, path: str) -> str:
        origin = self.origin(address)
        number = _article_number(path)
        title, summary = _title_summary(number)
        date = _date(number)
        sentences = [_SENTENCES[(number + i) % len(_SENTENCES)] for i in range(self.shape.paragraphs * 3)]
        paragraphs = "\n".join(
            f"    <p>{escape(' '.join(sentences[i:i + 3]))}</p>" for i in range(0, len(sentences), 3))
        head = (
            f'<meta name="description" content="{escape(summary)}">\n'
            f'<link rel="canonical" href="{origin}{path}">\n'
            '<meta property="og:type" content="article">\n'
            f'<meta property="article:published_time" content="{date}T09:30:00-05:00">\n'
        )
        body = (
            '<article class="post type-post status-publish format-standard hentry">\n'
            f'  <header class="entry-header">\n    <h1 class="entry-title">{escape(title)}</h1>\n'
            f'    <div class="entry-summary"><p>{escape(summary)}</p></div>\n'
            f'    <div class="entry-meta"><span class="posted-on"><time class="entry-date published" '
            f'datetime="{date}T09:30:00-05:00">{date}</time></span> '
            f'<span class="byline">by <span class="author vcard"><a href="{origin}/author/redaccion/" '
            'rel="author">Redacción Sur</a></span></span></div>\n  </header>\n'
            f'  <div class="entry-content">\n{paragraphs}\n  </div>\n</article>'
        )
        return _page(origin, title, body, head)


def _article_path(number: int) -> str:
    month, day = 1 + number // 28 % 12, 1 + number % 28
    return f"{ARTICLE_PREFIX}{month:02d}/{day:02d}/report-{number:04d}/"


def _private_path() -> str:
    return f"{PRIVATE_PREFIX}2024/01/01/internal-memo/"


def _article_number(path: str) -> int:
    if path.startswith(PRIVATE_PREFIX):
        return 0
    return int(path.rstrip("/").rsplit("-", 1)[1])


def _date(number: int) -> str:
    return _article_path(number)[1:11].replace("/", "-")


def _title_summary(number: int | None) -> tuple[str, str]:
    if number is None:
        return "Internal memo", "Not for the public."
    title, summary = _TOPICS[number % len(_TOPICS)]
    region = _REGIONS[number % len(_REGIONS)]
    return f"{title.format(region=region)} (report {number})", summary


def _card(origin: str, number: int | None) -> str:
    path = _private_path() if number is None else _article_path(number)
    title, summary = _title_summary(number)
    return (
        '  <article class="post type-post status-publish format-standard hentry">\n'
        f'    <header class="entry-header"><h2 class="entry-title"><a href="{origin}{path}" '
        f'rel="bookmark">{escape(title)}</a></h2></header>\n'
        f'    <div class="entry-summary"><p>{escape(summary)}</p></div>\n  </article>\n'
    )


def _page(origin: str, title: str, body: str, head: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="UTF-8">\n'
        f"<title>{escape(title)} - Sur Noticias</title>\n{head}"
        '<meta property="og:site_name" content="Sur Noticias">\n'
        '<meta name="generator" content="WordPress 6.4.2">\n</head>\n'
        f'<body class="wp-theme-twentytwenty">\n<header id="site-header"><a class="site-title" '
        f'href="{origin}/">Sur Noticias</a></header>\n<main id="site-content" role="main">\n{body}\n</main>\n'
        '<footer id="site-footer"><p class="footer-copyright">Sur Noticias, a test site.</p></footer>\n'
        "</body>\n</html>\n"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


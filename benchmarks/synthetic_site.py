"""A synthetic WordPress news site served on 127.0.0.1, for benchmarks/bench_crawl.py.

It looks like a stock WordPress theme (Twenty Twenty-One markup, as in fixtures/stockwp/):
one tag archive, ``/tag/peru/``, listing 10 articles a page (``/tag/peru/page/N/``) with
WordPress's pagination links (the last page's number is printed); article pages of about
10 KB of HTML with a title, Open Graph and ``article:published_time`` meta tags, a
``<time datetime>`` date line, a byline and a body of paragraphs, half of the articles in
Spanish and half in English. Every response is gzip-compressed and carries an ETag, and
``If-None-Match`` gets a 304, as WordPress behind a cache answers.

Pages are made from a seed, so the same ``size`` always gives the same site; they are
all built before the server answers its first request and then kept, so the server spends
its CPU on HTTP, not on writing pages, and the first crawl waits no longer than the next.
The server counts the requests it answers.

    python benchmarks/synthetic_site.py --articles 1000 --port 8000
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import multiprocessing
import random
import re
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PER_PAGE = 10
TAG_PATH = "/tag/peru/"
FIRST_DAY = datetime(2016, 1, 4, 9, 0, tzinfo=UTC)
# The newest article is published by then at the latest: a date in the future is rejected by
# the crawl (and a crawl with too few dates is unhealthy), so large sites get denser dates.
LAST_DAY = datetime(2025, 12, 31, tzinfo=UTC)
HOURS_BETWEEN_ARTICLES = 5
PARAGRAPHS = 12

WORDS = {
    "es": (
        "el la los las un una de del en con por para que se su sus al como más pero sus sobre "
        "gobierno congreso presidenta presidente ministro región comunidades campesinas "
        "protesta paro nacional dirigentes sindicato maestros mineros pescadores Lima Cusco "
        "Puno Arequipa Apurímac Cajamarca elecciones constitución asamblea reforma acuerdo "
        "población económica política según también después durante además años días "
        "exigen anunciaron denunciaron marcharon rechazo demanda justicia derechos "
        "movilización represión fiscalía tribunal ley agua tierra minería corredor"
    ).split(),
    "en": (
        "the a of in on to and with for by that from as its their after during which was "
        "were has have government congress president minister region communities farmers "
        "protest strike national leaders union teachers miners fishermen Lima Cusco Puno "
        "Arequipa Apurímac Cajamarca elections constitution assembly reform agreement "
        "people economic political according also years days demand announced denounced "
        "marched rejection justice rights mobilisation repression prosecutor court law "
        "water land mining corridor"
    ).split(),
}
AUTHORS = ["Lucía Huamán", "Redacción", "José Quispe", "María Ñahui", "Peter Brown"]
ROBOTS = b"User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n"


def article_count_pages(articles: int) -> int:
    return max(1, -(-articles // PER_PAGE))


def article_language(number: int) -> str:
    """Even-numbered articles are in Spanish, odd ones in English."""
    return "es" if number % 2 == 0 else "en"


def article_number(url: str) -> int:
    """An article URL's number (its slug ends ``-<number>/``)."""
    return int(url.rstrip("/").rsplit("-", 1)[1])


class Site:
    """The pages of a site of ``articles`` articles, newest first, by path."""

    def __init__(self, articles: int, base_url: str):
        self.articles = articles
        self.base_url = base_url.rstrip("/")
        self.last_page = article_count_pages(articles)
        self.between_articles = min(timedelta(hours=HOURS_BETWEEN_ARTICLES), (LAST_DAY - FIRST_DAY) / max(articles, 1))

    # --- one article ---------------------------------------------------------------------

    def language(self, number: int) -> str:
        return article_language(number)

    def published(self, number: int) -> datetime:
        return FIRST_DAY + self.between_articles * number

    def slug(self, number: int) -> str:
        return "-".join(self._words(number, 7, salt="slug")).lower() + f"-{number}"

    def path(self, number: int) -> str:
        day = self.published(number)
        return f"/{day:%Y/%m/%d}/{_ascii(self.slug(number))}/"

    def title(self, number: int) -> str:
        words = self._words(number, 9, salt="title")
        return " ".join(words).capitalize()

    def excerpt(self, number: int) -> str:
        return self._sentence(random.Random(f"excerpt{number}"), self.language(number), 24)

    def author(self, number: int) -> str:
        return AUTHORS[number % len(AUTHORS)]

    def _words(self, number: int, count: int, salt: str) -> list[str]:
        rng = random.Random(f"{salt}{number}")
        words = WORDS[self.language(number)]
        return [rng.choice(words) for _ in range(count)]

    def _sentence(self, rng: random.Random, language: str, count: int) -> str:
        words = [rng.choice(WORDS[language]) for _ in range(count)]
        return " ".join(words).capitalize() + "."

    def _paragraph(self, rng: random.Random, language: str) -> str:
        return " ".join(self._sentence(rng, language, rng.randint(12, 20)) for _ in range(5))

    # --- pages -----------------------------------------------------------------------------

    def paths(self) -> list[str]:
        """Every path the site serves."""
        listings = [TAG_PATH] + [f"{TAG_PATH}page/{number}/" for number in range(2, self.last_page + 1)]
        return ["/robots.txt", *listings, *map(self.path, range(self.articles))]

    def page(self, path: str) -> bytes | None:
        """The HTML of ``path`` (bytes), or None for a page the site does not have."""
        if path == "/robots.txt":
            return ROBOTS
        if path == TAG_PATH:
            return self.listing(1)
        match = re.fullmatch(re.escape(TAG_PATH) + r"page/(\d+)/", path)
        if match:
            number = int(match.group(1))
            return self.listing(number) if 1 < number <= self.last_page else None
        match = re.fullmatch(r"/\d{4}/\d{2}/\d{2}/[a-z0-9-]+-(\d+)/", path)
        if match:
            number = int(match.group(1))
            if number < self.articles and self.path(number) == path:
                return self.article(number)
        return None

    def listing(self, page_number: int) -> bytes:
        newest = self.articles - 1 - (page_number - 1) * PER_PAGE
        numbers = range(newest, max(-1, newest - PER_PAGE), -1)
        entries = "\n".join(self._listing_entry(n) for n in numbers)
        nav = self._pagination(page_number)
        title = "Peru archivos - Noticias Sintéticas"
        main = (
            '<header class="page-header alignwide"><h1 class="page-title">Etiqueta: <span>Peru</span></h1>'
            "</header>\n" + entries + "\n" + nav
        )
        return self._document(title, main, head="", lang="es").encode()

    def _listing_entry(self, number: int) -> str:
        url = self.base_url + self.path(number)
        published = self.published(number)
        return (
            f'<article id="post-{number}" class="post-{number} post type-post status-publish hentry entry">\n'
            f'<header class="entry-header"><h2 class="entry-title default-max-width">'
            f'<a href="{url}">{self.title(number)}</a></h2></header>\n'
            f'<div class="entry-content"><p>{self.excerpt(number)} [&hellip;]</p>\n'
            f'<div class="more-link-container"><a class="more-link" href="{url}">Continuar leyendo</a></div></div>\n'
            f'<footer class="entry-footer default-max-width"><span class="posted-on">Publicado el '
            f'<time class="entry-date published" datetime="{published.isoformat()}">{published:%Y-%m-%d}</time>'
            f'</span><span class="byline">por <span class="author vcard"><a class="url fn n" '
            f'href="{self.base_url}/author/{number % len(AUTHORS)}/">{self.author(number)}</a></span></span></footer>\n'
            "</article>"
        )

    def _pagination(self, page_number: int) -> str:
        def link(n: int, text: str | None = None, css: str = "page-numbers") -> str:
            href = self.base_url + (TAG_PATH if n == 1 else f"{TAG_PATH}page/{n}/")
            return f'<a class="{css}" href="{href}">{text or n}</a>'

        parts = []
        if page_number > 1:
            parts.append(link(page_number - 1, "Entradas siguientes", "prev page-numbers"))
        for n in sorted({1, page_number - 1, page_number, page_number + 1, self.last_page}):
            if 1 <= n <= self.last_page:
                if n == page_number:
                    parts.append(f'<span aria-current="page" class="page-numbers current">{n}</span>')
                else:
                    parts.append(link(n))
        if page_number < self.last_page:
            parts.append(link(page_number + 1, "Entradas anteriores", "next page-numbers"))
        return (
            '<nav class="navigation pagination" aria-label="Entradas"><div class="nav-links">'
            + "".join(parts)
            + "</div></nav>"
        )

    def paragraphs(self, number: int) -> list[str]:
        """The article's body, paragraph by paragraph (about 7,000 characters)."""
        rng = random.Random(f"body{number}")
        return [self._paragraph(rng, self.language(number)) for _ in range(PARAGRAPHS)]

    def article(self, number: int) -> bytes:
        language = self.language(number)
        url = self.base_url + self.path(number)
        title = self.title(number)
        published = self.published(number)
        paragraphs = "\n".join(f"<p>{paragraph}</p>" for paragraph in self.paragraphs(number))
        head = (
            f'<link rel="canonical" href="{url}" />\n'
            f'<meta property="og:locale" content="{"es_PE" if language == "es" else "en_US"}" />\n'
            '<meta property="og:type" content="article" />\n'
            f'<meta property="og:title" content="{title}" />\n'
            f'<meta property="og:description" content="{self.excerpt(number)}" />\n'
            f'<meta property="og:url" content="{url}" />\n'
            f'<meta property="article:published_time" content="{published.isoformat()}" />\n'
        )
        main = (
            f'<article id="post-{number}" class="post-{number} post type-post status-publish hentry entry">\n'
            f'<header class="entry-header alignwide"><h1 class="entry-title">{title}</h1></header>\n'
            f'<div class="entry-content">\n{paragraphs}\n</div>\n'
            f'<footer class="entry-footer default-max-width"><div class="posted-by"><span class="posted-on">'
            f'Publicado el <time class="entry-date published" datetime="{published.isoformat()}">'
            f"{published:%Y-%m-%d}</time></span>"
            f'<span class="byline">por <span class="author vcard"><a class="url fn n" '
            f'href="{self.base_url}/author/{number % len(AUTHORS)}/">{self.author(number)}</a></span></span>'
            "</div></footer>\n</article>"
        )
        return self._document(f"{title} &#8211; Noticias Sintéticas", main, head, language).encode()

    def _document(self, title: str, main: str, head: str, lang: str) -> str:
        base = self.base_url
        menu = "".join(
            f'<li class="menu-item"><a href="{base}/category/{slug}/">{name}</a></li>'
            for slug, name in (("peru", "Perú"), ("bolivia", "Bolivia"), ("opinion", "Opinión"))
        )
        return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="UTF-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>{title}</title>
{head}<link rel='stylesheet' id='twenty-twenty-one-style-css'
 href='{base}/wp-content/themes/twentytwentyone/style.css?ver=1.8' media='all' />
<meta name="generator" content="WordPress 6.2.2" />
</head>
<body class="wp-embed-responsive">
<div id="page" class="site">
<header id="masthead" class="site-header"><div class="site-branding">
<p class="site-title"><a href="{base}/">Noticias Sintéticas</a></p></div>
<nav id="site-navigation" class="primary-navigation"><ul class="menu-wrapper">{menu}</ul></nav></header>
<div id="content" class="site-content"><div id="primary" class="content-area"><main id="main" class="site-main">
{main}
</main></div></div>
<aside class="widget-area"><section class="widget widget_block"><h2>Archivos</h2>
<ul><li><a href="{base}/2023/06/">junio 2023</a></li>
<li><a href="{base}/2023/05/">mayo 2023</a></li></ul></section></aside>
<footer id="colophon" class="site-footer"><div class="site-info">
<a href="{base}/">Noticias Sintéticas</a></div></footer>
</div>
<script src='{base}/wp-content/themes/twentytwentyone/assets/js/primary-navigation.js?ver=1.8'></script>
</body>
</html>
"""


def _ascii(text: str) -> str:
    return text.translate(str.maketrans("áéíóúñÁÉÍÓÚÑ", "aeiounAEIOUN"))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real server does
    # TCP_NODELAY, as nginx and Apache set on kept-alive connections. Without it the body,
    # written after the headers, waits for the client's delayed ACK of them: on some
    # machines every response then took up to 40 ms more, and both crawls waited on the
    # network instead of their CPU (2,000 articles: the bare spider 9.2 s instead of 4.6 s).
    disable_nagle_algorithm = True
    server: _SiteServer

    def do_GET(self):  # noqa: N802 (http.server's naming)
        with self.server.lock:
            self.server.requests.value += 1
        answer = self.server.response(self.path)
        if answer is None:
            self._send(404, b"not found", {})
            return
        body, etag, content_type = answer
        if self.headers.get("If-None-Match") == etag:
            self._send(304, b"", {"ETag": etag})
            return
        headers = {"ETag": etag, "Content-Type": content_type, "Content-Encoding": "gzip"}
        self._send(200, body, headers)

    def _send(self, status: int, body: bytes, headers: dict[str, str]):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002
        pass  # thousands of requests: the counter says enough


class _SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: Site, port: int, requests):
        super().__init__(("127.0.0.1", port), _Handler)
        self.site = site
        self.requests = requests
        self.lock = threading.Lock()
        self._cache: dict[str, tuple[bytes, str, str]] = {}

    def response(self, path: str):
        cached = self._cache.get(path)
        if cached is None:
            html = self.site.page(path)
            if html is None:
                return None
            content_type = "text/plain" if path == "/robots.txt" else "text/html; charset=UTF-8"
            etag = '"' + hashlib.md5(html).hexdigest()[:16] + '"'
            cached = (gzip.compress(html, compresslevel=6, mtime=0), etag, content_type)
            self._cache[path] = cached
        return cached


class ServedSite:
    """The site served by a child process (its CPU is not the crawler's).

    ``with ServedSite(1000) as site:`` gives ``site.section_url`` and ``site.requests()``.
    """

    def __init__(self, articles: int, port: int = 0):
        self.articles = articles
        self.port = port
        self._requests = multiprocessing.Value("q", 0)
        self._ready = multiprocessing.Queue()

    def __enter__(self) -> ServedSite:
        self._process = multiprocessing.get_context("fork").Process(target=self._serve, daemon=True)
        self._process.start()
        self.port = self._ready.get(timeout=600)  # the pages are built first
        return self

    def _serve(self):
        with _SiteServer(Site(self.articles, "http://127.0.0.1"), self.port, self._requests) as server:
            port = server.server_address[1]
            server.site = Site(self.articles, f"http://127.0.0.1:{port}")
            # Every page written and compressed before the first crawl: otherwise the first
            # crawler to run would wait for the server to write them (1.6 ms a page).
            for path in server.site.paths():
                server.response(path)
            self._ready.put(port)
            server.serve_forever()

    def __exit__(self, *exc_info):
        self._process.terminate()
        self._process.join()

    @property
    def section_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{TAG_PATH}"

    def requests(self) -> int:
        return self._requests.value

    def reset_requests(self) -> None:
        self._requests.value = 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    with ServedSite(args.articles, args.port) as site:
        print(f"serving {args.articles} articles at {site.section_url} (Ctrl-C to stop)")
        try:
            site._process.join()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()

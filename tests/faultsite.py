"""A fault-injecting test web site on 127.0.0.1, for reliability tests.

It serves a fixture directory in the replay format (:mod:`peruwire_crawl.replay`) as if it
were the live site, with the fixture's host mapped to ``http://127.0.0.1:PORT``. A second
fixture host (``other_host``) is mapped to ``http://localhost:PORT``: same server, another
host name, so a test can tell whether the crawl ever left its sections' host.

Each test chooses its faults with a :class:`FaultPlan`: a path maps to one fault (served on
every request) or to a list of faults (the n-th request gets the n-th fault; the last one
repeats)::

    plan = FaultPlan({
        "/tag/peru/": [Status(503), Status(503), Ok()],   # a burst, then recovery
        "/2023/06/01/a/": Truncate(after=200),            # every request, truncated
    })
    with FaultSite(root, "faults.example", plan=plan) as site:
        ...crawl site.url("/tag/peru/")...
        assert site.hits("/tag/peru/") == 3

Paths with no entry are served from the fixtures as they are (``Ok()``). Every request is
recorded (method, path, Host header, what was served) so tests can assert on retries.

The server never waits forever: slow responses sleep in short slices and stop when the site
closes, every connection has a socket timeout, and :meth:`FaultSite.close` returns within a
few seconds whatever the clients do.
"""

from __future__ import annotations

import http.server
import socket
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

from peruwire_crawl import replay

LOOPBACK = "127.0.0.1"
OTHER_LOOPBACK_NAME = "localhost"  # the "other host": resolves to this machine only
MAX_SLEEP_SECONDS = 30.0  # no fault keeps a connection longer than this
CONNECTION_TIMEOUT_SECONDS = 10.0


# --- faults ----------------------------------------------------------------------------------


class Fault:
    """How to answer one request. Subclasses implement :meth:`respond`."""

    name = "fault"

    def respond(self, exchange: "Exchange") -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class Ok(Fault):
    """The fixture, as stored (a 404 when the fixture has no such page)."""

    name = "ok"

    def respond(self, exchange):
        exchange.send_stored(exchange.stored())


class Status(Fault):
    """A bare HTTP status with an optional body and headers (500, 503, 404, 429...)."""

    name = "status"

    def __init__(self, code: int, headers: Mapping[str, str] | None = None, body: bytes = b""):
        self.code = code
        self.headers = dict(headers or {})
        self.body = body

    def respond(self, exchange):
        headers = {"Content-Type": "text/html; charset=utf-8", **self.headers}
        exchange.send(self.code, headers, self.body or f"<h1>{self.code}</h1>".encode())


def RetryAfter(seconds: int = 1, code: int = 429) -> Status:
    """Too many requests: come back in ``seconds``."""
    return Status(code, {"Retry-After": str(seconds)})


class Slow(Fault):
    """Wait ``seconds`` before answering (slower than the download timeout, say), then
    answer with ``then``. The wait ends early when the site closes or the client leaves."""

    name = "slow"

    def __init__(self, seconds: float, then: Fault | None = None):
        self.seconds = min(seconds, MAX_SLEEP_SECONDS)
        self.then = then or Ok()

    def respond(self, exchange):
        if exchange.sleep(self.seconds):
            self.then.respond(exchange)


class Truncate(Fault):
    """Announce the full Content-Length, send only ``after`` bytes of the body, then close
    the connection cleanly: a body cut short."""

    name = "truncate"

    def __init__(self, after: int = 200):
        self.after = after

    def respond(self, exchange):
        stored = exchange.stored()
        exchange.send_head(stored.status, stored.headers, content_length=len(stored.body))
        exchange.write(stored.body[: min(self.after, max(len(stored.body) - 1, 0))])
        exchange.close_connection()


class Reset(Fault):
    """Send the headers and ``after`` bytes of the body, then reset the connection (TCP RST)."""

    name = "reset"

    def __init__(self, after: int = 200):
        self.after = after

    def respond(self, exchange):
        stored = exchange.stored()
        exchange.send_head(stored.status, stored.headers, content_length=len(stored.body))
        exchange.write(stored.body[: self.after])
        exchange.reset_connection()


class Body(Fault):
    """A 200 with this body and these headers instead of the fixture."""

    name = "body"

    def __init__(self, body: bytes, content_type: str | None = "text/html; charset=utf-8",
                 headers: Mapping[str, str] | None = None):
        self.body = body
        self.content_type = content_type
        self.headers = dict(headers or {})

    def respond(self, exchange):
        headers = dict(self.headers)
        if self.content_type:
            headers["Content-Type"] = self.content_type
        exchange.send(200, headers, self.body)


def Empty() -> Body:
    """200 OK with an empty body."""
    return Body(b"")


class Redirect(Fault):
    """A redirect. ``to`` is a path on this site (``/a/``), a URL on a fixture host
    (rewritten like the fixtures' links), or any other URL (sent as is)."""

    name = "redirect"

    def __init__(self, to: str, code: int = 302):
        self.to = to
        self.code = code

    def respond(self, exchange):
        location = exchange.site.origin + self.to if self.to.startswith("/") else self.to
        exchange.send(self.code, {"Location": exchange.site.rewrite_text(location)}, b"")


class Oversize(Fault):
    """The fixture padded (inside an HTML comment) to ``size`` bytes. With ``declare_length``
    False the length is not announced, so the client only learns the size while reading."""

    name = "oversize"

    def __init__(self, size: int, declare_length: bool = True):
        self.size = size
        self.declare_length = declare_length

    def respond(self, exchange):
        stored = exchange.stored()
        padding = max(self.size - len(stored.body) - 7, 0)
        body = stored.body + b"<!--" + b"x" * padding + b"-->"
        exchange.send_head(stored.status, stored.headers,
                           content_length=len(body) if self.declare_length else None)
        for start in range(0, len(body), 64 * 1024):
            if not exchange.write(body[start:start + 64 * 1024]):
                return


class GzipBomb(Fault):
    """A small gzip body (Content-Encoding: gzip) that inflates to ``size`` bytes of
    whitespace after a valid HTML start."""

    name = "gzip-bomb"
    _cache: dict[int, bytes] = {}

    def __init__(self, size: int = 64 * 1024 * 1024):
        self.size = size

    def respond(self, exchange):
        headers = {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}
        exchange.send(200, headers, self.compressed(self.size))

    @classmethod
    def compressed(cls, size: int) -> bytes:
        if size not in cls._cache:
            compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
            parts = [compressor.compress(b"<html><body><p>")]
            chunk = b" " * (1024 * 1024)
            for _ in range(size // len(chunk)):
                parts.append(compressor.compress(chunk))
            parts.append(compressor.flush())
            cls._cache[size] = b"".join(parts)
        return cls._cache[size]


class Call(Fault):
    """Run ``action()`` (say, lock the database or record a moment), then answer with ``then``."""

    name = "call"

    def __init__(self, action: Callable[[], None], then: Fault | None = None):
        self.action = action
        self.then = then or Ok()

    def respond(self, exchange):
        self.action()
        self.then.respond(exchange)


# --- the plan --------------------------------------------------------------------------------


class FaultPlan:
    """Which fault answers which request, per path (path and query, as requested)."""

    def __init__(self, faults: Mapping[str, Fault | Iterable[Fault]] | None = None):
        self._lock = threading.Lock()
        self._faults: dict[str, list[Fault]] = {}
        self._served: dict[str, int] = {}
        for path, fault in (faults or {}).items():
            self.set(path, fault)

    def set(self, path: str, fault: Fault | Iterable[Fault]) -> None:
        sequence = [fault] if isinstance(fault, Fault) else list(fault)
        if not sequence:
            raise ValueError(f"no fault given for {path}")
        with self._lock:
            self._faults[path] = sequence
            self._served[path] = 0

    def clear(self, path: str | None = None) -> None:
        """Forget the fault for ``path`` (every path when None): it is served as stored."""
        with self._lock:
            if path is None:
                self._faults.clear()
                self._served.clear()
            else:
                self._faults.pop(path, None)
                self._served.pop(path, None)

    def next_fault(self, path: str) -> Fault:
        with self._lock:
            sequence = self._faults.get(path)
            if sequence is None:
                return Ok()
            position = self._served[path]
            self._served[path] = position + 1
            return sequence[min(position, len(sequence) - 1)]


# --- the server ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One request the site received."""

    method: str
    path: str
    host: str  # the Host header, without the port
    fault: str
    at: float = field(default_factory=time.monotonic)


class FaultSite:
    """The server. Use as a context manager, or call :meth:`start` and :meth:`close`."""

    def __init__(self, root: str | Path, host: str, plan: FaultPlan | None = None,
                 other_host: str | None = None):
        self.root = Path(root)
        self.fixture_host = host
        self.other_fixture_host = other_host
        self.plan = plan or FaultPlan()
        self.closing = threading.Event()
        self._hits: list[Hit] = []
        self._hits_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle

    def start(self) -> "FaultSite":
        self._server = _Server((LOOPBACK, 0), _Handler, site=self)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"faultsite:{self.port}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is None:
            return
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._server.join_handlers(timeout=5.0)
        self._thread.join(timeout=5.0)
        self._server = None

    def __enter__(self) -> "FaultSite":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- addresses

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def origin(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def other_origin(self) -> str:
        """The same server under another host name, for "another host" links and redirects."""
        return f"http://{OTHER_LOOPBACK_NAME}:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    # --- what was requested

    def record(self, hit: Hit) -> None:
        with self._hits_lock:
            self._hits.append(hit)

    @property
    def requests(self) -> list[Hit]:
        with self._hits_lock:
            return list(self._hits)

    def hits(self, path: str, host: str = LOOPBACK) -> int:
        """How many requests ``path`` received on ``host``."""
        return sum(1 for hit in self.requests if hit.path == path and hit.host == host)

    def hosts_seen(self) -> set[str]:
        return {hit.host for hit in self.requests}

    def reset_counts(self) -> None:
        with self._hits_lock:
            self._hits.clear()

    # --- fixtures

    def fixture_host_for(self, request_host: str) -> str | None:
        if request_host == LOOPBACK:
            return self.fixture_host
        if request_host == OTHER_LOOPBACK_NAME:
            return self.other_fixture_host
        return None

    def rewrite(self, data: bytes) -> bytes:
        """Point the fixtures' absolute links at this server."""
        for fixture_host, origin in self._host_map():
            for scheme in (b"https://", b"http://"):
                data = data.replace(scheme + fixture_host.encode(), origin.encode())
            data = data.replace(b"//" + fixture_host.encode(), origin.encode()[len("http:"):])
        return data

    def rewrite_text(self, text: str) -> str:
        return self.rewrite(text.encode("latin-1", "replace")).decode("latin-1")

    def _host_map(self) -> list[tuple[str, str]]:
        pairs = [(self.fixture_host, self.origin)]
        if self.other_fixture_host:
            pairs.append((self.other_fixture_host, self.other_origin))
        return pairs


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address, handler, site: FaultSite):
        self.site = site
        self._handlers: set[threading.Thread] = set()
        self._handlers_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request_thread(self, request, client_address):
        with self._handlers_lock:
            self._handlers.add(threading.current_thread())
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._handlers_lock:
                self._handlers.discard(threading.current_thread())

    def join_handlers(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._handlers_lock:
            handlers = list(self._handlers)
        for thread in handlers:
            thread.join(timeout=max(deadline - time.monotonic(), 0))

    def handle_error(self, request, client_address):
        pass  # a client that hangs up mid-response is the point of many tests


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: faults never leak across
    timeout = CONNECTION_TIMEOUT_SECONDS
    server: _Server

    def do_GET(self):
        site = self.server.site
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        fault = site.plan.next_fault(self.path) if host == LOOPBACK else Ok()
        site.record(Hit(self.command, self.path, host, fault.name))
        fault.respond(Exchange(self, site, host))

    do_HEAD = do_GET

    def log_message(self, format, *args):
        pass  # quiet: tests assert on FaultSite.requests instead


class Exchange:
    """One request being answered: helpers for faults to write (or break) the response."""

    def __init__(self, handler: _Handler, site: FaultSite, host: str):
        self.handler = handler
        self.site = site
        self.host = host

    def stored(self) -> replay.StoredResponse:
        """The fixture for this request, with links pointing at this server."""
        fixture_host = self.site.fixture_host_for(self.host)
        stored = None
        if fixture_host:
            stored = replay.load(self.site.root, f"https://{fixture_host}{self.handler.path}")
        if stored is None:
            return replay.StoredResponse(404, {"Content-Type": "text/html"}, b"<h1>Not found</h1>")
        headers = {name: self.site.rewrite_text(value) for name, value in stored.headers.items()}
        if stored.body and not any(name.lower() == "content-type" for name in headers):
            # As the replay middleware does: a fixture without headers is plain HTML.
            is_text = self.handler.path.split("?")[0].endswith(".txt")
            headers["Content-Type"] = "text/plain" if is_text else "text/html"
        return replay.StoredResponse(stored.status, headers, self.site.rewrite(stored.body))

    def send_stored(self, stored: replay.StoredResponse) -> None:
        self.send(stored.status, stored.headers, stored.body)

    def send(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.send_head(status, headers, content_length=len(body))
        if self.handler.command != "HEAD":
            self.write(body)

    def send_head(self, status: int, headers: Mapping[str, str], content_length: int | None) -> None:
        handler = self.handler
        handler.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "date", "server"):
                handler.send_header(name, value)
        if content_length is not None:
            handler.send_header("Content-Length", str(content_length))
        handler.send_header("Connection", "close")
        handler.end_headers()
        self.flush()

    def write(self, data: bytes) -> bool:
        """Send ``data``; False when the client has gone (or the site is closing)."""
        if self.site.closing.is_set():
            return False
        try:
            self.handler.wfile.write(data)
            self.flush()
            return True
        except OSError:
            return False

    def flush(self) -> None:
        try:
            self.handler.wfile.flush()
        except OSError:
            pass

    def sleep(self, seconds: float) -> bool:
        """Wait; False when the site closed meanwhile."""
        return not self.site.closing.wait(seconds)

    def close_connection(self) -> None:
        """End the connection cleanly (FIN) whatever the headers promised."""
        self.flush()
        try:
            self.handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.handler.close_connection = True

    def reset_connection(self) -> None:
        """Abort the connection: with SO_LINGER set to zero, close() sends a TCP RST."""
        self.flush()
        connection = self.handler.connection
        try:
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()
        except OSError:
            pass
        self.handler.close_connection = True



# --- a generated news site (runs that must keep what they read: issue 13) -------------------
#
# Made up on the fly rather than stored: as many listing pages and articles as a test needs,
# endless pagination included. Markup of a stock WordPress theme, so the generic rules read it.


class Generated(Fault):
    """A 200 whose HTML ``render(origin)`` writes, links pointing at this server."""

    name = "generated"

    def __init__(self, render: Callable[[str], str], headers: Mapping[str, str] | None = None):
        self.render = render
        self.headers = dict(headers or {})

    def respond(self, exchange):
        body = self.render(exchange.site.origin).encode("utf-8")
        exchange.send(200, {"Content-Type": "text/html; charset=utf-8", **self.headers}, body)


@dataclass
class NewsArticle:
    path: str
    title: str = ""  # "" = no title anywhere: not in the listing, not on the page
    declares: str | None = None  # the path (or URL) its rel=canonical names
    media_only: bool = False  # a video post: a player, no body text
    day: str = "2023-06-01"

    def listing_html(self, origin: str) -> str:
        return (f'<article class="post"><h2 class="entry-title"><a href="{origin}{self.path}">{self.title}</a>'
                f'</h2><div class="entry-summary"><p>What happened, in one line.</p></div></article>')

    def page_html(self, origin: str) -> str:
        canonical = ""
        if self.declares is not None:
            href = self.declares if "://" in self.declares else origin + self.declares
            canonical = f'<link rel="canonical" href="{href}">'
        heading = f'<h1 class="entry-title">{self.title}</h1>' if self.title else ""
        if self.media_only:
            content = '<figure class="wp-block-embed-youtube"><iframe src="https://www.youtube.com/embed/x"></iframe></figure>'
        else:
            content = "".join(f"<p>Paragraph {n} of the report on {self.title or 'it'}, with enough words "
                              "to be a paragraph of an article body.</p>" for n in range(1, 4))
        return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
                f'<title>{self.title}</title>{canonical}'
                f'<meta property="article:published_time" content="{self.day}T10:00:00+00:00"></head>'
                f'<body><main><article class="post{" format-video" if self.media_only else ""}">{heading}'
                f'<div class="entry-meta"><time datetime="{self.day}T10:00:00+00:00">{self.day}</time></div>'
                f'<div class="entry-content">{content}</div></article></main></body></html>')


class NewsPlan(FaultPlan):
    """A fault plan over a generated news site: sections of listing pages (``/tag/<name>/``,
    then ``/tag/<name>/page/<n>/``) listing ``per_page`` articles each, and the articles'
    pages. ``pages=None`` makes a section's pagination endless, every page listing new
    articles. Paths with a planned fault get it; the rest of the site is generated, with
    ``listing_delay``/``article_delay`` seconds before each answer. ``numbered_pages`` prints
    WordPress's numbered pagination too ("1 2 … 9 Older"), whose last number is the
    section's page count; otherwise a page links only the next one."""

    def __init__(self, sections: Mapping[str, int | None], per_page: int = 5,
                 articles: Iterable[NewsArticle] = (), listing_delay: float = 0.0,
                 article_delay: float = 0.0, faults: Mapping[str, Fault | Iterable[Fault]] | None = None,
                 numbered_pages: bool = False):
        super().__init__(faults)
        self.sections = dict(sections)
        self.per_page = per_page
        self.numbered_pages = numbered_pages
        self.listing_delay = listing_delay
        self.article_delay = article_delay
        # Articles given by the test come first on the first section's first page.
        self.extra = list(articles)
        self._articles = {article.path: article for article in self.extra}

    def section_url_paths(self) -> list[str]:
        return [f"/tag/{name}/" for name in self.sections]

    def listed_on(self, name: str, page: int) -> list[NewsArticle]:
        first = list(self.sections).index(name) == 0 and page == 1
        made = [NewsArticle(f"/2023/06/{1 + (page - 1) % 28:02d}/{name}-{page}-{n}/", f"{name} {page} {n} report")
                for n in range(1, self.per_page + 1)]
        return (self.extra if first else []) + made

    def next_fault(self, path: str) -> Fault:
        with self._lock:
            planned = path in self._faults
        if planned:
            return super().next_fault(path)
        listing = self._listing(path)
        if listing is not None:
            return Slow(self.listing_delay, listing) if self.listing_delay else listing
        article = self._articles.get(path) or self._generated_article(path)
        if article is not None:
            page = Generated(article.page_html)
            return Slow(self.article_delay, page) if self.article_delay else page
        return Ok()

    def _listing(self, path: str) -> Fault | None:
        parts = path.strip("/").split("/")
        if len(parts) not in (2, 4) or parts[0] != "tag" or parts[1] not in self.sections:
            return None
        name, page = parts[1], int(parts[3]) if len(parts) == 4 and parts[3].isdigit() else 1
        last = self.sections[name]
        if last is not None and page > last:
            return Status(404)
        entries = self.listed_on(name, page)
        has_next = last is None or page < last

        def render(origin: str) -> str:
            link = f'<a class="next page-numbers" href="{origin}/tag/{name}/page/{page + 1}/">Older</a>' if has_next else ""
            if self.numbered_pages and last is not None:
                numbers = sorted({1, page - 1, page, page + 1, last} & set(range(1, last + 1)))
                link = "".join(
                    f'<span aria-current="page" class="page-numbers current">{n}</span>' if n == page
                    else f'<a class="page-numbers" href="{origin}/tag/{name}/{f"page/{n}/" if n > 1 else ""}">{n}</a>'
                    for n in numbers) + link
            items = "".join(entry.listing_html(origin) for entry in entries)
            return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{name}</title></head>'
                    f'<body><main><h1 class="page-title">{name}</h1>{items}'
                    f'<nav class="pagination">{link}</nav></main></body></html>')

        return Generated(render)

    def _generated_article(self, path: str) -> NewsArticle | None:
        slug = path.strip("/").split("/")[-1]
        if not any(slug.startswith(f"{section}-") for section in self.sections):
            return None
        section, page, n = slug.rsplit("-", 2)
        return NewsArticle(path, f"{section} {page} {n} report")


class FailingPipeline:
    """An item pipeline that fails with an error on items whose title holds ``FAILS``: how
    a pipeline loses an item to a bug or a bad value, for the health checks' tests. Add it
    with ``-s ITEM_PIPELINES=...`` (``tests.faultsite.FailingPipeline``)."""

    FAILS = "pipeline-fails"

    def process_item(self, item, spider=None):
        if self.FAILS in (item.get("title") if isinstance(item, dict) else getattr(item, "title", "") or ""):
            raise OverflowError("date value out of range")
        return item


# --- safety faults (issue 13: hostile headers and paths) --------------------------------------


class WithDate(Fault):
    """The fixture, sent with this exact ``Date`` header (year 9999, garbage...) instead of
    the server's clock."""

    name = "with-date"

    def __init__(self, date: str):
        self.date = date

    def respond(self, exchange):
        stored = exchange.stored()
        handler = exchange.handler
        handler.send_response_only(stored.status)  # without the Date send_response adds
        handler.send_header("Date", self.date)
        for name, value in stored.headers.items():
            if name.lower() not in ("content-length", "date", "server"):
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(stored.body)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        exchange.write(stored.body)


class ListingWithLinks(Fault):
    """The stored listing page with more article entries (``{path: title}``) before its
    first one: hostile links a test wants the crawl to meet."""

    name = "listing-with-links"

    def __init__(self, links: Mapping[str, str]):
        self.links = dict(links)

    def respond(self, exchange):
        stored = exchange.stored()
        entries = "".join(
            f'<article class="post type-post status-publish format-standard hentry"><header class="entry-header">'
            f'<h2 class="entry-title"><a href="{exchange.site.origin}{path}" rel="bookmark">{title}</a></h2>'
            "</header></article>\n"
            for path, title in self.links.items()
        ).encode()
        at = stored.body.find(b"<article")
        body = stored.body[:at] + entries + stored.body[at:] if at >= 0 else stored.body + entries
        exchange.send(stored.status, stored.headers, body)

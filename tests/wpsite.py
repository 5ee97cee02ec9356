"""A modelled WordPress site on 127.0.0.1, for the change signals' end-to-end tests.

It serves fixture snapshots (the replay format, several roots layered, overlay first) as a
live site would: the fixture host is mapped to ``http://127.0.0.1:PORT``, every page gets
an ``ETag`` (a hash of its body) and a conditional GET whose ETag still matches gets a
``304``; the ``Date`` header is the snapshot's moment (``replay.json``), as replay sends it.
Where the snapshot has a ``wordpress.json`` (the posts and tags WordPress would hold), it
answers the REST API's ``/wp-json/wp/v2/{posts,tags,categories}`` queries from it the way
WordPress does (``slug``, ``tags``/``categories``, ``modified_after``, ``orderby=modified``,
``per_page``/``page`` with ``X-WP-Total``/``X-WP-TotalPages``, ``_fields``). ``rest`` and
``sitemaps`` switch those off (404), for a site that offers neither.

Switch snapshots between runs by assigning ``site.roots``; ``site.requests`` lists the
paths asked, for counting.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import math
import threading
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from peruwire_crawl import replay

LOOPBACK = "127.0.0.1"


class WordPressSite:
    def __init__(self, roots: list[Path], host: str = "peoplesdispatch.org", *, rest: bool = True,
                 sitemaps: bool = True):
        self.roots = list(roots)
        self.host = host
        self.rest = rest
        self.sitemaps = sitemaps
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer((LOOPBACK, 0), _Handler)
        self._server.site = self
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> "WordPressSite":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def origin(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.origin + path

    def rewrite(self, data: bytes) -> bytes:
        return data.replace(f"https://{self.host}".encode(), self.origin.encode())

    def asked(self, prefix: str = "/") -> list[str]:
        with self._lock:
            return [path for path in self.requests if path.startswith(prefix)]

    # --- answers

    def answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(path)
        parts = urlsplit(path)
        if parts.path.startswith("/wp-json/"):
            return self._rest(parts) if self.rest else _not_found()
        if "sitemap" in parts.path and not self.sitemaps:
            return _not_found()
        stored = replay.load_layered(self.roots, f"https://{self.host}{path}")
        if stored is None:
            return _not_found()
        headers = dict(stored.headers)
        headers.setdefault("Content-Type", "text/plain" if parts.path.endswith(".txt") else "text/html; charset=UTF-8")
        return stored.status, headers, self.rewrite(stored.body)

    def _rest(self, parts) -> tuple[int, dict[str, str], bytes]:
        data = self._wordpress()
        route = parts.path.removeprefix("/wp-json/wp/v2/").strip("/")
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        if data is None or route not in ("posts", "tags", "categories"):
            return 404, {"Content-Type": "application/json"}, b'{"code":"rest_no_route","data":{"status":404}}'
        rows = list(data[route])
        if "slug" in query:
            rows = [row for row in rows if row["slug"] in query["slug"].split(",")]
        for taxonomy in ("tags", "categories"):
            if taxonomy in query and route == "posts":
                wanted = {int(i) for i in query[taxonomy].split(",")}
                rows = [row for row in rows if wanted & set(row[taxonomy])]
        if "modified_after" in query:
            after = datetime.fromisoformat(query["modified_after"])
            rows = [row for row in rows if datetime.fromisoformat(row["modified_gmt"]) > after]
        if query.get("orderby") == "modified":
            rows.sort(key=lambda row: row["modified_gmt"], reverse=query.get("order", "desc") == "desc")
        per_page, page = int(query.get("per_page", 10)), int(query.get("page", 1))
        total = len(rows)
        rows = rows[(page - 1) * per_page: page * per_page]
        if "_fields" in query:
            fields = query["_fields"].split(",")
            rows = [{name: row[name] for name in fields if name in row} for row in rows]
        headers = {"Content-Type": "application/json; charset=UTF-8", "X-WP-Total": str(total),
                   "X-WP-TotalPages": str(max(1, math.ceil(total / per_page)))}
        return 200, headers, self.rewrite(json.dumps(rows).encode())

    def _wordpress(self) -> dict | None:
        for root in self.roots:
            path = Path(root, "wordpress.json")
            if path.exists():
                return json.loads(path.read_text("utf-8"))
        return None

    def date_header(self) -> str | None:
        moment = replay.layered_facts(self.roots).get("fetched_at")
        return format_datetime(datetime.fromisoformat(moment), usegmt=True) if moment else None


def _not_found() -> tuple[int, dict[str, str], bytes]:
    return 404, {"Content-Type": "text/html"}, b"<h1>Not found</h1>"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    timeout = 10

    def do_GET(self):
        site: WordPressSite = self.server.site
        status, headers, body = site.answer(self.path)
        etag = f'"{hashlib.sha1(body).hexdigest()[:16]}"'
        if status == 200 and self.headers.get("If-None-Match") == etag:
            status, body = 304, b""
        self.send_response(status)
        for name, value in headers.items():
            if status != 304 or name.lower() != "content-type":
                self.send_header(name, value)
        if status in (200, 304):
            self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def date_time_string(self, timestamp=None):
        """The Date header http.server sends: the snapshot's moment, when it has one."""
        return self.server.site.date_header() or super().date_time_string(timestamp)

    def log_message(self, format, *args):
        pass

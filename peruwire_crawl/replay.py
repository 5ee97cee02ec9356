"""The fixture format: a browsable mirror of the site's URL paths.

A response for ``https://host/a/b/`` lives at ``ROOT/host/a/b/index.html``; a URL whose
last segment has an extension (``/robots.txt``, ``/feed.xml``) at ``ROOT/host/robots.txt``.
A query string becomes part of the file name (``index.html?page=2`` → ``index?page=2.html``)
so that two URLs never share a file.

Beside a body file, an optional ``<file>.meta.json`` holds what the body cannot say:
``{"status": 301, "headers": {"Location": "..."}}``. A meta file may exist without a body
(a redirect, a 500). ``ROOT/replay.json`` holds facts for the whole snapshot, such as
``{"fetched_at": "2023-07-01T12:00:00+00:00"}``: the moment the snapshot stands for, sent
as the ``Date`` header, so relative dates ("3 days ago") resolve the same way every day.

A snapshot can be a small overlay on another: ``PERUWIRE_REPLAY=later:base`` (several roots
joined by ``os.pathsep``) answers each URL from the first root that has it, so "the site a
week later" holds only the pages that changed.

The same functions serve replay (reading) and record (writing), so the two cannot drift.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote, urlsplit

META_SUFFIX = ".meta.json"
SNAPSHOT_FILE = "replay.json"


def url_to_path(root: str | Path, url: str) -> Path:
    """Where the response for ``url`` is kept under ``root``."""
    parts = urlsplit(url)
    host = (parts.hostname or "unknown-host").lower()
    if parts.port:
        host = f"{host}_{parts.port}"
    segments = [unquote(s) for s in parts.path.split("/") if s and s not in (".", "..")]
    last = segments[-1] if segments else ""
    if not parts.path.endswith("/") and "." in last:
        directory, name = segments[:-1], last
    else:
        directory, name = segments, "index.html"
    if parts.query:
        stem, dot, ext = name.rpartition(".")
        stem, ext = (stem, ext) if dot else (name, "")
        query = quote(parts.query, safe="=&-_.")
        name = f"{stem}?{query}.{ext}" if ext else f"{stem}?{query}"
    return Path(root, host, *PurePosixPath(*directory).parts, name) if directory else Path(root, host, name)


@dataclass
class StoredResponse:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def load(root: str | Path, url: str) -> StoredResponse | None:
    """The stored response for ``url``, or None when the snapshot has none."""
    body_path = url_to_path(root, url)
    meta_path = body_path.with_name(body_path.name + META_SUFFIX)
    if not body_path.exists() and not meta_path.exists():
        return None
    meta = json.loads(meta_path.read_text("utf-8")) if meta_path.exists() else {}
    return StoredResponse(
        status=int(meta.get("status", 200)),
        headers=dict(meta.get("headers", {})),
        body=body_path.read_bytes() if body_path.exists() else b"",
    )


def save(root: str | Path, url: str, response: StoredResponse) -> Path:
    """Write ``response`` for ``url`` under ``root``; the meta file only when needed."""
    body_path = url_to_path(root, url)
    meta_path = body_path.with_name(body_path.name + META_SUFFIX)
    body_path.parent.mkdir(parents=True, exist_ok=True)
    meta = {}
    if response.status != 200:
        meta["status"] = response.status
    if response.headers:
        meta["headers"] = response.headers
    # Re-recording over an older snapshot: no file of the old response may survive.
    for path, keep in ((body_path, bool(response.body)), (meta_path, bool(meta))):
        if not keep:
            path.unlink(missing_ok=True)
    if response.body:
        body_path.write_bytes(response.body)
    if meta:
        meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return body_path


def snapshot_facts(root: str | Path) -> dict:
    path = Path(root, SNAPSHOT_FILE)
    return json.loads(path.read_text("utf-8")) if path.exists() else {}


def split_roots(value: str) -> list[Path]:
    """``"later:base"`` -> [Path("later"), Path("base")]: overlay first."""
    return [Path(part) for part in str(value).split(os.pathsep) if part]


def load_layered(roots: list[Path], url: str) -> StoredResponse | None:
    """The response for ``url`` from the first root that has one."""
    for root in roots:
        stored = load(root, url)
        if stored is not None:
            return stored
    return None


def layered_facts(roots: list[Path]) -> dict:
    """Snapshot facts, the overlay's winning over the base's."""
    facts: dict = {}
    for root in reversed(roots):
        facts.update(snapshot_facts(root))
    return facts

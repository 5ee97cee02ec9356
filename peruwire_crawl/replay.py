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

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

META_SUFFIX = ".meta.json"
SNAPSHOT_FILE = "replay.json"


class OutsideRoot(ValueError):
    """The file for a URL would lie outside the snapshot's directory: refused."""


# A file name longer than this (in bytes; most file systems allow 255) is shortened and
# made unique with a hash of the whole name.
MAX_NAME_BYTES = 120
# Characters a decoded path segment may not carry into a file name: a server could write
# outside the directory with "..%2F" in a link or a Location header.
_SEPARATORS = re.compile(r"[/\\\x00]")


def url_to_path(root: str | Path, url: str) -> Path:
    """Where the response for ``url`` is kept under ``root``.

    Raises :class:`OutsideRoot` when that place would not be inside ``root`` once resolved
    (a symlink in the snapshot pointing elsewhere, say). Decoded separators stay escaped
    in the name (``..%2Fetc`` is one file, never a way up), and over-long names are hashed.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "unknown-host").lower()
    if parts.port:
        host = f"{host}_{parts.port}"
    segments = [_file_name(unquote(s)) for s in parts.path.split("/")]
    segments = [s for s in segments if s not in ("", ".", "..")]
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
    path = Path(root, host, *directory, _shortened(name))
    return _confined(Path(root), path, url)


def _file_name(segment: str) -> str:
    """A decoded path segment as one file name: separators put back as %XX, never split."""
    segment = _SEPARATORS.sub(lambda match: f"%{ord(match[0]):02X}", segment)
    return _shortened(segment)


def _shortened(name: str) -> str:
    """``name``, or when too long its start, a hash of all of it, and its extension."""
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
    stem, dot, ext = name.rpartition(".")
    ext = f".{ext}" if dot and 0 < len(ext) <= 8 else ""
    start = name.encode("utf-8")[:60].decode("utf-8", "ignore")
    return f"{start}~{digest}{ext}"


def _confined(root: Path, path: Path, url: str) -> Path:
    resolved_root = root.resolve()
    if not path.resolve().is_relative_to(resolved_root):
        raise OutsideRoot(f"{url} maps to {path}, outside {root}: refused")
    return path


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

"""Article revisions: what a stored article said before each change, read back exactly.

A revision row (``article_revisions``) keeps the earlier values of the small fields (title,
summary, authors, dates) as they were, and the earlier body as a *reverse delta*: how to
rebuild it from the body that replaced it. A correction that adds or rewrites a paragraph
then costs about that paragraph, not a second copy of the article.

The delta is JSON text (readable in SQL as it is): a list whose items are either
``[start, end]`` (copy lines ``start:end`` of the replacing body) or a string (text the new
body no longer has). ``null`` means the article had no body before. Lines are cut with
``str.splitlines(keepends=True)``, whose pieces join back to the exact text, so paragraphs
(lines between blank lines) are the unit, and the rebuilt body is byte for byte the old one.

Rebuilding revision *k* walks back from the article's current body through every newer
revision that changed the body (:func:`history`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from difflib import SequenceMatcher
from typing import Any

from sqlalchemy import Connection, select

from peruwire_crawl.db.schema import article_revisions, articles

# The stored fields a revision keeps, in the order people read them.
TRACKED_FIELDS = ("title", "summary", "body", "authors", "published_at", "modified_at")


def body_delta(old: str | None, new: str | None) -> str:
    """JSON that rebuilds ``old`` from ``new`` (see the module's docstring)."""
    if old is None:
        return "null"
    new_lines = (new or "").splitlines(keepends=True)
    old_lines = old.splitlines(keepends=True)
    ops: list[Any] = []
    matcher = SequenceMatcher(None, new_lines, old_lines, autojunk=False)
    for tag, new_start, new_end, old_start, old_end in matcher.get_opcodes():
        if tag == "equal":
            ops.append([new_start, new_end])
        elif old_end > old_start:  # "replace" or "insert": lines only the old body had
            ops.append("".join(old_lines[old_start:old_end]))
        # "delete": lines only the new body has; the old one is rebuilt without them
    return json.dumps(ops, ensure_ascii=False, separators=(",", ":"))


def apply_body_delta(new: str | None, delta: str) -> str | None:
    """The earlier body, from the body that replaced it and the revision's delta."""
    ops = json.loads(delta)
    if ops is None:
        return None
    lines = (new or "").splitlines(keepends=True)
    return "".join("".join(lines[op[0]:op[1]]) if isinstance(op, list) else op for op in ops)


@dataclass
class Version:
    """The article as it was up to ``replaced_at`` (``number`` 1 is the first stored
    version); the current version has ``replaced_at`` None."""

    number: int
    values: dict[str, Any]
    replaced_at: datetime | None = None
    crawl_run_id: int | None = None
    signal: str | None = None  # what revealed the change that ended this version
    changed: list[str] = field(default_factory=list)  # fields that change after it
    revision_id: int | None = None


def history(connection: Connection, article_id: int) -> list[Version]:
    """Every version of the article, oldest first, the current one last; empty when no
    such article is stored."""
    current = connection.execute(
        select(*(articles.c[name] for name in TRACKED_FIELDS)).where(articles.c.id == article_id)
    ).mappings().one_or_none()
    if current is None:
        return []
    rows = connection.execute(
        select(article_revisions).where(article_revisions.c.article_id == article_id)
        .order_by(article_revisions.c.id.desc())
    ).mappings().all()
    return versions(dict(current), rows)


def versions(current: Mapping[str, Any], revisions_newest_first: Iterable[Mapping[str, Any]]) -> list[Version]:
    """The versions from the current values and the revision rows (newest first)."""
    later = dict(current)
    older: list[Version] = []
    for row in revisions_newest_first:
        values = {name: row[name] for name in TRACKED_FIELDS if name != "body"}
        if row["authors"] is None:  # rows from before revision 0005 kept title and summary only
            values.update({name: later[name] for name in ("authors", "published_at", "modified_at")})
        body_changed = row["body_delta"] is not None
        values["body"] = apply_body_delta(later["body"], row["body_delta"]) if body_changed else later["body"]
        older.append(Version(0, values, row["replaced_at"], row["crawl_run_id"], row["signal"],
                             list(row["changed"] or _changed(values, later)), row["id"]))
        later = values
    result = list(reversed(older)) + [Version(0, dict(current))]
    for number, version in enumerate(result, start=1):
        version.number = number
    return result


def _changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return [name for name in TRACKED_FIELDS if before.get(name) != after.get(name)]


def revision_values(stored: Mapping[str, Any], merged: Mapping[str, Any], changes: Mapping[str, Any],
                    signal: str | None) -> dict[str, Any] | None:
    """The ``article_revisions`` row for a stored article about to take ``changes``, or None
    when nothing stored is replaced (a value that only fills an empty field is no
    correction, and keeps no revision)."""
    changed = [name for name in TRACKED_FIELDS if name in changes]
    if not any(_present(stored[name]) for name in changed):
        return None
    return {
        "article_id": stored["id"],
        **{name: stored[name] for name in ("title", "summary", "authors", "published_at",
                                           "date_precision", "modified_at")},
        "body_delta": body_delta(stored["body"], merged["body"]) if "body" in changes else None,
        "changed": changed,
        "signal": signal,
    }


def _present(value: Any) -> bool:
    return value is not None and value != [] and value != ""

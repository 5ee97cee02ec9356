"""``peruwire diff``: what one correction changed, as a word diff; and the renderer that
``peruwire show --history`` uses for every correction.

Versions are numbered from 1 (the article as first stored) to the current one
(:func:`peruwire_crawl.db.revisions.history`). "Version N" is the article after its N-1th
change, so ``diff ID --rev N`` shows the change that made version N out of version N-1.

The word diff is written the way ``git diff --word-diff=plain`` writes one, so it reads in a
terminal, a log or an e-mail alike: ``[-removed words-]{+added words+}``. Bodies are compared
paragraph by paragraph first: paragraphs that did not change are counted, not printed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from difflib import SequenceMatcher
from typing import Any, TextIO

import click

from peruwire_crawl.cli.base import CommandError, Database, cli, db_option, output, stored_article_id
from peruwire_crawl.cli.cells import jsonable, text
from peruwire_crawl.db.revisions import TRACKED_FIELDS, Version, history

# A word with its apostrophes, a run of spaces, or one other character: the units a reader
# sees change (a comma added is shown as a comma, not as a changed word).
TOKEN = re.compile(r"\w+(?:['’]\w+)*|\s+|[^\w\s]")
LEADING_SPACE = re.compile(r"\s+")
WORD_DIFFED = ("title", "summary", "body")
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """``[(op, text)]`` with op ``=`` (kept), ``-`` (removed) or ``+`` (added); joining the
    ``=`` and ``-`` texts gives ``before``, the ``=`` and ``+`` texts ``after``."""
    old, new = TOKEN.findall(before), TOKEN.findall(after)
    ops: list[tuple[str, str]] = []
    for tag, old_start, old_end, new_start, new_end in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            ops.append(("=", "".join(old[old_start:old_end])))
            continue
        if old_end > old_start:
            ops.append(("-", "".join(old[old_start:old_end])))
        if new_end > new_start:
            ops.append(("+", "".join(new[new_start:new_end])))
    return _spaces_after_words(ops)


def _spaces_after_words(ops: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``said{+ the+} protesters`` -> ``said {+the +}protesters``: the same diff, read as
    whole words added. Only a lone insertion or removal between kept text can slide."""
    for index in range(1, len(ops) - 1):
        (before_op, before), (op, changed), (after_op, after) = ops[index - 1:index + 2]
        space = LEADING_SPACE.match(changed)
        if before_op == after_op == "=" and op != "=" and space and after.startswith(space.group()):
            width = space.end()
            ops[index - 1:index + 2] = [("=", before + changed[:width]), (op, changed[width:] + changed[:width]),
                                        ("=", after[width:])]
    return [(op, piece) for op, piece in ops if piece]


def render_words(ops: Sequence[tuple[str, str]]) -> str:
    marks = {"=": ("", ""), "-": ("[-", "-]"), "+": ("{+", "+}")}
    return "".join(f"{marks[op][0]}{piece}{marks[op][1]}" for op, piece in ops)


def body_diff(before: str, after: str) -> list[str]:
    """The changed paragraphs as word diffs, and one line for each run of unchanged ones."""
    old, new = PARAGRAPH_BREAK.split(before.strip()), PARAGRAPH_BREAK.split(after.strip())
    old, new = [p for p in old if p], [p for p in new if p]
    lines: list[str] = []
    for tag, old_start, old_end, new_start, new_end in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            count = old_end - old_start
            lines.append(f"({count} unchanged paragraph{'s' if count > 1 else ''})")
        elif tag == "replace" and old_end - old_start == new_end - new_start:
            # Paragraphs edited in place: show which words changed inside each.
            pairs = zip(old[old_start:old_end], new[new_start:new_end], strict=True)
            lines.extend(render_words(word_diff(a, b)) for a, b in pairs)
        else:
            lines.extend(f"[-{p}-]" for p in old[old_start:old_end])
            lines.extend(f"{{+{p}+}}" for p in new[new_start:new_end])
    return lines


def shown(value: Any) -> str:
    """A stored value as one line of text (authors joined, times in ISO 8601)."""
    return ", ".join(value) if isinstance(value, list) else text(value)


def field_changes(before: Version, after: Version) -> dict[str, tuple[Any, Any]]:
    return {name: (before.values.get(name), after.values.get(name)) for name in TRACKED_FIELDS
            if before.values.get(name) != after.values.get(name)}


def change_header(before: Version, after: Version) -> str:
    by = f" by run {before.crawl_run_id}" if before.crawl_run_id else ""
    signal = f", revealed by {before.signal}" if before.signal else ""
    return (f"version {after.number} (stored {shown(before.replaced_at)}{by}{signal}), "
            f"against version {before.number}:")


def write_change(out: TextIO, before: Version, after: Version, indent: str = "  ") -> None:
    changes = field_changes(before, after)
    out.write(change_header(before, after) + "\n")
    if not changes:
        out.write(f"{indent}(no stored field differs: the change was in a field revisions do not keep)\n")
    for name, (old, new) in changes.items():
        if name == "body":
            out.write(f"{indent}body:\n")
            for line in body_diff(old or "", new or ""):
                out.write(f"{indent}  {line}\n")
        elif name in WORD_DIFFED:
            out.write(f"{indent}{name}: {render_words(word_diff(old or '', new or ''))}\n")
        else:
            out.write(f"{indent}{name}: [-{shown(old)}-]{{+{shown(new)}+}}\n")


def change_json(before: Version, after: Version) -> dict[str, Any]:
    return {
        "version": after.number, "against": before.number, "replaced_at": before.replaced_at,
        "crawl_run_id": before.crawl_run_id, "signal": before.signal,
        "fields": {name: _field_json(name, old, new) for name, (old, new) in field_changes(before, after).items()},
    }


def _field_json(name: str, old: Any, new: Any) -> dict[str, Any]:
    values = {"before": old, "after": new}
    if name in WORD_DIFFED:
        values["words"] = word_diff(old or "", new or "")
    return values


@cli.command(examples=["peruwire diff 42",
                       "peruwire diff 42 --rev 2",
                       "peruwire diff https://peoplesdispatch.org/2023/06/16/perus-de-facto-president-blames-protesters/"
                       " --json"])
@db_option
@click.argument("article")
@click.option("--rev", "version", type=int, metavar="N",
              help="the version whose change to show, 2 to the current one (default: the latest change)")
@click.option("--json", "as_json", is_flag=True, help="one JSON object, with the word diff as [op, text] pairs")
@click.pass_context
def diff(ctx: click.Context, article: str, version: int | None, as_json: bool) -> int:
    """What one correction of an article changed, word by word.

    ARTICLE is its id or URL. Removed words are printed [-like this-], added ones
    {+like this+}; unchanged body paragraphs are counted, not printed.
    `peruwire show ARTICLE --history` prints every correction.
    """
    with Database.of(ctx).readable().connect() as connection:
        article_id = stored_article_id(connection, article)
        versions = history(connection, article_id)
    latest = len(versions)
    if latest == 1:
        with output() as out:
            out.write(f"article {article_id} has not changed since it was first stored\n")
        return 0
    number = latest if version is None else version
    if not 2 <= number <= latest:
        raise CommandError(f"article {article_id} has versions 1 to {latest}: "
                           f"--rev takes 2 to {latest} (the version whose change to show)")
    before, after = versions[number - 2], versions[number - 1]
    with output() as out:
        if as_json:
            change = jsonable({"id": article_id, **change_json(before, after)})
            out.write(json.dumps(change, ensure_ascii=False, indent=2) + "\n")
        else:
            write_change(out, before, after, indent="  ")
    return 0

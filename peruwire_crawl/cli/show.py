"""``peruwire show``: one article in full, as text or JSON."""

from __future__ import annotations

import json
import textwrap
from itertools import pairwise
from typing import Any, TextIO

import click

from peruwire_crawl.cli.base import Database, cli, db_option, output, stored_article_id, table
from peruwire_crawl.cli.cells import jsonable, text
from peruwire_crawl.cli.diff import write_change
from peruwire_crawl.db import queries
from peruwire_crawl.db.revisions import Version, history


@cli.command(examples=["peruwire show 42",
                       "peruwire show https://peoplesdispatch.org/2023/06/16/perus-de-facto-president-blames-protesters/",
                       "peruwire show 42 --json | jq .revisions",
                       "peruwire show 42 --history"])
@db_option
@click.argument("article")
@click.option("--json", "as_json", is_flag=True, help="one JSON object")
@click.option("--history", "with_history", is_flag=True,
              help="every version of the article, each correction as a word diff (`peruwire diff` shows one)")
@click.pass_context
def show(ctx: click.Context, article: str, as_json: bool, with_history: bool) -> int:
    """One article in full: ARTICLE is its id (from `peruwire search --json`) or its URL.

    Prints its fields, the sections that list it, its translations, every earlier title
    and summary with when it changed, and the crawl runs that saw it; then the body.
    With --history, every correction of every stored field (body included) as a word diff.
    """
    engine = Database.of(ctx).readable()
    with engine.connect() as connection:
        article_id = stored_article_id(connection, article)
        found = queries.article_in_full(connection, article_id)
        versions = history(connection, article_id) if with_history else []
    with output() as out:
        if as_json:
            if with_history:
                found["history"] = [_version_json(version) for version in versions]
            out.write(json.dumps(jsonable(found), ensure_ascii=False, indent=2) + "\n")
        else:
            _print(out, found, versions)
    return 0


def _version_json(version: Version) -> dict[str, Any]:
    """One version's values in full (its body exactly as it was), and what ended it."""
    return {"version": version.number, **version.values, "replaced_at": version.replaced_at,
            "replaced_by_run": version.crawl_run_id, "signal": version.signal, "changed_after": version.changed}


def _print_history(out: TextIO, versions: list[Version]) -> None:
    out.write(f"\nhistory ({len(versions)} version{'s' if len(versions) > 1 else ''}; "
              "[-removed-] {+added+}, oldest first):\n")
    if len(versions) == 1:
        out.write("  unchanged since it was first stored\n")
    for before, after in pairwise(versions):
        out.write("  ")
        write_change(out, before, after, indent="    ")


def _print(out: TextIO, article: dict[str, Any], versions: list[Version]) -> None:
    fields = [(name, ", ".join(article[name]) if name == "authors" else article[name])
              for name in queries.ARTICLE_FIELDS if name != "body"]
    table(out, [(f"{name}:", value) for name, value in fields if value not in (None, "", [])])
    out.write("\nsections:\n")
    table(out, [(row["section_url"], f"since {text(row['first_seen_at'])}") for row in article["sections"]],
          indent="  ")
    out.write("\ntranslations:\n")
    table(out, [(row["language"] or "", row["id"] if row["id"] is not None else "(not stored)", row["url"])
                for row in article["translations"]], indent="  ")
    if article["aliases"]:
        out.write("\nother URLs:\n")
        table(out, [(url,) for url in article["aliases"]], indent="  ")
    out.write(f"\nrevisions ({len(article['revisions'])}: what changed, and the title and summary before, "
              "oldest first):\n")
    table(out, [(text(row["replaced_at"]), f"run {row['crawl_run_id']}" if row["crawl_run_id"] else "",
                 ", ".join(row["changed"] or ["title or summary"]), row["title"], row["summary"] or "")
                for row in article["revisions"]],
          headers=("replaced at", "by", "changed", "title before", "summary before") if article["revisions"] else (),
          indent="  ")
    out.write("\ncrawl runs that saw it:\n")
    table(out, [(row["id"], row["spider"], text(row["started_at"]), row["status"], row["saw"])
                for row in article["runs"]], indent="  ")
    if versions:
        _print_history(out, versions)
    out.write("\nbody:\n")
    for paragraph in (article["body"] or "(none)").split("\n"):
        out.write(textwrap.fill(paragraph, width=100, initial_indent="  ", subsequent_indent="  ") + "\n")

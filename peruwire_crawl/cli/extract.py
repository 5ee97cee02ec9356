"""``peruwire extract``: what the crawl would store for one article page, as JSON."""

from __future__ import annotations

import click

from peruwire_crawl.cli.base import CommandError, cli, output

EXAMPLES = [
    "peruwire extract saved.html --url https://example.org/2024/05/02/story/",
    "peruwire extract https://example.org/2024/05/02/story/ --explain",
    "peruwire extract saved.html --json | jq .authors",
]


@cli.command(examples=EXAMPLES)
@click.argument("target", metavar="FILE|URL")
@click.option("--url", metavar="URL",
              help="the page's address (for a saved file: decides the site rules and the URL date)")
@click.option("--json", "compact", is_flag=True, help="one compact line of JSON instead of indented JSON")
@click.option("--explain", is_flag=True, help="also say which rule or signal gave each field")
def extract(target: str, url: str | None, compact: bool, explain: bool) -> int:
    """Print what the crawl would store for one article page (FILE, or a URL to fetch).

    It runs the crawl's own page object and normaliser, so it also shows why a field came
    out wrong (--explain). A URL is fetched once with the project's user agent, timeout and
    robots.txt rule. Exit status 0; 1 when the page cannot be read (no such file, not HTML,
    the fetch failed or robots.txt forbids it), with one line on stderr; 2 for a mistake in
    the command line.
    """
    from peruwire_crawl.pages.reading import ExtractError, render, run  # why here: the other commands never pay for it

    try:
        result = run(target, url, explain=explain)
    except ExtractError as error:
        raise CommandError(str(error)) from None
    with output() as out:
        out.write(render(result, compact=compact) + "\n")
    return 0

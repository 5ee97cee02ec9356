"""Expected page-object output for every fixture page, kept as reviewable JSON.

    python -m peruwire_crawl.pages.regenerate            # rewrite fixtures/expected/
    python -m peruwire_crawl.pages.regenerate --check    # exit 1 if any file would change

``tests/test_pages.py`` compares each fixture page's ``to_dict()`` with its file here, so a
parsing change shows up as a diff to review (``git diff fixtures/expected``) before commit.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from peruwire_crawl.pages.article import ArticlePage
from peruwire_crawl.pages.section import SectionPage

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
# Fixture roots, each one a PERUWIRE_REPLAY directory. The "-later"/"-broken" ones are overlays
# on peoplesdispatch/ (only the pages that changed); their pages are read like any other.
SITES = ("peoplesdispatch", "peoplesdispatch-later", "peoplesdispatch-broken", "stockwp")
EXPECTED = FIXTURES / "expected"
ARTICLE_PATH = re.compile(r"/\d{4}/\d{2}/\d{2}/[^/]+/$")  # WordPress /YYYY/MM/DD/slug/


@dataclass(frozen=True)
class FixturePage:
    site: str
    path: Path  # the saved body
    url: str

    @property
    def kind(self) -> str:
        return "article" if ARTICLE_PATH.search(self.url) else "section"

    @property
    def expected_path(self) -> Path:
        relative = self.path.relative_to(FIXTURES / self.site)
        return EXPECTED / self.site / relative.with_name(relative.name + ".json")

    def parse(self) -> dict:
        page_class = ArticlePage if self.kind == "article" else SectionPage
        return page_class(self.path.read_bytes(), self.url).to_dict()


def fixture_pages(sites=SITES) -> list[FixturePage]:
    """Every saved HTML page (``…/index.html``) of the fixture sites, in path order."""
    pages = []
    for site in sites:
        root = FIXTURES / site
        for path in sorted(root.rglob("index.html")):
            host, *segments = path.parent.relative_to(root).parts
            url_path = "/".join(segments) + "/" if segments else ""
            pages.append(FixturePage(site, path, f"https://{host.replace('_', ':')}/{url_path}"))
    return pages


def render(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rewrite fixtures/expected/ from the page objects.")
    parser.add_argument("--check", action="store_true", help="only report files that would change")
    args = parser.parse_args(argv)
    changed = []
    for page in fixture_pages():
        text = render(page.parse())
        target = page.expected_path
        if target.exists() and target.read_text("utf-8") == text:
            continue
        changed.append(target)
        if not args.check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, "utf-8")
    for target in changed:
        print(("would change: " if args.check else "wrote: ") + str(target.relative_to(FIXTURES.parent)))
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())

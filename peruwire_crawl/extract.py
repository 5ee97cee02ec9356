"""``python -m peruwire_crawl.extract FILE|URL [--url URL] [--json] [--explain]``.

The same as ``peruwire extract`` (``cli/extract.py``) for a checkout without the console
script: both are shells over ``peruwire_crawl.pages.reading``, the one home of the code.
Exit status 0; 1 when the page cannot be read, with one line on stderr; 2 for a usage mistake.
"""

from __future__ import annotations

import argparse
import sys

from peruwire_crawl.pages.reading import ExtractError, extract, render, run

__all__ = ["extract", "main", "render", "run"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m peruwire_crawl.extract",
                                     description="Print what the crawl would store for one article page, as JSON "
                                                 "(the same as `peruwire extract`).")
    parser.add_argument("target", metavar="FILE|URL")
    parser.add_argument("--url")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args(argv)
    try:
        result = run(args.target, args.url, explain=args.explain)
    except ExtractError as error:
        print(f"peruwire: error: {error}", file=sys.stderr)
        return 1
    sys.stdout.reconfigure(encoding="utf-8")
    print(render(result, compact=args.json))
    return 0


if __name__ == "__main__":
    sys.exit(main())

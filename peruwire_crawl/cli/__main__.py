"""``python -m peruwire_crawl.cli``: the ``peruwire`` command."""

from peruwire_crawl.cli import console_main

console_main()

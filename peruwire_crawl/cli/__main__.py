"""``python -m peruwire_crawl.cli``: the ``peruwire`` command."""

import sys

from peruwire_crawl.cli import main

sys.exit(main())

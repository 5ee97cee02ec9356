"""`scrapy parse`: a page as the crawl would read it, with no database unless asked.

The spider yields what the page shows (date signals, the byline as written); the normalise
pipeline makes the item's fields from them (``published_at``, ``language``, ``authors``).
So the printed items always pass the item pipelines, and storage stays off: nothing is
written and no run recorded. ``--pipelines`` stores them as well, as a crawl would (with
its own ``crawl_runs`` row).
"""

from scrapy.commands.parse import Command as ScrapyParseCommand

from peruwire_crawl.commands.readonly import not_a_run


class Command(ScrapyParseCommand):
    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--pipelines", action="store_true",
                            help="also store the items in the database, as a crawl would")

    def process_options(self, args, opts):
        super().process_options(args, opts)
        not_a_run(self.settings, store=opts.pipelines)
        opts.pipelines = True  # the printed items are normalised, whatever is stored

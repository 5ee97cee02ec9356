"""`scrapy check`: the spider's contracts (peruwire_crawl/contracts.py), with no database."""

from scrapy.commands.check import Command as ScrapyCheckCommand

from peruwire_crawl.commands.readonly import not_a_run


class Command(ScrapyCheckCommand):
    def process_options(self, args, opts):
        super().process_options(args, opts)
        not_a_run(self.settings)

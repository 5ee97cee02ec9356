"""`scrapy shell`, reading pages without opening the database or recording a run."""

from scrapy.commands.shell import Command as ScrapyShellCommand

from peruwire_crawl.commands.readonly import not_a_run


class Command(ScrapyShellCommand):
    def process_options(self, args, opts):
        super().process_options(args, opts)
        not_a_run(self.settings)

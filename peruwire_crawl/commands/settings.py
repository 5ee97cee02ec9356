"""`scrapy settings`, showing what a crawl uses: the project's settings with the add-ons'.

Scrapy's own command prints the project settings alone; peruwire's defaults are set by its
add-on when a crawl starts (peruwire_crawl/addon.py), so this command applies the enabled
add-ons first: ``scrapy settings --get PERUWIRE_DB_URL`` prints the database a crawl would
write to.
"""

from scrapy import Spider
from scrapy.addons import AddonManager
from scrapy.commands.settings import Command as ScrapySettingsCommand
from scrapy.crawler import Crawler


class Command(ScrapySettingsCommand):
    def run(self, args, opts):
        settings = self.settings.copy()
        AddonManager(Crawler(Spider, settings)).load_settings(settings)
        self.settings = settings
        super().run(args, opts)

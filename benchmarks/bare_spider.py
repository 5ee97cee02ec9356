"""The yardstick of benchmarks/bench_crawl.py: the smallest honest Scrapy spider for a
WordPress tag archive, written by hand in one file.

It follows every article link and the "next" link of each listing page, and yields one dict
per article (title, date, author, text) with plain CSS selectors: no normalisation, no
duplicate check, no database. Whatever peruwire costs beyond this is peruwire's own.

    scrapy runspider benchmarks/bare_spider.py -a start=http://127.0.0.1:8000/tag/peru/
"""

import scrapy


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, start: str = "", follow: str = "yes", **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [start]
        # follow=no: robots.txt and the first listing page only, the least a Scrapy crawl of
        # the site costs (the floor for an incremental run that finds nothing new).
        self.follow = follow != "no"

    def parse(self, response):
        if not self.follow:
            return
        for href in response.css("article .entry-title a::attr(href)").getall():
            yield response.follow(href, callback=self.parse_article)
        next_page = response.css("a.next.page-numbers::attr(href)").get()
        if next_page:
            yield response.follow(next_page, callback=self.parse)

    def parse_article(self, response):
        yield {
            "url": response.url,
            "title": response.css("h1.entry-title::text").get(),
            "published": response.css("time.entry-date::attr(datetime)").get(),
            "author": response.css(".author a::text").get(),
            "body": "\n\n".join(response.css(".entry-content p::text").getall()),
        }

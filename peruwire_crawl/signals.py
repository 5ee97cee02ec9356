"""peruwire's own signals, sent through ``crawler.signals`` like Scrapy's.

``run_judged(spider, healthy)``: sent by the run monitor at the end of a run, once the
health checks have decided. Components that should keep something only after a good run
(the section pages' validators) listen for it.

``article_listed_again(url, section)``: sent by the spider when a section lists an article
whose item has already gone out (items do not wait for the last listing page); storage
adds the section to the stored article ``url``.

``articles_stored(urls)``: sent by the storage pipeline after each committed batch, with the
URLs of the articles it added or changed (the feed exporter listens: peruwire_crawl/feeds.py).

``store_caught_up()``: sent by the storage pipeline whenever every item it was given so far
is committed (or written to the dead-letter file): a crash now would lose none of them. A
cluster worker acknowledges its finished requests then (peruwire_crawl/cluster/worker.py),
so that items may be written in batches and a killed worker still loses nothing.
"""

run_judged = object()
article_listed_again = object()
articles_stored = object()
store_caught_up = object()

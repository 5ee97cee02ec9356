"""peruwire's own signals, sent through ``crawler.signals`` like Scrapy's.

``run_judged(spider, healthy)``: sent by the run monitor at the end of a run, once the
health checks have decided. Components that should keep something only after a good run
(the section pages' validators) listen for it.
"""

run_judged = object()

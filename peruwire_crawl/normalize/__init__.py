"""How stored values are normalised: text, dates, authors, language.

Plain functions with no Scrapy in them, so that the crawl's normalise pipeline
(:mod:`pipelines.normalize`) and the ``peruwire`` command read a page the same way.
"""

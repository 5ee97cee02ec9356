"""The spider's callbacks, checked once here rather than by Scrapy on every response (the
spider turns WARN_ON_GENERATOR_RETURN_VALUE off: see its custom_settings)."""

from __future__ import annotations

import inspect

from scrapy.utils.misc import is_generator_with_return_value

from peruwire_crawl.spiders.peru import PeruSpider


def test_no_callback_is_a_generator_returning_a_value():
    generators = [function for _, function in inspect.getmembers(PeruSpider, inspect.isfunction)
                  if inspect.isgeneratorfunction(function)]
    assert "parse_section" in {function.__name__ for function in generators}
    assert [function.__name__ for function in generators if is_generator_with_return_value(function)] == []


def test_scrapy_would_find_one():
    def callback(response):
        yield 1
        return 2

    assert is_generator_with_return_value(callback)


def test_the_article_callback_is_asynchronous():
    # It awaits the worker process that reads the page (peruwire_crawl/worker.py); an
    # asynchronous generator cannot return a value, so the check above does not apply.
    assert inspect.isasyncgenfunction(PeruSpider.parse_article)

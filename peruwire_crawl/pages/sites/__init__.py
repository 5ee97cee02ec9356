"""Per-source parsing rules; generic WordPress rules for every other host.

To support a new site's quirks, add a module here with a ``RULES = SiteRules(...)`` naming
only the selectors that differ from the generic ones, and name the module as its source's
``rules`` in ``sections.toml`` (which also names the site's hosts).
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from peruwire_crawl.pages.rules import GENERIC_WORDPRESS, SiteRules
from peruwire_crawl.sources import SourceRegistry


@cache
def _shipped_sources() -> SourceRegistry:
    return SourceRegistry.load()


@cache
def _site_rules(module: str) -> SiteRules:
    return import_module(module).RULES


def rules_for(url: str, sources: SourceRegistry | None = None) -> tuple[SiteRules, ...]:
    """The rules to try for ``url``, most specific first; the generic rules always last.
    ``sources``: the crawl's configuration (the shipped ``sections.toml`` when None)."""
    source = (sources or _shipped_sources()).for_url(url)
    specific = (_site_rules(source.rules),) if source.rules else ()
    return specific + (GENERIC_WORDPRESS,)

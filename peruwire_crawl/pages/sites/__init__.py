"""Per-source parsing rules, chosen by host; generic WordPress rules for every other host.

To support a new site's quirks, add a module here with a ``RULES = SiteRules(...)`` naming
only the selectors that differ from the generic ones, and list it in ``SITE_RULES``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from peruwire_crawl.pages.rules import GENERIC_WORDPRESS, SiteRules
from peruwire_crawl.pages.sites import peoplesdispatch

SITE_RULES: tuple[SiteRules, ...] = (peoplesdispatch.RULES,)


def rules_for(url: str) -> tuple[SiteRules, ...]:
    """The rules to try for ``url``, most specific first; the generic rules always last."""
    host = (urlsplit(url).hostname or "").lower()
    specific = tuple(rules for rules in SITE_RULES if host in rules.hosts)
    return specific + (GENERIC_WORDPRESS,)

"""Which source a URL belongs to, and what we know about that source: its configuration.

Sources are configured in ``sections.toml`` (data, not code), each once: its hosts,
timezone, languages, section pages and the module of its parsing rules
(``pages/sites/``). Every "is this host the source's?" question is answered here
(:meth:`Source.owns`). A section URL on a host that no source lists
(``-a sections=https://other.example/tag/peru/``) gets an ad-hoc source named after its
host, with UTC as its timezone, English/Spanish as its languages and the generic rules.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from peruwire_crawl.times import zone
from peruwire_crawl.urls import same_site, url_host


@dataclass(frozen=True)
class Source:
    key: str
    name: str
    hosts: tuple[str, ...]
    timezone: str = "UTC"
    languages: tuple[str, ...] = ("en", "es")
    sections: tuple[str, ...] = field(default_factory=tuple)
    # Dotted path of the module holding the site's parsing rules (its RULES), or None.
    rules: str | None = None

    def __post_init__(self):
        # Checked where the sections file is read (the run's start), not at the first date.
        try:
            zone(self.timezone)
        except ValueError as error:
            raise ValueError(f"source {self.key}: {error}") from error

    def owns(self, url: str) -> bool:
        """Whether ``url`` is on one of this source's hosts (exact host names)."""
        return same_site(url, self.hosts)


def host_key(host: str) -> str:
    """Source key for a host no source lists: ``www.Example.org`` -> ``example.org``."""
    host = host.lower()
    return host[4:] if host.startswith("www.") else host


class SourceRegistry:
    def __init__(self, sources: list[Source]):
        self.sources = sources
        self._by_host = {host: source for source in sources for host in source.hosts}

    @classmethod
    def load(cls, path: str | Path | None = None) -> "SourceRegistry":
        """Read the sections file; ``None`` means the one shipped in the package."""
        if path is None:
            text = resources.files("peruwire_crawl").joinpath("sections.toml").read_text("utf-8")
        else:
            text = Path(path).read_text("utf-8")
        data = tomllib.loads(text)
        sources = [
            Source(
                key=key,
                name=conf.get("name", key),
                hosts=tuple(h.lower() for h in conf.get("hosts", [])),
                timezone=conf.get("timezone", "UTC"),
                languages=tuple(conf.get("languages", ["en", "es"])),
                sections=tuple(conf.get("sections", [])),
                rules=conf.get("rules"),
            )
            for key, conf in data.get("sources", {}).items()
        ]
        return cls(sources)

    @classmethod
    def from_settings(cls, settings) -> "SourceRegistry":
        return cls.load(settings.get("PERUWIRE_SECTIONS_FILE"))

    def for_url(self, url: str) -> Source:
        host = url_host(url)
        known = self._by_host.get(host)
        if known is not None:
            return known
        key = host_key(host)
        return Source(key=key, name=key, hosts=(host,))

    def all_sections(self) -> list[str]:
        return [url for source in self.sources for url in source.sections]

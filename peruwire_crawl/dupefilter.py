"""Scrapy's duplicate request filter, keeping its fingerprints in a digest table.

``scrapy.dupefilters.RFPDupeFilter`` keeps every request's 20-byte fingerprint in a set,
about 110 bytes a request for the whole run: with one request an article, the biggest
single part of a backfill's growth (docs/performance.md). This filter is Scrapy's (the same
fingerprints, the same ``requests.seen`` file under JOBDIR, the same log lines) with the set
swapped for a :class:`~peruwire_crawl.digests.DigestTable` of each fingerprint's first 64
bits, about 20 bytes a request. Cluster mode's scheduler uses scrapy-redis's filter instead.
"""

from __future__ import annotations

from scrapy.dupefilters import RFPDupeFilter

from peruwire_crawl.digests import DigestTable, bytes_digest


class FingerprintTable:
    """The set operations RFPDupeFilter uses (``in``, ``add``, ``update``), on a digest table."""

    __slots__ = ("_digests",)

    def __init__(self, fingerprints=()):
        self._digests = DigestTable()
        self.update(fingerprints)

    def __contains__(self, fingerprint: bytes) -> bool:
        return bytes_digest(fingerprint) in self._digests

    def add(self, fingerprint: bytes) -> None:
        self._digests.add(bytes_digest(fingerprint))

    def update(self, fingerprints) -> None:
        for fingerprint in fingerprints:
            self.add(fingerprint)

    def __len__(self) -> int:
        return len(self._digests)


class CompactDupeFilter(RFPDupeFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)  # reads back JOBDIR's requests.seen into a set
        self._fingerprints = FingerprintTable(self._fingerprints)

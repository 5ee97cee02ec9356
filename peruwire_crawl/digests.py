"""A run's per-article memory in about 20 bytes an article: :class:`DigestTable`.

A backfill keeps a few facts about every article it has seen until it ends: the spider,
which articles were listed and why each is fetched; dedup, which URLs and titles passed;
Scrapy's duplicate filter, which requests went out. Kept in Python sets and dicts, each
fact costs 70–120 bytes (an ``int`` or ``bytes`` object and its slot), and together they
were most of the crawl's growth from 2,000 to 30,000 articles (docs/performance.md).

A :class:`DigestTable` keeps a 64-bit digest of each key in one flat array and a one-byte
code beside it (open addressing, linear probing, grown at half full): 16–32 bytes a key.
Two keys of one digest are taken for one; with 64 bits the odds are under 1 in 10^9 in a
run of 100,000 articles. It is plain arrays, so it pickles (JOBDIR saves ``spider.state``).
"""

from __future__ import annotations

import hashlib
from array import array

_BITS = (1 << 64) - 1
_EMPTY = 0  # a free slot; a digest of 0 is kept as 1
_INITIAL_CAPACITY = 1024


def text_digest(text: str) -> int:
    """A 64-bit digest of ``text`` that is the same in every process (``hash()`` is not)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def bytes_digest(data: bytes) -> int:
    """The first 64 bits of an already uniform digest, such as a request fingerprint."""
    return int.from_bytes(data[:8], "big")


class DigestTable:
    """64-bit digests, each with a small code (0–255): ``table[digest] = code``,
    ``digest in table``, ``table.get(digest)``, ``len(table)``. Any ``int`` is taken
    modulo 2**64, so ``hash()`` values serve within one process."""

    __slots__ = ("_digests", "_codes", "_count")

    def __init__(self, capacity: int = _INITIAL_CAPACITY):
        self._digests = array("Q", bytes(8 * capacity))  # capacity: a power of two
        self._codes = array("B", bytes(capacity))
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __contains__(self, digest: int) -> bool:
        digest = _stored(digest)
        return self._digests[self._slot(digest)] == digest

    def get(self, digest: int, default: int | None = None) -> int | None:
        digest = _stored(digest)
        slot = self._slot(digest)
        return self._codes[slot] if self._digests[slot] == digest else default

    def __setitem__(self, digest: int, code: int) -> None:
        self._put(_stored(digest), code, replace=True)

    def add(self, digest: int) -> None:
        """Keep ``digest`` (code 0, or the code it has), for a table used as a set."""
        self._put(_stored(digest), 0, replace=False)

    def _put(self, digest: int, code: int, replace: bool) -> None:
        slot = self._slot(digest)
        if self._digests[slot] == _EMPTY:
            if 2 * (self._count + 1) > len(self._digests):
                self._grow()
                slot = self._slot(digest)
            self._digests[slot] = digest
            self._count += 1
        elif not replace:
            return
        self._codes[slot] = code

    def _slot(self, digest: int) -> int:
        """Where ``digest`` is, or the free slot where it would go."""
        digests, mask = self._digests, len(self._digests) - 1
        slot = digest & mask
        while digests[slot] != digest and digests[slot] != _EMPTY:
            slot = (slot + 1) & mask
        return slot

    def _grow(self) -> None:
        digests, codes, count = self._digests, self._codes, self._count
        self.__init__(2 * len(digests))
        for digest, code in zip(digests, codes, strict=True):
            if digest != _EMPTY:
                slot = self._slot(digest)
                self._digests[slot], self._codes[slot] = digest, code
        self._count = count


def _stored(digest: int) -> int:
    return (digest & _BITS) or 1

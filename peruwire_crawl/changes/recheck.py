"""The rolling re-check: how many stored articles each run asks "changed since?".

A site that offers neither the REST API nor sitemaps says nothing about edits, so every
stored article is re-read by a conditional GET (its ETag / Last-Modified sent back; a 304
costs a few hundred bytes) once per period, a slice per run, oldest-checked first.

The slice is the share of the period that passed since the previous run: with 317 articles,
a 30-day period and a run every 6 hours, ``ceil(317 × 6 h / 30 d)`` = 3 articles a run, and
every article is re-checked within 30 days as long as runs keep their pace. A run after a
long pause takes a bigger slice, capped by ``max_per_run``.
"""

from __future__ import annotations

import math
from datetime import timedelta


def slice_size(stored: int, since_previous_run: timedelta | None, period: timedelta, max_per_run: int) -> int:
    if stored <= 0 or period <= timedelta(0):
        return min(stored, max_per_run)
    if since_previous_run is None:  # no earlier run: spread over the period as if runs were daily
        since_previous_run = timedelta(days=1)
    share = min(max(since_previous_run / period, 0.0), 1.0)
    return min(math.ceil(stored * share), stored, max_per_run)

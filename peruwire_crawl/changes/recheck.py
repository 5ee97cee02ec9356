"""The rolling re-check: how many stored articles each run asks "changed since?".

A site that offers neither the REST API nor sitemaps says nothing about edits, so every
stored article is re-read by a conditional GET (its ETag / Last-Modified sent back; a 304
costs a few hundred bytes) once per period, a slice per run, oldest-checked first.

A run owes the share of the period that passed since the previous run: with 317 articles,
a 30-day period and a run every 6 hours, 317 × 6 h / 30 d = 2.64 articles. It re-checks the
whole part (2) and carries the fraction to the next run (kept in ``source_signals``), so
the runs re-check 2, 3, 3, 2, 3… and every article within the period as long as runs keep
their pace. Carrying, rather than rounding every run up, is what lets a run that follows
the previous one by minutes send no re-check at all. A run after a long pause owes a bigger
slice; it takes at most ``max_per_run`` and carries the rest.

The share is of the articles last read before the previous run began: what that run read
was checked minutes or hours ago and owes nothing yet. So the run after a 30,000-article
backfill re-checks none of them, where a share of all 30,000 would have sent a few
conditional GETs for pages read moments before; their round starts with the next run.
(Checks are kept on the site's clock, so "before the previous run" is "at or before the
newest check as it began", which each run records for the next.)
"""

from __future__ import annotations

import math
from datetime import timedelta

FIRST_RUN_INTERVAL = timedelta(days=1)  # no earlier run: spread over the period as if runs were daily


def slice_size(stored: int, since_previous_run: timedelta | None, period: timedelta, max_per_run: int,
               owed: float = 0.0) -> tuple[int, float]:
    """This run's slice, and what it leaves owed to the next run."""
    if stored <= 0:
        return 0, 0.0
    if period <= timedelta(0):
        return min(stored, max_per_run), 0.0
    since_previous_run = FIRST_RUN_INTERVAL if since_previous_run is None else since_previous_run
    share = min(max(since_previous_run / period, 0.0), 1.0)
    owed = min(max(owed, 0.0) + stored * share, float(stored))  # never more than one whole round
    size = min(math.floor(owed + 1e-9), max_per_run)
    return size, owed - size

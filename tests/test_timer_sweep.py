"""Cancelled download timeouts do not pile up in the reactor for 30 s (peruwire_crawl/timer_sweep.py)."""

from __future__ import annotations

import json

import pytest
from freshpython import fresh_python
from scrapy.exceptions import NotConfigured
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler

from peruwire_crawl.addon import DEFAULTS
from peruwire_crawl.timer_sweep import CancelledTimerSweep

# In a fresh interpreter on the asyncio reactor, as a crawl runs: the sweep built from these
# settings (argv[1], JSON) and started, then 2,000 timers set and cancelled the way the
# downloader cancels its timeouts. 1.5 s later, read on asyncio's loop (a Twisted timer of
# the probe's own would sweep them itself), it prints how many are still in the reactor.
PROBE = """
import asyncio, json, sys
from scrapy.exceptions import NotConfigured
from scrapy.utils.reactor import install_reactor
install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
from twisted.internet import reactor
from scrapy.utils.test import get_crawler
from peruwire_crawl.timer_sweep import CancelledTimerSweep

crawler = get_crawler(settings_dict=json.loads(sys.argv[1]))
try:
    sweep = CancelledTimerSweep.from_crawler(crawler)
except NotConfigured:
    sweep = None

def start():
    if sweep is not None:
        sweep.engine_started()
    for _ in range(2000):
        reactor.callLater(30, print, "never").cancel()
    asyncio.get_event_loop().call_later(1.5, finish)

def finish():
    # Private: Twisted offers no count of the cancelled timers it still holds.
    print(json.dumps(len(reactor._pendingTimedCalls) + len(reactor._newTimedCalls)))
    if sweep is not None:
        sweep.engine_stopped()
    reactor.stop()

reactor.callWhenRunning(start)
reactor.run()
"""


def timers_held_after_a_second_and_a_half(settings: dict) -> int:
    out = fresh_python(PROBE, json.dumps(settings), timeout=60)
    return json.loads(out.splitlines()[-1])


def test_cancelled_timers_are_dropped_within_a_tick():
    assert timers_held_after_a_second_and_a_half({"PERUWIRE_TIMER_SWEEP_INTERVAL": 0.5}) <= 1


def test_without_the_sweep_they_stay_until_their_time():
    # What the sweep is for: nothing else makes the reactor look at its timers in time.
    assert timers_held_after_a_second_and_a_half({"PERUWIRE_TIMER_SWEEP_INTERVAL": 0}) >= 2000


def test_the_project_runs_the_sweep_every_second():
    assert "peruwire_crawl.timer_sweep.CancelledTimerSweep" in get_project_settings().getdict("EXTENSIONS")
    assert DEFAULTS["PERUWIRE_TIMER_SWEEP_INTERVAL"] == 1.0


@pytest.mark.parametrize("interval", [0, -1])
def test_a_zero_interval_switches_it_off(interval):
    with pytest.raises(NotConfigured):
        CancelledTimerSweep.from_crawler(get_crawler(settings_dict={"PERUWIRE_TIMER_SWEEP_INTERVAL": interval}))

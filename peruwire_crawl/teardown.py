"""A quick exit for a process that is done: Python's teardown without its garbage collection.

When the interpreter exits it clears every module and collects what that frees, again and
again. For a crawl (1,100 modules and some 100,000 objects) that took 0.3 s, a fifth of a run
that finds nothing new; for a `peruwire` command, 0.2 s (docs/performance.md). Frozen
(``gc.freeze``), the objects alive at that point are never traversed by the collector again,
and the exit leaves their memory to the operating system.

Nothing is lost: objects are still freed by their reference counts, ``atexit`` handlers still
run (logging flushes and closes its files there), and peruwire closes what it writes (the
database, feeds, the run lock) before this point. Only objects caught in reference cycles
keep their ``__del__`` from running, which Python does not promise at exit anyway.
"""

import gc


def freeze_for_exit() -> None:
    """Call as the last thing before the process exits: never inside a longer-lived one."""
    gc.freeze()

"""The crawl's second core: a worker process that reads article pages.

Everything in a Scrapy crawl runs on the reactor's one thread. Reading an article page (the
page object, ``pages/article.py``: ``read_article``) is the largest part of what peruwire's
own code costs, and a pure function of plain data: the response's bytes and the site's
rules in, plain values out. With ``PERUWIRE_WORKER_PROCESS`` (on by default) the spider
hands those calls to one worker process and goes on with other responses while it works.
One worker and one connection: answers come back in the order the calls went out, so items
keep their order and the database is the same as without it. Threads would not do: the
page object is Python code that holds the interpreter's lock (docs/performance.md).
``WorkerProcess.run`` takes any module-level function of plain data; normalising items and
reading listing pages there too were measured and not taken (docs/performance.md).

Nothing is lost when the worker is: a call it failed, or was doing when it died, is run in
the crawl's own process instead; a worker that is gone (killed, out of memory) is said once
in the log (stat ``peruwire/worker/lost``) and the run goes on in one process. The worker
starts with the first page to read (a run with nothing new starts none); it is forked where
the platform can (with the page objects already imported) and spawned elsewhere; it ignores
Ctrl-C, which reaches the whole process group while the crawl shuts down cleanly, and stops
when the crawl closes its end of the connection or exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import pickle
import signal
import socket
import struct
from collections import deque
from collections.abc import Callable
from typing import Any

from scrapy import signals

logger = logging.getLogger(__name__)

# Each message: its length, then the pickle of a call, or of its outcome.
LENGTH = struct.Struct("!I")
IN_WORKER_STAT = "peruwire/worker/calls"
# Calls for the worker that the crawl ran itself: the worker could not, or was gone.
IN_PROCESS_STAT = "peruwire/worker/fallbacks"
LOST_STAT = "peruwire/worker/lost"
RETURNED, FAILED = "returned", "failed"


class WorkerLost(Exception):
    """The worker process is gone; what it had been given must be done in process."""


class WorkerProcess:
    """Runs calls in the worker process when there is one, else in process (an extension)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.connection: WorkerConnection | None = None

    @classmethod
    def from_crawler(cls, crawler) -> WorkerProcess:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider):
        """Decide (the add-on's defaults are in the settings by now); the worker itself starts
        with the first call, so a run that reads no page (nothing new) never pays for it."""
        from scrapy.utils.reactor import is_asyncio_reactor_installed

        # The worker's answers are awaited on asyncio's loop: another reactor runs in process.
        if self.crawler.settings.getbool("PERUWIRE_WORKER_PROCESS") and is_asyncio_reactor_installed():
            self.connection = WorkerConnection()

    def spider_closed(self, spider):
        if self.connection is not None:
            self.connection.stop()

    async def run(self, function: Callable, *args) -> Any:
        """``function(*args)``, in the worker where it can be. ``function`` is a module-level
        function and ``args`` plain data, as pickle sends them; it must not raise."""
        if self.connection is None:  # no worker wanted (PERUWIRE_WORKER_PROCESS), or another reactor
            return function(*args)
        stats = self.crawler.stats
        if not self.connection.lost:
            try:
                outcome, answer = await self.connection.call(function, args)
            except WorkerLost as lost:
                if stats.get_value(LOST_STAT) is None:
                    logger.warning("the worker process is gone (%s); reading article pages in the "
                                   "crawl's own process from now on", lost)
                stats.set_value(LOST_STAT, 1)
            else:
                if outcome == RETURNED:
                    stats.inc_value(IN_WORKER_STAT)
                    return answer
                logger.warning("the worker could not run %s (%s); running it in process", function.__name__, answer)
        stats.inc_value(IN_PROCESS_STAT)
        return function(*args)


class WorkerConnection:
    """One worker process and the crawl's end of its connection."""

    def __init__(self):
        self.lost: str | None = None  # why the worker is gone, once it is
        self.process = None  # started by the first call
        self._socket: socket.socket | None = None
        self._connected: asyncio.Future | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._receiving: asyncio.Task | None = None
        self._waiting: deque[asyncio.Future] = deque()  # one per call sent, in sending order

    def start(self) -> None:
        import peruwire_crawl.pages.article  # noqa: F401 (before forking: the worker has it then)

        # Forked, though Scrapy's DNS thread pool may be running: a fork copies only this
        # thread, and the worker never touches the pool (or any lock its threads may hold).
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        ours, theirs = socket.socketpair()
        try:
            # The worker closes its copy of our end (a forked one has it): or it never sees the end.
            self.process = context.Process(target=serve, args=(theirs, ours), name="peruwire-worker", daemon=True)
            self.process.start()
        except OSError as error:  # why: no process to spare must not stop the crawl
            ours.close()
            self.lost = f"it could not be started: {error}"
        else:
            self._socket = ours
        finally:
            theirs.close()

    async def call(self, function: Callable, args: tuple) -> tuple[str, Any]:
        """Send one call; its (outcome, answer) once the worker has run it."""
        if self.process is None and not self.lost:
            self.start()
        if self.lost:
            raise WorkerLost(self.lost)
        if self._connected is None:
            self._connected = asyncio.ensure_future(self._connect())
        await self._connected
        try:
            payload = pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # why: what cannot be sent is run in process
            return FAILED, f"cannot be sent: {type(error).__name__}: {error}"
        answer = asyncio.get_running_loop().create_future()
        self._waiting.append(answer)
        # Buffered, never blocking: Scrapy bounds the responses and items in progress, so
        # the calls waiting for the worker are bounded too.
        self._writer.write(LENGTH.pack(len(payload)) + payload)
        return await answer

    async def _connect(self) -> None:
        reader, self._writer = await asyncio.open_connection(sock=self._socket)
        self._receiving = asyncio.ensure_future(self._receive(reader))  # kept: the loop holds tasks weakly

    async def _receive(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                length = LENGTH.unpack(await reader.readexactly(LENGTH.size))[0]
                answer = pickle.loads(await reader.readexactly(length))
                waiting = self._waiting.popleft()
                if not waiting.done():  # a callback cancelled while waiting has gone
                    waiting.set_result(answer)
        except (asyncio.IncompleteReadError, OSError) as error:
            code = self.process.exitcode if self.process is not None else None
            self.lost = f"exit code {code}" if code is not None else type(error).__name__
        except Exception as error:  # why: a broken answer must not leave calls waiting forever
            self.lost = f"{type(error).__name__}: {error}"
        while self._waiting:
            waiting = self._waiting.popleft()
            if not waiting.done():
                waiting.set_exception(WorkerLost(self.lost))

    def stop(self) -> None:
        """Close the connection (the worker stops at its end) and wait for the worker."""
        self.lost = self.lost or "the crawl has closed"
        if self._socket is not None:
            # Now, not at the loop's next turn (as closing the stream would): the worker
            # must see the end while we wait for it below.
            with contextlib.suppress(OSError):  # closed already, with the worker gone
                self._socket.shutdown(socket.SHUT_RDWR)
            if self._writer is not None:
                self._writer.close()
            else:
                self._socket.close()
        if self.process is not None:
            self.process.join(timeout=5)
            if self.process.is_alive():  # stuck in a call
                self.process.kill()
                self.process.join(timeout=1)


def serve(connection: socket.socket, crawl_end: socket.socket) -> None:
    """The worker process: run each call sent, send back its outcome, until the end."""
    crawl_end.close()
    # A forked worker shares the crawl's signal wake-up descriptor: a signal sent to the
    # process group would reach the crawl twice (twice Ctrl-C forces Scrapy's shutdown).
    # SIGTERM ends it at once (what it was doing is done again in the crawl's process).
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    stream = connection.makefile("rwb")
    while True:
        header = stream.read(LENGTH.size)
        if len(header) < LENGTH.size:
            return  # the crawl closed its end, or is gone
        try:
            function, args = pickle.loads(stream.read(LENGTH.unpack(header)[0]))
            payload = pickle.dumps((RETURNED, function(*args)), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # why: the crawl runs this call itself, nothing is lost
            payload = pickle.dumps((FAILED, f"{type(error).__name__}: {error}"))
        stream.write(LENGTH.pack(len(payload)) + payload)
        stream.flush()

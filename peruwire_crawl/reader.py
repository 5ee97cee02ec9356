"""Article pages read on the machine's second core: a worker process beside the crawl.

Reading an article page (the page object, ``pages/article.py``) is about half of what the
crawl's own code costs, and all of the crawl runs on the reactor's one thread. With
``PERUWIRE_READ_IN_WORKER`` (on by default) the spider hands each article response's bytes
to one worker process and goes on with other responses while it waits; the worker sends
back the page's values (:class:`~peruwire_crawl.pages.article.ArticleReading`). One worker
and one connection: answers come back in the order the pages went out, so items keep their
order. Threads would not do: the page object is Python code that holds the interpreter's
lock (docs/performance.md).

Nothing is lost when the worker is: a page it was reading, or one it could not read, is read
in the crawl's own process instead; a worker that is gone (killed, out of memory) is said
once in the log (stat ``peruwire/reader/worker_lost``) and the run goes on reading in
process. The worker is forked where the platform can (it starts with the page objects
already imported) and spawned elsewhere; it ignores Ctrl-C, which reaches the whole
process group while the crawl shuts down cleanly, and stops when the crawl closes its end
of the connection or exits.
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

from scrapy import signals

logger = logging.getLogger(__name__)

# Each message: its length, then the pickle of a page to read or of the answer.
LENGTH = struct.Struct("!I")
READ_IN_WORKER_STAT = "peruwire/reader/in_worker"
READ_IN_PROCESS_STAT = "peruwire/reader/in_process"
WORKER_LOST_STAT = "peruwire/reader/worker_lost"
# The page object's answer and a failure to read a page, as the worker sends them.
READ, FAILED = "read", "failed"


class WorkerLost(Exception):
    """The worker process is gone; what it had been given must be read in process."""


class ArticleReader:
    """Reads article responses, in the worker process when it may (built ``from_crawler``)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.worker: ReadingWorker | None = None

    @classmethod
    def from_crawler(cls, crawler) -> ArticleReader:
        reader = cls(crawler)
        crawler.signals.connect(reader.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(reader.spider_closed, signal=signals.spider_closed)
        return reader

    def spider_opened(self, spider):
        """Start the worker (the add-on's defaults are in the settings by now), before the
        crawl starts threads of its own (DNS) that a forked process would not have."""
        from scrapy.utils.reactor import is_asyncio_reactor_installed

        # The worker's answers are awaited on asyncio's loop: another reactor reads in process.
        if self.crawler.settings.getbool("PERUWIRE_READ_IN_WORKER") and is_asyncio_reactor_installed():
            self.worker = ReadingWorker()
            self.worker.start()

    def spider_closed(self, spider):
        if self.worker is not None:
            self.worker.stop()

    async def read(self, response, rules):
        """The :class:`~peruwire_crawl.pages.article.ArticleReading` of an article response."""
        from peruwire_crawl.pages.article import read_article

        page = (response.body, getattr(response, "encoding", None), response.url, rules)
        if self.worker is not None and not self.worker.lost:
            try:
                outcome, answer = await self.worker.read(page)
            except WorkerLost as lost:
                if self.crawler.stats.get_value(WORKER_LOST_STAT) is None:
                    logger.warning("the worker process reading article pages is gone (%s); "
                                   "reading them in the crawl's own process from now on", lost)
                self.crawler.stats.set_value(WORKER_LOST_STAT, 1)
            else:
                if outcome == READ:
                    self.crawler.stats.inc_value(READ_IN_WORKER_STAT)
                    return answer
                logger.warning("the worker could not read %s (%s); reading it in process", response.url, answer)
        self.crawler.stats.inc_value(READ_IN_PROCESS_STAT)
        return read_article(*page)


class ReadingWorker:
    """One worker process and the crawl's end of its connection."""

    def __init__(self):
        self.lost: str | None = None  # why the worker is gone, once it is
        self._process = None
        self._socket: socket.socket | None = None
        self._connected: asyncio.Future | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._waiting: deque[asyncio.Future] = deque()  # one per page sent, in sending order

    def start(self) -> None:
        # Imported before forking so that the worker has the page objects already.
        import peruwire_crawl.pages.article  # noqa: F401

        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        ours, theirs = socket.socketpair()
        try:
            # The worker closes its copy of our end (a forked one has it): or it never sees the end.
            self._process = context.Process(target=serve, args=(theirs, ours), name="peruwire-reader", daemon=True)
            self._process.start()
        except OSError as error:  # why: no process to spare must not stop the crawl
            ours.close()
            self.lost = f"it could not be started: {error}"
        else:
            self._socket = ours
        finally:
            theirs.close()

    async def read(self, page: tuple) -> tuple[str, object]:
        """Send one page; its (outcome, answer) once the worker has read it."""
        if self.lost:
            raise WorkerLost(self.lost)
        if self._connected is None:
            self._connected = asyncio.ensure_future(self._connect())
        await self._connected
        payload = pickle.dumps(page, protocol=pickle.HIGHEST_PROTOCOL)
        answer = asyncio.get_running_loop().create_future()
        self._waiting.append(answer)
        # Buffered, never blocking: Scrapy bounds the responses in progress, so the pages
        # waiting to be read are bounded too.
        self._writer.write(LENGTH.pack(len(payload)) + payload)
        return await answer

    async def _connect(self) -> None:
        reader, self._writer = await asyncio.open_connection(sock=self._socket)
        asyncio.ensure_future(self._receive(reader))

    async def _receive(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                length = LENGTH.unpack(await reader.readexactly(LENGTH.size))[0]
                answer = pickle.loads(await reader.readexactly(length))
                waiting = self._waiting.popleft()
                if not waiting.done():  # a callback cancelled while waiting has gone
                    waiting.set_result(answer)
        except (asyncio.IncompleteReadError, OSError) as error:
            code = self._process.exitcode if self._process is not None else None
            self.lost = f"exit code {code}" if code is not None else f"{type(error).__name__}"
        except Exception as error:  # why: a broken answer must not leave pages waiting forever
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
        if self._process is not None:
            self._process.join(timeout=5)
            if self._process.is_alive():  # stuck on a page
                self._process.kill()
                self._process.join(timeout=1)


def serve(connection: socket.socket, crawl_end: socket.socket) -> None:
    """The worker process: read each page sent, send back its reading, until the end."""
    crawl_end.close()
    # A forked worker shares the crawl's signal wake-up descriptor: a signal sent to the
    # process group would reach the crawl twice (twice Ctrl-C forces Scrapy's shutdown).
    # SIGTERM ends it at once (what it was reading is read again in the crawl's process).
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from peruwire_crawl.pages.article import read_article

    stream = connection.makefile("rwb")
    while True:
        header = stream.read(LENGTH.size)
        if len(header) < LENGTH.size:
            return  # the crawl closed its end, or is gone
        page = pickle.loads(stream.read(LENGTH.unpack(header)[0]))
        try:
            payload = pickle.dumps((READ, read_article(*page)), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # why: the crawl reads this page itself, nothing is lost
            payload = pickle.dumps((FAILED, f"{type(error).__name__}: {error}"))
        stream.write(LENGTH.pack(len(payload)) + payload)
        stream.flush()

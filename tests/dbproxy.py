"""A TCP proxy on 127.0.0.1 that can stop forwarding: a database server that freezes.

Put it between a test's crawl and the test's PostgreSQL server, and :meth:`freeze` it: every
connection stays open but no byte goes through either way, and new connections are accepted
and never answered, which is what a client sees when the server's backends are stopped or a
network path swallows packets. Nothing here touches the server itself.
"""

from __future__ import annotations

import select
import socket
import threading

LOOPBACK = "127.0.0.1"


class FreezableProxy:
    def __init__(self, upstream_host: str, upstream_port: int):
        self.upstream = (upstream_host, upstream_port)
        self.frozen = threading.Event()
        self.closing = threading.Event()
        self._listener = socket.create_server((LOOPBACK, 0))
        self._listener.settimeout(0.1)
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    def __enter__(self) -> "FreezableProxy":
        self._start(self._accept_loop)
        return self

    def __exit__(self, *exc_info) -> None:
        self.closing.set()
        for thread in self._threads:
            thread.join(timeout=5)
        for sock in [self._listener, *self._sockets]:
            sock.close()

    def freeze(self) -> None:
        self.frozen.set()

    def _start(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self.closing.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            self._sockets.append(client)
            if self.frozen.is_set():
                continue  # accepted by the kernel, never answered
            server = socket.create_connection(self.upstream, timeout=5)
            self._sockets.append(server)
            self._start(self._pump, client, server)

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        peers = {client: server, server: client}
        while not self.closing.is_set():
            if self.frozen.is_set():
                self.closing.wait(0.1)  # hold everything: bytes wait in the kernel's buffers
                continue
            readable, _, _ = select.select(list(peers), [], [], 0.1)
            for sock in readable:
                try:
                    data = sock.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    for each in peers:
                        each.close()
                    return
                peers[sock].sendall(data)

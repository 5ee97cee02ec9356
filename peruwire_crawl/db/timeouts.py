"""A deadline on every wait for a PostgreSQL server, on both sides of the wire.

The server enforces ``statement_timeout`` and ``lock_timeout`` (set at connect), which ends
a slow statement or a wait for another's lock with a clean error. Neither helps when the
server itself stops answering (its backends stopped, a network path that swallows packets
while the TCP connection stays up): the client would wait for ever, and a crawl blocked in a
database call cannot act on SIGTERM. So every wait of the client for the server (a query,
a fetch, a commit) also has a deadline, a few seconds beyond the server's own, after which
the connection is closed and the call fails with ``OperationalError`` like any lost
connection (the storage pipeline keeps the batch and retries it).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import errors as pg_errors

# The client waits this much longer than statement_timeout, so that a server that is only
# slow answers with its own (clearer) "canceling statement due to statement timeout".
CLIENT_MARGIN_SECONDS = 5.0


class DeadlineConnection(psycopg.Connection):
    """A psycopg connection whose every wait for the server ends after ``answer_timeout``
    seconds (None: no deadline, psycopg's default)."""

    answer_timeout: float | None = None

    def wait(self, gen, *args: Any, **kwargs: Any):
        if kwargs.get("timeout") is None and len(args) < 2:
            kwargs["timeout"] = self.answer_timeout
        try:
            return super().wait(gen, *args, **kwargs)
        except pg_errors._WaitTimeout:
            # Half-way through an exchange with the server: the connection is unusable.
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"the database did not answer within {kwargs['timeout']:g} s; connection closed"
            ) from None


def postgres_connect_args(*, busy_timeout: float, statement_timeout: float,
                          connect_timeout: float) -> dict[str, Any]:
    """libpq parameters: the connect timeout, and the server-side timeouts of the session."""
    options = f"-c lock_timeout={int(busy_timeout * 1000)}"
    if statement_timeout > 0:
        options += f" -c statement_timeout={int(statement_timeout * 1000)}"
    # libpq counts whole seconds and treats 1 as 2.
    return {"connect_timeout": max(2, round(connect_timeout)), "options": options}


def connect_with_deadline(statement_timeout: float):
    """A ``do_connect`` event handler that makes :class:`DeadlineConnection` connections."""
    answer_timeout = statement_timeout + CLIENT_MARGIN_SECONDS if statement_timeout > 0 else None

    def do_connect(dialect, connection_record, cargs, cparams):
        connection = DeadlineConnection.connect(*cargs, **cparams)
        connection.answer_timeout = answer_timeout
        return connection

    return do_connect

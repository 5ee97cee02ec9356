"""The ``peruwire`` command: the analysts' database from the shell (click).

``base`` holds the group and the options every command shares (``--db``, the output
formats, the filters); each other module holds one command or command group, imported
when that command is asked for (``base.COMMANDS``). ``main`` is the console script.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

from peruwire_crawl.cli.base import CommandError, cli
from peruwire_crawl.teardown import freeze_for_exit

__all__ = ["cli", "main", "console_main"]


def console_main() -> None:
    """The console script: ``main``, then a quick exit (``peruwire_crawl.teardown``)."""
    try:
        status = main()
    finally:
        freeze_for_exit()  # also after --help, which exits from inside main
    sys.exit(status)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit status (``--help`` and ``--version`` exit 0)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        with cli.make_context("peruwire", args) as ctx:
            return cli.invoke(ctx) or 0
    except click.exceptions.Exit as exc:  # --help, --version
        raise SystemExit(exc.exit_code) from None
    except click.UsageError as exc:
        exc.show()
        return 2
    except CommandError as exc:
        click.echo(f"peruwire: error: {exc}", err=True)
    except click.ClickException as exc:
        click.echo(f"peruwire: error: {exc.format_message()}", err=True)
    except BrokenPipeError:
        # The reader (head, less) went away: not an error. Keep Python from complaining.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("peruwire: interrupted", err=True)
        return 130
    except Exception as exc:
        message = _database_problem(exc)
        if message is None:
            raise
        click.echo(f"peruwire: error: {message}", err=True)
    return 1


def _database_problem(exc: Exception) -> str | None:
    """The one line for a database that failed a command, or None for any other error."""
    if "sqlalchemy" not in sys.modules:  # why: no command touched a database, and importing it costs 0.3 s
        return None
    from sqlalchemy.exc import DBAPIError

    from peruwire_crawl.db.engine import DatabaseError, first_line

    if isinstance(exc, DatabaseError):
        return str(exc)
    if isinstance(exc, DBAPIError):
        return f"the database refused: {first_line(exc.orig)}"
    return None

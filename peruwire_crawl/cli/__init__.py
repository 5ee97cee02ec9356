"""The ``peruwire`` command: the analysts' database from the shell (click).

``base`` holds the group and the options every command shares (``--db``, the output
formats, the filters); each other module holds one command or command group and registers
it on the group when imported below. ``main`` is the console script.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click
from sqlalchemy.exc import DBAPIError

from peruwire_crawl.cli import (  # noqa: F401  (they register their commands)
    db,
    diff,
    export,
    extract,
    ingest,
    report,
    search,
    serve,
    show,
    stats,
)
from peruwire_crawl.cli.base import CommandError, cli
from peruwire_crawl.db.engine import DatabaseError, first_line

__all__ = ["cli", "main"]


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
    except (CommandError, DatabaseError) as exc:
        click.echo(f"peruwire: error: {exc}", err=True)
    except DBAPIError as exc:
        click.echo(f"peruwire: error: the database refused: {first_line(exc.orig)}", err=True)
    except click.ClickException as exc:
        click.echo(f"peruwire: error: {exc.format_message()}", err=True)
    except BrokenPipeError:
        # The reader (head, less) went away: not an error. Keep Python from complaining.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("peruwire: interrupted", err=True)
        return 130
    return 1

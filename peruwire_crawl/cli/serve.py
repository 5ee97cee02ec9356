"""``peruwire serve``: Datasette on the database, with peruwire's metadata."""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from peruwire_crawl.cli.base import CommandError, Database, cli, db_option
from peruwire_crawl.cli.workbench import metadata

INSTALL_HINT = "pip install 'peruwire[analysts]'"
# Characters of a cell shown in Datasette's table views (a body runs to thousands).
TRUNCATE_CELLS = 300


@cli.command(examples=["peruwire serve --db peruwire.db", "peruwire serve --db demo.db --port 8002 --open"])
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", type=int, default=8001, show_default=True, help="port to listen on")
@click.option("--open", "open_browser", is_flag=True, help="open a browser on the page")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, open_browser: bool) -> int:
    """Browse the database in Datasette: search, facets, canned queries, charts.

    Datasette reads SQLite files; for a PostgreSQL database use `peruwire query`,
    `peruwire report` or psql. Needs the analysts' extra: pip install 'peruwire[analysts]'.
    """
    if importlib.util.find_spec("datasette") is None:
        raise CommandError(f"`peruwire serve` needs Datasette: {INSTALL_HINT}")
    database = Database.of(ctx)
    engine = database.readable()
    url = make_url(engine.url)
    engine.dispose()
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        raise CommandError("Datasette reads SQLite files only; for PostgreSQL use `peruwire query` or psql")
    path = Path(url.database)
    with tempfile.TemporaryDirectory(prefix="peruwire-serve-") as folder:
        metadata_file = Path(folder) / "metadata.json"
        metadata_file.write_text(json.dumps(metadata(path.stem), ensure_ascii=False), encoding="utf-8")
        command = [sys.executable, "-m", "datasette", "serve", str(path), "--metadata", str(metadata_file),
                   "--host", host, "--port", str(port), "--setting", "truncate_cells_html", str(TRUNCATE_CELLS)]
        if open_browser:
            command.append("--open")
        click.echo(f"peruwire: Datasette on http://{host}:{port}/{path.stem} (Ctrl-C stops it)", err=True)
        return _run_until_stopped(command)


def _run_until_stopped(command: list[str]) -> int:
    """Datasette's exit status. A SIGTERM to peruwire (``systemctl stop``, a test's
    ``terminate()``) stops Datasette too, instead of leaving it running without a parent."""
    child = subprocess.Popen(command)
    previous = signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    try:
        return child.wait()
    except KeyboardInterrupt:  # Ctrl-C reached Datasette too: it is in the same process group
        child.wait()
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)

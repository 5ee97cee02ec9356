"""``peruwire db``: create, upgrade and inspect the database schema."""

from __future__ import annotations

import click

from peruwire_crawl.cli.base import Database, cli, db_option, no_crawl_running
from peruwire_crawl.db.engine import describe_url, write_transaction
from peruwire_crawl.db.migrate import current_revision, head_revision, upgrade_to_head
from peruwire_crawl.db.search import index_unindexed


@cli.group(examples=["peruwire db upgrade --db peruwire.db"])
def db() -> None:
    """Create or upgrade the database schema."""


@db.command(examples=["peruwire db upgrade --db postgresql+psycopg://analyst@db.example/peruwire"])
@db_option
@click.pass_context
def upgrade(ctx: click.Context) -> int:
    """Create the database, or bring its schema up to date (keeps every row).

    Also indexes for search the articles that other programs added or edited.
    """
    engine = Database.of(ctx).engine(must_exist=False)
    with engine.connect() as connection:
        before = current_revision(connection)
    with no_crawl_running(engine):
        upgrade_to_head(engine)
        with write_transaction(engine) as connection:
            indexed = index_unindexed(connection)
    head = head_revision()
    where = describe_url(engine.url)
    if before == head:
        click.echo(f"{where} is up to date (schema revision {head})")
    else:
        click.echo(f"{where} upgraded from schema revision {before or '(empty)'} to {head}")
    if indexed:
        click.echo(f"{indexed} articles changed by other programs were indexed for search")
    return 0


@db.command(examples=["peruwire db current --db peruwire.db"])
@db_option
@click.pass_context
def current(ctx: click.Context) -> int:
    """Show the database's schema revision."""
    engine = Database.of(ctx).engine()
    with engine.connect() as connection:
        revision = current_revision(connection)
    click.echo(f"{revision or '(empty)'} (this peruwire's latest: {head_revision()})")
    return 0

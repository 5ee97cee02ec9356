"""Revisions of every stored field, and the change signals' memory.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-01

``article_revisions`` gains the earlier authors, dates and body (as a reverse delta, see
``peruwire_crawl/db/revisions.py``), the names of the fields that changed and the signal
that revealed the change. Existing rows are carried over as they are: their title and
summary stay, and ``changed`` is worked out by comparing each with the values that
replaced it (the next revision, or the article now); what was not recorded before stays
null. New tables: ``source_signals`` (what each source offers: WordPress REST API,
sitemaps) and ``article_checks`` (each article page's validators and last check).
Types spelled out, as in 0001; batch mode on SQLite.
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

TIME = sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")
JSON_LIST = sa.Text().with_variant(postgresql.JSONB(), "postgresql")
NEW_REVISION_COLUMNS = ("authors", "published_at", "date_precision", "modified_at", "body_delta",
                        "changed", "signal")


def upgrade() -> None:
    with op.batch_alter_table("article_revisions") as batch:
        batch.add_column(sa.Column("authors", JSON_LIST))
        batch.add_column(sa.Column("published_at", TIME))
        batch.add_column(sa.Column("date_precision", sa.Text))
        batch.add_column(sa.Column("modified_at", TIME))
        batch.add_column(sa.Column("body_delta", sa.Text))
        batch.add_column(sa.Column("changed", JSON_LIST))
        batch.add_column(sa.Column("signal", sa.Text))
        batch.create_index("ix_article_revisions_replaced_at", ["replaced_at"])
    _carry_over_changed_fields()

    op.create_table(
        "source_signals",
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("signal", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("since", TIME),
        sa.Column("probed_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("source", "signal", name="pk_source_signals"),
    )
    op.create_table(
        "article_checks",
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("checked_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("article_id", name="pk_article_checks"),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE",
                                name="fk_article_checks_article_id_articles"),
    )
    op.create_index("ix_article_checks_checked_at", "article_checks", ["checked_at"])


def _carry_over_changed_fields() -> None:
    """A row from before this revision kept the title and summary in force before a change
    of either: which of them changed is what differs from the next row (or the article)."""
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT r.id, r.article_id, r.title, r.summary, a.title AS now_title, a.summary AS now_summary "
        "FROM article_revisions r JOIN articles a ON a.id = r.article_id "
        "ORDER BY r.article_id, r.id DESC"
    )).mappings().all()
    later: dict[int, tuple] = {}
    updates = []
    for row in rows:
        after = later.get(row["article_id"], (row["now_title"], row["now_summary"]))
        pairs = zip(("title", "summary"), (row["title"], row["summary"]), after, strict=False)
        changed = [name for name, before, now in pairs if before != now]
        updates.append({"id": row["id"], "changed": json.dumps(changed)})
        later[row["article_id"]] = (row["title"], row["summary"])
    if updates:
        cast = "CAST(:changed AS jsonb)" if connection.dialect.name == "postgresql" else ":changed"
        connection.execute(sa.text(f"UPDATE article_revisions SET changed = {cast} WHERE id = :id"), updates)


def downgrade() -> None:
    op.drop_index("ix_article_checks_checked_at", table_name="article_checks")
    op.drop_table("article_checks")
    op.drop_table("source_signals")
    with op.batch_alter_table("article_revisions") as batch:
        batch.drop_index("ix_article_revisions_replaced_at")
        for name in reversed(NEW_REVISION_COLUMNS):
            batch.drop_column(name)

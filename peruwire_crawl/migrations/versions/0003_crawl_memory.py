"""The incremental crawl's memory: section page validators and article URL aliases.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

The incremental crawl asks a section page "changed since?" with If-None-Match /
If-Modified-Since and takes a 304 as "nothing new"; it takes a URL that dedup found to be
another URL of a stored article (a changed slug) as known. Types spelled out, as in 0001.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TIME = sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "page_validators",
        sa.Column("url", sa.Text, primary_key=True),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("checked_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("url", name="pk_page_validators"),
    )
    op.create_table(
        "article_aliases",
        sa.Column("url", sa.Text, primary_key=True),
        sa.Column("article_url", sa.Text, nullable=False),
        sa.Column("first_seen_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("url", name="pk_article_aliases"),
    )


def downgrade() -> None:
    op.drop_table("article_aliases")
    op.drop_table("page_validators")

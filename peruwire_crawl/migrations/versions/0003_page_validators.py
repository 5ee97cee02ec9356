"""Page validators: each section page's ETag and Last-Modified, for conditional requests.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

The incremental crawl asks a section page "changed since?" with If-None-Match /
If-Modified-Since and takes a 304 as "nothing new". Types spelled out, as in 0001.
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


def downgrade() -> None:
    op.drop_table("page_validators")

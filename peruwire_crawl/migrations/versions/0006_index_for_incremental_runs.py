"""An index for what an incremental run asks of a large source, before reading anything.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-03

``ix_articles_source_complete_changed_at`` on ``articles (source, complete, changed_at)``.
``complete`` and ``changed_at`` sit after ``body`` in each row, so a query that filtered on
them read every article's body from its overflow pages: with 30,000 stored articles
(800 MB), counting a source's complete articles took 76 ms, finding its newest check 124 ms
and the articles to revisit 76 ms, before the first request of a run with nothing new. With
the index they answer from it alone: 1.2, 5 and 1.5 ms (docs/performance.md).

No row is changed.
"""
from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEX = "ix_articles_source_complete_changed_at"


def upgrade() -> None:
    op.create_index(INDEX, "articles", ["source", "complete", "changed_at"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="articles")

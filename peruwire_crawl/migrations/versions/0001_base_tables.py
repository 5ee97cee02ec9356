"""Base tables: articles, their sections, revisions and translations, and crawl runs.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Times are ``timestamptz`` on PostgreSQL and ISO 8601 text in UTC on SQLite; ``authors`` is
``jsonb`` on PostgreSQL and JSON text on SQLite. The types are spelled out here rather than
imported, so this revision keeps meaning what it meant when it shipped.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TIME = sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")
JSON_LIST = sa.Text().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("spider", sa.Text, nullable=False),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("finished_at", TIME),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("finish_reason", sa.Text),
        sa.Column("pages_fetched", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("new", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("updated", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("unchanged", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("duplicates", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("errors", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("notes", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_crawl_runs"),
    )
    op.create_index("ix_crawl_runs_started_at", "crawl_runs", ["started_at"])

    op.create_table(
        "articles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("summary", sa.Text),
        sa.Column("published_at", TIME),
        sa.Column("date_precision", sa.Text),
        sa.Column("date_signal", sa.Text),
        sa.Column("modified_at", TIME),
        sa.Column("authors", JSON_LIST, nullable=False, server_default=sa.text("'[]'")),
        sa.Column("language", sa.Text),
        sa.Column("body", sa.Text),
        sa.Column("translation_of", sa.Text),
        sa.Column("complete", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("incomplete_reason", sa.Text),
        sa.Column("listed_title", sa.Text),
        sa.Column("listed_summary", sa.Text),
        sa.Column("title_key", sa.Text),
        sa.Column("first_seen_at", TIME, nullable=False),
        sa.Column("last_seen_at", TIME, nullable=False),
        sa.Column("changed_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_articles"),
        sa.UniqueConstraint("url", name="uq_articles_url"),
    )
    op.create_index("ix_articles_published_at", "articles", ["published_at"])
    op.create_index("ix_articles_source_published_at", "articles", ["source", "published_at"])
    op.create_index("ix_articles_source_title_key", "articles", ["source", "title_key"])

    op.create_table(
        "article_sections",
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.Column("section_url", sa.Text, nullable=False),
        sa.Column("first_seen_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("article_id", "section_url", name="pk_article_sections"),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], ondelete="CASCADE",
            name="fk_article_sections_article_id_articles",
        ),
    )
    op.create_index("ix_article_sections_section_url", "article_sections", ["section_url"])

    op.create_table(
        "article_revisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("summary", sa.Text),
        sa.Column("replaced_at", TIME, nullable=False),
        sa.Column("crawl_run_id", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_article_revisions"),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], ondelete="CASCADE",
            name="fk_article_revisions_article_id_articles",
        ),
        sa.ForeignKeyConstraint(
            ["crawl_run_id"], ["crawl_runs.id"], ondelete="SET NULL",
            name="fk_article_revisions_crawl_run_id_crawl_runs",
        ),
    )
    op.create_index("ix_article_revisions_article_id", "article_revisions", ["article_id"])

    op.create_table(
        "article_translations",
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.Column("translation_url", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("article_id", "translation_url", name="pk_article_translations"),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], ondelete="CASCADE",
            name="fk_article_translations_article_id_articles",
        ),
    )
    op.create_index(
        "ix_article_translations_translation_url", "article_translations", ["translation_url"]
    )


def downgrade() -> None:
    for table in ("article_translations", "article_revisions", "article_sections", "articles", "crawl_runs"):
        op.drop_table(table)

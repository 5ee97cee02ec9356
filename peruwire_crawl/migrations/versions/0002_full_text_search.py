"""Full-text search over title, summary and body, and the article_authors view.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-01

SQLite: an FTS5 index ``articles_fts`` over the ``articles`` table (external content), kept
in sync by triggers, with diacritics folded (``peru`` finds ``Perú``).
PostgreSQL: a generated ``tsvector`` column ``articles.search_vector`` (English and Spanish
stemming of the same text, title weighted above summary above body) with a GIN index.
Rows already in the table are indexed by this migration.
"""
from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_UP = [
    """
    CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, summary, body,
        content='articles', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, summary, body)
        VALUES (new.id, new.title, new.summary, new.body);
    END
    """,
    """
    CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, summary, body)
        VALUES ('delete', old.id, old.title, old.summary, old.body);
    END
    """,
    """
    CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, summary, body ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, summary, body)
        VALUES ('delete', old.id, old.title, old.summary, old.body);
        INSERT INTO articles_fts(rowid, title, summary, body)
        VALUES (new.id, new.title, new.summary, new.body);
    END
    """,
    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
    """
    CREATE VIEW article_authors AS
    SELECT articles.id AS article_id, json_each.value AS author
    FROM articles, json_each(articles.authors)
    """,
]

SQLITE_DOWN = [
    "DROP VIEW article_authors",
    "DROP TRIGGER articles_fts_update",
    "DROP TRIGGER articles_fts_delete",
    "DROP TRIGGER articles_fts_insert",
    "DROP TABLE articles_fts",
]


def _document(config: str) -> str:
    return (
        f"setweight(to_tsvector('{config}'::regconfig, coalesce(title, '')), 'A') || "
        f"setweight(to_tsvector('{config}'::regconfig, coalesce(summary, '')), 'B') || "
        f"setweight(to_tsvector('{config}'::regconfig, coalesce(body, '')), 'C')"
    )


POSTGRESQL_UP = [
    f"""
    ALTER TABLE articles ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS ({_document('english')} || {_document('spanish')}) STORED
    """,
    "CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)",
    """
    CREATE VIEW article_authors AS
    SELECT articles.id AS article_id, author.value AS author
    FROM articles, jsonb_array_elements_text(articles.authors) AS author(value)
    """,
]

POSTGRESQL_DOWN = [
    "DROP VIEW article_authors",
    "DROP INDEX ix_articles_search_vector",
    "ALTER TABLE articles DROP COLUMN search_vector",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _run(SQLITE_UP if dialect == "sqlite" else POSTGRESQL_UP)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    _run(SQLITE_DOWN if dialect == "sqlite" else POSTGRESQL_DOWN)

"""Search the same on both databases; a full-text index Datasette and sqlite-utils find.

Revision ID: 0004
Revises: 0005
Create Date: 2026-12-01

- ``article_search``: each article's words and stems (``peruwire_crawl.db.search``),
  filled here for the rows already stored; matched on SQLite by the FTS5 table
  ``article_search_fts`` (kept in sync by triggers), on PostgreSQL by GIN indexes on
  ``to_tsvector('simple', ...)``. It replaces PostgreSQL's ``articles.search_vector``
  (a generated column, so dropping it loses nothing: it is made from the text).
- SQLite: ``articles_fts`` is declared again with ``content="articles"``, the spelling
  Datasette and sqlite-utils look for (``content='articles'`` they do not see), and
  English stemming (porter) for their search boxes; it is rebuilt from ``articles``.
- Triggers on ``articles`` drop an article's ``article_search`` row when its text or
  language is changed by anything but peruwire's store (which writes the row again in the
  same transaction): an article without a row is matched by ``peruwire search`` in Python
  until ``peruwire db upgrade`` (or its next store) indexes it, so no edit is ever missed.
- ``article_list``: one row per article with its sections and translations as JSON arrays,
  beside ``authors``, so Datasette can facet on all three.

No row of any table is changed or removed.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0005"  # cli's 0004 was integrated after rev's 0005: the history stays linear
branch_labels = None
depends_on = None

SQLITE_ARTICLES_FTS = """
    CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, summary, body,
        content="articles", content_rowid="id",
        tokenize="porter unicode61 remove_diacritics 2"
    )
"""
SQLITE_ARTICLES_FTS_0002 = """
    CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, summary, body,
        content='articles', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    )
"""

SQLITE_UP = [
    # The 0002 triggers are on `articles` and name the index only in their bodies: they
    # survive the table's re-declaration and keep it in sync.
    "DROP TABLE articles_fts",
    SQLITE_ARTICLES_FTS,
    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
    """
    CREATE VIRTUAL TABLE article_search_fts USING fts5(
        stems, words, language UNINDEXED,
        content="article_search", content_rowid="article_id"
    )
    """,
    """
    CREATE TRIGGER article_search_fts_insert AFTER INSERT ON article_search BEGIN
        INSERT INTO article_search_fts(rowid, stems, words, language)
        VALUES (new.article_id, new.stems, new.words, new.language);
    END
    """,
    """
    CREATE TRIGGER article_search_fts_delete AFTER DELETE ON article_search BEGIN
        INSERT INTO article_search_fts(article_search_fts, rowid, stems, words, language)
        VALUES ('delete', old.article_id, old.stems, old.words, old.language);
    END
    """,
    """
    CREATE TRIGGER article_search_fts_update AFTER UPDATE ON article_search BEGIN
        INSERT INTO article_search_fts(article_search_fts, rowid, stems, words, language)
        VALUES ('delete', old.article_id, old.stems, old.words, old.language);
        INSERT INTO article_search_fts(rowid, stems, words, language)
        VALUES (new.article_id, new.stems, new.words, new.language);
    END
    """,
    """
    CREATE TRIGGER article_search_stale AFTER UPDATE OF title, summary, body, language ON articles BEGIN
        DELETE FROM article_search WHERE article_id = new.id;
    END
    """,
    # Also without PRAGMA foreign_keys (another program's connection), no row outlives its article.
    """
    CREATE TRIGGER article_search_gone AFTER DELETE ON articles BEGIN
        DELETE FROM article_search WHERE article_id = old.id;
    END
    """,
    """
    CREATE VIEW article_list AS
    SELECT a.id, a.published_at, a.source, a.language, a.title, a.summary, a.authors,
           (SELECT json_group_array(section_url) FROM
              (SELECT section_url FROM article_sections WHERE article_id = a.id ORDER BY section_url)) AS sections,
           (SELECT json_group_array(translation_url) FROM
              (SELECT translation_url FROM article_translations WHERE article_id = a.id ORDER BY translation_url)
           ) AS translations,
           a.translation_of, a.complete, a.incomplete_reason, a.url, a.first_seen_at, a.changed_at
    FROM articles AS a
    """,
]

SQLITE_DOWN = [
    "DROP VIEW article_list",
    "DROP TRIGGER article_search_gone",
    "DROP TRIGGER article_search_stale",
    "DROP TRIGGER article_search_fts_update",
    "DROP TRIGGER article_search_fts_delete",
    "DROP TRIGGER article_search_fts_insert",
    "DROP TABLE article_search_fts",
    "DROP TABLE articles_fts",
    SQLITE_ARTICLES_FTS_0002,
    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
]


def _document(config: str) -> str:  # as in 0002, for the downgrade
    return (
        f"setweight(to_tsvector('{config}'::regconfig, coalesce(title, '')), 'A') || "
        f"setweight(to_tsvector('{config}'::regconfig, coalesce(summary, '')), 'B') || "
        f"setweight(to_tsvector('{config}'::regconfig, coalesce(body, '')), 'C')"
    )


POSTGRESQL_UP = [
    "DROP INDEX ix_articles_search_vector",
    "ALTER TABLE articles DROP COLUMN search_vector",
    "CREATE INDEX ix_article_search_stems ON article_search USING gin (to_tsvector('simple'::regconfig, stems))",
    "CREATE INDEX ix_article_search_words ON article_search USING gin (to_tsvector('simple'::regconfig, words))",
    """
    CREATE FUNCTION article_search_stale() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM article_search WHERE article_id = NEW.id;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER article_search_stale AFTER UPDATE OF title, summary, body, language ON articles
    FOR EACH ROW EXECUTE FUNCTION article_search_stale()
    """,
    """
    CREATE VIEW article_list AS
    SELECT a.id, a.published_at, a.source, a.language, a.title, a.summary, a.authors,
           coalesce((SELECT jsonb_agg(section_url ORDER BY section_url) FROM article_sections
                     WHERE article_id = a.id), '[]'::jsonb) AS sections,
           coalesce((SELECT jsonb_agg(translation_url ORDER BY translation_url) FROM article_translations
                     WHERE article_id = a.id), '[]'::jsonb) AS translations,
           a.translation_of, a.complete, a.incomplete_reason, a.url, a.first_seen_at, a.changed_at
    FROM articles AS a
    """,
]

POSTGRESQL_DOWN = [
    "DROP VIEW article_list",
    "DROP TRIGGER article_search_stale ON articles",
    "DROP FUNCTION article_search_stale()",
    f"""
    ALTER TABLE articles ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS ({_document('english')} || {_document('spanish')}) STORED
    """,
    "CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)",
]

BACKFILL_CHUNK = 1000


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def _index_stored_articles() -> None:
    from peruwire_crawl.db.search import index_articles

    connection = op.get_bind()
    articles = sa.table("articles", sa.column("id", sa.Integer))
    last = 0
    while ids := [row.id for row in connection.execute(
            sa.select(articles.c.id).where(articles.c.id > last).order_by(articles.c.id).limit(BACKFILL_CHUNK))]:
        index_articles(connection, ids)
        last = ids[-1]


def upgrade() -> None:
    op.create_table(
        "article_search",
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE",
                                                          name="fk_article_search_article_id_articles"),
                  nullable=False),
        sa.Column("language", sa.Text),
        sa.Column("words", sa.Text, nullable=False),
        sa.Column("stems", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("article_id", name="pk_article_search"),
    )
    _run(SQLITE_UP if op.get_bind().dialect.name == "sqlite" else POSTGRESQL_UP)
    _index_stored_articles()


def downgrade() -> None:
    _run(SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else POSTGRESQL_DOWN)
    op.drop_table("article_search")

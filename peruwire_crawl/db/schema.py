"""The database schema: the single source of truth for peruwire's tables.

Core tables rather than ORM classes: storage is bulk upserts and the analysts' queries are
SQL, so rows stay plain. Migrations (``peruwire_crawl/migrations/versions``) create exactly
these tables (a test compares them); what only one database has, such as the full-text
index, lives in the migrations alone and is described in ``docs/schema.md``.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    text,
    true,
)

from peruwire_crawl.db.types import JsonList, UtcDateTime

# Constraint names spelled out, so that migrations (and SQLite batch mode) can find them.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", Text, nullable=False, unique=True),
    Column("source", Text, nullable=False),
    Column("title", Text),
    Column("summary", Text),
    Column("published_at", UtcDateTime),
    Column("date_precision", Text),
    Column("date_signal", Text),
    Column("modified_at", UtcDateTime),
    Column("authors", JsonList, nullable=False, server_default=text("'[]'")),
    Column("language", Text),
    Column("body", Text),
    Column("translation_of", Text),
    Column("complete", Boolean, nullable=False, server_default=true()),
    Column("incomplete_reason", Text),
    Column("listed_title", Text),
    Column("listed_summary", Text),
    Column("title_key", Text),
    Column("first_seen_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Index(None, "published_at"),
    Index(None, "source", "published_at"),
    Index(None, "source", "title_key"),
    # What an incremental run counts and picks before reading anything (migration 0006).
    Index(None, "source", "complete", "changed_at"),
)

article_sections = Table(
    "article_sections",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("section_url", Text, primary_key=True),
    Column("first_seen_at", UtcDateTime, nullable=False),
    Index(None, "section_url"),
)

# One row per change of a stored article: its values *before* the change (revision 0005
# added all but title and summary; peruwire_crawl/db/revisions.py reads them back).
article_revisions = Table(
    "article_revisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("title", Text),
    Column("summary", Text),
    Column("replaced_at", UtcDateTime, nullable=False),
    Column("crawl_run_id", Integer, ForeignKey("crawl_runs.id", ondelete="SET NULL")),
    Column("authors", JsonList),  # null on rows made before 0005 (not recorded then)
    Column("published_at", UtcDateTime),
    Column("date_precision", Text),
    Column("modified_at", UtcDateTime),
    Column("body_delta", Text),  # how to rebuild the earlier body from the next; null: body unchanged
    Column("changed", JsonList),  # names of the fields that changed, e.g. ["body", "modified_at"]
    Column("signal", Text),  # what made the crawl read the page: listing_changed, wp_rest, sitemap, recheck...
    Index(None, "article_id"),
    Index(None, "replaced_at"),
)

article_translations = Table(
    "article_translations",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("translation_url", Text, primary_key=True),
    Index(None, "translation_url"),
)

crawl_runs = Table(
    "crawl_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("spider", Text, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("status", Text, nullable=False),
    Column("finish_reason", Text),
    Column("pages_fetched", Integer, nullable=False, server_default=text("0")),
    Column("new", Integer, nullable=False, server_default=text("0")),
    Column("updated", Integer, nullable=False, server_default=text("0")),
    Column("unchanged", Integer, nullable=False, server_default=text("0")),
    Column("duplicates", Integer, nullable=False, server_default=text("0")),
    Column("errors", Integer, nullable=False, server_default=text("0")),
    Column("notes", Text),
    Index(None, "started_at"),
)

# What a section page's server said about its version (ETag, Last-Modified) when we last
# read it, so the next run can ask "changed since?" and take a 304 as "nothing new".
page_validators = Table(
    "page_validators",
    metadata,
    Column("url", Text, primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),  # the header's text, sent back verbatim
    Column("checked_at", UtcDateTime, nullable=False),
)

# Other URLs of a stored article (a changed slug found by dedup's title rule): the
# incremental crawl takes them as known, and never fetches them again.
article_aliases = Table(
    "article_aliases",
    metadata,
    Column("url", Text, primary_key=True),
    Column("article_url", Text, nullable=False),  # articles.url of the article it duplicates
    Column("first_seen_at", UtcDateTime, nullable=False),
)

# Each article's text prepared for search, the same on both databases (written with the
# article by peruwire_crawl.db.search; matched through article_search_fts on SQLite and
# to_tsvector('simple', ...) indexes on PostgreSQL, made by migration 0004).
article_search = Table(
    "article_search",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("language", Text),
    Column("words", Text, nullable=False),  # every word, lowercased, accents removed
    Column("stems", Text, nullable=False),  # the same words stemmed in the article's language
)

# Change signals (peruwire_crawl/changes/): what each source offers (the WordPress REST
# API, sitemaps), learnt by probing and kept so later runs do not ask again.
source_signals = Table(
    "source_signals",
    metadata,
    Column("source", Text, primary_key=True),
    Column("signal", Text, primary_key=True),  # "wp_rest" or "sitemap"
    Column("state", Text, nullable=False),  # "offered", "missing" or "refused"
    Column("detail", Text),  # JSON: what the signal needs next time (tag ids, the sitemap index URL)
    Column("since", UtcDateTime),  # the site's clock at the last answer a healthy run used
    Column("probed_at", UtcDateTime, nullable=False),
)

# Each article page's validators and when it was last read or re-checked, for the rolling
# re-check (conditional GET, oldest-checked first) and to tell whether a reported edit is
# newer than what is stored.
article_checks = Table(
    "article_checks",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),  # the header's text, sent back verbatim
    Column("checked_at", UtcDateTime, nullable=False),  # the site's clock (Date header) then
    Index(None, "checked_at"),
)

# crawl_runs.status values.
RUNNING, FINISHED, FAILED, UNHEALTHY = "running", "finished", "failed", "unhealthy"

# Objects the migrations create that the tables above do not describe (full-text search,
# views); Alembic's autogenerate must leave them alone.
SEARCH_OBJECTS = frozenset(
    {"articles_fts", "articles_fts_data", "articles_fts_idx", "articles_fts_docsize",
     "articles_fts_config", "articles_fts_content", "article_authors", "search_vector",
     "ix_articles_search_vector", "article_search_fts", "article_search_fts_data", "article_search_fts_idx",
     "article_search_fts_docsize", "article_search_fts_config", "ix_article_search_stems",
     "ix_article_search_words", "article_list"}
)

__all__ = [
    "metadata", "articles", "article_sections", "article_revisions", "article_translations", "article_search",
    "crawl_runs", "page_validators", "article_aliases", "source_signals", "article_checks",
    "RUNNING", "FINISHED", "FAILED", "UNHEALTHY",
]

"""What Datasette shows of a peruwire database: titles, descriptions of every table, view
and column, default facets, and the canned queries Peru coverage analysts ask first.

``metadata(database_name)`` is handed to Datasette by ``peruwire serve``. The canned
queries are SQLite SQL (Datasette reads SQLite files); ``per_month_sql`` is shared with
``peruwire report``, so the page and the report count alike.
"""

from __future__ import annotations

from typing import Any

# Months from the first to the last article with a date, each listed even when empty.
_MONTHS = """
WITH RECURSIVE bounds AS (
    SELECT min(substr(published_at, 1, 7)) AS first, max(substr(published_at, 1, 7)) AS last
    FROM articles WHERE published_at IS NOT NULL
), months(month) AS (
    SELECT first FROM bounds WHERE first IS NOT NULL
    UNION ALL
    SELECT strftime('%Y-%m', month || '-01', '+1 month') FROM months, bounds WHERE month < bounds.last
)"""

# (what is counted, the SQL giving one row per article and value)
PER_MONTH_DIMENSIONS = {
    "source": "SELECT id, substr(published_at, 1, 7) AS month, source AS value FROM articles",
    "language": "SELECT id, substr(published_at, 1, 7) AS month, coalesce(language, '(unknown)') AS value "
                "FROM articles",
    "section": "SELECT a.id, substr(a.published_at, 1, 7) AS month, s.section_url AS value "
               "FROM articles AS a JOIN article_sections AS s ON s.article_id = a.id",
}


def per_month_sql(dimension: str) -> str:
    """Articles per month and ``dimension`` value, zero months included (SQLite)."""
    return f"""{_MONTHS},
tagged AS ({PER_MONTH_DIMENSIONS[dimension]}),
dimension_values AS (SELECT DISTINCT value FROM tagged)
SELECT months.month, dimension_values.value AS {dimension}, count(tagged.id) AS articles
FROM months CROSS JOIN dimension_values
LEFT JOIN tagged ON tagged.month = months.month AND tagged.value = dimension_values.value
GROUP BY months.month, dimension_values.value
ORDER BY months.month, dimension_values.value"""


# A revision from before migration 0005 has no `changed` list: it was a title or summary change.
CORRECTIONS_SQL = """SELECT a.id, a.url, r.replaced_at, r.crawl_run_id, r.changed, r.signal,
       r.body_delta IS NOT NULL AS body_changed,
       r.title AS earlier_title, a.title AS title,
       r.summary AS earlier_summary, a.summary AS summary
FROM article_revisions AS r JOIN articles AS a ON a.id = r.article_id
WHERE r.changed IS NULL
   OR EXISTS (SELECT 1 FROM json_each(r.changed) WHERE value IN ('title', 'summary', 'body'))
ORDER BY r.replaced_at DESC"""

CANNED_QUERIES = {
    "articles_per_month_by_source": {
        "title": "Articles per month, by source",
        "description": "Every month from the first to the last article, empty months as 0: ready to chart.",
        "sql": per_month_sql("source"),
    },
    "articles_per_month_by_section": {
        "title": "Articles per month, by section",
        "description": "An article listed by two sections counts in both. Empty months as 0.",
        "sql": per_month_sql("section"),
    },
    "articles_per_month_by_language": {
        "title": "Articles per month, by language",
        "description": "Language detected from the article's text. Empty months as 0.",
        "sql": per_month_sql("language"),
    },
    "corrections": {
        "title": "Corrections: articles whose title, summary or body changed",
        "description": "Each change (changed: which fields) with the earlier title and summary beside the "
                       "current ones, newest first; body_changed is 1 where the body changed: "
                       "`peruwire diff ID` prints the words, `peruwire show ID --history` every version.",
        "sql": CORRECTIONS_SQL,
    },
    "body_or_other_changes": {
        "title": "Articles changed after they were first stored",
        "description": "Any stored field changed (title, summary, body, dates, authors...).",
        "sql": "SELECT id, url, title, first_seen_at, changed_at FROM articles "
               "WHERE changed_at > first_seen_at ORDER BY changed_at DESC",
    },
    "incomplete_articles": {
        "title": "Incomplete articles, and why",
        "description": "Articles whose page could not be read in full; the crawl retries them every run.",
        "sql": "SELECT id, url, coalesce(title, listed_title) AS title, incomplete_reason, last_seen_at "
               "FROM articles WHERE NOT complete ORDER BY last_seen_at DESC",
    },
    "run_health": {
        "title": "Crawl runs and their health",
        "description": "Newest first. status: finished (healthy), unhealthy, failed or running; notes say why.",
        "sql": "SELECT id, spider, started_at, finished_at, status, finish_reason, pages_fetched, new, updated, "
               "unchanged, duplicates, errors, notes FROM crawl_runs ORDER BY id DESC",
    },
    "translations_side_by_side": {
        "title": "Translations side by side",
        "description": "Each article beside the translation it links to.",
        "sql": "SELECT a.id, a.language, a.title, b.id AS translation_id, b.language AS translation_language, "
               "coalesce(b.title, t.translation_url) AS translation_title "
               "FROM article_translations AS t JOIN articles AS a ON a.id = t.article_id "
               "LEFT JOIN articles AS b ON b.url = t.translation_url ORDER BY a.published_at DESC",
    },
}

ARTICLE_COLUMNS = {
    "id": "Row number; `peruwire show ID` prints the article in full.",
    "url": "Canonical URL of the article: its key.",
    "source": "Source key (peoplesdispatch, ...).",
    "title": "Title as published, cleaned.",
    "summary": "Standfirst or description.",
    "published_at": "Publication time, UTC, ISO 8601.",
    "date_precision": "How precise published_at is: second, day or month.",
    "date_signal": "Where the publication date was read (meta tag, JSON-LD, URL...).",
    "modified_at": "Last-modified time the page declares, UTC.",
    "authors": "JSON list of author names.",
    "language": "ISO 639-1 language code of the text.",
    "body": "Full text, paragraphs separated by blank lines (truncated in table views).",
    "translation_of": "URL of the original, when this article is a translation.",
    "complete": "1 when the article page was read in full; 0 when only its listing was.",
    "incomplete_reason": "Why the page could not be read (when complete is 0).",
    "listed_title": "Title as the section page listed it.",
    "listed_summary": "Summary as the section page listed it.",
    "title_key": "Normalised title used to find the same article under another URL.",
    "first_seen_at": "When peruwire first stored the article, UTC.",
    "last_seen_at": "When a crawl last saw it, UTC.",
    "changed_at": "When a stored field last changed, UTC.",
}

TABLES: dict[str, dict[str, Any]] = {
    "articles": {
        "description": "One row per article. Search box: full-text over title, summary and body.",
        "columns": ARTICLE_COLUMNS,
        "facets": ["source", "language", {"array": "authors"}, "complete"],
        "sort_desc": "published_at",
    },
    "article_list": {
        "description": "Articles with their sections and translations as JSON lists: facet on any of them.",
        "columns": {**{k: v for k, v in ARTICLE_COLUMNS.items() if k != "body"},
                    "sections": "JSON list of the section pages listing the article.",
                    "translations": "JSON list of the URLs of its translations."},
        "facets": ["source", "language", {"array": "sections"}, {"array": "authors"}],
    },
    "article_sections": {
        "description": "Which section pages (tag archives) list each article.",
        "columns": {"article_id": "articles.id", "section_url": "Section page URL.",
                    "first_seen_at": "When the section was first seen listing the article, UTC."},
        "facets": ["section_url"],
    },
    "article_revisions": {
        "description": "One row per change of a stored article: the values before it.",
        "columns": {"id": "Row number.", "article_id": "articles.id", "title": "The title before the change.",
                    "summary": "The summary before the change.", "replaced_at": "When it was replaced, UTC.",
                    "crawl_run_id": "The crawl run that saw the change.",
                    "authors": "The authors before (null on rows made before revision 0005).",
                    "published_at": "The publication time before.", "date_precision": "Its precision before.",
                    "modified_at": "The declared modification time before.",
                    "body_delta": "How to rebuild the earlier body from the next one; null: body unchanged.",
                    "changed": "JSON list of the fields that changed.",
                    "signal": "What made the crawl read the page again (listing_changed, wp_rest, sitemap, recheck)."},
        "facets": [{"array": "changed"}, "signal"],
    },
    "article_translations": {
        "description": "Links from an article to its translations.",
        "columns": {"article_id": "articles.id", "translation_url": "URL of the translation."},
    },
    "article_aliases": {
        "description": "Other URLs of a stored article (a changed slug found by its title).",
        "columns": {"url": "The other URL.", "article_url": "articles.url of the article.",
                    "first_seen_at": "When the other URL was first seen, UTC."},
    },
    "article_authors": {
        "description": "One row per article and author (a view over articles.authors).",
        "columns": {"article_id": "articles.id", "author": "Author name."},
        "facets": ["author"],
    },
    "article_search": {
        "description": "Each article's words and stems for `peruwire search` (the same on SQLite and PostgreSQL).",
        "columns": {"article_id": "articles.id", "language": "Language the stems are in.",
                    "words": "Every word, lowercased, accents removed.",
                    "stems": "The words stemmed in the article's language (English, Spanish)."},
        "hidden": True,
    },
    "crawl_runs": {
        "description": "One row per crawl (or ingest) run, with its counts and health.",
        "columns": {"id": "Run number.", "spider": "What ran (peru, or peruwire ingest FILE).",
                    "started_at": "Start, UTC.", "finished_at": "End, UTC.",
                    "status": "finished (healthy), unhealthy, failed or running.",
                    "finish_reason": "Scrapy's finish reason.", "pages_fetched": "Pages downloaded.",
                    "new": "Articles stored for the first time.", "updated": "Stored articles that changed.",
                    "unchanged": "Stored articles seen again unchanged.", "duplicates": "Duplicates dropped.",
                    "errors": "Items that could not be stored.", "notes": "Why the run was unhealthy or failed."},
        "facets": ["status"],
        "sort_desc": "id",
    },
    "source_signals": {
        "description": "What each source offers to find edited articles (WordPress REST API, sitemaps), as probed.",
        "columns": {"source": "Source key.", "signal": "wp_rest or sitemap.", "state": "offered, missing or refused.",
                    "detail": "JSON: what the signal needs next time.",
                    "since": "The site's clock at the last answer a healthy run used.",
                    "probed_at": "When it was last probed, UTC."},
    },
    "article_checks": {
        "description": "Each article page's validators and when it was last read or re-checked.",
        "columns": {"article_id": "articles.id", "etag": "ETag header.", "last_modified": "Last-Modified header.",
                    "checked_at": "The site's clock when it was last read or re-checked."},
    },
    "page_validators": {
        "description": "ETag and Last-Modified of each section page, for conditional requests.",
        "columns": {"url": "Section page URL.", "etag": "ETag header.", "last_modified": "Last-Modified header.",
                    "checked_at": "When the page was last read, UTC."},
    },
}

HIDDEN_TABLES = ["alembic_version"] + [f"{index}{suffix}" for index in ("articles_fts", "article_search_fts")
                 for suffix in ("", "_data", "_idx", "_docsize", "_config", "_content")]


def metadata(database_name: str) -> dict[str, Any]:
    """Datasette metadata for the database Datasette names ``database_name`` (the file's stem)."""
    tables = {name: dict(spec) for name, spec in TABLES.items()}
    tables.update({name: {"hidden": True} for name in HIDDEN_TABLES})
    return {
        "title": "peruwire: news coverage of Peru",
        "description": "Articles collected by peruwire from news sources' Peru sections, with the crawl runs "
                       "that collected them. Start with the canned queries below, or search the articles table.",
        "databases": {database_name: {"tables": tables, "queries": CANNED_QUERIES}},
    }

"""Migrations, on SQLite and PostgreSQL: a fresh database is made by them, an old one is
brought to head without losing a row, and the result is exactly what schema.py describes."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from freshpython import fresh_python
from sqlalchemy import inspect, text

from peruwire_crawl.db import queries
from peruwire_crawl.db.engine import make_engine
from peruwire_crawl.db.migrate import DatabaseTooNew, current_revision, head_revision, upgrade, upgrade_to_head
from peruwire_crawl.db.schema import SEARCH_OBJECTS, metadata

TABLES = {"articles", "article_sections", "article_revisions", "article_translations", "crawl_runs"}


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def test_upgrade_from_empty_creates_the_schema_of_schema_py(engine):
    upgrade_to_head(engine)
    assert TABLES <= set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        assert current_revision(connection) == head_revision()
        context = MigrationContext.configure(connection, opts={
            "include_object": lambda obj, name, *_: name not in {"alembic_version"} and not name.startswith(("articles_fts", "article_search_fts"))
            and name not in {"search_vector", "ix_articles_search_vector", "article_authors"} | SEARCH_OBJECTS,
            "compare_type": False,
        })
        assert compare_metadata(context, metadata) == []


def test_upgrade_twice_is_harmless(engine):
    upgrade_to_head(engine)
    upgrade_to_head(engine)
    with engine.connect() as connection:
        assert current_revision(connection) == head_revision()


def test_upgrade_from_0001_with_data_loses_nothing_and_indexes_it(engine):
    upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO crawl_runs (id, spider, started_at, status) "
            "VALUES (1, 'peru', '2023-07-01T12:00:00+00:00', 'finished')"))
        connection.execute(text(
            "INSERT INTO articles (id, url, source, title, summary, body, published_at, authors, language, "
            "first_seen_at, last_seen_at, changed_at) VALUES "
            "(1, 'https://peoplesdispatch.org/2023/06/16/a/', 'peoplesdispatch', 'Perú: paro nacional', "
            "'Miles marchan en Lima', 'Las protestas continúan contra Boluarte.', '2023-06-16T00:00:00+00:00', "
            "'[\"Zoe Alexandra\"]', 'es', "
            "'2023-07-01T12:00:00+00:00', '2023-07-01T12:00:00+00:00', '2023-07-01T12:00:00+00:00')"))
        connection.execute(text(
            "INSERT INTO article_sections (article_id, section_url, first_seen_at) VALUES "
            "(1, 'https://peoplesdispatch.org/tag/new-peru-left/', '2023-07-01T12:00:00+00:00')"))
        connection.execute(text(
            "INSERT INTO article_revisions (article_id, title, summary, replaced_at, crawl_run_id) VALUES "
            "(1, 'Peru: strike', NULL, '2023-07-01T12:00:00+00:00', 1)"))

    upgrade_to_head(engine)

    with engine.connect() as connection:
        assert current_revision(connection) == head_revision()
        assert connection.execute(text("SELECT title, body FROM articles")).one() == (
            "Perú: paro nacional", "Las protestas continúan contra Boluarte.")
        for table in ("crawl_runs", "article_sections", "article_revisions"):
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1
        # The rows that were there before full-text search are found by it.
        hits = queries.search(connection, "protestas Boluarte", queries.Filters())
        assert [hit["url"] for hit in hits] == ["https://peoplesdispatch.org/2023/06/16/a/"]
        assert connection.execute(text("SELECT author FROM article_authors")).scalars().all() == ["Zoe Alexandra"]


def test_a_database_newer_than_the_code_is_refused_untouched(engine):
    upgrade_to_head(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(DatabaseTooNew, match="at schema revision 0099, newer than this peruwire knows"):
        upgrade_to_head(engine)
    with engine.connect() as connection:
        assert current_revision(connection) == "0099"


def test_the_full_text_index_follows_inserts_updates_and_deletes(engine):
    upgrade_to_head(engine)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO articles (id, url, source, title, first_seen_at, last_seen_at, changed_at) VALUES "
            "(1, 'https://x.example/1', 'x', 'Vizcarra impeachment', "
            "'2023-07-01T12:00:00+00:00', '2023-07-01T12:00:00+00:00', '2023-07-01T12:00:00+00:00')"))
    with engine.connect() as connection:
        assert len(queries.search(connection, "impeachment", queries.Filters())) == 1
    with engine.begin() as connection:
        connection.execute(text("UPDATE articles SET title = 'Vacancia de Vizcarra' WHERE id = 1"))
    with engine.connect() as connection:
        assert queries.search(connection, "impeachment", queries.Filters()) == []
        assert len(queries.search(connection, "vacancia", queries.Filters())) == 1
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM articles"))
    with engine.connect() as connection:
        assert queries.search(connection, "vacancia", queries.Filters()) == []


def test_the_shipped_head_read_without_alembic_is_alembics():
    from peruwire_crawl.db.migrate import shipped_head

    assert shipped_head() == head_revision()


def test_a_database_at_head_is_opened_without_importing_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'at-head.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    engine.dispose()
    code = ("import sys; from peruwire_crawl.db.engine import make_engine; "
            "from peruwire_crawl.db.migrate import upgrade_to_head; "
            f"upgrade_to_head(make_engine({url!r})); print('alembic' in sys.modules)")
    assert fresh_python(code).strip() == "False"

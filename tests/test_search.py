"""Search answers the same on SQLite and PostgreSQL: the same queries, run on both, give
the same articles, with stemming per article language, accents and case ignored."""

from __future__ import annotations

import pytest

from peruwire_crawl.db import queries
from peruwire_crawl.db.engine import make_engine
from peruwire_crawl.db.migrate import upgrade, upgrade_to_head
from peruwire_crawl.db.search import EmptyQuery, Query, snippet
from peruwire_crawl.db.store import ArticleStore, record_from_item

BASE = "https://peoplesdispatch.org/2023/"


def article(slug, language, title, body, summary=None, **extra):
    return {"url": BASE + slug + "/", "source": "peoplesdispatch", "language": language, "title": title,
            "summary": summary, "body": body, "published_at": "2023-05-01T00:00:00+00:00", **extra}


CORPUS = [
    article("en-strike", "en", "Miners strike in Arequipa", "The strike entered its third day."),
    article("en-strikes", "en", "Transport workers call two strikes", "Strikes spread to Cusco and Puno."),
    article("en-protesters", "en", "Protesters blame Boluarte", "Families of the protesters demand justice."),
    article("en-protest", "en", "A protest in Lima", "Students protested on Monday."),
    article("en-castillo", "en", "Pedro Castillo leaves Free Peru", "Castillo resigned from the party."),
    article("en-fujimori", "en", "Court releases Alberto Fujimori", "Fujimori left prison."),
    article("es-constitucion", "es", "Enver León: un cambio de Constitución", "La mayoría quiere una nueva Constitución."),
    article("es-constitucion-sin-tilde", "es", "Asamblea constituyente", "Piden una nueva constitucion para el país."),
    article("es-protestas", "es", "Las protestas continúan", "Protestas en todo el Perú contra el Congreso."),
    article("es-protesta", "es", "Una protesta en Juliaca", "La protesta fue pacífica."),
    article("es-paro", "es", "Paro nacional en Puno", "El paro nacional sigue; huelga de maestros.",
            summary="Convocan un paro nacional."),
    article("es-nacional-paro", "es", "Congreso nacional", "Un paro de transportistas."),  # words not together
    article("unknown-language", None, "Perú: marcha", "Marcha por la Constitución."),
]

QUERIES = {
    "strikes": {"en-strike", "en-strikes"},
    "strike": {"en-strike", "en-strikes"},
    "protesters": {"en-protesters", "en-protest"},  # English stems: protesters, protested -> protest
    "protest": {"en-protest", "en-protesters", "es-protestas", "es-protesta"},
    "protesta": {"es-protestas", "es-protesta"},
    "protestas": {"es-protestas", "es-protesta"},
    "constitucion": {"es-constitucion", "es-constitucion-sin-tilde", "unknown-language"},
    "CONSTITUCIÓN": {"es-constitucion", "es-constitucion-sin-tilde", "unknown-language"},
    "peru": {"en-castillo", "es-protestas", "unknown-language"},
    "Castillo OR Fujimori": {"en-castillo", "en-fujimori"},
    "castillo fujimori": set(),
    '"paro nacional"': {"es-paro"},
    "paro nacional": {"es-paro", "es-nacional-paro"},
    '"paro nacional" OR huelga': {"es-paro"},
    "protest*": {"en-protest", "en-protesters", "es-protestas", "es-protesta"},
    "const*": {"es-constitucion", "es-constitucion-sin-tilde", "unknown-language"},
    "Puno strikes": {"en-strikes"},
    "nueva constitución OR congreso": {"es-constitucion", "es-constitucion-sin-tilde"},
    "'; DROP TABLE articles; --": set(),
}


def _fill(url):
    engine = make_engine(url)
    upgrade_to_head(engine)
    store = ArticleStore(engine)
    store.write([record_from_item(a) for a in CORPUS])
    return engine


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The corpus in SQLite and, when a server is given, PostgreSQL."""
    import os

    from tests.conftest import POSTGRES_ENV, _postgres_database

    engines = {"sqlite": _fill(f"sqlite:///{tmp_path_factory.mktemp('search') / 'search.db'}")}
    postgres = None
    if os.environ.get(POSTGRES_ENV):
        postgres = _postgres_database()
        engines["postgresql"] = _fill(next(postgres))
    yield engines
    for engine in engines.values():
        engine.dispose()
    if postgres is not None:
        next(postgres, None)


def found(engine, text, **filters):
    with engine.connect() as connection:
        hits = queries.search(connection, text, queries.Filters(**filters), limit=1000)
    return {hit["url"].removeprefix(BASE).rstrip("/") for hit in hits}


@pytest.mark.parametrize("text", sorted(QUERIES))
def test_each_query_finds_the_expected_articles_on_sqlite(both, text):
    assert found(both["sqlite"], text) == QUERIES[text]


@pytest.mark.postgres
@pytest.mark.parametrize("text", sorted(QUERIES))
def test_postgresql_answers_every_query_as_sqlite_does(both, text):
    if "postgresql" not in both:
        pytest.skip("PERUWIRE_TEST_POSTGRES_URL is not set: no PostgreSQL server to compare with")
    assert found(both["postgresql"], text) == found(both["sqlite"], text) == QUERIES[text]


def test_filters_apply_to_search(both):
    assert found(both["sqlite"], "protest", language="es") == {"es-protestas", "es-protesta"}


def test_updated_text_is_searched_at_once(tmp_path):
    engine = _fill(f"sqlite:///{tmp_path / 'x.db'}")
    ArticleStore(engine).write([record_from_item(dict(CORPUS[0], title="Miners march", body="A march."))])
    assert "en-strike" not in found(engine, "strike") and "en-strike" in found(engine, "march")


def test_migration_indexes_articles_stored_before_it(db_url):
    engine = make_engine(db_url)
    upgrade(engine, "0003")  # rows stored before search terms existed
    from sqlalchemy import insert

    from peruwire_crawl.db.schema import articles
    from peruwire_crawl.times import utc_now

    now = utc_now()
    with engine.begin() as connection:
        connection.execute(insert(articles), [{"url": a["url"], "source": a["source"], "title": a["title"],
                                               "body": a["body"], "language": a["language"], "first_seen_at": now,
                                               "last_seen_at": now, "changed_at": now} for a in CORPUS])
    upgrade_to_head(engine)
    assert found(engine, "protesta") == QUERIES["protesta"]
    assert found(engine, "Castillo OR Fujimori") == QUERIES["Castillo OR Fujimori"]
    engine.dispose()


@pytest.mark.parametrize("text", ["", "   ", "* OR ---", '""'])
def test_a_query_without_words_is_refused(text):
    with pytest.raises(EmptyQuery):
        Query.parse(text)


def test_the_snippet_marks_the_first_match_in_the_original_spelling():
    query = Query.parse("constitucion")
    assert snippet(query, "es", "Enver León", None, "La mayoría quiere una nueva Constitución.") == \
        "La mayoría quiere una nueva [Constitución]."


# --- folding ------------------------------------------------------------------------------


def _fold_whole(value: str) -> str:
    """Folding as defined: the whole text case-folded, decomposed, its combining marks dropped."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def test_fold_is_the_whole_texts_folding_for_every_character():
    from peruwire_crawl.db.search import fold

    every = [chr(code) for code in range(0x110000)]
    assert [fold(char) for char in every] == [_fold_whole(char) for char in every]


def _tricky_characters():
    import unicodedata

    from hypothesis import strategies as st

    # Characters that fold to something else or that folding drops, next to plain ASCII,
    # combining marks, Hangul jamo and the Greek sigmas (whose lowercase depends on context).
    tricky = [chr(code) for code in range(0x80, 0x3000)
              if unicodedata.combining(chr(code)) or unicodedata.decomposition(chr(code))
              or chr(code).casefold() != chr(code)]
    return st.sampled_from([*tricky, *"aZ9 ,.-_ΣσςİıßÅK", "\u1100", "\u1161", "\u11a8", "\uac00", "\ufb01"])


def test_fold_is_the_whole_texts_folding_on_mixed_text():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from peruwire_crawl.db.search import fold

    @settings(max_examples=2000, deadline=None)
    @given(st.lists(st.one_of(_tricky_characters(), st.text(max_size=6)), max_size=20).map("".join))
    def check(value):
        assert fold(value) == _fold_whole(value)

    check()


def test_words_are_the_tokens_of_the_folded_text_ascii_or_not():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from peruwire_crawl.db.search import TOKEN, fold, words_of

    ascii_text = st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40)

    @settings(max_examples=2000, deadline=None)
    @given(st.one_of(ascii_text, st.lists(st.one_of(_tricky_characters(), ascii_text), max_size=10).map("".join)))
    def check(value):
        assert words_of(value) == TOKEN.findall(fold(value))

    check()


def test_stems_are_snowballs_and_survive_the_cache_being_emptied(monkeypatch):
    import snowballstemmer

    from peruwire_crawl.db import search

    monkeypatch.setattr(search._StemCache, "MAX_WORDS", 3)
    words = "protestas protestaron huelgas huelga protestas marchas paro".split()
    spanish = snowballstemmer.stemmer("spanish")
    assert search.stems_of(words, "es") == [spanish.stemWord(word) for word in words]
    assert len(search._stem_cache("es")) <= 3
    assert search.stems_of(words, "de") == words  # not stemmed

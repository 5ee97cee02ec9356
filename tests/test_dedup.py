"""Dedup: title keys, the within-run rules, the across-run rule, and the pipeline's wiring."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from peruwire_crawl.identity import MemorySeenStore, SeenArticle, title_key
from peruwire_crawl.items import ArticleItem
from peruwire_crawl.times import to_utc_or_none as parse_time
from pipelines.dedup import DedupPipeline

PD = "https://peoplesdispatch.org"
DROPPED = "peruwire/dedup/dropped/"


# --- title keys ---------------------------------------------------------------------------

# Spellings of one headline, as listings, <title> tags and feeds give them.
SAME_TITLE_KEY = [
    ("Peru’s Congress ousts Castillo", "Peru's Congress ousts Castillo"),
    ("Peru’s Congress ousts Castillo", "PERU'S CONGRESS OUSTS CASTILLO"),
    ("Peru’s Congress ousts Castillo", "Perus congress ousts castillo"),
    ("“Dina, go away”: protesters march on Lima", '"Dina, go away": protesters march on Lima'),
    ("«Fuera Dina»: marchan hacia Lima", "“Fuera Dina”: marchan hacia Lima"),
    ("„Fuera Dina“ marchan hacia Lima", "Fuera Dina marchan hacia Lima"),
    ("Peru – protests continue", "Peru - protests continue"),
    ("Peru—protests continue", "Peru — protests continue"),
    ("Peru: protests continue", "Peru protests continue"),
    ("Peru protests continue!", "Peru protests continue"),
    ("Peru protests continue…", "Peru protests continue..."),
    ("  Peru\u00a0protests\tcontinue \n", "Peru protests continue"),
    ("Peru\u200b protests con\u00adtinue", "Peru protests continue"),
    ("¿Qué pasa en el Perú?", "Que pasa en el Peru"),
    ("Niños de Ayacucho", "NIÑOS DE AYACUCHO"),
    ("Perú: la represión", "Peru la represion"),
    ("U.S. backs Boluarte", "US backs Boluarte"),
    ("[Video] Peru protests continue", "Peru protests continue"),
    ("[News][Peru] Peru protests continue", "Peru protests continue"),
    ("ﬁnal report on ＰＥＲＵ", "Final report on Peru"),
    ("Peru 🇵🇪 protests continue ✊", "Peru protests continue"),
    ("Peru (again) protests continue", "Peru again protests continue"),
    ("Peru's «Congress» & the people", "Peru’s Congress the people"),
]

DIFFERENT_TITLE_KEY = [
    ("Peru protests continue", "Peru protest continues"),
    ("Peru protests continue", "Protests continue in Peru"),
    ("Peru protests continue", "Continúan las protestas en Perú"),
    ("Video: Peru protests continue", "Peru protests continue"),  # the headline's own word
    ("Peru in 2022", "Peru in 2023"),
]


@pytest.mark.parametrize(("one", "other"), SAME_TITLE_KEY)
def test_title_key_equal(one, other):
    assert title_key(one) == title_key(other)


@pytest.mark.parametrize(("one", "other"), DIFFERENT_TITLE_KEY)
def test_title_key_different(one, other):
    assert title_key(one) != title_key(other)


@pytest.mark.parametrize(
    ("title", "key"),
    [
        ("  “Peru’s  Congress” — ousts   Castillo!", "perus congress ousts castillo"),
        ("[Video] ¿Qué pasa en el Perú?", "que pasa en el peru"),
        ("[Live]", "live"),  # nothing but a label: the label is the title
        ("", ""),
        (None, ""),
        ("¡¿…!?", ""),
    ],
)
def test_title_key_value(title, key):
    assert title_key(title) == key


@given(st.text())
def test_title_key_is_a_fixed_point(title):
    key = title_key(title)
    assert title_key(key) == key
    assert key == key.strip() and "  " not in key


# Headlines in the sites' own alphabet: case, quotes and spacing never change the key.
headline_words = st.lists(
    st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzáéíóúñüABCDEFGHIJKLMNOPQRSTUVWXYZÁÉÍÓÚÑÜ0123456789"), min_size=1, max_size=8),
    min_size=1,
    max_size=8,
)


@given(headline_words, st.sampled_from(["upper", "lower", "title", "swapcase"]), st.sampled_from([" ", "  ", "\u00a0", "\t", " \n "]))
def test_title_key_ignores_case_and_spacing(words, case, space):
    title = " ".join(words)
    respelled = getattr(space.join(words), case)()
    assert title_key(respelled) == title_key(title)


@given(headline_words, st.sampled_from(["“{}”", '"{}"', "«{}»", "‘{}’", "'{}'", "{}!", "¿{}?", "{}…"]))
def test_title_key_ignores_quotes_and_punctuation_around_words(words, template):
    title = " ".join(words)
    assert title_key(template.format(title)) == title_key(title)


# --- building pipelines and items ---------------------------------------------------------


def make_pipeline(**settings_dict) -> DedupPipeline:
    crawler = get_crawler(settings_dict={"PERUWIRE_DEDUP_TITLE_WINDOW_DAYS": 7, **settings_dict})
    return DedupPipeline.from_crawler(crawler)


def article(url, title="Peru protests continue", published_at="2023-01-05T00:00:00+00:00", **fields) -> ArticleItem:
    fields.setdefault("language", "en")
    return ArticleItem(url=url, source=fields.pop("source", "peoplesdispatch"), title=title, published_at=published_at, **fields)


def stored(url, title="Peru protests continue", published_at="2023-01-05T00:00:00+00:00", **fields) -> SeenArticle:
    return SeenArticle.from_item(article(url, title, published_at, **fields))


def outcome(pipeline: DedupPipeline, item) -> str:
    """"passed", or the reason the item was dropped (read from the stats it counted)."""
    before = dict(pipeline.stats.get_stats())
    try:
        assert pipeline.process_item(item) is item
    except DropItem:
        after = pipeline.stats.get_stats()
        (reason,) = [
            key.removeprefix(DROPPED)
            for key, count in after.items()
            if key.startswith(DROPPED) and count != before.get(key, 0)
        ]
        return reason
    return "passed"


A = f"{PD}/2023/01/05/peru-protests-continue/"
A_NEW_SLUG = f"{PD}/2023/01/05/peru-protests-continue-for-a-month/"
A_ES = f"{PD}/es/2023/01/05/continuan-las-protestas-en-peru/"

# (case, items of this run already passed, the new item, expected outcome)
WITHIN_RUN = [
    ("same url", [article(A)], article(A), "same_url"),
    ("same url, tracking parameters", [article(A)], article(A + "?utm_source=twitter&fbclid=x"), "same_url"),
    ("same url, http and no slash", [article(A)], article(A.replace("https", "http").rstrip("/")), "same_url"),
    ("same url, fragment and AMP", [article(A)], article(A + "amp/#comments"), "same_url"),
    ("same url, host case and port", [article(A)], article(A.replace("peoplesdispatch.org", "PeoplesDispatch.org:443")), "same_url"),
    ("same url wins over a changed title", [article(A)], article(A, title="Peru: protests go on"), "same_url"),
    ("same url, incomplete again", [article(A)], article(A, complete=False), "same_url"),
    ("same url, both incomplete", [article(A, complete=False)], article(A, complete=False), "same_url"),
    ("complete replaces incomplete", [article(A, complete=False)], article(A), "passed"),
    ("changed slug, same day", [article(A)], article(A_NEW_SLUG), "same_title"),
    (
        "changed slug, title respelled",
        [article(A, title="Peru’s protests continue")],
        article(A_NEW_SLUG, title="  PERU'S PROTESTS — CONTINUE "),
        "same_title",
    ),
    ("changed slug, 3 days later", [article(A)], article(A_NEW_SLUG, published_at="2023-01-08T12:00:00+00:00"), "same_title"),
    ("changed slug, 7 days earlier", [article(A)], article(A_NEW_SLUG, published_at="2022-12-29T00:00:00+00:00"), "same_title"),
    ("same title, 8 days apart", [article(A)], article(A_NEW_SLUG, published_at="2023-01-13T00:00:00+00:00"), "passed"),
    (
        "same instant in other offsets",
        [article(A, published_at="2023-01-05T23:00:00-05:00")],
        article(A_NEW_SLUG, published_at="2023-01-06T04:00:00Z"),
        "same_title",
    ),
    ("same title, other source", [article(A)], article("https://other.example/peru-protests-continue/", source="other.example"), "passed"),
    ("same title, other words", [article(A)], article(A_NEW_SLUG, title="Peru protests continue in Puno"), "passed"),
    ("translation, linked from the new item", [article(A)], article(A_ES, language=None, translation_of=A), "passed"),
    ("translation, linked in its list", [article(A)], article(A_ES, language=None, translations=[A + "?utm_source=x"]), "passed"),
    ("translation, linked from the earlier item", [article(A, translations=[A_ES])], article(A_ES, language=None), "passed"),
    ("same title, other language", [article(A)], article(A_ES, language="es"), "passed"),
    ("same title, regional language tag", [article(A, language="en")], article(A_NEW_SLUG, language="en-US"), "same_title"),
    ("same title, one language unknown", [article(A)], article(A_NEW_SLUG, language=None), "same_title"),
    ("same title, new date unknown", [article(A)], article(A_NEW_SLUG, published_at=None), "passed"),
    ("same title, earlier date unknown", [article(A, published_at=None)], article(A_NEW_SLUG), "passed"),
    ("same title, unreadable date", [article(A)], article(A_NEW_SLUG, published_at="5 de enero"), "passed"),
    ("both titles missing", [article(A, title=None)], article(A_NEW_SLUG, title=None), "passed"),
    ("both titles only punctuation", [article(A, title="…")], article(A_NEW_SLUG, title="!!"), "passed"),
    ("first item of a run", [], article(A), "passed"),
]


@pytest.mark.parametrize(("earlier", "new", "expected"), [case[1:] for case in WITHIN_RUN], ids=[case[0] for case in WITHIN_RUN])
def test_within_run(earlier, new, expected):
    pipeline = make_pipeline()
    for item in earlier:
        assert outcome(pipeline, item) == "passed"
    assert outcome(pipeline, new) == expected


# (case, articles stored by earlier runs, the new item, expected outcome)
ACROSS_RUNS = [
    ("stored under the same url: an update, passes", [stored(A)], article(A, title="Peru: protests go on"), "passed"),
    ("stored under the same url, unchanged", [stored(A)], article(A), "passed"),
    ("stored under a non-canonical spelling of the url", [stored(A + "?utm_medium=x")], article(A), "passed"),
    ("stored under the old slug", [stored(A)], article(A_NEW_SLUG), "same_title_stored"),
    ("stored under the old slug, 7 days before", [stored(A)], article(A_NEW_SLUG, published_at="2023-01-12T00:00:00+00:00"), "same_title_stored"),
    ("stored long before", [stored(A, published_at="2022-01-05T00:00:00+00:00")], article(A_NEW_SLUG), "passed"),
    ("stored without a date", [stored(A, published_at=None)], article(A_NEW_SLUG), "passed"),
    ("stored translation, linked", [stored(A, translations=[A_ES])], article(A_ES, language=None), "passed"),
    ("stored, other language", [stored(A, language="en")], article(A_ES, language="es"), "passed"),
    ("stored, other source", [stored(A, source="elsewhere")], article(A_NEW_SLUG), "passed"),
]


@pytest.mark.parametrize(("in_store", "new", "expected"), [case[1:] for case in ACROSS_RUNS], ids=[case[0] for case in ACROSS_RUNS])
def test_across_runs(in_store, new, expected):
    pipeline = make_pipeline()
    for seen in in_store:
        pipeline.store.remember(seen)
    assert outcome(pipeline, new) == expected


def test_a_match_in_this_run_is_reported_before_a_stored_one():
    pipeline = make_pipeline()
    pipeline.store.remember(stored(A))
    assert outcome(pipeline, article(A)) == "passed"
    assert outcome(pipeline, article(A_NEW_SLUG)) == "same_title"


def test_a_dropped_item_is_not_remembered():
    pipeline = make_pipeline()
    assert outcome(pipeline, article(A)) == "passed"
    assert outcome(pipeline, article(A_NEW_SLUG)) == "same_title"
    # the new slug again: still a title match with A, not "seen" itself
    assert outcome(pipeline, article(A_NEW_SLUG)) == "same_title"


def test_translations_with_the_same_title_both_pass():
    pipeline = make_pipeline()
    title = "Pedro Castillo"
    assert outcome(pipeline, article(A, title=title, translations=[A_ES])) == "passed"
    assert outcome(pipeline, article(A_ES, title=title, language="es", translation_of=A)) == "passed"


# --- stats, logs, settings ----------------------------------------------------------------


def test_stats_count_passes_and_drops_by_reason():
    pipeline = make_pipeline()
    pipeline.store.remember(stored(f"{PD}/2022/12/01/old/", title="Older news", published_at="2022-12-01T00:00:00+00:00"))
    items = [
        article(A),
        article(A + "?utm_source=x"),
        article(A_NEW_SLUG),
        article(f"{PD}/2022/12/01/older-news/", title="Older news", published_at="2022-12-02T00:00:00+00:00"),
        article(f"{PD}/undated/", title="Undated", published_at=None),
        article(A_ES, language="es"),
    ]
    for item in items:
        outcome(pipeline, item)
    stats = pipeline.stats.get_stats()
    assert stats["peruwire/dedup/passed"] == 3
    assert stats["peruwire/dedup/dropped/same_url"] == 1
    assert stats["peruwire/dedup/dropped/same_title"] == 1
    assert stats["peruwire/dedup/dropped/same_title_stored"] == 1
    assert stats["peruwire/dedup/title_unchecked/no_date"] == 1


def test_drop_reason_is_readable_and_names_the_stored_url(caplog):
    pipeline = make_pipeline()
    pipeline.store.remember(stored(A))
    with caplog.at_level(logging.INFO, logger="pipelines.dedup"), pytest.raises(DropItem) as dropped:
        pipeline.process_item(article(A_NEW_SLUG))
    assert str(dropped.value) == (
        f"duplicate of stored {A}: {A_NEW_SLUG} has the same title, published within 7 days"
    )
    assert dropped.value.log_level == "DEBUG"
    assert A in caplog.text and A_NEW_SLUG in caplog.text


def test_item_is_returned_unchanged():
    pipeline = make_pipeline()
    item = article(A + "?utm_source=x")
    assert pipeline.process_item(item) is item
    assert item.url == A + "?utm_source=x"  # dedup judges; it does not rewrite


def test_window_comes_from_the_setting():
    pipeline = make_pipeline(PERUWIRE_DEDUP_TITLE_WINDOW_DAYS=1)
    assert pipeline.window == timedelta(days=1)
    assert outcome(pipeline, article(A)) == "passed"
    assert outcome(pipeline, article(A_NEW_SLUG, published_at="2023-01-07T00:00:00+00:00")) == "passed"


def test_default_store_is_an_empty_memory_store():
    pipeline = make_pipeline()
    assert type(pipeline.store) is MemorySeenStore and len(pipeline.store) == 0


def test_store_dotted_path_setting():
    pipeline = make_pipeline(PERUWIRE_DEDUP_STORE="pipelines.dedup.MemorySeenStore")
    assert type(pipeline.store) is MemorySeenStore


class RecordingStore:
    """A store as storage will write one: built from the crawler, asked one question per item."""

    def __init__(self, crawler, answers):
        self.crawler = crawler
        self.answers = answers
        self.questions = []

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, [stored(A)])

    def find_by_title(self, source, title_key, published_at, window):
        self.questions.append((source, title_key, published_at, window))
        return iter(self.answers)  # any iterable will do


def test_custom_store_is_built_from_the_crawler_and_asked_narrow_questions():
    pipeline = make_pipeline(PERUWIRE_DEDUP_STORE=RecordingStore)
    store = pipeline.store
    assert isinstance(store, RecordingStore) and store.crawler is not None
    assert outcome(pipeline, article(A_NEW_SLUG)) == "same_title_stored"
    assert outcome(pipeline, article(A)) == "passed"  # its own stored row: not a duplicate
    assert outcome(pipeline, article(f"{PD}/x/", published_at=None)) == "passed"  # no date: no question
    when = datetime(2023, 1, 5, tzinfo=timezone.utc)
    assert store.questions == [
        ("peoplesdispatch", "peru protests continue", when, timedelta(days=7)),
        ("peoplesdispatch", "peru protests continue", when, timedelta(days=7)),
    ]


def test_dict_items_work_too():
    pipeline = make_pipeline()
    item = {"url": A, "source": "peoplesdispatch", "title": "Peru protests continue", "published_at": "2023-01-05"}
    assert outcome(pipeline, item) == "passed"
    assert outcome(pipeline, dict(item, url=A_NEW_SLUG)) == "same_title"


# --- pieces -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-01-05T00:00:00+00:00", datetime(2023, 1, 5, tzinfo=timezone.utc)),
        ("2023-01-05T00:00:00Z", datetime(2023, 1, 5, tzinfo=timezone.utc)),
        ("2023-01-04T19:00:00-05:00", datetime(2023, 1, 5, tzinfo=timezone.utc)),
        ("2023-01-05", datetime(2023, 1, 5, tzinfo=timezone.utc)),
        (datetime(2023, 1, 5), datetime(2023, 1, 5, tzinfo=timezone.utc)),
        ("", None),
        (None, None),
        ("yesterday", None),
        (20230105, None),
    ],
)
def test_parse_time(value, expected):
    assert parse_time(value) == expected


def test_memory_store_remember_replaces_by_url():
    store = MemorySeenStore([stored(A)])
    store.remember(stored(A, title="Peru: protests go on"))
    when = datetime(2023, 1, 5, tzinfo=timezone.utc)
    assert store.find_by_title("peoplesdispatch", "peru protests continue", when, timedelta(days=7)) == []
    assert [a.url for a in store.find_by_title("peoplesdispatch", "peru protests go on", when, timedelta(days=7))] == [A]
    assert len(store) == 1


# --- properties ---------------------------------------------------------------------------

slugs = st.sampled_from(["a", "b", "c"])
spellings = st.sampled_from(["", "?utm_source=x", "#top", "amp/"])
items = st.builds(
    lambda slug, spelling, title, day, language, complete: article(
        f"{PD}/2023/01/05/{slug}/{spelling}",
        title=title,
        published_at=None if day is None else f"2023-01-{day:02d}T00:00:00+00:00",
        language=language,
        complete=complete,
    ),
    slugs,
    spellings,
    st.sampled_from(["Peru protests", "PERU: protests!", "Other news", None]),
    st.none() | st.integers(1, 31),
    st.sampled_from(["en", "es", None]),
    st.booleans(),
)


@settings(max_examples=300)
@given(st.lists(items, max_size=12))
def test_within_a_run_no_two_complete_passed_items_share_a_url(run):
    pipeline = make_pipeline()
    passed = [item for item in run if outcome(pipeline, item) == "passed"]
    complete_urls = [SeenArticle.from_item(item).url for item in passed if item.complete]
    assert len(complete_urls) == len(set(complete_urls))
    stats = pipeline.stats.get_stats()
    dropped = sum(v for k, v in stats.items() if k.startswith(DROPPED))
    assert stats.get("peruwire/dedup/passed", 0) == len(passed)
    assert dropped == len(run) - len(passed)


# --- the run's memory, compact -----------------------------------------------------------


def test_without_a_database_the_run_forgets_no_item():
    from pipelines.dedup import RunMemory

    memory = RunMemory(None, recent=2)
    for n in range(5):
        memory.remember(stored(f"{PD}/{n}/", title=f"Title {n}"))
    when = datetime(2023, 1, 5, tzinfo=timezone.utc)
    assert [a.url for a in memory.find_by_title("peoplesdispatch", "title 0", when, timedelta(days=7))] == [f"{PD}/0/"]
    assert memory.complete(f"{PD}/0/") is True and memory.complete(f"{PD}/9/") is None


def test_an_item_that_left_memory_is_found_again_in_the_database(db_engine):
    """Of this run's items only the latest keep their details in memory; an earlier one is
    read back from the database (stored by then), and still counts as this run's."""
    from itemadapter import ItemAdapter

    from peruwire_crawl.db.seen import DatabaseSeenStore
    from peruwire_crawl.db.store import ArticleStore, record_from_item
    from pipelines.dedup import RunMemory

    store = DatabaseSeenStore("unused", connect=lambda: db_engine)
    assert store.find_by_title("peoplesdispatch", "nothing stored yet", datetime(2023, 1, 5, tzinfo=timezone.utc),
                               timedelta(days=7)) == []  # the stored title keys are read now: none
    pipeline = make_pipeline()
    pipeline.store, pipeline.run = store, RunMemory(store, recent=2)
    first = article(f"{PD}/first/", title="Peru protests continue")
    assert outcome(pipeline, first) == "passed"
    ArticleStore(db_engine).write([record_from_item(ItemAdapter(first))])  # as storage does, batch by batch
    for n in range(3):
        assert outcome(pipeline, article(f"{PD}/other-{n}/", title=f"Other news {n}")) == "passed"
    assert len(pipeline.run._recent) == 2  # the first item's details left memory
    assert outcome(pipeline, article(f"{PD}/first-new-slug/", title="Peru protests continue!")) == "same_title"
    assert outcome(pipeline, article(f"{PD}/first/", title="Peru protests continue")) == "same_url"

"""NormalizePipeline end to end, on items shaped like the spider's (pipelines/normalize.py)."""

import copy
import logging
from dataclasses import asdict

import pytest
from freshpython import fresh_python
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from peruwire_crawl.addon import Peruwire
from peruwire_crawl.items import ArticleItem, DateCandidate
from pipelines.normalize import NormalizePipeline

SITE = "https://peoplesdispatch.org"
FETCHED_AT = "2023-07-01T12:00:00+00:00"
EN_URL = f"{SITE}/2023/03/16/enver-leon-the-majority-of-peruvians-want-a-change-in-the-constitution/"
ES_URL = f"{SITE}/2023/03/16/enver-leon-la-mayoria-de-los-peruanos-quieren-un-cambio-de-constitucion/"

LIMA_SECTIONS = """
[sources.lima]
name = "Diario de Lima"
hosts = ["diario.example.pe"]
timezone = "America/Lima"
languages = ["es", "en"]
"""


def make_pipeline(**settings_dict):
    crawler = get_crawler(settings_dict={"ADDONS": {Peruwire: 0}, "PERUWIRE_EARLIEST_DATE": "1990-01-01",
                                         **settings_dict})
    return NormalizePipeline.from_crawler(crawler), crawler.stats


@pytest.fixture
def pipeline():
    return make_pipeline()


def english_article(**changes) -> ArticleItem:
    fields = dict(
        url=EN_URL,
        source="peoplesdispatch",
        title="Enver León: “The majority of Peruvians want a change in the Constitution” - Peoples Dispatch",
        title_from="meta",
        summary="Peoples Dispatch spoke with Enver León of Nuevo Perú about the crisis&nbsp;[&hellip;]",
        body="<p>Peru is living through a deep political crisis.</p><p>Enver León explains why.</p>",
        date_candidates=[
            DateCandidate("jsonld", "2023-03-16T15:04:05+00:00"),
            DateCandidate("meta", "2023-03-16T15:04:05+00:00"),
            DateCandidate("dateline", "March 16, 2023 by Zoe Alexandra"),
            DateCandidate("url", EN_URL),
        ],
        modified_candidates=[DateCandidate("meta", "2023-03-17T09:00:00+00:00")],
        byline="March 16, 2023 by Zoe Alexandra",
        authors=["Peoples Dispatch"],
        html_lang="en-US",
        translations=[ES_URL],
        fetched_at=FETCHED_AT,
    )
    fields.update(changes)
    return ArticleItem(**fields)


def spanish_article(**changes) -> ArticleItem:
    fields = dict(
        url=ES_URL,
        title="Enver León: “La mayoría de los peruanos quieren un cambio de Constitución”",
        title_from="page",
        summary="Peoples Dispatch conversó con Enver León de Nuevo Perú sobre la crisis política. Leer más",
        date_candidates=[DateCandidate("dateline", "16 de marzo de 2023 por Zoe Alexandra"), DateCandidate("url", ES_URL)],
        modified_candidates=[],
        byline="por Zoe Alexandra",
        authors=[],
        html_lang="en-US",  # the site's lang, not the article's
        translations=[EN_URL],
        body=None,
    )
    fields.update(changes)
    return english_article(**fields)


# --- the whole item --------------------------------------------------------------------------


def test_english_article(pipeline):
    pipeline, stats = pipeline
    item = pipeline.process_item(english_article())
    assert item.title == "Enver León: “The majority of Peruvians want a change in the Constitution”"
    assert item.summary == "Peoples Dispatch spoke with Enver León of Nuevo Perú about the crisis"
    assert item.body == "Peru is living through a deep political crisis.\n\nEnver León explains why."
    assert (item.published_at, item.date_precision, item.date_signal) == ("2023-03-16T15:04:05+00:00", "second", "jsonld")
    assert item.modified_at == "2023-03-17T09:00:00+00:00"
    assert item.authors == ["Zoe Alexandra"]
    assert item.language == "en"
    assert item.translation_of is None and item.translations == [ES_URL]
    assert stats.get_value("peruwire/normalize/items") == 1
    assert stats.get_value("peruwire/normalize/date_signal/jsonld") == 1


def test_spanish_article_of_an_english_site(pipeline):
    pipeline, stats = pipeline
    item = pipeline.process_item(spanish_article())
    assert item.language == "es"  # not the site's <html lang="en-US">
    assert item.translation_of == EN_URL
    assert item.summary == "Peoples Dispatch conversó con Enver León de Nuevo Perú sobre la crisis política."
    assert (item.published_at, item.date_precision, item.date_signal) == ("2023-03-16T00:00:00+00:00", "day", "dateline")
    assert item.authors == ["Zoe Alexandra"]


def test_collective_byline_is_kept(pipeline):
    pipeline, _ = pipeline
    item = pipeline.process_item(english_article(byline="June 16, 2023 by Peoples Dispatch", authors=[]))
    assert item.authors == ["Peoples Dispatch"]


def test_listing_only_item_uses_listing_fields_and_url_date(pipeline):
    """An article page that failed to load: what the listing showed is all there is."""
    pipeline, _ = pipeline
    url = f"{SITE}/2020/12/23/peruvian-agricultural-workers-strike-met-with-violent-repression/"
    item = ArticleItem(
        url=url,
        source="peoplesdispatch",
        complete=False,
        incomplete_reason="HTTP 404",
        listed_title="Peruvian agricultural workers’ strike met with violent repression",
        listed_summary="Workers in Ica and La Libertad blocked highways  demanding the repeal of the agrarian law ",
        date_candidates=[DateCandidate("url", url)],
        fetched_at=FETCHED_AT,
    )
    item = pipeline.process_item(item)
    assert item.title == "Peruvian agricultural workers’ strike met with violent repression"
    assert item.summary == "Workers in Ica and La Libertad blocked highways demanding the repeal of the agrarian law"
    assert (item.published_at, item.date_precision, item.date_signal) == ("2020-12-23T00:00:00+00:00", "day", "url")
    assert item.language == "en"


def test_dict_items_work_too(pipeline):
    pipeline, _ = pipeline
    item = pipeline.process_item({"url": EN_URL, "title": "Is Peru witnessing a parliamentary coup?",
                                  "date_candidates": [("url", EN_URL)], "fetched_at": FETCHED_AT})
    assert item["published_at"] == "2023-03-16T00:00:00+00:00"
    assert item["source"] == "peoplesdispatch"


# --- drops and rejections ----------------------------------------------------------------------


@pytest.mark.parametrize("title", [None, "", "   ", "<p>&nbsp;</p>", "\u200b"])
def test_item_without_usable_title_is_dropped(pipeline, title):
    pipeline, stats = pipeline
    with pytest.raises(DropItem, match="no usable title"):
        pipeline.process_item(english_article(title=title, listed_title=None))
    assert stats.get_value("peruwire/normalize/dropped/no_title") == 1


def test_impossible_date_is_rejected_logged_and_counted(pipeline, caplog):
    pipeline, stats = pipeline
    item = english_article(date_candidates=[
        DateCandidate("jsonld", "2033-03-16T15:04:05+00:00"),
        DateCandidate("meta", "1970-01-01T00:00:00+00:00"),
        DateCandidate("url", EN_URL),
    ])
    with caplog.at_level(logging.WARNING, logger="pipelines.normalize"):
        item = pipeline.process_item(item)
    assert (item.published_at, item.date_signal) == ("2023-03-16T00:00:00+00:00", "url")
    assert stats.get_value("peruwire/normalize/date_rejected/in_the_future") == 1
    assert stats.get_value("peruwire/normalize/date_rejected/too_early") == 1
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "in the future" in messages and "too early" in messages and EN_URL in messages


def test_no_possible_date_leaves_nulls(pipeline):
    pipeline, stats = pipeline
    item = pipeline.process_item(english_article(
        published_at="2033-01-01T00:00:00+00:00",
        date_candidates=[DateCandidate("jsonld", "2033-01-01T00:00:00+00:00"), DateCandidate("url", f"{SITE}/tag/peru/")],
    ))
    assert (item.published_at, item.date_precision, item.date_signal) == (None, None, None)
    assert stats.get_value("peruwire/normalize/no_published_at") == 1


def test_disagreeing_signals_are_logged(pipeline, caplog):
    pipeline, stats = pipeline
    item = english_article(date_candidates=[DateCandidate("jsonld", "2023-03-20T10:00:00+00:00"), DateCandidate("url", EN_URL)])
    with caplog.at_level(logging.INFO, logger="pipelines.normalize"):
        pipeline.process_item(item)
    assert stats.get_value("peruwire/normalize/date_disagreement") == 1
    assert any("chose jsonld" in r.getMessage() and "over url" in r.getMessage() for r in caplog.records)


def test_disagreement_threshold_is_a_setting(caplog):
    pipeline, stats = make_pipeline(PERUWIRE_DATE_DISAGREEMENT_HOURS=200)
    pipeline.process_item(english_article(date_candidates=[DateCandidate("jsonld", "2023-03-20T10:00:00+00:00"), DateCandidate("url", EN_URL)]))
    assert stats.get_value("peruwire/normalize/date_disagreement") is None


def test_earliest_date_is_a_setting():
    pipeline, _ = make_pipeline(PERUWIRE_EARLIEST_DATE="2023-03-17")
    item = pipeline.process_item(english_article())
    assert item.published_at is None


def test_relative_date_resolves_against_fetch_time_not_today(pipeline):
    pipeline, _ = pipeline
    item = pipeline.process_item(spanish_article(date_candidates=[DateCandidate("dateline", "hace 3 días")]))
    assert (item.published_at, item.date_precision) == ("2023-06-28T00:00:00+00:00", "day")


def test_site_timezone_comes_from_the_sections_file(tmp_path):
    sections = tmp_path / "sections.toml"
    sections.write_text(LIMA_SECTIONS, "utf-8")
    pipeline, _ = make_pipeline(PERUWIRE_SECTIONS_FILE=str(sections))
    item = pipeline.process_item(spanish_article(
        url="https://diario.example.pe/2023/03/16/nota/",
        date_candidates=[DateCandidate("dateline", "16 de marzo de 2023, 10:30")],
    ))
    assert (item.published_at, item.date_precision) == ("2023-03-16T15:30:00+00:00", "minute")
    assert item.translation_of is None  # Spanish is this source's primary language


def test_unknown_timezone_in_sections_file_fails_at_start(tmp_path):
    sections = tmp_path / "sections.toml"
    sections.write_text(LIMA_SECTIONS.replace("America/Lima", "America/Atlantis"), "utf-8")
    with pytest.raises(ValueError, match="America/Atlantis"):
        make_pipeline(PERUWIRE_SECTIONS_FILE=str(sections))


def test_missing_fetch_time_is_counted(pipeline):
    pipeline, stats = pipeline
    pipeline.process_item(english_article(fetched_at=None))
    assert stats.get_value("peruwire/normalize/no_fetched_at") == 1


def test_a_run_that_normalises_nothing_loads_no_date_or_language_data():
    code = ("import sys; from scrapy.utils.test import get_crawler; from scrapy import Spider; "
            "from peruwire_crawl.addon import Peruwire; from pipelines.normalize import NormalizePipeline; "
            "pipeline = NormalizePipeline.from_crawler(get_crawler(Spider, {'ADDONS': {Peruwire: 0}})); "
            "getattr(pipeline, 'open_spider', lambda: None)(); "
            "print(sorted({'dateparser', 'lingua'} & set(sys.modules)))")
    assert fresh_python(code).strip() == "[]"


# --- properties --------------------------------------------------------------------------------

PIPELINE, _ = make_pipeline()

messy = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.sampled_from([
        "Peru’s de facto president - Peoples Dispatch", "Perâ€™s crisis [&hellip;]", "<p>Hola&nbsp;mundo</p>",
        "by Peoples Dispatch", "Por Ana Pérez, Luis Gómez y María Ruiz", "hace 3 días", "June 16, 2023",
    ]),
)
candidate = st.builds(
    DateCandidate,
    st.sampled_from(["jsonld", "meta", "time", "dateline", "url", "other"]),
    st.one_of(st.text(max_size=30), st.sampled_from([
        "2023-06-16T10:30:00+00:00", "2031-01-01", "1970-01-01T00:00:00Z", EN_URL, "16 de marzo de 2023", "ayer",
    ])),
)
items = st.builds(
    ArticleItem,
    url=st.sampled_from([EN_URL, ES_URL, "https://other.example/2022/01/02/x/", ""]),
    source=st.sampled_from(["peoplesdispatch", ""]),
    title=messy, title_from=st.sampled_from(["meta", "page", "listing"]), summary=messy, body=messy,
    listed_title=messy, listed_summary=messy,
    date_candidates=st.lists(candidate, max_size=4), modified_candidates=st.lists(candidate, max_size=2),
    byline=messy, authors=st.lists(st.text(max_size=20), max_size=3),
    html_lang=st.sampled_from([None, "en-US", "es", "??"]), declared_language=st.sampled_from([None, "es_ES", "x"]),
    translations=st.lists(st.sampled_from([EN_URL, ES_URL]), max_size=2),
    fetched_at=st.sampled_from([FETCHED_AT, None, "yesterday"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(item=items)
def test_normalising_twice_equals_normalising_once(item):
    try:
        once = PIPELINE.process_item(item)
    except DropItem:
        return
    twice = PIPELINE.process_item(copy.deepcopy(once))
    if once.fetched_at is None:  # relative dates then follow the wall clock: compare the rest
        once.published_at = twice.published_at = once.modified_at = twice.modified_at = None
    assert asdict(twice) == asdict(once)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(item=items)
def test_only_dropitem_escapes_and_contract_fields_have_their_types(item):
    try:
        item = PIPELINE.process_item(item)
    except DropItem:
        return
    assert item.title and item.title == item.title.strip()
    assert item.date_precision in (None, "day", "minute", "second")
    assert item.published_at is None or item.published_at.endswith("+00:00")
    assert item.language is None or len(item.language) == 2
    assert all(isinstance(name, str) and name for name in item.authors)

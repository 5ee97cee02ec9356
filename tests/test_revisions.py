"""Revisions of every stored field: kept compactly, read back exactly, carried over by 0005."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from itemadapter import ItemAdapter
from sqlalchemy import select, text

from peruwire_crawl.db.engine import make_engine
from peruwire_crawl.db.migrate import upgrade, upgrade_to_head
from peruwire_crawl.db.revisions import apply_body_delta, body_delta, history
from peruwire_crawl.db.schema import article_checks, article_revisions, articles
from peruwire_crawl.db.store import ArticleStore, record_from_item
from peruwire_crawl.items import ArticleItem

URL = "https://peoplesdispatch.org/2022/06/30/peruvian-president-pedro-castillo-leaves-free-peru-party/"
BODY = ("Pedro Castillo resigned from Perú Libre on Thursday.\n\n"
        "The party’s leadership had asked him to leave.\n\n"
        "Congress is weighing a third impeachment motion.")


def item(**changes) -> ArticleItem:
    return replace(ArticleItem(
        url=URL, source="peoplesdispatch", sections=["https://peoplesdispatch.org/tag/new-peru-left/"],
        title="Peruvian President Pedro Castillo leaves Free Peru party",
        summary="Castillo announced his resignation.", published_at="2022-06-30T00:00:00+00:00",
        date_precision="day", modified_at="2022-06-30T18:00:00+00:00", authors=["Peoples Dispatch"],
        language="en", body=BODY, fetch_reason="new", fetched_at="2023-07-01T12:00:00+00:00",
        etag='"v1"'), **changes)


@pytest.mark.parametrize("old, new", [
    (BODY, BODY.replace("Thursday.", "Thursday, June 30.")),
    (BODY, BODY + "\n\nCorrection: an earlier version misnamed the party."),
    (BODY + "\n\nA paragraph later removed.", BODY),
    ("", BODY), (BODY, ""), (BODY, None), (None, BODY),
    ("line\r\nwith CR\u2028separator\n\n\n", "line\nwith CR\n"),  # odd separators come back as they were
    ("à\n" * 50, "b\n" * 50),
])
def test_a_body_delta_rebuilds_the_earlier_body_exactly(old, new):
    assert apply_body_delta(new, body_delta(old, new)) == old


def test_a_small_correction_costs_about_the_paragraph_it_touched():
    long_body = "\n\n".join(f"Paragraph {n} of the report, with enough words to be a paragraph." for n in range(40))
    corrected = long_body.replace("Paragraph 17 of", "Paragraph seventeen of")
    delta = body_delta(long_body, corrected)
    assert len(delta) < 150 < len(long_body)
    assert apply_body_delta(corrected, delta) == long_body


def write(engine, *items, run_id=None):
    return ArticleStore(engine).write([record_from_item(ItemAdapter(i)) for i in items], run_id=run_id)


def test_every_stored_field_change_keeps_the_earlier_values_and_what_revealed_it(db_engine):
    store = ArticleStore(db_engine)
    write(db_engine, item())
    run = store.open_run("peru")
    edited = item(body=BODY + "\n\nCorrection: Castillo resigned by letter.", authors=["Zoe Alexandra"],
                  modified_at="2023-07-08T09:30:00+00:00", fetch_reason="wp_rest")
    assert write(db_engine, edited, run_id=run)["updated"] == 1
    with db_engine.connect() as connection:
        [revision] = connection.execute(select(article_revisions)).mappings().all()
        article_id = connection.execute(select(articles.c.id)).scalar_one()
        versions = history(connection, article_id)
    assert revision["changed"] == ["body", "authors", "modified_at"]
    assert revision["signal"] == "wp_rest" and revision["crawl_run_id"] == run
    assert revision["authors"] == ["Peoples Dispatch"]
    assert revision["modified_at"].isoformat() == "2022-06-30T18:00:00+00:00"
    assert revision["title"] == item().title  # the small fields are kept whole, changed or not
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].values["body"] == BODY  # read back exactly
    assert versions[1].values["body"] == edited.body and versions[1].replaced_at is None


def test_three_versions_read_back_through_the_chain(db_engine):
    bodies = [BODY, BODY + "\n\nUpdate one.", BODY.replace("Thursday", "Friday") + "\n\nUpdate one."]
    titles = ["First title", "First title", "Second title"]
    for number, (body, title) in enumerate(zip(bodies, titles, strict=False)):
        write(db_engine, item(body=body, title=title, fetch_reason="recheck" if number else "new"))
    with db_engine.connect() as connection:
        versions = history(connection, connection.execute(select(articles.c.id)).scalar_one())
    assert [v.values["body"] for v in versions] == bodies
    assert [v.values["title"] for v in versions] == titles
    assert [v.changed for v in versions] == [["body"], ["title", "body"], []]


def test_filling_an_empty_field_is_no_correction(db_engine):
    write(db_engine, item(body=None, authors=[], complete=False, incomplete_reason="HTTP 503"))
    write(db_engine, item())
    with db_engine.connect() as connection:
        assert connection.execute(select(article_revisions)).all() == []


def test_a_page_read_or_rechecked_records_its_validators_and_the_sites_clock(db_engine):
    write(db_engine, item())
    not_modified = item(body=None, complete=False, not_modified=True, etag='"v1"',
                        fetched_at="2023-07-20T06:00:00+00:00", fetch_reason="recheck")
    assert write(db_engine, not_modified)["unchanged"] == 1
    with db_engine.connect() as connection:
        [check] = connection.execute(select(article_checks)).mappings().all()
        body = connection.execute(select(articles.c.body)).scalar_one()
    assert check["etag"] == '"v1"' and check["checked_at"].isoformat() == "2023-07-20T06:00:00+00:00"
    assert body == BODY


def test_migration_0005_carries_existing_revisions_over(db_url):
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0003")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO crawl_runs (id, spider, started_at, status) VALUES (1, 'peru', '2023-07-01T12:00:00+00:00', 'finished')"))
            connection.execute(text(
                "INSERT INTO articles (id, url, source, title, summary, body, first_seen_at, last_seen_at, changed_at) "
                "VALUES (1, 'https://x.example/a/', 'x', 'Title three', 'Summary two', 'Body', "
                "'2023-07-01T12:00:00+00:00', '2023-07-01T12:00:00+00:00', '2023-07-01T12:00:00+00:00')"))
            for title, summary in (("Title one", "Summary one"), ("Title one", "Summary two")):
                connection.execute(text(
                    "INSERT INTO article_revisions (article_id, title, summary, replaced_at, crawl_run_id) "
                    "VALUES (1, :t, :s, '2023-07-01T12:00:00+00:00', 1)"), {"t": title, "s": summary})
        upgrade_to_head(engine)
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT title, summary, changed, authors, body_delta, crawl_run_id FROM article_revisions ORDER BY id"
            )).all()
            versions = history(connection, 1)
        changed = [row.changed if isinstance(row.changed, list) else json.loads(row.changed) for row in rows]
        assert [(r.title, r.summary, r.crawl_run_id) for r in rows] == [
            ("Title one", "Summary one", 1), ("Title one", "Summary two", 1)]
        assert changed == [["summary"], ["title"]]
        assert all(r.authors is None and r.body_delta is None for r in rows)
        assert [(v.values["title"], v.values["summary"], v.values["body"]) for v in versions] == [
            ("Title one", "Summary one", "Body"), ("Title one", "Summary two", "Body"),
            ("Title three", "Summary two", "Body")]
    finally:
        engine.dispose()

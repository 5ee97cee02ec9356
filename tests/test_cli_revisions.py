"""`peruwire diff` and `peruwire show --history`: every correction, as a word diff, and the
earlier body read back exactly."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from peruwire_crawl.cli.diff import body_diff, render_words, word_diff
from peruwire_crawl.db.store import ArticleStore, record_from_item
from tests.test_cli import ARTICLES, run

FIRST = ARTICLES[0]
ADDED = "Correction: an earlier version gave the wrong number of victims."
TIMES = [datetime(2023, 7, day, 12, tzinfo=timezone.utc) for day in (1, 8, 15)]


@pytest.fixture
def corrected(db_engine):
    """FIRST stored by run 1; run 2 adds a paragraph to its body (revealed by the REST API);
    run 3 changes its title and authors. The other articles never change."""
    store = ArticleStore(db_engine)
    versions = [FIRST,
                dict(FIRST, body=FIRST["body"] + "\n\n" + ADDED, fetch_reason="wp_rest"),
                dict(FIRST, body=FIRST["body"] + "\n\n" + ADDED, title="Boluarte blames protesters for deaths",
                     authors=["Zoe Alexandra"], fetch_reason="recheck")]
    for number, (version, now) in enumerate(zip(versions, TIMES, strict=True), start=1):
        run_id = store.open_run("peru", started_at=now)
        others = ARTICLES[1:] if number == 1 else []
        store.write([record_from_item(a) for a in [version, *others]], run_id=run_id, now=now)
        store.close_run(run_id, finished_at=now.replace(minute=5))
    return db_engine.url.render_as_string(hide_password=False)


def test_word_diff_marks_removed_and_added_words_and_joins_back():
    ops = word_diff("Dina Boluarte said protesters were to blame.", "Boluarte said the protesters were to blame!")
    assert render_words(ops) == "[-Dina -]Boluarte said {+the +}protesters were to blame[-.-]{+!+}"
    assert "".join(text for op, text in ops if op != "+") == "Dina Boluarte said protesters were to blame."
    assert "".join(text for op, text in ops if op != "-") == "Boluarte said the protesters were to blame!"


def test_body_diff_prints_changed_paragraphs_and_counts_the_others():
    before = "One.\n\nTwo words here.\n\nThree.\n\nFour."
    after = "One.\n\nTwo new words here.\n\nThree.\n\nFour.\n\nFive, added."
    assert body_diff(before, after) == ["(1 unchanged paragraph)", "Two {+new +}words here.",
                                        "(2 unchanged paragraphs)", "{+Five, added.+}"]
    assert body_diff("A.\n\nB.", "A.") == ["(1 unchanged paragraph)", "[-B.-]"]


def test_diff_shows_the_latest_correction_by_default_and_any_one_with_rev(corrected, capsys):
    status, out, err = run(capsys, "diff", FIRST["url"], "--db", corrected)
    assert status == 0, err
    assert out.splitlines()[0] == "version 3 (stored 2023-07-15T12:00:00+00:00 by run 3, revealed by recheck), against version 2:"
    assert "  title: [-Peru’s de facto president-]{+Boluarte+} blames protesters for [-their own -]deaths\n" in out
    assert "authors: [-Peoples Dispatch-]{+Zoe Alexandra+}" in out and "body" not in out

    status, out, _ = run(capsys, "diff", FIRST["url"], "--rev", "2", "--db", corrected)
    assert status == 0 and "version 2 (stored 2023-07-08T12:00:00+00:00 by run 2, revealed by wp_rest)" in out
    assert f"    (2 unchanged paragraphs)\n    {{+{ADDED}+}}\n" in out and "title" not in out


def test_diff_json_gives_both_values_and_the_word_operations(corrected, capsys):
    change = json.loads(run(capsys, "diff", FIRST["url"], "--rev", "2", "--json", "--db", corrected)[1])
    assert change["version"] == 2 and change["against"] == 1 and change["signal"] == "wp_rest"
    assert list(change["fields"]) == ["body"]
    assert change["fields"]["body"]["before"] == FIRST["body"]
    words = change["fields"]["body"]["words"]
    assert "".join(piece for op, piece in words if op != "-") == change["fields"]["body"]["after"]
    assert [op for op, _ in words][:2] == ["=", "+"] and "Correction: an earlier version" in words[1][1]


def test_diff_refuses_a_version_that_is_not_there_and_says_so_for_an_unchanged_article(corrected, capsys):
    status, _, err = run(capsys, "diff", FIRST["url"], "--rev", "1", "--db", corrected)
    assert status == 1 and "has versions 1 to 3: --rev takes 2 to 3" in err
    status, out, _ = run(capsys, "diff", ARTICLES[1]["url"], "--db", corrected)
    assert status == 0 and "has not changed since it was first stored" in out
    status, _, err = run(capsys, "diff", "https://peoplesdispatch.org/nowhere/", "--db", corrected)
    assert status == 1 and "no stored article has the id or URL" in err


def test_show_history_prints_every_correction_before_the_body(corrected, capsys):
    status, out, _ = run(capsys, "show", FIRST["url"], "--history", "--db", corrected)
    assert status == 0
    history = out.split("\nhistory (3 versions;")[1].split("\nbody:\n")[0]
    assert history.index("version 2 (stored 2023-07-08") < history.index("version 3 (stored 2023-07-15")
    assert f"{{+{ADDED}+}}" in history and "authors: [-Peoples Dispatch-]{+Zoe Alexandra+}" in history
    assert out.rstrip().endswith(ADDED)


def test_show_history_json_reads_every_earlier_body_back_exactly(corrected, capsys):
    article = json.loads(run(capsys, "show", FIRST["url"], "--history", "--json", "--db", corrected)[1])
    versions = article["history"]
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert versions[0]["body"] == FIRST["body"] and versions[0]["signal"] == "wp_rest"
    assert versions[0]["changed_after"] == ["body"]
    assert versions[1]["title"] == FIRST["title"] and versions[1]["authors"] == ["Peoples Dispatch"]
    assert versions[2]["replaced_at"] is None and versions[2]["body"] == article["body"]

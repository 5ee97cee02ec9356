"""sqlite-utils' manners of the `peruwire` command: --db anywhere as a URL or a path, the
same output options everywhere, --version, read-only `query`, filters spelled as stored."""

from __future__ import annotations

import csv
import io
import json

import pytest

from peruwire_crawl.cli import main
from peruwire_crawl.db.engine import make_engine
from peruwire_crawl.db.migrate import upgrade_to_head
from peruwire_crawl.db.store import ArticleStore, record_from_item
from tests.test_cli import ARTICLES, run


@pytest.fixture
def demo(tmp_path, monkeypatch):
    """A SQLite file `demo.db` in the working directory, holding test_cli's ARTICLES."""
    monkeypatch.chdir(tmp_path)
    engine = make_engine("sqlite:///demo.db")
    upgrade_to_head(engine)
    store = ArticleStore(engine)
    run_id = store.open_run("peru")
    store.write([record_from_item(a) for a in ARTICLES], run_id=run_id)
    store.close_run(run_id, new=3)
    engine.dispose()
    return "demo.db"


@pytest.mark.parametrize("argv", [
    ["--db", "demo.db", "stats"],
    ["stats", "--db", "demo.db"],
    ["--db", "sqlite:///nowhere.db", "stats", "--db", "demo.db"],  # the nearer one wins
])
def test_db_is_a_path_or_url_before_or_after_the_command(demo, capsys, argv):
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    assert "articles: 3" in out


def test_db_defaults_to_the_environment_then_peruwire_db(demo, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PERUWIRE_DB_URL", "demo.db")
    assert "articles: 3" in run(capsys, "stats")[1]
    monkeypatch.delenv("PERUWIRE_DB_URL")
    status, _, err = run(capsys, "stats")
    assert status == 1 and "there is no database at peruwire.db" in err
    assert not (tmp_path / "peruwire.db").exists()


def test_a_url_without_its_scheme_is_not_taken_for_a_file_nor_printed(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, _, err = run(capsys, "stats", "--db", "crawler:s3cret@db.example/peruwire")
    assert status == 1 and "a URL without its scheme" in err and "s3cret" not in err
    assert list(tmp_path.iterdir()) == []


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("peruwire, version ")


@pytest.mark.parametrize("command", [["runs"], ["search", "Peru"], ["query", "SELECT id, url FROM articles"],
                                     ["stats"]])
def test_every_listing_command_speaks_json_nl_csv_tsv(demo, capsys, command):
    outputs = {}
    for fmt in ("json", "nl", "csv", "tsv"):
        status, out, err = run(capsys, *command, f"--{fmt}", "--db", demo)
        assert status == 0, err
        outputs[fmt] = out
    lines = [json.loads(line) for line in outputs["nl"].splitlines()] if command != ["stats"] else None
    if lines is not None:
        assert outputs["json"] == outputs["nl"]
        from_csv = list(csv.DictReader(io.StringIO(outputs["csv"])))
        from_tsv = list(csv.DictReader(io.StringIO(outputs["tsv"]), delimiter="\t"))
        assert len(from_csv) == len(from_tsv) == len(lines) > 0
        assert list(from_csv[0]) == list(lines[0])


def test_search_rows_carry_the_id(demo, capsys):
    hits = [json.loads(line) for line in run(capsys, "search", "Castillo", "--nl", "--db", demo)[1].splitlines()]
    assert [hit["url"] for hit in hits] == [ARTICLES[2]["url"]] and isinstance(hits[0]["id"], int)


def test_stats_series_show_months_without_articles(demo, capsys):
    rows = list(csv.DictReader(io.StringIO(run(capsys, "stats", "--csv", "--db", demo)[1])))
    months = [(row["value"], row["articles"]) for row in rows if row["group"] == "month"]
    assert len(months) == 13  # 2022-06 .. 2023-06
    assert months[0] == ("2023-06", "1") and ("2023-05", "0") in months and months[-1] == ("2022-06", "1")
    assert json.loads(run(capsys, "stats", "--json", "--db", demo)[1])["month"]["2022-12"] == 0


def test_runs_limit_and_runs_are_one_option(demo, capsys):
    assert run(capsys, "runs", "--limit", "1", "--nl", "--db", demo)[1] == run(capsys, "runs", "--runs", "1", "--nl", "--db", demo)[1]


def test_query_prints_rows_and_refuses_writes(demo, capsys):
    status, out, _ = run(capsys, "query", "SELECT language, count(*) AS n FROM articles GROUP BY language ORDER BY language",
                         "--db", demo)
    assert status == 0 and out.split() == ["language", "n", "en", "2", "es", "1"]
    status, out, _ = run(capsys, "query", "SELECT url FROM articles WHERE language = :l", "-p", "l", "es", "--nl",
                         "--db", demo)
    assert [json.loads(line)["url"] for line in out.splitlines()] == [ARTICLES[1]["url"]]
    status, _, err = run(capsys, "query", "DELETE FROM articles", "--db", demo)
    assert status == 1 and err.startswith("peruwire: error: the database refused the query")
    assert "articles: 3" in run(capsys, "stats", "--db", demo)[1]


def test_query_refuses_writes_on_postgresql_too(db_engine, capsys):
    url = db_engine.url.render_as_string(hide_password=False)
    status, _, err = run(capsys, "query", "CREATE TABLE intruder (x int)", "--db", url)
    assert status == 1 and "refused the query" in err
    status, out, _ = run(capsys, "query", "SELECT count(*) AS n FROM articles", "--nl", "--db", url)
    assert status == 0 and json.loads(out) == {"n": 0}


@pytest.mark.parametrize("argv", [["search", "  "], ["query", ""]])
def test_an_empty_query_is_an_error(demo, capsys, argv):
    status, out, err = run(capsys, *argv, "--db", demo)
    assert status == 1 and out == "" and "is empty" in err


def test_filters_are_spelled_as_stored_and_an_unknown_value_is_a_warning(demo, capsys):
    moquegua = ARTICLES[1]["sections"][1]
    for spelling in (moquegua.rstrip("/"), moquegua.replace("https://peoplesdispatch.org", "http://PeoplesDispatch.org"),
                     moquegua.removeprefix("https://")):
        status, out, err = run(capsys, "export", "--nl", "--section", spelling, "--db", demo)
        assert status == 0 and err == "", spelling
        assert [json.loads(line)["url"] for line in out.splitlines()] == [ARTICLES[1]["url"]], spelling
    assert len(run(capsys, "search", "Constitución", "--language", "ES", "--db", demo)[1].splitlines()) == 2
    assert len(run(capsys, "search", "Constitución", "--author", "zoe  alexandra", "--db", demo)[1].splitlines()) == 2
    status, out, err = run(capsys, "search", "Peru", "--section", "peoplesdispatch.org/tag/nowhere", "--db", demo)
    assert status == 0 and out.splitlines()[1:] == []
    assert "peruwire: warning: no stored article has section 'https://peoplesdispatch.org/tag/nowhere/'" in err


def test_until_includes_its_whole_day(demo, capsys):
    out = run(capsys, "export", "--nl", "--until", "2023-03-16", "--db", demo)[1]
    assert {json.loads(line)["url"] for line in out.splitlines()} == {ARTICLES[1]["url"], ARTICLES[2]["url"]}
    out = run(capsys, "search", "Constitución OR Castillo", "--until", "2023-03-15", "--db", demo)[1]
    assert [line.split("\t")[-1] for line in out.splitlines()[1:]] == [ARTICLES[2]["url"]]


def test_ingest_names_a_line_of_the_wrong_type_and_stores_the_rest(db_url, tmp_path, capsys):
    source = tmp_path / "items.jsonl"
    lines = [json.dumps(ARTICLES[0]), json.dumps(dict(ARTICLES[2], authors=5)), "[1, 2]", json.dumps(ARTICLES[1])]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, out, err = run(capsys, "ingest", str(source), "--db", db_url)
    assert status == 1 and "Traceback" not in err
    assert f"{source} line 2 is not a stored item" in err and "authors 5 is not a list of text" in err
    assert f"{source} line 3 is not a stored item (a JSON list, not an object)" in err
    assert "stored 2 articles" in out and "2 lines skipped" in out


def _commands(group, path=()):
    import click

    for name, command in group.commands.items():
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


def test_every_command_and_group_shows_an_example_in_its_help(capsys):
    from peruwire_crawl.cli import cli

    every = list(_commands(cli))
    assert {"serve", "report", "show", "query", "search", "export", "ingest", "stats", "runs"} <= {c[0] for c in every}
    for argv in [[], *every]:
        with pytest.raises(SystemExit) as exit_:
            main([*argv, "--help"])
        assert exit_.value.code == 0
        assert "example:\n  peruwire " in capsys.readouterr().out, argv

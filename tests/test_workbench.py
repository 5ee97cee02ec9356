"""The analysts' workbench: `peruwire show`, `serve` (Datasette), `report` (in headless
Chromium), Parquet export, and spreadsheet-safe CSV cells."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest

from peruwire_crawl.cli.cells import neutralise
from peruwire_crawl.db.store import ArticleStore, record_from_item
from tests.test_cli import ARTICLES, run

CHROMIUM = "/usr/bin/chromium"
T1, T2 = datetime(2023, 7, 1, 12, tzinfo=timezone.utc), datetime(2023, 7, 8, 12, tzinfo=timezone.utc)


@pytest.fixture
def history(db_engine):
    """ARTICLES stored by run 1; run 2 changes the first one's title (one revision)."""
    store = ArticleStore(db_engine)
    first = store.open_run("peru", started_at=T1)
    store.write([record_from_item(a) for a in ARTICLES], run_id=first, now=T1)
    store.close_run(first, new=3, finished_at=T1.replace(minute=5))
    second = store.open_run("peru", started_at=T2)
    store.write([record_from_item(dict(ARTICLES[0], title="Boluarte blames protesters"))], run_id=second, now=T2)
    store.close_run(second, updated=1, finished_at=T2.replace(minute=5))
    return db_engine.url.render_as_string(hide_password=False)


def test_show_prints_one_article_in_full(history, capsys):
    status, out, _ = run(capsys, "show", ARTICLES[0]["url"].replace("https://", "http://").rstrip("/"),
                         "--db", history)
    assert status == 0
    assert re.search(r"title:\s+Boluarte blames protesters", out)
    assert "https://peoplesdispatch.org/tag/new-peru-left/  since 2023-07-01T12:00:00+00:00" in out
    revisions = out.split("revisions (1:")[1].split("\n\n")[0]
    assert "2023-07-08T12:00:00+00:00  run 2" in revisions and ARTICLES[0]["title"] in revisions
    runs = out.split("crawl runs that saw it:\n")[1].split("\n\n")[0].splitlines()
    assert [line.split()[0] for line in runs] == ["1", "2"]
    assert "first seen" in runs[0] and "last changed, last seen, changed" in runs[1]
    assert out.rstrip().endswith("The strike continues in Puno.")


def test_show_json_has_sections_translations_revisions_and_runs(history, capsys):
    status, out, _ = run(capsys, "show", ARTICLES[1]["url"], "--json", "--db", history)
    article = json.loads(out)
    assert status == 0 and article["language"] == "es" and article["authors"] == ["Zoe Alexandra"]
    assert [s["section_url"] for s in article["sections"]] == sorted(ARTICLES[1]["sections"])
    assert article["translations"] == [{"url": ARTICLES[1]["translations"][0], "id": None, "language": None,
                                        "title": None}]
    assert article["revisions"] == [] and [r["id"] for r in article["runs"]] == [1]
    by_id = json.loads(run(capsys, "show", str(article["id"] - 1 or 3), "--json", "--db", history)[1])
    assert by_id["id"] != article["id"]
    status, _, err = run(capsys, "show", "https://peoplesdispatch.org/nowhere/", "--db", history)
    assert status == 1 and "no stored article has the id or URL" in err


def test_parquet_export_has_the_columns_and_types_of_the_other_formats(history, capsys, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    target = tmp_path / "articles.parquet"
    status, _, err = run(capsys, "export", "--format", "parquet", "--output", str(target), "--db", history)
    assert status == 0 and f"3 articles written to {target}" in err
    table = pq.read_table(target)
    lines = [json.loads(line) for line in run(capsys, "export", "--nl", "--db", history)[1].splitlines()]
    assert table.column_names == list(lines[0])
    rows = table.to_pylist()
    assert [row["url"] for row in rows] == [line["url"] for line in lines]
    assert rows[1]["authors"] == lines[1]["authors"] and rows[1]["complete"] is True
    assert rows[1]["published_at"] == datetime(2023, 3, 16, tzinfo=timezone.utc)
    assert str(table.schema.field("first_seen_at").type) == "timestamp[us, tz=UTC]"
    status, _, err = run(capsys, "export", "--parquet", "--db", history)
    assert status == 1 and "give --output FILE" in err


@pytest.mark.parametrize("cell", ["=1+1", " =1+1", "\u00a0+SUM(A1)", "\ufeff@cmd", "\u200b-2", "\u2060=x",
                                  "\uff1dHYPERLINK(\"x\")", "\uff0b1", "\uff0d1", "\uff20x", "\t=1", "\r=1",
                                  "  \u200b\ufeff=1"])
def test_formula_cells_are_neutralised_after_invisible_starts(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Peru", " Peru", "a=b", "", "   ", "1-2", "\u2212 5 (a minus sign is text)"])
def test_other_cells_are_left_alone(cell):
    assert neutralise(cell) == cell


def test_csv_and_tsv_exports_neutralise_hidden_formulas(db_engine, capsys):
    store = ArticleStore(db_engine)
    store.write([record_from_item(dict(ARTICLES[0], title="\ufeff=HYPERLINK(\"http://evil.example\")",
                                       summary="\u00a0\uff1d1+1"))])
    url = db_engine.url.render_as_string(hide_password=False)
    for fmt, delimiter in (("csv", ","), ("tsv", "\t")):
        out = run(capsys, "export", f"--{fmt}", "--db", url)[1]
        [row] = list(csv.DictReader(io.StringIO(out), delimiter=delimiter))
        assert row["title"].startswith("'\ufeff=") and row["summary"].startswith("'\u00a0\uff1d"), fmt


# --- serve --------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_serve_shows_the_database_in_datasette_with_metadata(tmp_path, capsys):
    pytest.importorskip("datasette")
    db = tmp_path / "peru.db"
    from peruwire_crawl.db.engine import make_engine
    from peruwire_crawl.db.migrate import upgrade_to_head

    engine = make_engine(f"sqlite:///{db}")
    upgrade_to_head(engine)
    ArticleStore(engine).write([record_from_item(a) for a in ARTICLES])
    engine.dispose()
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "peruwire_crawl.cli", "serve", "--db", str(db),
                               "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                database = _get(f"{base}/peru.json")
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "Datasette did not start within 60 s"
                time.sleep(0.5)
        assert {"articles_per_month_by_language", "corrections", "incomplete_articles", "run_health",
                "translations_side_by_side"} <= {query["name"] for query in database["queries"]}
        tables = {table["name"]: table for table in database["tables"]}
        assert tables["articles"]["fts_table"] == "articles_fts" and tables["articles_fts"]["hidden"]
        hits = _get(f"{base}/peru/articles.json?_search=protesters&_shape=array&_col=title")
        assert [hit["id"] for hit in hits] == [3]
        months = _get(f"{base}/peru/articles_per_month_by_language.json?_shape=array")
        assert {"month": "2023-01", "language": "es", "articles": 0} in months and len(months) == 2 * 13
        listing = _get(f"{base}/peru/article_list.json?_facet_array=sections")
        facets = {facet["value"]: facet["count"] for facet in listing["facet_results"]["sections"]["results"]}
        assert facets == {"https://peoplesdispatch.org/tag/new-peru-left/": 2,
                          "https://peoplesdispatch.org/tag/moquegua-department/": 1}
        with urllib.request.urlopen(f"{base}/peru/articles", timeout=10) as page:
            html = page.read().decode()
        assert "One row per article" in html
        assert "/-/static-plugins/datasette_vega/" in html  # the chart plugin is loaded
    finally:
        server.terminate()
        server.wait(timeout=20)
    # Stopping peruwire stopped Datasette: nothing listens on the port any more.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_serve_on_postgresql_says_what_to_use(db_engine, capsys):
    if db_engine.dialect.name != "postgresql":
        pytest.skip("this case is about a PostgreSQL URL")
    status, _, err = run(capsys, "serve", "--db", db_engine.url.render_as_string(hide_password=False))
    assert status == 1 and "Datasette reads SQLite files only" in err


# --- report -------------------------------------------------------------------------------
def test_report_is_one_self_contained_page_with_its_charts(history, capsys, tmp_path):
    pytest.importorskip("matplotlib")
    target = tmp_path / "report.html"
    status, _, err = run(capsys, "report", "--output", str(target), "--db", history)
    assert status == 0 and f"report of 3 articles written to {target}" in err
    page = target.read_text("utf-8")
    assert page.count("<svg") == 6
    for heading in ("Articles per month, by section", "Articles per month, by language", "Top authors",
                    "Corrections over time", "Crawl run health over time", "Field coverage"):
        assert f"<h2>{heading}</h2>" in page
    # Nothing to fetch: no script, stylesheet, image or font from elsewhere.
    assert not re.search(r"<script|<link|<img|@import|url\(\s*['\"]?https?:", page)
    assert "2022-12" in page  # a month without articles is on the axis
    status, _, _ = run(capsys, "report", "--output", str(target), "--since", "2023-01-01", "--db", history)
    assert "2 articles (since 2023-01-01" in target.read_text("utf-8")


@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed "
                    "(Debian's chromium package; .ci/run installs it)")
def test_the_report_renders_in_headless_chromium_with_no_console_error(history, capsys, tmp_path):
    pytest.importorskip("matplotlib")
    target = tmp_path / "report.html"
    assert run(capsys, "report", "--output", str(target), "--db", history)[0] == 0
    profile = tmp_path / "chromium-profile"
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
              f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run([*common, "--dump-dom", target.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count("<svg") == 6 and "Field coverage" in dom.stdout
    assert not [line for line in dom.stderr.splitlines() if "CONSOLE" in line], dom.stderr
    screenshot = tmp_path / "report.png"
    shot = subprocess.run([*common, "--window-size=1100,2600", f"--screenshot={screenshot}", target.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert shot.returncode == 0 and screenshot.stat().st_size > 20_000, shot.stderr[-2000:]
    keep = os.environ.get("PERUWIRE_REPORT_SCREENSHOT")
    if keep:  # for a person to look at: PERUWIRE_REPORT_SCREENSHOT=/tmp/report.png pytest -k chromium
        shutil.copy(screenshot, Path(keep))


def test_without_the_analysts_extra_serve_and_report_say_how_to_get_it(history, capsys, monkeypatch, tmp_path):
    import builtins
    import importlib.util

    real_find_spec, real_import = importlib.util.find_spec, builtins.__import__
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "datasette" else real_find_spec(name, *a))

    def no_matplotlib(name, *args, **kwargs):
        if name.split(".")[0] == "matplotlib":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    for argv in (["serve"], ["report", "--output", str(tmp_path / "r.html")]):
        status, _, err = run(capsys, *argv, "--db", history)
        assert status == 1 and "pip install 'peruwire[analysts]'" in err, argv

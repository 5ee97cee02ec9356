"""Unit tests of the safety rules of issue 13 (fast; the crawls are in test_safety_e2e.py)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy.engine import make_url

from peruwire_crawl import replay
from peruwire_crawl.db.engine import describe_url, first_line
from peruwire_crawl.times import server_time

SECRET = "pa55-w0rd"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("url", [
    f"postgresql+psycopg://peruwire:{SECRET}@db.example:5432/news",
    f"postgresql+psycopg://peruwire:{SECRET}@with@at@db.example/news",
    f"postgresql+psycopg://peruwire@db.example/news?password={SECRET}",
    f"postgresql://peruwire@db.example/news?sslmode=require&PASSWORD={SECRET}",
    f"postgresql://peruwire@db.example/news?sslpassword={SECRET}",
    f"peruwire:{SECRET}@db.example/news",
    f"host=db.example user=peruwire password={SECRET} dbname=news",
    f"host=db.example password='{SECRET} x' dbname=news",
    make_url(f"postgresql://peruwire:{SECRET}@db.example/news?password={SECRET}"),
])
def test_every_form_of_password_is_masked(url):
    shown = describe_url(url)
    assert SECRET not in shown
    assert "***" in shown
    assert "db.example" in shown  # still says which database


@pytest.mark.parametrize("url", ["sqlite:///peruwire.db", "sqlite:////srv/data/a@b.db",
                                 "postgresql+psycopg://peruwire@db.example:5432/news?sslmode=require"])
def test_urls_without_a_password_are_shown_as_they_are(url):
    assert describe_url(url) == url


def test_a_driver_message_echoing_a_password_is_masked():
    error = ValueError(f"invalid dsn: host=x password={SECRET} port=nope\nDETAIL: more")
    assert first_line(error) == "invalid dsn: host=x password=*** port=nope"


@pytest.mark.parametrize("header", [
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "Fri, 31 Dec 9999 23:59:59 -0500",  # overflows on the way to UTC
    "Wed, 01 Jan 1800 00:00:00 GMT",
    "Thu, 01 Jan 2099 00:00:00 GMT",
    "Wed, 02 Dec 2026 13:00:00 GMT",  # 25 hours ahead of the clock
    "garbage", "", None, b"\xff\xfe",
])
def test_an_absurd_date_header_is_no_fetch_time(header):
    assert server_time(header, now=NOW) is None


@pytest.mark.parametrize("header, expected", [
    ("Tue, 01 Dec 2026 11:59:00 GMT", datetime(2026, 12, 1, 11, 59, tzinfo=timezone.utc)),
    (b"Sat, 01 Jul 2023 12:00:00 GMT", datetime(2023, 7, 1, 12, 0, tzinfo=timezone.utc)),  # a replayed snapshot
    ("Tue, 01 Dec 2026 20:00:00 +0100", datetime(2026, 12, 1, 19, 0, tzinfo=timezone.utc)),  # a fast clock
])
def test_a_plausible_date_header_is_the_fetch_time(header, expected):
    assert server_time(header, now=NOW) == expected


# --- record and replay confined to their directory ---------------------------------------------


@pytest.mark.parametrize("url", [
    "https://site.example/a/..%2F..%2F..%2Fescaped.html",
    "https://site.example/a/%2E%2E/%2e%2e/%2E%2E/escaped.html",
    "https://site.example/../../escaped.html",
    "https://site.example/a%5C..%5C..%5Cescaped.html",
    "https://site.example/a%00/escaped.html",
    "https://site.example/tag/?q=..%2F..%2F..%2Fescaped",
])
def test_no_url_maps_outside_the_snapshot(tmp_path, url):
    root = tmp_path / "snapshot"
    written = replay.save(root, url, replay.StoredResponse(302, {"Location": "/x/"}, b"<p>body</p>"))
    assert written.resolve().is_relative_to(root.resolve())
    assert written.parent.resolve().is_relative_to((root / "site.example").resolve())
    assert [p.name for p in tmp_path.iterdir()] == ["snapshot"]
    assert replay.load(root, url).body == b"<p>body</p>"


def test_a_long_segment_is_hashed_and_two_long_urls_keep_two_files(tmp_path):
    first = replay.url_to_path(tmp_path, "https://site.example/" + "a" * 300 + "-1.html")
    second = replay.url_to_path(tmp_path, "https://site.example/" + "a" * 300 + "-2.html")
    query = replay.url_to_path(tmp_path, "https://site.example/tag/?q=" + "z" * 500)
    for path in (first, second, query):
        assert len(path.name.encode()) <= replay.MAX_NAME_BYTES
    assert first != second and first.suffix == ".html"


def test_a_symlink_out_of_the_snapshot_is_refused_for_record_and_replay(tmp_path):
    root, elsewhere = tmp_path / "snapshot", tmp_path / "elsewhere"
    (root / "site.example").mkdir(parents=True)
    elsewhere.mkdir()
    (elsewhere / "index.html").write_text("outside")
    (root / "site.example" / "out").symlink_to(elsewhere)
    with pytest.raises(replay.OutsideRoot, match="outside"):
        replay.save(root, "https://site.example/out/", replay.StoredResponse(200, {}, b"new"))
    with pytest.raises(replay.OutsideRoot):
        replay.load(root, "https://site.example/out/")
    assert (elsewhere / "index.html").read_text() == "outside"

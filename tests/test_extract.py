"""`peruwire extract`: one page through the crawl's page object and normaliser, as JSON.

The tests run the `peruwire` command in process (``peruwire_crawl.cli.main``); one checks
that ``python -m peruwire_crawl.extract`` prints the same.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from peruwire_crawl import extract as extract_module
from peruwire_crawl.addon import crawl_settings
from peruwire_crawl.cli import main
from peruwire_crawl.extract import extract
from peruwire_crawl.pages import reading
from peruwire_crawl.pages.regenerate import FIXTURES

STOCK_URL = "https://noticias.example.org/2023/06/20/comunidades-de-apurimac-bloquean-el-corredor-minero-del-sur/"
STOCK_FILE = FIXTURES / "stockwp" / "noticias.example.org" / "2023/06/20/comunidades-de-apurimac-bloquean-el-corredor-minero-del-sur" / "index.html"
ARTICLE = b"""<!doctype html><html lang="en"><head><title>Miners march on Lima - Example News</title>
<meta property="article:published_time" content="2024-05-02T09:30:00-05:00"></head>
<body><article><h1 class="entry-title">Miners march on Lima</h1><p class="byline">By Ana Quispe</p>
<div class="entry-content"><p>Thousands of informal miners marched on Lima on Thursday to demand an extension.</p>
<p>The government said it would answer the demands within a week.</p></div></article></body></html>"""


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(["extract", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_saved_page_gives_what_the_crawl_stores(capsys):
    code, out, _ = run_cli(capsys, str(STOCK_FILE), "--url", STOCK_URL)
    result = json.loads(out)
    assert code == 0
    assert result["title"] == "Comunidades de Apurímac bloquean el corredor minero del sur"
    assert (result["published"], result["date_precision"]) == ("2023-06-20T08:15:00-05:00", "second")
    assert result["published_utc"] == "2023-06-20T13:15:00+00:00"  # what the crawl stores
    assert result["authors"] == ["Lucía Huamán"] and result["language"] == "es"
    assert result["canonical_url"] == STOCK_URL
    assert set(reading.OUTPUT_FIELDS) <= set(result) and "explain" not in result


def test_python_m_extract_prints_the_same_as_the_command(capsys):
    _, by_command, _ = run_cli(capsys, str(STOCK_FILE), "--url", STOCK_URL, "--json")
    assert extract_module.main([str(STOCK_FILE), "--url", STOCK_URL, "--json"]) == 0
    assert capsys.readouterr().out == by_command


def test_help_shows_an_example(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["extract", "--help"])
    assert exit_.value.code == 0 and "peruwire extract saved.html --url" in capsys.readouterr().out


def test_a_mistake_in_the_command_line_exits_2(capsys):
    code, out, err = run_cli(capsys)
    assert (code, out) == (2, "") and "Missing argument 'FILE|URL'" in err


def test_explain_names_the_rule_or_signal_of_each_field(capsys):
    _, out, _ = run_cli(capsys, str(STOCK_FILE), "--url", STOCK_URL, "--explain", "--json")
    assert "\n" not in out.strip()  # --json: one line
    explain = json.loads(out)["explain"]
    assert explain["published"].startswith("time")
    assert explain["language"] == "detected"
    assert explain["title"] and explain["body"] and explain["authors"]


def test_a_day_precision_date_is_printed_as_a_day():
    result = extract(ARTICLE.replace(b"2024-05-02T09:30:00-05:00", b"2024-05-02"), "https://example.org/a/")
    assert (result["published"], result["date_precision"]) == ("2024-05-02", "day")


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b'{"title": "json"}', b"%PDF-1.7\n", b""])
def test_a_file_that_is_not_html_gets_one_clear_line(tmp_path, capsys, content):
    path = tmp_path / "page.bin"
    path.write_bytes(content)
    code, out, err = run_cli(capsys, str(path))
    assert (code, out) == (1, "")
    assert err == f"peruwire: error: {path} is not an HTML page\n"


def test_a_missing_file_gets_one_clear_line(tmp_path, capsys):
    code, _, err = run_cli(capsys, str(tmp_path / "nope.html"))
    assert code == 1 and err.startswith("peruwire: error: there is no file ") and err.count("\n") == 1


@pytest.mark.parametrize("html", [b"<html>", b"<html><body><div>" * 3000, b"<p>\xff\xfe broken \x80 bytes", b"<html><head><script type='application/ld+json'>{oops</script>"])
def test_any_html_gives_json_and_never_a_traceback(tmp_path, capsys, html):
    path = tmp_path / "odd.html"
    path.write_bytes(html)
    code, out, _ = run_cli(capsys, str(path), "--url", "https://example.org/odd/")
    assert code == 0 and isinstance(json.loads(out)["problems"], list)


# --- fetching a URL, politely, from a server on 127.0.0.1 ----------------------------------
class Site(BaseHTTPRequestHandler):
    pages: dict[str, tuple[int, bytes]] = {}
    agents: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.agents.append(self.headers.get("User-Agent"))
        code, body = self.pages.get(self.path, (404, b"not here"))
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Site.pages, Site.agents = {}, []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_url_is_fetched_with_the_project_user_agent(site, capsys):
    Site.pages = {"/2024/05/02/miners/": (200, ARTICLE), "/robots.txt": (200, b"User-agent: *\nAllow: /\n")}
    code, out, _ = run_cli(capsys, f"{site}/2024/05/02/miners/")
    assert code == 0 and json.loads(out)["title"] == "Miners march on Lima"
    assert set(Site.agents) == {crawl_settings().get("USER_AGENT")}


def test_robots_txt_is_obeyed_and_errors_are_one_line(site, capsys):
    Site.pages = {"/private/a/": (200, ARTICLE), "/robots.txt": (200, b"User-agent: *\nDisallow: /private/\n")}
    code, _, err = run_cli(capsys, f"{site}/private/a/")
    assert code == 1 and "robots.txt" in err and err.count("\n") == 1
    code, _, err = run_cli(capsys, f"{site}/gone/")
    assert (code, err) == (1, f"peruwire: error: {site}/gone/ answered HTTP 404\n")


def test_an_unreachable_url_gets_one_clear_line(capsys):
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, out, err = run_cli(capsys, f"http://127.0.0.1:{port}/2024/05/02/miners/")
    assert (code, out) == (1, "")
    assert err.startswith(f"peruwire: error: could not fetch http://127.0.0.1:{port}/2024/05/02/miners/") and err.count("\n") == 1


def test_a_directory_gets_one_clear_line(tmp_path, capsys):
    code, _, err = run_cli(capsys, str(tmp_path))
    assert code == 1 and err.startswith(f"peruwire: error: cannot read {tmp_path}") and err.count("\n") == 1

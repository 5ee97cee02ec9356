"""The fault-injecting test site itself: each fault does what the reliability tests rely on."""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import time
from pathlib import Path

import pytest
from faultsite import (
    Body,
    Call,
    Empty,
    FaultPlan,
    FaultSite,
    GzipBomb,
    Ok,
    Oversize,
    Redirect,
    Reset,
    RetryAfter,
    Slow,
    Status,
    Truncate,
)

FIXTURES = Path(__file__).parent / "fixtures_faults"
SITE = json.loads((FIXTURES / "site.json").read_text("utf-8"))
ARTICLE = SITE["articles"][0]["path"]


@pytest.fixture
def site():
    with FaultSite(FIXTURES, SITE["host"], other_host=SITE["other_host"]) as running:
        yield running


def get(site: FaultSite, path: str, host: str | None = None, timeout: float = 5.0):
    """(status, headers, body) of one GET; the body read as far as the server sends it."""
    connection = http.client.HTTPConnection("127.0.0.1", site.port, timeout=timeout)
    try:
        connection.putrequest("GET", path, skip_host=True)
        connection.putheader("Host", f"{host or '127.0.0.1'}:{site.port}")
        connection.endheaders()
        response = connection.getresponse()
        try:
            body = response.read()
        except http.client.IncompleteRead as partial:
            body = partial.partial
        return response.status, dict(response.getheaders()), body
    finally:
        connection.close()


def raw_exchange(site: FaultSite, path: str, timeout: float = 5.0) -> tuple[bytes, BaseException | None]:
    """Everything the server sent on one connection, and how the connection ended."""
    with socket.create_connection(("127.0.0.1", site.port), timeout=timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{site.port}\r\n\r\n".encode())
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError as error:
                return received, error
            if not chunk:
                return received, None
            received += chunk


def test_serves_the_fixture_with_links_pointing_at_the_server(site):
    status, headers, body = get(site, "/tag/peru/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=UTF-8"
    assert f"{site.origin}/tag/peru/page/2/".encode() in body
    assert b"faults.example" not in body
    _, _, page_two = get(site, "/tag/peru/page/2/")
    assert f"{site.other_origin}/2023/06/09/".encode() in page_two
    assert site.hits("/tag/peru/") == 1 and site.hits("/tag/peru/page/2/") == 1


def test_unknown_paths_are_404_and_counted(site):
    status, _, _ = get(site, "/no/such/page/")
    assert status == 404
    assert site.hits("/no/such/page/") == 1


def test_other_host_is_served_from_its_own_fixtures_and_recorded(site):
    status, _, body = get(site, "/2023/06/09/an-article-on-another-host/", host="localhost")
    assert status == 200 and b"An article on another host" in body
    assert site.hosts_seen() == {"localhost"}
    assert site.hits("/2023/06/09/an-article-on-another-host/") == 0  # counted under localhost
    assert site.hits("/2023/06/09/an-article-on-another-host/", host="localhost") == 1


def test_a_sequence_of_faults_then_recovery_and_the_last_fault_repeats(site):
    site.plan.set("/tag/peru/", [Status(503), Status(500), Ok()])
    assert [get(site, "/tag/peru/")[0] for _ in range(4)] == [503, 500, 200, 200]
    assert site.hits("/tag/peru/") == 4
    assert [hit.fault for hit in site.requests] == ["status", "status", "ok", "ok"]


def test_plan_given_at_construction_and_cleared():
    plan = FaultPlan({ARTICLE: Status(404)})
    with FaultSite(FIXTURES, SITE["host"], plan=plan) as site:
        assert get(site, ARTICLE)[0] == 404
        plan.clear(ARTICLE)
        assert get(site, ARTICLE)[0] == 200
        site.reset_counts()
        assert site.requests == []


def test_retry_after(site):
    site.plan.set(ARTICLE, RetryAfter(3))
    status, headers, _ = get(site, ARTICLE)
    assert status == 429 and headers["Retry-After"] == "3"


def test_slow_response_outlasts_a_client_timeout(site):
    site.plan.set(ARTICLE, Slow(3))
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        get(site, ARTICLE, timeout=0.5)
    assert time.monotonic() - started < 2


def test_slow_response_arrives_after_the_delay(site):
    site.plan.set(ARTICLE, Slow(0.3))
    started = time.monotonic()
    assert get(site, ARTICLE)[0] == 200
    assert time.monotonic() - started >= 0.3


def test_truncated_body_is_shorter_than_announced_and_closed_cleanly(site):
    site.plan.set(ARTICLE, Truncate(after=100))
    received, error = raw_exchange(site, ARTICLE)
    head, _, body = received.partition(b"\r\n\r\n")
    announced = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    assert error is None
    assert len(body) == 100 < announced


def test_reset_mid_body(site):
    site.plan.set(ARTICLE, Reset(after=100))
    received, error = raw_exchange(site, ARTICLE)
    assert b"200 OK" in received
    assert isinstance(error, ConnectionResetError)


def test_latin1_page_is_declared_utf8(site):
    path = "/2023/06/03/senora-perez-pide-justicia/"
    _, headers, body = get(site, path)
    assert "utf-8" in headers["Content-Type"].lower()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert "Señora Pérez".encode("latin-1") in body


def test_page_without_any_charset(site):
    _, headers, body = get(site, "/2023/06/05/huelga-de-maestros-en-cusco/")
    assert headers["Content-Type"] == "text/html"
    assert b"charset" not in body.lower()


def test_empty_200(site):
    site.plan.set(ARTICLE, Empty())
    status, headers, body = get(site, ARTICLE)
    assert (status, body, headers["Content-Length"]) == (200, b"", "0")


def test_custom_body(site):
    site.plan.set(ARTICLE, Body(b"plain", content_type="text/plain"))
    _, headers, body = get(site, ARTICLE)
    assert (headers["Content-Type"], body) == ("text/plain", b"plain")


def test_redirects_to_a_path_to_another_host_and_to_other_schemes(site):
    site.plan.set("/a/", Redirect("/b/"))
    site.plan.set("/b/", Redirect("/a/", code=301))
    site.plan.set("/away/", Redirect(f"https://{SITE['other_host']}/x/"))
    site.plan.set("/file/", Redirect("file:///etc/passwd"))
    status, headers, _ = get(site, "/a/")
    assert (status, headers["Location"]) == (302, f"{site.origin}/b/")
    assert get(site, "/b/")[1]["Location"] == f"{site.origin}/a/"
    assert get(site, "/away/")[1]["Location"] == f"{site.other_origin}/x/"
    assert get(site, "/file/")[1]["Location"] == "file:///etc/passwd"


def test_oversize_declared_and_undeclared(site):
    site.plan.set("/big/", Oversize(300_000))
    site.plan.set("/big-chunked/", Oversize(300_000, declare_length=False))
    _, headers, body = get(site, "/big/")
    assert int(headers["Content-Length"]) == len(body) >= 300_000
    _, headers, body = get(site, "/big-chunked/")
    assert "Content-Length" not in headers and len(body) >= 300_000


def test_gzip_bomb_is_small_on_the_wire_and_huge_inflated(site):
    site.plan.set(ARTICLE, GzipBomb(8 * 1024 * 1024))
    _, headers, body = get(site, ARTICLE)
    assert headers["Content-Encoding"] == "gzip"
    assert len(body) < 64 * 1024
    assert len(gzip.decompress(body)) >= 8 * 1024 * 1024


def test_call_runs_an_action_before_answering(site):
    calls = []
    site.plan.set(ARTICLE, [Call(lambda: calls.append(time.monotonic())), Ok()])
    get(site, ARTICLE)
    get(site, ARTICLE)
    assert len(calls) == 1


def test_close_is_bounded_even_with_a_slow_response_in_flight():
    site = FaultSite(FIXTURES, SITE["host"], plan=FaultPlan({ARTICLE: Slow(30)})).start()
    port = site.port
    sock = socket.create_connection(("127.0.0.1", site.port), timeout=5)
    sock.sendall(f"GET {ARTICLE} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    time.sleep(0.2)  # the handler is now sleeping
    started = time.monotonic()
    site.close()
    sock.close()
    assert time.monotonic() - started < 3
    with pytest.raises(OSError):  # nothing listens any more
        socket.create_connection(("127.0.0.1", port), timeout=0.5)

"""canonical_url and friends: messy real-world URLs, then properties that hold for any string."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from peruwire_crawl.urls import canonical_url, is_http_url, same_site, url_host

ARTICLE = "https://peoplesdispatch.org/2023/01/05/peru-protests-continue/"
ARTICLE_ES = "https://peoplesdispatch.org/es/2023/01/05/continuan-las-protestas-en-peru/"

# (messy input, canonical form)
SAME_ARTICLE = [
    # already canonical
    (ARTICLE, ARTICLE),
    # scheme, host case, default port, trailing dot on the host
    ("http://peoplesdispatch.org/2023/01/05/peru-protests-continue/", ARTICLE),
    ("HTTPS://PeoplesDispatch.ORG/2023/01/05/peru-protests-continue/", ARTICLE),
    ("https://peoplesdispatch.org:443/2023/01/05/peru-protests-continue/", ARTICLE),
    ("http://peoplesdispatch.org:80/2023/01/05/peru-protests-continue/", ARTICLE),
    ("https://peoplesdispatch.org./2023/01/05/peru-protests-continue/", ARTICLE),
    # trailing slash, fragments
    ("https://peoplesdispatch.org/2023/01/05/peru-protests-continue", ARTICLE),
    ("https://peoplesdispatch.org/2023/01/05/peru-protests-continue/#comments", ARTICLE),
    ("https://peoplesdispatch.org/2023/01/05/peru-protests-continue#respond", ARTICLE),
    ("https://peoplesdispatch.org/2023/01/05/peru-protests-continue/#", ARTICLE),
    ("https://peoplesdispatch.org/2023/01/05/peru-protests-continue/?", ARTICLE),
    # tracking parameters, any case, repeated, mixed with an empty pair
    (ARTICLE + "?utm_source=twitter&utm_medium=social&utm_campaign=peru", ARTICLE),
    (ARTICLE + "?UTM_Source=Newsletter", ARTICLE),
    (ARTICLE + "?fbclid=IwAR0abc-DEF_123", ARTICLE),
    (ARTICLE + "?gclid=xyz&&mc_cid=1a2b&mc_eid=3c4d", ARTICLE),
    (ARTICLE + "?utm_source=a&utm_source=b#utm", ARTICLE),
    (ARTICLE + "?_ga=2.1234.5678&_gl=1*abc*", ARTICLE),
    # WordPress AMP renderings
    (ARTICLE + "amp/", ARTICLE),
    (ARTICLE + "amp", ARTICLE),
    (ARTICLE + "?amp", ARTICLE),
    (ARTICLE + "?amp=1", ARTICLE),
    ("http://peoplesdispatch.org/2023/01/05/peru-protests-continue/amp/?utm_source=fb#x", ARTICLE),
    # whitespace around and inside (copied from HTML attributes), dot segments
    ("  " + ARTICLE + "\n", ARTICLE),
    ("https://peoplesdispatch.org/2023/01/05/peru-protests-\ncontinue/", ARTICLE),
    ("https://peoplesdispatch.org/2023/01/05/./peru-protests-continue/", ARTICLE),
    ("https://peoplesdispatch.org/2023/01/06/../05/peru-protests-continue/", ARTICLE),
    ("https://peoplesdispatch.org/2023/01/05//peru-protests-continue/", ARTICLE),
    # percent-encoding: case and needless escapes
    ("https://peoplesdispatch.org/2023/01/05/peru%2Dprotests%2dcontinue/", ARTICLE),
    # Spanish slugs: raw, encoded in lower case, encoded in upper case
    ("https://peoplesdispatch.org/es/2023/01/05/perú/", "https://peoplesdispatch.org/es/2023/01/05/per%C3%BA/"),
    ("https://peoplesdispatch.org/es/2023/01/05/per%c3%ba", "https://peoplesdispatch.org/es/2023/01/05/per%C3%BA/"),
    ("https://peoplesdispatch.org/es/2023/01/05/per%C3%BA/", "https://peoplesdispatch.org/es/2023/01/05/per%C3%BA/"),
    (ARTICLE_ES + "?utm_content=boton", ARTICLE_ES),
    # query parameters that identify content are kept, and sorted
    ("https://peoplesdispatch.org/?p=12345&utm_source=x", "https://peoplesdispatch.org/?p=12345"),
    ("https://peoplesdispatch.org/tag/peru/?paged=2&lang=es", "https://peoplesdispatch.org/tag/peru/?lang=es&paged=2"),
    ("https://peoplesdispatch.org/tag/peru?ref=homepage", "https://peoplesdispatch.org/tag/peru/?ref=homepage"),
    # section pages and the home page
    ("https://peoplesdispatch.org/tag/peru", "https://peoplesdispatch.org/tag/peru/"),
    ("https://peoplesdispatch.org/tag/peru/page/2", "https://peoplesdispatch.org/tag/peru/page/2/"),
    ("https://peoplesdispatch.org", "https://peoplesdispatch.org/"),
    # files keep their name: no trailing slash added
    ("https://peoplesdispatch.org/feed.xml", "https://peoplesdispatch.org/feed.xml"),
    (
        "https://peoplesdispatch.org/wp-content/uploads/2023/01/Lima March.jpg",
        "https://peoplesdispatch.org/wp-content/uploads/2023/01/Lima%20March.jpg",
    ),
    # international host names become IDNA
    ("https://bücher.example/perú", "https://xn--bcher-kva.example/per%C3%BA/"),
]

DIFFERENT_ARTICLE = [
    # www is another host name: kept
    ("https://www.peoplesdispatch.org/2023/01/05/peru-protests-continue/", "https://www.peoplesdispatch.org/2023/01/05/peru-protests-continue/"),
    # path letter case is kept
    ("https://peoplesdispatch.org/2023/01/05/Peru-Protests/", "https://peoplesdispatch.org/2023/01/05/Peru-Protests/"),
    # a slug that merely ends in "amp" is not the AMP segment
    ("https://peoplesdispatch.org/2023/01/05/camp/", "https://peoplesdispatch.org/2023/01/05/camp/"),
    # "/amp/" with nothing before it is a real path
    ("https://peoplesdispatch.org/amp/", "https://peoplesdispatch.org/amp/"),
    # non-default ports are kept, and a plain-http port is not upgraded to https
    ("http://peoplesdispatch.org:8080/a", "http://peoplesdispatch.org:8080/a/"),
    ("https://peoplesdispatch.org:8443/a", "https://peoplesdispatch.org:8443/a/"),
    # test servers speak plain http: not upgraded
    ("http://localhost:8000/tag/peru", "http://localhost:8000/tag/peru/"),
    ("http://127.0.0.1/tag/peru", "http://127.0.0.1/tag/peru/"),
    ("http://[::1]:80/tag/peru", "http://[::1]/tag/peru/"),
]

NOT_HTTP = [
    # returned stripped, otherwise as given
    ("", ""),
    ("   ", ""),
    ("mailto:info@peoplesdispatch.org", "mailto:info@peoplesdispatch.org"),
    ("javascript:void(0)", "javascript:void(0)"),
    ("tel:+51 1 123 4567", "tel:+51 1 123 4567"),
    ("/2023/01/05/relative/", "/2023/01/05/relative/"),
    ("//peoplesdispatch.org/no-scheme/", "//peoplesdispatch.org/no-scheme/"),
    ("peoplesdispatch.org/2023/01/05/x/", "peoplesdispatch.org/2023/01/05/x/"),
    ("ftp://peoplesdispatch.org/file.txt", "ftp://peoplesdispatch.org/file.txt"),
    ("https://", "https://"),
    ("http:///path-only/", "http:///path-only/"),
    # unparseable: an out-of-range port, a broken IPv6 literal
    ("https://peoplesdispatch.org:99999/x", "https://peoplesdispatch.org:99999/x"),
    ("http://[::1/x", "http://[::1/x"),
]


@pytest.mark.parametrize(("messy", "expected"), SAME_ARTICLE + DIFFERENT_ARTICLE + NOT_HTTP)
def test_canonical_url(messy, expected):
    assert canonical_url(messy) == expected


def test_www_and_bare_host_stay_different_articles():
    assert canonical_url("https://www.peoplesdispatch.org/a/") != canonical_url("https://peoplesdispatch.org/a/")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (ARTICLE, True),
        ("http://peoplesdispatch.org/", True),
        (" HTTPS://peoplesdispatch.org ", True),
        ("https://", False),
        ("//peoplesdispatch.org/x/", False),
        ("/relative/", False),
        ("mailto:a@b.org", False),
        ("javascript:alert(1)", False),
        ("ftp://peoplesdispatch.org/", False),
        ("http://[::1/", False),
        ("", False),
    ],
)
def test_is_http_url(url, expected):
    assert is_http_url(url) is expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://PeoplesDispatch.org:443/x", "peoplesdispatch.org"),
        ("https://www.peoplesdispatch.org./x", "www.peoplesdispatch.org"),
        ("/relative", ""),
        ("http://[::1/", ""),
    ],
)
def test_url_host(url, expected):
    assert url_host(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://peoplesdispatch.org/x/", True),
        ("https://WWW.PeoplesDispatch.org/x/", True),
        ("http://peoplesdispatch.org:8080/x/", True),
        ("https://es.peoplesdispatch.org/x/", False),
        ("https://peoplesdispatch.org.evil.example/x/", False),
        ("https://twitter.com/peoplesdispatch", False),
        ("/relative/", False),
    ],
)
def test_same_site(url, expected):
    assert same_site(url, ["peoplesdispatch.org", "www.peoplesdispatch.org"]) is expected


# --- properties ---------------------------------------------------------------------------

url_characters = st.characters(codec="utf-8", exclude_categories=("Cs",))
segments = st.one_of(
    st.sampled_from(["amp", "AMP", "", ".", "..", "a.b", "per%c3%ba", "%zz", "%2F", "x y", "é"]),
    st.text(url_characters, max_size=8),
)
query_keys = st.one_of(
    st.sampled_from(["utm_source", "UTM_medium", "amp", "fbclid", "p", "lang", "a", ""]),
    st.text(url_characters, max_size=6),
)
url_like = st.builds(
    lambda scheme, host, port, path, query, fragment: (
        f"{scheme}{host}{port}/{'/'.join(path)}"
        + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")
        + (f"#{fragment}" if fragment is not None else "")
    ),
    scheme=st.sampled_from(["http://", "https://", "HTTP://", "hTTps://", "ftp://", "//", "", "http:"]),
    host=st.one_of(
        st.sampled_from(
            ["peoplesdispatch.org", "WWW.PeoplesDispatch.org.", "localhost", "127.0.0.1", "[::1]", "[::1", "bücher.example", "a..b", ""]
        ),
        st.text(url_characters, max_size=10),
    ),
    port=st.sampled_from(["", ":", ":80", ":443", ":8080", ":0", ":65535", ":99999", ":x"]),
    path=st.lists(segments, max_size=5),
    query=st.lists(st.tuples(query_keys, st.text(url_characters, max_size=6)), max_size=4),
    fragment=st.none() | st.text(url_characters, max_size=5),
)


@settings(max_examples=1500)
@given(st.one_of(url_like, st.text()))
@example("https://a.org/x/amp/amp/")
@example("http://a.org/?q=a%20b+c")
@example("https://a.org/%2e%2e/x")
def test_canonical_url_is_a_fixed_point_and_never_raises(url):
    once = canonical_url(url)
    assert isinstance(once, str)
    assert canonical_url(once) == once


@settings(max_examples=500)
@given(url_like)
def test_canonical_http_urls_have_no_fragment_tracking_or_default_port(url):
    result = canonical_url(url)
    if not is_http_url(result) or result == url.strip():
        return  # not a URL we canonicalise (or it was already canonical)
    assert "#" not in result
    query = result.partition("?")[2]
    names = [pair.partition("=")[0].lower() for pair in query.split("&") if pair]
    assert not any(name.startswith("utm_") or name in ("amp", "fbclid") for name in names)
    parts = urlsplit(result)
    assert parts.port != {"http": 80, "https": 443}[parts.scheme]

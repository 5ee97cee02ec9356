"""Page objects against the fixture sites.

Each fixture page's ``to_dict()`` must equal its expected JSON in fixtures/expected/, field
by field (regenerate with ``python -m peruwire_crawl.pages.regenerate`` after a reviewed change);
the focused tests below state the behaviours that matter to the crawl in plain words.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from peruwire_crawl.pages import ArticlePage, ListingEntry, SectionPage
from peruwire_crawl.pages.fields import fields_of
from peruwire_crawl.pages.regenerate import EXPECTED, FIXTURES, fixture_pages

PD = "https://peoplesdispatch.org"
PD_ROOT = FIXTURES / "peoplesdispatch" / "peoplesdispatch.org"
STOCK = "https://noticias.example.org"
STOCK_ROOT = FIXTURES / "stockwp" / "noticias.example.org"

SPANISH_INTERVIEW = f"{PD}/2023/03/16/enver-leon-la-mayoria-de-los-peruanos-quieren-un-cambio-de-constitucion/"
ENGLISH_INTERVIEW = f"{PD}/2023/03/16/enver-leon-the-majority-of-peruvians-want-a-change-in-the-constitution/"


def fixture_file(root: Path, url: str) -> Path:
    host_and_path = url.split("://", 1)[1].split("/", 1)[1]
    return root / host_and_path / "index.html"


def section(url: str, root: Path = PD_ROOT) -> SectionPage:
    return SectionPage(fixture_file(root, url).read_bytes(), url)


def article(url: str, root: Path = PD_ROOT) -> ArticlePage:
    return ArticlePage(fixture_file(root, url).read_bytes(), url)


def seed_articles() -> tuple[str, list[tuple[str, str]]]:
    """The seed: a heading line, then title and standfirst lines separated by blank lines."""
    lines = [line for line in (FIXTURES / "seeds" / "peoplesdispatch-new-peru-left.txt").read_text("utf-8").splitlines() if line.strip()]
    heading, rest = lines[0], lines[1:]
    return heading, list(zip(rest[0::2], rest[1::2], strict=False))


# --- expected output, one case per fixture page and field -----------------------------
# The fields come from the page objects' declarations (@field), so a field added to a page
# object is tested here with no edit; a failure names the page and the field.
def page_and_field_cases() -> list:
    cases = []
    for page in fixture_pages():
        page_class = ArticlePage if page.kind == "article" else SectionPage
        for name in ["url", *fields_of(page_class), "problems"]:
            cases.append(pytest.param(page, name, id=f"{page.site}:{page.url}:{name}"))
    return cases


@functools.cache
def parsed(page) -> dict:
    return page.parse()


@functools.cache
def expected(page) -> dict:
    return json.loads(page.expected_path.read_text("utf-8"))


@pytest.mark.parametrize(("page", "name"), page_and_field_cases())
def test_fixture_page_field_matches_expected_json(page, name):
    assert page.expected_path.exists(), "no expected file: run python -m peruwire_crawl.pages.regenerate"
    assert name in expected(page), f"{page.site}:{page.url}: field {name!r} is not in {page.expected_path.name}"
    assert parsed(page)[name] == expected(page)[name], f"{page.site}:{page.url}: field {name!r} differs"


@pytest.mark.parametrize("page", fixture_pages(), ids=lambda page: f"{page.site}:{page.url}")
def test_expected_json_holds_only_declared_fields(page):
    assert set(expected(page)) == set(parsed(page)), f"{page.site}:{page.url}: fields differ from the declaration"


def test_no_expected_file_without_its_fixture_page():
    wanted = {page.expected_path for page in fixture_pages()}
    assert set(EXPECTED.rglob("*.json")) == wanted


# --- section pages ----------------------------------------------------------------------
def test_new_peru_left_lists_the_seed_titles_and_standfirsts_exactly_in_order():
    heading, seed = seed_articles()
    first = section(f"{PD}/tag/new-peru-left/")
    second = section(first.next_page_url)
    listed = [(entry.title, entry.summary) for entry in first.entries + second.entries]
    assert first.name == heading == "New Peru left"
    assert listed == seed
    assert len(second.entries) >= 1


def test_section_heading_is_the_name_and_not_an_entry():
    page = section(f"{PD}/tag/new-peru-left/")
    assert page.name == "New Peru left"
    assert "New Peru left" not in [entry.title for entry in page.entries]


def test_sidebar_ticker_and_menu_links_are_not_entries():
    page = section(f"{PD}/tag/new-peru-left/")
    urls = [entry.url for entry in page.entries]
    assert len(urls) == len(set(urls)) == 8  # thumbnail + title link to one article count once
    assert all("/20" in url for url in urls)
    assert not any("brazils-landless-workers" in url or "moquegua" in url for url in urls)


def test_next_page_is_found_and_the_last_page_has_none():
    assert section(f"{PD}/tag/new-peru-left/").next_page_url == f"{PD}/tag/new-peru-left/page/2/"
    assert section(f"{PD}/tag/peru/").next_page_url == f"{PD}/tag/peru/page/2/"
    assert section(f"{PD}/tag/new-peru-left/page/2/").next_page_url is None
    assert section(f"{PD}/tag/impeachment-of-martin-vizcarra/").next_page_url is None


def test_the_archive_s_page_count_and_its_pages_urls_come_from_the_numbered_pagination():
    first = section(f"{PD}/tag/peru/")
    assert first.last_page_number == 2
    assert first.page_url(2) == first.next_page_url == f"{PD}/tag/peru/page/2/"
    assert section(f"{PD}/tag/peru/page/2/").last_page_number == 2  # the last page marks itself
    assert section(f"{PD}/tag/impeachment-of-martin-vizcarra/").last_page_number is None  # one page: no pagination


def numbered(links: str, url: str = "https://n.example/tag/peru/") -> SectionPage:
    return SectionPage(f'<html><body><main><nav class="navigation pagination"><div class="nav-links">{links}'
                       "</div></nav></main></body></html>", url)


@pytest.mark.parametrize(("links", "last", "page_7"), [
    # WordPress's paginate_links with pretty permalinks, a screen-reader label in each link
    ('<span aria-current="page" class="page-numbers current">1</span>'
     '<a class="page-numbers" href="/tag/peru/page/2/"><span class="screen-reader-text">Page </span>2</a>'
     '<span class="page-numbers dots">…</span><a class="page-numbers" href="/tag/peru/page/1234/">1,234</a>'
     '<a class="next page-numbers" href="/tag/peru/page/2/">Next</a>',
     1234, "https://n.example/tag/peru/page/7/"),
    # plain permalinks, a Spanish site's thousands separator
    ('<a class="page-numbers" href="/?tag=peru&amp;paged=2">2</a>'
     '<a class="page-numbers" href="/?tag=peru&amp;paged=1500">1.500</a>',
     1500, "https://n.example/?tag=peru&paged=7"),
    # a last link whose URL holds no page number: no URL of page 7 can be written
    ('<a class="page-numbers" href="/tag/peru/older/">9</a>', 9, None),
    # "Next" and "Older" are no page numbers; neither is a number outside the pagination
    ('<a class="next page-numbers" href="/tag/peru/page/2/">Next</a>', None, None),
])
def test_numbered_pagination_variants(links, last, page_7):
    page = numbered(links)
    assert page.last_page_number == last
    assert page.page_url(7) == page_7


def test_entry_urls_are_kept_as_linked_with_tracking_parameters():
    entries = section(f"{PD}/tag/impeachment-of-martin-vizcarra/").entries
    assert ListingEntry(
        url=f"{PD}/2020/09/14/is-peru-witnessing-a-parliamentary-coup/?utm_source=twitter&utm_medium=social",
        title="Is Peru witnessing a parliamentary coup?",
        summary="What are the forces behind Peruvian president Martín Vizcarra’s impeachment following a rapid and bizarre session of the Congress? Who stands to benefit? Why have thousands taken to the streets to protest?",
    ) in entries


def test_one_article_is_listed_by_all_three_sections():
    listed = []
    for start in ("new-peru-left", "impeachment-of-martin-vizcarra", "peru"):
        url, urls = f"{PD}/tag/{start}/", set()
        while url:
            page = section(url)
            urls |= {entry.url for entry in page.entries}
            url = page.next_page_url
        listed.append(urls)
    assert f"{PD}/2020/11/12/why-are-peruvians-protesting-president-vizcarras-impeachment/" in set.intersection(*listed)


def test_article_without_standfirst_has_none_in_listing_and_page():
    url = f"{PD}/2021/06/07/photo-essay-peru-votes-in-the-second-round/"
    entry = next(entry for entry in section(f"{PD}/tag/peru/page/2/").entries if entry.url == url)
    assert entry.summary is None
    page = article(url)
    assert page.summary is None  # the Yoast meta description (body words) is not a standfirst
    assert page.title == "Photo essay: Peru votes in the second round"


# --- article pages ----------------------------------------------------------------------
def test_article_fields_of_a_full_page():
    page = article(f"{PD}/2023/06/16/perus-de-facto-president-blames-protesters-for-their-own-deaths-at-the-hands-of-state-forces/")
    assert page.title == "Peru’s de facto president blames protesters for their own deaths at the hands of state forces"
    assert page.title_from == "page"
    assert page.byline == "by Peoples Dispatch"
    assert page.authors == ["Peoples Dispatch"]
    assert [c.signal for c in page.date_candidates] == ["jsonld", "meta", "dateline", "url"]
    assert page.date_candidates[0].value == "2023-06-16T14:25:31+00:00"
    assert page.date_candidates[-1].value == "2023-06-16"
    assert [(c.signal, c.value) for c in page.modified_candidates] == [
        ("jsonld", "2023-06-17T08:02:10+00:00"), ("meta", "2023-06-17T08:02:10+00:00")]
    assert "(Photo: Twitter)" not in page.body and "Share:" not in page.body
    assert len(page.body.split("\n\n")) == 4
    assert page.problems == []


def test_seed_standfirsts_match_their_article_pages():
    _, seed = seed_articles()
    pages = {entry.title: entry for url in (f"{PD}/tag/new-peru-left/", f"{PD}/tag/new-peru-left/page/2/") for entry in section(url).entries}
    for title, standfirst in seed:
        page = article(pages[title].url)
        assert (page.title, page.summary) == (title, standfirst)


def test_translation_links_go_both_ways():
    spanish, english = article(SPANISH_INTERVIEW), article(ENGLISH_INTERVIEW)
    assert spanish.translation_links == [ENGLISH_INTERVIEW]
    assert english.translation_links == [SPANISH_INTERVIEW]
    assert "Read in English here" not in spanish.body and "Lee en español aquí" not in english.body


def test_spanish_page_keeps_the_site_wide_english_lang():
    page = article(SPANISH_INTERVIEW)
    assert (page.html_lang, page.declared_language) == ("en-US", "en-US")
    assert page.body.startswith("Conversamos con Enver León")


def test_date_line_is_the_only_date_besides_the_url():
    page = article(f"{PD}/2021/04/14/finally-a-popular-left-born-in-peru/")
    assert [(c.signal, c.value) for c in page.date_candidates] == [("dateline", "April 14, 2021"), ("url", "2021-04-14")]


def test_jsonld_author_given_by_reference_is_resolved():
    page = article(f"{PD}/2020/12/23/peruvian-agricultural-workers-strike-met-with-violent-repression/")
    assert page.authors == ["José Carlos Llerena"]


def test_stale_copy_under_old_slug_has_no_canonical_but_the_same_title():
    stale = article(f"{PD}/2023/01/19/peru-national-strike-january-19/")
    current = article(f"{PD}/2023/01/19/tens-of-thousands-on-the-streets-of-peru-in-national-strike/")
    assert stale.canonical_url is None
    assert current.canonical_url == current.url
    assert (stale.title, stale.summary, stale.body) == (current.title, current.summary, current.body)


def test_missing_article_page_has_no_fixture():
    url = f"{PD}/2020/11/11/manuel-merino-sworn-in-as-perus-president-amid-protests/"
    assert url in [entry.url for entry in section(f"{PD}/tag/peru/page/2/").entries]
    assert not fixture_file(PD_ROOT, url).exists()


# --- snapshots over time (overlays on peoplesdispatch/, fixtures/README.md) ----------------
LATER_ROOT = FIXTURES / "peoplesdispatch-later" / "peoplesdispatch.org"
BROKEN_ROOT = FIXTURES / "peoplesdispatch-broken" / "peoplesdispatch.org"
NEW_ARTICLES = [
    f"{PD}/2023/07/19/third-taking-of-lima-thousands-march-to-demand-boluartes-resignation/",
    f"{PD}/2023/07/18/delegations-from-puno-arrive-in-lima-ahead-of-national-mobilization/",
]
RETITLED = f"{PD}/2023/01/12/rondas-campesinas-from-cajamarca-travel-to-lima-to-join-protests/"


def layered(url: str, *roots: Path) -> Path:
    """The file replay answers ``url`` from: the first root that has it (overlay first)."""
    return next(path for path in (fixture_file(root, url) for root in roots) if path.exists())


def test_later_snapshot_pushes_two_new_articles_onto_new_peru_left_keeping_eight_per_page():
    _, seed = seed_articles()
    first = section(f"{PD}/tag/new-peru-left/", LATER_ROOT)
    second = section(first.next_page_url, LATER_ROOT)
    assert [entry.url for entry in first.entries[:2]] == NEW_ARTICLES
    assert (len(first.entries), len(second.entries), second.next_page_url) == (8, 5, None)
    assert [(entry.title, entry.summary) for entry in first.entries[2:] + second.entries] == seed
    for entry in first.entries[:2]:
        page = article(entry.url, LATER_ROOT)
        assert (page.title, page.summary, page.problems) == (entry.title, entry.summary, [])


def test_later_snapshot_retitles_one_article_in_its_listing_and_on_its_page():
    old_title = "Rondas campesinas from Cajamarca travel to Lima to join protests"
    new_title = "Rondas campesinas from Cajamarca arrive in Lima to join anti-government protests"
    def titles(page):
        return {entry.url: entry.title for entry in page.entries}
    before, after = section(f"{PD}/tag/peru/"), section(f"{PD}/tag/peru/", LATER_ROOT)
    assert (titles(before)[RETITLED], titles(after)[RETITLED]) == (old_title, new_title)
    assert {u: t for u, t in titles(after).items() if u != RETITLED} == {u: t for u, t in titles(before).items() if u != RETITLED}
    assert (article(RETITLED).title, article(RETITLED, LATER_ROOT).title) == (old_title, new_title)
    assert [c.value for c in article(RETITLED, LATER_ROOT).modified_candidates] == ["2023-07-12T09:41:27+00:00"] * 2


def test_later_snapshot_holds_only_what_changed():
    overlay = {path.relative_to(LATER_ROOT) for path in LATER_ROOT.rglob("index.html")}
    assert not fixture_file(LATER_ROOT, f"{PD}/tag/peru/page/2/").exists()
    assert not fixture_file(LATER_ROOT, f"{PD}/tag/impeachment-of-martin-vizcarra/").exists()
    assert len(overlay) == 6
    page_two = layered(f"{PD}/tag/peru/page/2/", LATER_ROOT, PD_ROOT)
    assert page_two == fixture_file(PD_ROOT, f"{PD}/tag/peru/page/2/")


def test_broken_snapshot_section_rendered_client_side_has_no_entries_and_says_so():
    url = f"{PD}/tag/impeachment-of-martin-vizcarra/"
    page = section(url, BROKEN_ROOT)
    assert page.name == "Impeachment of Martín Vizcarra"  # the chrome is still there
    assert page.entries == [] and page.next_page_url is None
    assert page.problems == ["no article entries found"]
    assert "window.pdArchive" in fixture_file(BROKEN_ROOT, url).read_text("utf-8")


# --- the stock WordPress theme (generic rules only) ----------------------------------------
def test_stock_theme_section_is_read_by_the_generic_rules():
    first = section(f"{STOCK}/category/peru/", STOCK_ROOT)
    assert first.name == "Perú"
    assert [entry.title for entry in first.entries] == [
        "Comunidades de Apurímac bloquean el corredor minero del sur",
        "Sindicato docente convoca paro regional en Cusco",
        "Organizaciones campesinas exigen una nueva Constitución",
    ]
    assert first.entries[0].summary == "Los comuneros exigen que la empresa cumpla los acuerdos firmados el año pasado."
    assert not any("Continuar leyendo" in (entry.summary or "") for entry in first.entries)
    assert first.next_page_url == f"{STOCK}/category/peru/page/2/"
    second = section(first.next_page_url, STOCK_ROOT)
    assert len(second.entries) == 2 and second.next_page_url is None  # "Entradas siguientes" = newer


def test_stock_theme_article_dates_in_spanish():
    with_time = article(f"{STOCK}/2023/06/20/comunidades-de-apurimac-bloquean-el-corredor-minero-del-sur/", STOCK_ROOT)
    assert [(c.signal, c.value) for c in with_time.date_candidates] == [
        ("time", "2023-06-20T08:15:00-05:00"), ("dateline", "20 de junio de 2023"), ("url", "2023-06-20")]
    assert [c.value for c in with_time.modified_candidates] == ["2023-06-21T10:02:00-05:00"]
    assert with_time.byline == "por Lucía Huamán"
    text_only = article(f"{STOCK}/2023/03/16/organizaciones-campesinas-exigen-una-nueva-constitucion/", STOCK_ROOT)
    assert [c.signal for c in text_only.date_candidates] == ["dateline", "url"]
    assert text_only.date_candidates[0].value == "16 de marzo de 2023"
    url_only = article(f"{STOCK}/2022/12/12/vecinos-de-ilo-organizan-ollas-comunes-durante-el-paro/", STOCK_ROOT)
    assert [(c.signal, c.value) for c in url_only.date_candidates] == [("url", "2022-12-12")]
    assert "Foto: archivo" not in url_only.body and url_only.html_lang == "es"


# --- generic fallbacks on small pages -----------------------------------------------------
def test_hreflang_alternates_and_meta_title_fallback():
    html = """<html lang="es"><head><title>Nota - Diario</title>
      <link rel="alternate" hreflang="es" href="https://d.example/2023/01/02/nota/">
      <link rel="alternate" hreflang="en" href="https://d.example/en/2023/01/02/note/">
      <link rel="alternate" hreflang="x-default" href="https://d.example/">
      <meta property="og:description" content="Resumen"></head>
      <body><article><div class="entry-content"><p>Texto.</p><p><a href="/en/x/">Leer en inglés</a></p></div></article></body></html>"""
    page = ArticlePage(html, "https://d.example/2023/01/02/nota/")
    # the hand-written link and the hreflang alternate; the page itself and x-default are not
    assert page.translation_links == ["https://d.example/en/x/", "https://d.example/en/2023/01/02/note/"]
    assert (page.title, page.title_from) == ("Nota - Diario", "meta")
    assert page.summary == "Resumen"  # generic rules accept the meta description


def test_older_posts_link_text_is_a_next_page():
    html = """<main><article><h2 class="entry-title"><a href="/2023/01/02/a/">A</a></h2></article>
      <div class="nav-links"><a href="/tag/x/page/3/">« Newer posts</a><a href="/tag/x/page/5/">Older posts »</a></div></main>"""
    assert SectionPage(html, "https://d.example/tag/x/page/4/").next_page_url == "https://d.example/tag/x/page/5/"


def test_from_response_reads_a_scrapy_response():
    url = f"{PD}/tag/new-peru-left/"
    response = HtmlResponse(url, body=fixture_file(PD_ROOT, url).read_bytes(), encoding="utf-8")
    assert SectionPage.from_response(response).to_dict() == section(url).to_dict()


@pytest.mark.parametrize("body", [
    b"",
    "   ",
    None,
    b"\x00\x01\xff\xfe\x80 not html at all",
    b"<html><head><title>Cut off",
    "<html><body><article><h1>T</h1><div class='entry-content'><p>Half a par",
    b"<?xml version='1.0' encoding='iso-8859-1'?><html><body><h1>Caf\xe9</h1></body></html>",
    '<script type="application/ld+json">{"@graph": [{"@type": "Article", "datePublished": </script>',
    b"<div>" * 5000,
    "<html><body>" + "<p>x</p>" * 2000,
], ids=["empty-bytes", "blank", "none", "binary", "truncated-head", "truncated-body", "xml-latin1", "broken-jsonld", "deep", "no-article"])
def test_bad_html_never_raises_and_states_a_problem(body):
    article_page = ArticlePage(body, "https://d.example/story/")
    section_page = SectionPage(body, "https://d.example/tag/x/")
    assert json.dumps(article_page.to_dict()) and json.dumps(section_page.to_dict())
    assert article_page.problems and section_page.problems


def test_latin1_bytes_are_decoded_from_their_meta_charset():
    html = '<html><head><meta charset="windows-1252"></head><body><h1>Per\xfa: \x93huelga\x94</h1></body></html>'.encode("latin-1")
    assert ArticlePage(html, "https://d.example/a/").title == "Perú: “huelga”"

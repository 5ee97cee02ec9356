"""Text cleanup: titles, summaries, bodies (peruwire_crawl/normalize/text.py)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peruwire_crawl.normalize.text import clean_body, clean_summary, clean_text, clean_title

SITE = ["Peoples Dispatch", "peoplesdispatch", "peoplesdispatch.org", "www.peoplesdispatch.org"]

# Strings shaped like what pages and feeds really produce: markup, entities (also
# double-escaped), mojibake, odd spaces, read-more trailers.
FRAGMENTS = [
    "<", ">", "&", ";", "#", "/", " ", "\n", "\n\n", "\r\n", "\t", "\u00a0", "\u200b",
    "\ufeff", "\u00ad", "\x0b", "\x85", "&amp;", "&amp;amp;", "&hellip;", "&#8217;", "&lt;b&gt;",
    "<br>", "<p>", "</p>", "<em>", "</em>", "<!--", "-->", "<script>", "</script>",
    "â€™", "â€œ", "Ã©", "Ã±", "…", "[", "]", "[…]", "Read more", "Leer más", "Continue reading",
    "“", "”", " - ", " | ", "Peoples Dispatch", "Peru", "Perú", "e\u0301",
]
messy_text = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=25
).map("".join)


@pytest.mark.parametrize(
    "raw, expected",
    [
        # entities, named and numeric, and double-escaped by a feed
        ("Peru&#8217;s de facto president", "Peru’s de facto president"),
        ("Peru&rsquo;s &ldquo;new&rdquo; cabinet", "Peru’s “new” cabinet"),
        ("AT&amp;amp;T leaves Peru", "AT&T leaves Peru"),
        ("Fujimori &amp; the courts", "Fujimori & the courts"),
        # tags: inline tags glue, block tags separate, comments and scripts vanish
        ("<em>Peru</em> in <strong>crisis</strong>", "Peru in crisis"),
        ("Per<em>ú</em> en crisis", "Perú en crisis"),
        ("Lima<br/>Cusco", "Lima Cusco"),
        ("Strike <!-- ad slot --> in Peru", "Strike in Peru"),
        ("<script>var x = '<b>';</script>Protests", "Protests"),
        ("&lt;b&gt;Escaped tag&lt;/b&gt; text", "Escaped tag text"),
        # a "<" that is not a tag stays
        ("Inflation <5% but >3%", "Inflation <5% but >3%"),
        # mojibake (UTF-8 read as Windows-1252), repaired by ftfy
        ("Perâ€™s de facto president", "Per’s de facto president"),
        ("Enver LeÃ³n: â€œLa mayorÃ­a de los peruanosâ€\x9d", "Enver León: “La mayoría de los peruanos”"),
        ("JosÃ© Carlos Llerena", "José Carlos Llerena"),
        # NFC: a decomposed accent becomes one character
        ("Peru\u0301 y Jose\u0301", "Perú y José"),
        # every kind of whitespace
        ("Peru\u00a0has\u2009a new\u202finterim president", "Peru has a new interim president"),
        ("Zero\u200bwidth\ufeff space", "Zerowidth space"),
        ("  Hard-wrapped title that\n   goes on\r\n  over lines  ", "Hard-wrapped title that goes on over lines"),
        ("Tabs\tand\x0bvertical\x0ctabs", "Tabs and vertical tabs"),
        ("soft\u00adhyphen", "softhyphen"),
        # control characters go; words, case, quotes stay
        ("Peru\x00 strike\x07", "Peru strike"),
        ("PERU’S “Left” ‘born’", "PERU’S “Left” ‘born’"),
        ("Is Peru witnessing a parliamentary coup?", "Is Peru witnessing a parliamentary coup?"),
        ("", ""),
        ("   \n\u00a0 ", ""),
    ],
)
def test_clean_text(raw, expected):
    assert clean_text(raw) == expected


def test_clean_text_none():
    assert clean_text(None) is None


@pytest.mark.parametrize(
    "raw, title_from, expected",
    [
        ("Is Peru witnessing a parliamentary coup? - Peoples Dispatch", "meta", "Is Peru witnessing a parliamentary coup?"),
        ("Finally, a popular Left born in Peru | Peoples Dispatch", "meta", "Finally, a popular Left born in Peru"),
        ("Finally, a popular Left born in Peru – Peoples Dispatch", "meta", "Finally, a popular Left born in Peru"),
        ("Peoples Dispatch | Finally, a popular Left born in Peru", "meta", "Finally, a popular Left born in Peru"),
        ("Peru strike &#8211; peoplesdispatch.org", "meta", "Peru strike"),
        ("Peru strike - PEOPLES DISPATCH", "meta", "Peru strike"),
        ("Peru strike - Peoples Dispatch - Peoples Dispatch", "meta", "Peru strike"),
        # an unknown suffix is part of the title
        ("Peru: Boluarte - the first 100 days", "meta", "Peru: Boluarte - the first 100 days"),
        # a headline element or a listing link never carries the site name: keep it
        ("Interview - Peoples Dispatch", "page", "Interview - Peoples Dispatch"),
        ("Interview - Peoples Dispatch", "listing", "Interview - Peoples Dispatch"),
        # hard-wrapped, entity-laden title from a mailing-list repost
        ("Peru has a new interim president but social\n movements demand &#8216;refoundation&#8217;",
         "listing", "Peru has a new interim president but social movements demand ‘refoundation’"),
        # nothing left → None
        ("Peoples Dispatch", "meta", "Peoples Dispatch"),
        (" - Peoples Dispatch", "meta", "- Peoples Dispatch"),
        ("<b> </b>", "page", None),
        ("", "meta", None),
        (None, "meta", None),
    ],
)
def test_clean_title(raw, title_from, expected):
    assert clean_title(raw, title_from, SITE) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Protesters were blamed for their own deaths [&hellip;]", "Protesters were blamed for their own deaths"),
        ("Protesters were blamed for their own deaths […]", "Protesters were blamed for their own deaths"),
        ("Protesters were blamed [...]", "Protesters were blamed"),
        ("Protesters were blamed… Read more", "Protesters were blamed…"),
        ("Protesters were blamed. Read more »", "Protesters were blamed."),
        ("Protesters were blamed. READ MORE →", "Protesters were blamed."),
        ("Protesters were blamed. Continue reading “Peru’s de facto president”", "Protesters were blamed."),
        ("Protesters were blamed. <a class=\"more-link\">Continue reading<span> \"Peru\"</span></a>", "Protesters were blamed."),
        ("Los manifestantes fueron culpados. Leer más", "Los manifestantes fueron culpados."),
        ("Los manifestantes fueron culpados [&#8230;] Seguir leyendo", "Los manifestantes fueron culpados"),
        ("Los manifestantes fueron culpados… Sigue leyendo…", "Los manifestantes fueron culpados…"),
        ("Peru in crisis. The post Peru in crisis appeared first on Peoples Dispatch.", "Peru in crisis."),
        # a trailer word inside the text stays
        ("Read more about Peru’s strike in our dossier", "Read more about Peru’s strike in our dossier"),
        # a bare ellipsis is the author's
        ("And then…", "And then…"),
        # empty → None
        ("[&hellip;]", None),
        ("<p>\u00a0</p>", None),
        ("Read more", None),
        ("", None),
        (None, None),
    ],
)
def test_clean_summary(raw, expected):
    assert clean_summary(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("<p>One &amp; two.</p>\n<p>Three<br>four.</p>", "One & two.\n\nThree four."),
        ("<p>First</p><p></p><p>\u00a0</p><p>Second</p>", "First\n\nSecond"),
        ("Para one\nwrapped.\n\n\n\nPara two.", "Para one wrapped.\n\nPara two."),
        ("Line one\nLine two", "Line one\n\nLine two"),
        ("Para one.\r\n\r\nPara two.", "Para one.\n\nPara two."),
        ("One<br><br>Two", "One\n\nTwo"),
        ("  Only\u00a0one   paragraph  ", "Only one paragraph"),
        ("<h2>Background</h2><ul><li>A</li><li>B</li></ul>", "Background\n\nA\n\nB"),
        ("", None),
        ("<p> </p>", None),
        (None, None),
    ],
)
def test_clean_body(raw, expected):
    assert clean_body(raw) == expected


# --- properties --------------------------------------------------------------------------

cleaners = pytest.mark.parametrize(
    "clean",
    [
        clean_text,
        clean_summary,
        clean_body,
        lambda text: clean_title(text, "meta", SITE),
        lambda text: clean_title(text, "page", SITE),
    ],
    ids=["text", "summary", "body", "title-meta", "title-page"],
)


@cleaners
@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(messy_text, st.text()))
def test_cleaning_twice_is_cleaning_once(clean, raw):
    once = clean(raw)
    assert clean(once) == once


@cleaners
@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(messy_text, st.text(), st.none()))
def test_cleaners_never_raise_and_return_trimmed_text(clean, raw):
    cleaned = clean(raw)
    assert cleaned is None or isinstance(cleaned, str)
    if cleaned:
        assert cleaned == cleaned.strip()
        assert "\u200b" not in cleaned and "\u00a0" not in cleaned


@settings(max_examples=200, deadline=None)
@given(raw=st.one_of(messy_text, st.text()))
def test_clean_text_is_one_line(raw):
    assert "\n" not in clean_text(raw) and "  " not in clean_text(raw)


@settings(max_examples=200, deadline=None)
@given(raw=st.one_of(messy_text, st.text()))
def test_body_paragraphs_are_separated_by_one_blank_line(raw):
    body = clean_body(raw)
    if body:
        assert "\n\n\n" not in body
        assert all(paragraph and "\n" not in paragraph for paragraph in body.split("\n\n"))


# --- ftfy only where it can change something (same results as running it everywhere) --

# What _repair did before it learnt to skip ftfy: every non-ASCII text through fix_text.
def _repair_with_ftfy_everywhere(value: str) -> str:
    import unicodedata

    import ftfy

    from peruwire_crawl.normalize.text import _CONTROL_SPACES, _FTFY_CONFIG, _INVISIBLE

    value = value.translate(_CONTROL_SPACES)
    if not value.isascii():
        value = ftfy.fix_text(value, _FTFY_CONFIG).translate(_INVISIBLE)
    else:
        value = ftfy.fixes.remove_control_chars(value)
    return unicodedata.normalize("NFC", value)


# Characters mojibake is made of (Latin-1, Windows-125x, Cyrillic and Greek misreadings of
# UTF-8), and the characters ftfy's other fixers act on, among plain words.
MOJIBAKE_FRAGMENTS = FRAGMENTS + [
    "Ã", "Â", "â€", "Ã¡", "Ã³", "Ãº", "Ã‘", "Â¿", "Â¡", "Ã ", "Â ", "Ã\xa0", "ÂÂ", "à²",
    "вЂ", "вЂ™", "ГўВЂВ", "Î²", "β€", "ā€", "‚Ä", "√±", "Œ", "×²", "Ø§", "ï¬", "ﬁ", "\u2028",
    "\x1b[31m", "\x80", "\x9d", "\ud800", "¿", "¡", "ñ", "á", "é", "—", "–", "€", "°",
    "a", "z", "A", " ", ".", "1",
]
mojibake_text = st.lists(
    st.one_of(st.sampled_from(MOJIBAKE_FRAGMENTS), st.characters(max_codepoint=0x2FFF)), max_size=40
).map("".join)


@settings(max_examples=1000)
@given(raw=st.one_of(mojibake_text, messy_text, st.text()))
def test_mojibake_check_finds_whatever_ftfy_would(raw):
    import ftfy.badness

    from peruwire_crawl.normalize.text import _may_be_mojibake

    if ftfy.badness.is_bad(raw):
        assert _may_be_mojibake(raw)


@settings(max_examples=1000)
@given(raw=st.one_of(mojibake_text, messy_text, st.text()))
def test_repair_is_what_ftfy_everywhere_gave(raw):
    from peruwire_crawl.normalize.text import _repair

    assert _repair(raw) == _repair_with_ftfy_everywhere(raw)


@pytest.mark.parametrize(
    "raw",
    ["Ã‰l dijo que sÃ­", "Peruâ€™s â€œnewâ€\x9d cabinet", "PerÃº", "Â¿QuÃ© pasÃ³?", "ﬁnal",
     "línea\u2028otra", "Apurímac y Cajamarca, según el ministro.", "e\u0301xito"],
)
def test_repair_examples_match_ftfy_everywhere(raw):
    from peruwire_crawl.normalize.text import _repair

    assert _repair(raw) == _repair_with_ftfy_everywhere(raw)

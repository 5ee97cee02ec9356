"""Article language from its own text (peruwire_crawl/normalize/language.py)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peruwire_crawl.normalize.article import get_detector
from peruwire_crawl.normalize.language import (
    LanguageDetector,
    article_text_sample,
    choose_language,
    detector_languages,
    normalize_language_code,
)

DETECTOR = get_detector(detector_languages(("en", "es")))


@pytest.mark.parametrize(
    "text, expected",
    [
        # the seed's titles and standfirsts, both languages of a translation pair
        ("Enver León: “La mayoría de los peruanos quieren un cambio de Constitución”", "es"),
        ("Enver León: “The majority of Peruvians want a change in the Constitution”", "en"),
        ("Peru’s de facto president blames protesters for their own deaths at the hands of state forces", "en"),
        ("Tens of thousands on the streets of Peru in national strike", "en"),
        ("Peruvian President Pedro Castillo leaves Free Peru party", "en"),
        ("Outrage in Peru following Court’s decision to release former dictator Alberto Fujimori", "en"),
        ("Finally, a popular Left born in Peru", "en"),
        ("Is Peru witnessing a parliamentary coup?", "en"),
        # Spanish full of names and loanwords that look English
        ("Pedro Castillo y Perú Libre: el Congreso aprueba la vacancia presidencial", "es"),
        ("Dina Boluarte culpa a los manifestantes por sus propias muertes", "es"),
        ("Miles de personas marchan en Lima contra el gobierno de facto", "es"),
        # an English title packed with Spanish names reads Spanish on its own; with its
        # standfirst (the pipeline always samples title + standfirst + body) it is English
        ("José Carlos Llerena on Puno, Cusco and the Plaza San Martín protests", "es"),
        ("José Carlos Llerena on Puno, Cusco and the Plaza San Martín protests\n"
         "Thousands marched in the southern regions demanding the resignation of the de facto president", "en"),
        # a Portuguese article is not forced into Spanish
        ("Milhares de peruanos vão às ruas contra o governo de Dina Boluarte", "pt"),
        # too short to decide: the caller falls back
        ("Perú", None),
        ("Peru 2023", None),
        ("", None),
        (None, None),
    ],
)
def test_detect(text, expected):
    assert DETECTOR.detect(text) == expected


@pytest.mark.parametrize(
    "code, expected",
    [("es", "es"), ("es-PE", "es"), ("es_ES", "es"), ("EN-us", "en"), (" en ", "en"),
     ("spa", None), ("", None), (None, None), ("x", None), ("en-", None), ("zz-ZZ-1", "zz")],
)
def test_normalize_language_code(code, expected):
    assert normalize_language_code(code) == expected


@pytest.mark.parametrize(
    "detected, declared, html_lang, default, expected",
    [
        # the text wins over an English site's <html lang>
        ("es", None, "en-US", "en", ("es", "detected")),
        ("es", "en_US", "en-US", "en", ("es", "detected")),
        # too short: what the page declares for this article, then <html lang>, then the source
        (None, "es_ES", "en-US", "en", ("es", "declared")),
        (None, None, "es-PE", "en", ("es", "html_lang")),
        (None, None, None, "en", ("en", "default")),
        (None, "garbage!", "", None, (None, "unknown")),
    ],
)
def test_choose_language(detected, declared, html_lang, default, expected):
    assert choose_language(detected, declared, html_lang, default) == expected


def test_sample_is_title_summary_then_body_start():
    sample = article_text_sample("Title", None, "Body " * 1000)
    assert sample.startswith("Title\nBody ") and len(sample) == 300


def test_detector_languages_keep_the_source_order_and_add_neighbours():
    assert detector_languages(("es", "en")) == ("es", "en", "pt", "fr")


def test_single_language_detector_needs_no_model():
    assert LanguageDetector(["es"]).detect("Un texto lo bastante largo para decidir algo") == "es"


def test_detectors_are_built_once():
    assert get_detector(detector_languages(("en", "es"))) is DETECTOR


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(st.none(), st.text(max_size=300)))
def test_detect_never_raises(text):
    assert DETECTOR.detect(text) in (None, "en", "es", "pt", "fr")

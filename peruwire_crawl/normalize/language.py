"""The language of an article's own text (ISO 639-1), not the site's ``<html lang>``.

Detector: lingua (``lingua-language-detector``). Why this one:
- it is built for short texts: its n-gram models (1- to 5-grams) decide a headline or a
  two-line standfirst, where langdetect and fastText's compressed model guess;
- it can be restricted to the languages that can occur (the sources' languages, plus a
  few neighbours so that, say, a Portuguese article is not forced into Spanish), which
  makes short texts far more reliable;
- it is deterministic (langdetect is not, unless seeded), offline, and ships its models
  in the wheel: no download at crawl time;
- it says when it cannot decide (``minimum_relative_distance``), which is our cue to fall
  back on what the page declares.

Memory: lingua decides a text of 120 characters or more on its trigram models alone
(about 3 MB a language) and needs its 1- to 5-gram models (about 33 MB a language) only
for shorter ones. So models are loaded when a text first needs them, never preloaded: an
article's sample (title + standfirst + start of the body) is nearly always long enough,
and a run that detects nothing (an incremental run with nothing new) loads nothing. The
answers are the same either way; benchmarks/bench_language.py measures both.
lingua itself is imported on first use, so that commands which never detect do not pay
for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Languages considered besides the sources' own: close neighbours of Spanish and English
# that Latin American news sites also publish in. Kept short on purpose: every extra
# language is one more way to misread a short Spanish text.
NEIGHBOUR_LANGUAGES = ("pt", "fr")

# Below this many letters the detector's answer is a guess; the page's declaration wins.
MIN_LETTERS = 20
# How much text to look at: enough to decide (a title and a standfirst are plenty),
# short enough to stay cheap (lingua's cost grows with the length: 0.15 ms for 300
# characters, 0.32 ms for 600). On the development set's real pages, 300 and 600 differ
# only on pages in languages the detector does not know (benchmarks/bench_language.py
# --sample-lengths; docs/performance.md).
MAX_CHARS = 300
# lingua's "don't know" margin between the best and second-best language.
MIN_RELATIVE_DISTANCE = 0.1

_LANG_CODE_RE = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)*\s*$")


def normalize_language_code(code: str | None) -> str | None:
    """``"es-PE"``, ``"es_ES"``, ``"ES"`` → ``"es"``; ``None`` for anything unusable."""
    if not code:
        return None
    match = _LANG_CODE_RE.match(str(code))
    if not match:
        return None
    primary = match.group(1).lower()
    return primary if len(primary) == 2 else None


class LanguageDetector:
    """A lingua detector restricted to some languages, built once and reused.

    ``preload=True`` loads every model now (lingua's ``with_preloaded_language_models``):
    faster first answers on short texts, ~130 MB more for four languages.
    """

    def __init__(self, languages: Iterable[str], preload: bool = False):
        from lingua import LanguageDetectorBuilder

        self.languages = tuple(sorted({code for code in map(normalize_language_code, languages) if code}))
        lingua_languages = [_lingua_language(code) for code in self.languages]
        lingua_languages = [language for language in lingua_languages if language is not None]
        if len(lingua_languages) < 2:
            # lingua needs two languages to choose between; one known language decides alone.
            self._detector = None
            self._only = lingua_languages[0].iso_code_639_1.name.lower() if lingua_languages else None
            return
        builder = LanguageDetectorBuilder.from_languages(*lingua_languages)
        builder = builder.with_minimum_relative_distance(MIN_RELATIVE_DISTANCE)
        if preload:
            builder = builder.with_preloaded_language_models()
        self._detector = builder.build()  # without preloading: no model read yet, ~no cost
        self._only = None

    def detect(self, text: str | None, max_chars: int = MAX_CHARS) -> str | None:
        """ISO 639-1 code of ``text`` (its first ``max_chars``), or ``None`` when it is too
        short or unclear."""
        if not text:
            return None
        text = text[:max_chars]
        if sum(map(str.isalpha, text)) < MIN_LETTERS:
            return None
        if self._detector is None:
            return self._only
        language = self._detector.detect_language_of(text)
        return language.iso_code_639_1.name.lower() if language is not None else None


def detector_languages(source_languages: Iterable[str]) -> tuple[str, ...]:
    """The languages a detector for this source chooses from."""
    return tuple(dict.fromkeys([*source_languages, *NEIGHBOUR_LANGUAGES]))


def article_text_sample(title: str | None, summary: str | None, body: str | None, max_chars: int = MAX_CHARS) -> str:
    """The text whose language we detect: title, standfirst, then the body's start."""
    parts = [part for part in (title, summary, body) if part]
    return "\n".join(parts)[:max_chars]


def choose_language(
    detected: str | None,
    declared_language: str | None = None,
    html_lang: str | None = None,
    default: str | None = None,
) -> tuple[str | None, str]:
    """The article's language and where it came from.

    The text decides when the detector could; otherwise what the page says of this
    article (``declared_language``: og:locale, JSON-LD), then the site's ``<html lang>``,
    then the source's primary language.
    """
    for origin, code in (
        ("detected", detected),
        ("declared", declared_language),
        ("html_lang", html_lang),
        ("default", default),
    ):
        code = normalize_language_code(code)
        if code:
            return code, origin
    return None, "unknown"


def _lingua_language(code: str):
    from lingua import IsoCode639_1, Language

    iso = getattr(IsoCode639_1, code.upper(), None)
    if iso is None:
        return None
    try:
        return Language.from_iso_code_639_1(iso)
    except ValueError:
        return None

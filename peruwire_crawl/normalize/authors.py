"""Author names from a byline and/or the author list a page declares.

"by Zoe Alexandra" → ["Zoe Alexandra"]; "June 16, 2023 by Peoples Dispatch" →
["Peoples Dispatch"]; "Por A, B y C" → ["A", "B", "C"].

The site's own name is an author only when the byline says so: on Peoples Dispatch
"by Peoples Dispatch" is a real (collective) byline, while the same name in the page's
author metadata next to a person's byline is filler.

Bylines are read in the common conventions of many languages: "by"/"por" anywhere in the
line ("June 16, 2023 by …", "Escrito por …"), and at its start "Von", "Par", "Door",
"Av"/"Af", "Autor:", "Text:" and the like. What follows a name and is not one goes: an
affiliation ("X For Dailymail.com", "X | Fox News"), an e-mail address, a web address.

Names are joined by commas, "&", "and", and the word for "and" of Spanish, Portuguese,
German, French, Dutch, Italian and the Nordic languages ("y", "e", "und", "et", "en", "og",
"och", …). Those words also join compound surnames ("Santiago Ramón y Cajal"), so a name is
split there only when what follows is itself more than one word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from peruwire_crawl.normalize.text import clean_text

# Everything up to and including "by"/"por" (with a date or "Written"/"Escrito" before it).
_BYLINE_LEAD_RE = re.compile(r"^.*?\b(?:by|por)\b[\s:]*", re.IGNORECASE)
# Byline words other languages put first; only at the start, where they cannot be part of
# a name ("Ursula von der Leyen" keeps her "von").
_BYLINE_START_RE = re.compile(
    r"^(?:von|vom|par|door|av|af|di|przez|od|autor(?:in|a)?|author|text|texto|tekst|redacción)\b[\s:]*"
    r"(?=\S)", re.IGNORECASE)
# What follows a name and is not one: "X For Dailymail.com", "X | Fox News", "X - Reuters".
_AFFILIATION_RE = re.compile(r"\s+(?:for|für|pour|para)\s+\S.*$|\s+[|–—]\s+.*$", re.IGNORECASE)
_NOT_A_NAME_RE = re.compile(r"@|https?:|www\.|\.(?:com|org|net)\b", re.IGNORECASE)
_LIST_SEPARATOR_RE = re.compile(r"\s*(?:[,;/&]|\band\b)\s*", re.IGNORECASE)
# "and" in the languages above; joins names, or the halves of a compound surname.
_AND_WORD_RE = re.compile(r"\s+(y|e|i|und|et|en|og|och|ja|és|a)\s+", re.IGNORECASE)
_EDGE_PUNCTUATION = " \t,;:.-–—|·•()[]\"'“”‘’«»"
# A "name" with no letter in it is a stray symbol; one with a digit is a date ("June 16").
_HAS_LETTER_RE = re.compile(r"[^\W\d_]")
_HAS_DIGIT_RE = re.compile(r"\d")
MAX_NAME_LENGTH = 80


def clean_authors(
    authors: Iterable[str] | str | None = None,
    byline: str | None = None,
    site_names: Iterable[str] = (),
) -> list[str]:
    """Clean, split and de-duplicate author names (byline names first).

    A name equal to a site name (case-insensitive) is kept only if the byline names it.
    """
    byline_names = split_names(byline)
    listed_names = []
    if isinstance(authors, str):
        authors = [authors]
    for raw in authors or ():
        listed_names.extend(split_names(raw))

    sites = {_key(name) for name in site_names if name}
    named_in_byline = {_key(name) for name in byline_names}
    names: list[str] = []
    seen: set[str] = set()
    for name in [*byline_names, *listed_names]:
        key = _key(name)
        if key in seen or (key in sites and key not in named_in_byline):
            continue
        seen.add(key)
        names.append(name)
    return names


def split_names(text: str | None) -> list[str]:
    """One byline or author string → the names in it, in order."""
    text = clean_text(text) if isinstance(text, str) else None
    if not text:
        return []
    text = _BYLINE_START_RE.sub("", _BYLINE_LEAD_RE.sub("", text, count=1), count=1)
    names = []
    for part in _LIST_SEPARATOR_RE.split(text):
        names.extend(_split_at_and(_AFFILIATION_RE.sub("", part)))
    return [name for name in map(_tidy, names) if name]


def _split_at_and(part: str) -> list[str]:
    # re.split with a group keeps the conjunction: [name, "y", name, "und", name, ...]
    pieces = _AND_WORD_RE.split(part)
    names = [pieces[0]]
    for conjunction, piece in zip(pieces[1::2], pieces[2::2], strict=False):
        if len(piece.split()) > 1:
            names.append(piece)
        else:  # "Ramón y Cajal": a surname, not a second author
            names[-1] = f"{names[-1]} {conjunction} {piece}"
    return names


def _tidy(name: str) -> str | None:
    # Cleaned again once the edges are off: what they hid may now read as mojibake, and
    # normalising a stored name again must change nothing.
    name = clean_text(name.strip(_EDGE_PUNCTUATION)) or ""
    name = " ".join(name.split())
    if (
        not name
        or len(name) > MAX_NAME_LENGTH
        or not _HAS_LETTER_RE.search(name)
        or _HAS_DIGIT_RE.search(name)
        or _NOT_A_NAME_RE.search(name)
    ):
        return None
    return name


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()

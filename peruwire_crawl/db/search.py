"""Full-text search that answers the same on SQLite and PostgreSQL.

Neither database's own text search can be made to agree with the other's (SQLite has no
Spanish stemmer, PostgreSQL's is accent-sensitive), so the text is prepared here, in
Python, once for both: each article's title, summary and body become two strings of
space-separated terms in ``article_search`` (written with the article, in the same
transaction, by ``index_texts``):

- ``words``: every word, lowercased and with its accents removed (``Constitución`` ->
  ``constitucion``);
- ``stems``: the same words stemmed by Snowball in the article's language (English or
  Spanish; other languages are not stemmed): ``strikes`` -> ``strike``, ``protestas`` ->
  ``protest``.

Each database then only matches terms: SQLite through the FTS5 table
``article_search_fts``, PostgreSQL through ``to_tsvector('simple', ...)`` GIN indexes
(``simple`` keeps every term as written). A query is parsed here too, and each of its words
is prepared like the article's text in each language, so both databases look for the same
terms. The syntax (``Query.parse``):

- ``castillo congreso``: every word (AND);
- ``"paro nacional"``: the words next to each other, in this order;
- ``castillo OR fujimori``: either (OR binds tighter than the space: ``a b OR c`` is
  ``a AND (b OR c)``);
- ``protest*``: any word beginning so (matched on ``words``, not stemmed).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Integer,
    Select,
    TextualSelect,
    and_,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
)

from peruwire_crawl.db.dialect import upsert
from peruwire_crawl.db.schema import article_search, articles

# Languages whose text is stemmed, by ISO 639-1 code; any other is matched word for word.
STEMMED_LANGUAGES = {"en": "english", "es": "spanish"}
# Letters and digits; the underscore too would split differently in the two databases.
TOKEN = re.compile(r"[^\W_]+")

__all__ = ["article_search", "Query", "EmptyQuery", "index_articles", "index_texts", "matching", "prepare"]


class EmptyQuery(ValueError):
    """The query has no word to look for."""


@lru_cache(maxsize=None)
def _stemmer(language: str | None):
    import snowballstemmer  # why here: its 30 languages' modules cost a run that indexes nothing ~15 ms

    name = STEMMED_LANGUAGES.get(language or "")
    return snowballstemmer.stemmer(name) if name else None


def fold(value: str) -> str:
    """Lowercase, compatibility forms unified, accents removed: ``Perú`` -> ``peru``.

    Folding is character by character (case folding and NFKD decomposition are; NFKD's
    reordering only moves the combining marks this drops), so the ASCII stretches of a text
    are just lowercased and only its other stretches go through Unicode's tables, each
    distinct stretch once: a quarter of the time of folding the whole text (measured on the
    fixtures' article texts), the same result (``tests/test_search.py``).
    """
    if value.isascii():
        return value.lower()
    parts = _NON_ASCII.split(value)
    parts[::2] = [part.lower() for part in parts[::2]]
    parts[1::2] = map(_fold_non_ascii, parts[1::2])
    return "".join(parts)


_NON_ASCII = re.compile(r"([^\x00-\x7f]+)")


@lru_cache(maxsize=4096)
def _fold_non_ascii(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words_of(value: str | None) -> list[str]:
    folded = fold(value or "")
    if folded.isascii():
        # The same words as TOKEN finds, a third of the time: for ASCII, the letters and
        # digits are kept and every other character becomes a space to split at.
        return folded.translate(_ASCII_SEPARATORS).split()
    return TOKEN.findall(folded)


# Every ASCII character that is not a letter or a digit, mapped to a space.
_ASCII_SEPARATORS = {code: " " for code in range(128) if not chr(code).isalnum()}


class _StemCache(dict):
    """One language's stems by word: a body repeats most of its words, and so do articles.

    Why a cache: stemming each word once instead of at every occurrence took a benchmark
    crawl's CPU from 80 s to 31 s. Why a dict, not ``lru_cache``: a look-up per word is the
    whole cost once the words are known, and a dict's is a third of ``lru_cache``'s. Why it
    is emptied when full: an entry costs about 270 bytes, and a long crawl's vocabulary keeps
    growing (names, places); the commonest 30,000 words (8 MB at most) make up nearly every
    occurrence in news text, and they are back within a few articles.
    """

    MAX_WORDS = 30_000

    def __init__(self, stemmer):
        super().__init__()
        self.stemmer = stemmer

    def __missing__(self, word: str) -> str:
        if len(self) >= self.MAX_WORDS:
            self.clear()
        stem = self[word] = self.stemmer.stemWord(word)
        return stem


@lru_cache(maxsize=None)
def _stem_cache(language: str) -> _StemCache:
    return _StemCache(_stemmer(language))


def stems_of(words: Sequence[str], language: str | None) -> list[str]:
    if _stemmer(language) is None:
        return list(words)
    return list(map(_stem_cache(language).__getitem__, words))


def prepare(title: str | None, summary: str | None, body: str | None, language: str | None) -> dict[str, str]:
    """An article's ``article_search`` values."""
    words = [word for part in (title, summary, body) for word in words_of(part)]
    return {"words": " ".join(words), "stems": " ".join(stems_of(words, language))}


def unindexed(connection: Connection) -> Select:
    """Articles without search terms: stored by another program, or edited by hand (a
    trigger of migration 0004 drops the terms of an article whose text is changed)."""
    return (select(articles.c.id).outerjoin(article_search, article_search.c.article_id == articles.c.id)
            .where(article_search.c.article_id.is_(None)))


def index_unindexed(connection: Connection, chunk: int = 1000) -> int:
    """Index every article without search terms; returns how many."""
    count = 0
    while ids := connection.execute(unindexed(connection).order_by(articles.c.id).limit(chunk)).scalars().all():
        index_articles(connection, ids)
        count += len(ids)
    return count


def index_articles(connection: Connection, ids: Iterable[int]) -> None:
    """(Re)write the search terms of these articles from their stored text."""
    ids = list(ids)
    if not ids:
        return
    rows = connection.execute(select(articles.c.id, articles.c.language, articles.c.title, articles.c.summary,
                                     articles.c.body).where(articles.c.id.in_(ids)))
    index_texts(connection, {row.id: row._mapping for row in rows})


def index_texts(connection: Connection, texts: Mapping[int, Mapping[str, Any]]) -> None:
    """(Re)write the search terms of these articles from their ``language``, ``title``,
    ``summary`` and ``body``, by article id (the writer has them at hand: no read back)."""
    values = [{"article_id": article_id, "language": text["language"],
               **prepare(text["title"], text["summary"], text["body"], text["language"])}
              for article_id, text in texts.items()]
    if values:
        statement = upsert(connection.dialect.name, article_search, ["article_id"], ["language", "words", "stems"])
        connection.execute(statement, values)


# --- queries ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    """Words that must appear next to each other (one word, or a quoted phrase); with
    ``prefix``, the last one may go on (``protest*``)."""

    words: tuple[str, ...]
    prefix: bool = False

    def found_at(self, words: Sequence[str], stems: Sequence[str], start: int) -> bool:
        """Whether the term (prepared for the text's language) begins at token ``start`` of
        a text whose tokens are ``words`` and their ``stems``."""
        tokens = words if self.prefix else stems
        window = tokens[start:start + len(self.words)]
        if len(window) != len(self.words) or list(window[:-1]) != list(self.words[:-1]):
            return False
        return window[-1].startswith(self.words[-1]) if self.prefix else window[-1] == self.words[-1]


@dataclass(frozen=True)
class Query:
    """Every group must match; a group matches when one of its terms does."""

    groups: tuple[tuple[Term, ...], ...]

    QUERY_PART = re.compile(r'"([^"]*)"(\*?)|(\S+)')

    @classmethod
    def parse(cls, value: str) -> Query:
        """Words, "quoted phrases", OR between terms, a trailing * for a prefix. Anything
        else (punctuation, a stray quote, SQL) is just text: no query is a syntax error."""
        groups: list[list[Term]] = []
        join_next = False
        for match in cls.QUERY_PART.finditer(value.replace("\u201c", '"').replace("\u201d", '"')):
            phrase, phrase_star, bare = match.groups()
            if bare == "OR":
                join_next = bool(groups)
                continue
            raw = phrase if bare is None else bare
            prefix = bool(phrase_star) or (bare is not None and bare.endswith("*"))
            words = tuple(words_of(raw))
            if not words:
                continue
            term = Term(words, prefix)
            if join_next:
                groups[-1].append(term)
            else:
                groups.append([term])
            join_next = False
        if not groups:
            raise EmptyQuery(f"{value!r} has no word to search for")
        return cls(tuple(tuple(group) for group in groups))

    def terms_for(self, language: str | None) -> Query:
        """The query with each word stemmed as in ``language``'s articles (prefixes aside)."""
        return Query(tuple(tuple(term if term.prefix else Term(tuple(stems_of(term.words, language)))
                                 for term in group) for group in self.groups))

    def match_words(self, language: str | None) -> set[str]:
        """Every stem and prefix the query looks for in ``language`` (to rank by)."""
        return {word for group in self.terms_for(language).groups for term in group for word in term.words}

    def matches(self, prepared: dict[str, str]) -> bool:
        """Whether an article's prepared terms (``prepare``; the query already ``terms_for``
        its language) match: the same rule as the databases', for the few articles not
        indexed yet."""
        words, stems = prepared["words"].split(), prepared["stems"].split()
        return all(any(t.found_at(words, stems, start) for t in group for start in range(len(words)))
                   for group in self.groups)

    # Each database's spelling of the same query; words are [^\W_]+, so they need no quoting.
    def fts5(self) -> str:
        def term(t: Term) -> str:
            column = "words" if t.prefix else "stems"
            return f'{column} : "{" ".join(t.words)}"' + (" *" if t.prefix else "")

        return " AND ".join("(" + " OR ".join(term(t) for t in group) + ")" for group in self.groups)

    def postgresql(self, stems: ColumnElement, words: ColumnElement) -> ColumnElement[bool]:
        def term(t: Term) -> ColumnElement[bool]:
            tsquery = " <-> ".join(t.words) + (":*" if t.prefix else "")
            vector = words if t.prefix else stems
            return vector.op("@@")(func.to_tsquery(literal_column("'simple'::regconfig"), tsquery))

        return and_(*(or_(*(term(t) for t in group)) for group in self.groups))


def _language_groups() -> list[tuple[str | None, ColumnElement[bool]]]:
    """(language to stem as, which articles) for the stemmed languages and all others."""
    language = article_search.c.language
    stemmed = list(STEMMED_LANGUAGES)
    return [*((code, language == code) for code in stemmed),
            (None, or_(language.is_(None), language.not_in(stemmed)))]


def matching(connection: Connection, query: Query) -> Select | TextualSelect:
    """``SELECT id, rank`` of the articles matching ``query`` (a lower rank is better)."""
    if connection.dialect.name == "postgresql":
        stems = func.to_tsvector(literal_column("'simple'::regconfig"), article_search.c.stems)
        words = func.to_tsvector(literal_column("'simple'::regconfig"), article_search.c.words)
        condition = or_(false(), *(and_(which, query.terms_for(code).postgresql(stems, words))
                                   for code, which in _language_groups()))
        every_stem = " | ".join(sorted({w for code, _ in _language_groups() for w in query.match_words(code)}))
        rank = -func.ts_rank(stems, func.to_tsquery(literal_column("'simple'::regconfig"), every_stem))
        return select(article_search.c.article_id.label("id"), rank.label("rank")).where(condition)
    # SQLite: one FTS5 match per language group, each with that language's stems.
    parts, matches = [], {}
    for index, (code, _) in enumerate(_language_groups()):
        if code is None:
            which = "(language IS NULL OR language NOT IN (%s))" % ", ".join(f"'{c}'" for c in STEMMED_LANGUAGES)
        else:
            which = f"language = '{code}'"
        matches[f"match_{index}"] = query.terms_for(code).fts5()
        parts.append("SELECT rowid AS id, bm25(article_search_fts) AS rank FROM article_search_fts "
                     f"WHERE article_search_fts MATCH :match_{index} AND {which}")
    return text(" UNION ALL ".join(parts)).bindparams(**matches).columns(id=Integer, rank=Float)


def snippet(query: Query, language: str | None, *texts: str | None, width: int = 12) -> str:
    """About ``width`` words around the first match in ``texts``, the match in [brackets]."""
    terms = [term for group in query.terms_for(language).groups for term in group]
    for value in texts:
        if not value:
            continue
        folded = fold(value)
        # Offsets into the folded text are the original's only when folding kept its length.
        shown = value if len(folded) == len(value) else folded
        spans = list(TOKEN.finditer(folded))
        words = [span.group() for span in spans]
        stems = stems_of(words, language)
        for position in range(len(words)):
            term = next((t for t in terms if t.found_at(words, stems, position)), None)
            if term is None:
                continue
            hit_start, hit_end = spans[position].start(), spans[position + len(term.words) - 1].end()
            first = spans[max(0, position - width // 2)].start()
            last = position + len(term.words) - 1 + width // 2
            end = spans[last].end() if last < len(spans) - 1 else len(shown)
            text_ = f"{shown[first:hit_start]}[{shown[hit_start:hit_end]}]{shown[hit_end:end]}".replace("\n", " ")
            return ("…" if first else "") + text_ + ("…" if end < len(shown) else "")
    return ""

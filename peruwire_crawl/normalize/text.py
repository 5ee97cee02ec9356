"""Text cleanup shared by every text field of an article.

``clean_text`` is the common core: HTML tags and comments removed, entities decoded,
mojibake repaired by ftfy, Unicode NFC, every kind of whitespace collapsed to one space.
Words, letter case and typographic quotes stay exactly as published (ftfy's quote
uncurling and width folding are switched off).

The field cleaners add their field's rules on top:

- ``clean_title``: drops a site-name prefix/suffix, only when the title came from
  ``<title>``/meta tags (a headline element never carries one);
- ``clean_summary``: drops "[…]", "Read more", "Leer más"… trailers; empty → ``None``;
- ``clean_body``: same cleanup per paragraph, paragraphs separated by one blank line.

Every cleaner is idempotent (cleaning twice = cleaning once) and never raises on a
string; the property tests in ``tests/test_text.py`` hold them to that.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

import ftfy
import ftfy.badness
import ftfy.chardata
import ftfy.fixes

# Keep quotes curly and fullwidth characters as published; entities are decoded by us,
# after tags are gone (ftfy's "auto" mode skips decoding when it sees a "<").
_FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,
    uncurl_quotes=False,
    fix_character_width=False,
    normalization="NFC",
    explain=False,
)

# Tags as HTML reads them: "<" then a letter (or "/" and a letter), "<!-- -->", "<!…>",
# "<?…>". A "<" before a digit or a space is text ("inflation <5%"), not a tag.
_SCRIPT_STYLE_RE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)
_TAG_RE = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)[^<>]*>|<![^<>]*>|<\?[^<>]*>")
# Elements a browser lays out as blocks: their tags separate words. Inline tags
# (<em>, <a>, <span>…) do not: "Per<em>ú</em>" reads "Perú".
_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3"
    " h4 h5 h6 header hr li main nav ol p pre section table td th tr ul title".split()
)
# Tags that end a paragraph in a body given as HTML.
_BLOCK_END_RE = re.compile(
    r"</(?:p|div|h[1-6]|li|blockquote|figure|figcaption|section|article|tr|ul|ol)\s*>"
    r"|<br\s*/?>\s*<br\s*/?>",
    re.IGNORECASE,
)
_LINE_BREAK_TAG_RE = re.compile(r"<br\s*/?>", re.IGNORECASE)

# Invisible characters that split or glue words without being whitespace to str.split():
# zero-width space, word joiner, BOM / zero-width no-break space, soft hyphen, Mongolian
# vowel separator. ZWJ/ZWNJ stay: they are part of emoji and of some scripts' spelling.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad\u180e"))

# ASCII control characters that are whitespace: spaces to us, not controls to delete.
_CONTROL_SPACES = dict.fromkeys(map(ord, "\x0b\x0c\x1c\x1d\x1e\x1f"), " ")

# Characters that _repair acts on besides mojibake: ours (above), and those of fix_text's
# steps other than mojibake repair (with our config): C1 controls, Latin ligatures, line
# breaks other than "\n", surrogates, terminal escapes, control characters. Text with
# none of them and no mojibake comes out of fix_text as it went in (NFC aside).
_REPAIR_TARGETS_RE = re.compile(
    "["
    + "".join(
        re.escape(chr(code))
        for code in sorted(
            {*_CONTROL_SPACES, *_INVISIBLE, *ftfy.chardata.CONTROL_CHARS, *ftfy.chardata.LIGATURES,
             *range(0x80, 0xA0), *map(ord, "\r\u2028\u2029\x1b")}
        )
    )
    + "\ud800-\udfff]"
)
# Where mojibake can start: two or more non-ASCII characters in a row, or one of the few
# that ftfy's test flags alone ("Ã", "Â", "Œ", "œ", C1 controls).
_MOJIBAKE_SEED_RE = re.compile("[^\x00-\x7f]{2,}|[ÃÂŒœ\x80-\x9f]")
_TWO_NON_ASCII_RE = re.compile("[^\x00-\x7f][^\x00-\x7f]")  # = the seeds, found faster
_LONE_MOJIBAKE_RE = re.compile("[ÃÂŒœ\x80-\x9f]")
_MOJIBAKE_REACH = 3  # ASCII characters either side of a seed that a pattern spans (2, and 1 to spare)

_BLANK_LINE_RE = re.compile(r"\n[^\S\n]*\n")

# Separators WordPress themes and SEO plugins put between a title and the site name.
_TITLE_SEPARATORS = ("|", "-", "–", "—", "::", "·", "»", "•", ":")

# Trailers an excerpt gets when a theme truncates it; matched at the very end only.
_SUMMARY_TRAILER_RE = re.compile(
    r"""
    \s*(?:
        \[\s*(?:…|\.{3}|&hellip;)\s*\]                      # [...] [&hellip;]
      | \(\s*(?:…|\.{3})\s*\)                                 # (…)
      | (?:read\ more|continue\ reading|keep\ reading
          |leer\ más|seguir\ leyendo|sigue\ leyendo|lee\ más|leer\ mas|seguir\ lendo)
        (?:\s*["“«][^"”»]*["”»])?                             # WordPress adds the title
        \s*(?:»|›|→|>|\.{3}|…)?                               # and maybe an arrow
      | the\ post\ .+?\ appeared\ first\ on\ .+?\.?            # feed footer
    )\s*$
    """,
    re.IGNORECASE | re.VERBOSE,
)

# Bounded so that a pathological string cannot loop forever; real text settles in one or
# two passes (a second pass only confirms the first changed nothing more).
_MAX_PASSES = 6


def clean_text(value: str | None) -> str | None:
    """One line of plain text: markup gone, mojibake fixed, NFC, whitespace collapsed.

    Returns ``None`` for ``None``; may return ``""`` (callers decide what empty means).
    """
    if value is None:
        return None
    return _until_stable(value, _clean_line_once)


def clean_title(
    value: str | None,
    title_from: str | None = None,
    site_names: Iterable[str] = (),
) -> str | None:
    """The cleaned title, or ``None`` when nothing usable is left.

    A site-name suffix or prefix (``" - Peoples Dispatch"``, ``"Peoples Dispatch | "``)
    is removed only when ``title_from == "meta"`` (``<title>``/``og:title``): a headline
    element or a listing link never carries one, so a title that really ends with the
    site's name is kept there.
    """
    title = clean_text(value)
    if title and title_from == "meta":
        names = _site_name_keys(site_names)
        if names:
            title = _until_stable(title, lambda text: _drop_site_name(text, names))
    return title or None


def clean_summary(value: str | None) -> str | None:
    """The cleaned standfirst/excerpt without read-more trailers; ``None`` when empty."""
    summary = clean_text(value)
    if summary:
        summary = _until_stable(summary, _drop_summary_trailer)
    return summary or None


def clean_body(value: str | None) -> str | None:
    """Article text with paragraphs separated by exactly one blank line; ``None`` if empty.

    HTML block ends (``</p>``, ``<br><br>``…) become paragraph breaks. In plain text, blank
    lines separate paragraphs and a single line break is a soft wrap; text with no blank
    line at all is taken as one paragraph per line (how a page object joins paragraphs).
    """
    if value is None:
        return None
    body = _until_stable(value, _clean_body_once)
    return body or None


# --- the passes ------------------------------------------------------------------------


def _until_stable(value: str, clean_once) -> str:
    for _ in range(_MAX_PASSES):
        cleaned = clean_once(value)
        if cleaned == value:
            break
        value = cleaned
    return value


def _clean_line_once(value: str) -> str:
    return collapse_whitespace(_repair(_strip_markup(value)))


def _clean_body_once(value: str) -> str:
    value = _BLOCK_END_RE.sub("\n\n", value)
    value = _LINE_BREAK_TAG_RE.sub("\n", value)
    text = _repair(_strip_markup(value))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = [collapse_whitespace(p) for p in _split_paragraphs(text)]
    return "\n\n".join(p for p in paragraphs if p)


def _split_paragraphs(text: str) -> list[str]:
    if _BLANK_LINE_RE.search(text):
        return _BLANK_LINE_RE.split(text)
    return text.split("\n")


def _strip_markup(value: str) -> str:
    """Remove tags and decode entities, until neither finds anything more.

    Repeating handles double-escaped feeds ("&amp;#8217;", "&lt;em&gt;"). Each change
    shortens the string, so the loop ends.
    """
    while True:
        stripped = _SCRIPT_STYLE_RE.sub(" ", value)
        stripped = _COMMENT_RE.sub(" ", stripped)
        stripped = _TAG_RE.sub(_tag_replacement, stripped) if "<" in stripped else stripped
        decoded = html.unescape(stripped) if "&" in stripped else stripped
        if decoded == value:
            return value
        value = decoded


def _tag_replacement(match: re.Match) -> str:
    name = match.group(1)
    return " " if name is None or name.lower() in _BLOCK_TAGS else ""


def _repair(value: str) -> str:
    """Mojibake repaired (ftfy), NFC, invisible characters removed.

    Most text needs none of it but NFC, and ftfy's mojibake test (``is_bad``: a large
    regular expression tried at every position) costs more than all the rest of a body's
    cleanup. So the full repair runs only on text with a character it acts on
    (``_REPAIR_TARGETS_RE``) or that may be mojibake (``_may_be_mojibake``); for any
    other text it would return the NFC of the text, which is what is returned.
    """
    normalized = unicodedata.normalize("NFC", value)
    if not (
        _REPAIR_TARGETS_RE.search(value)
        or _may_be_mojibake(value)
        or (normalized != value and _may_be_mojibake(normalized))
    ):
        return normalized
    value = value.translate(_CONTROL_SPACES)
    if not value.isascii():
        value = ftfy.fix_text(value, _FTFY_CONFIG)
        value = value.translate(_INVISIBLE)
    else:
        # ASCII cannot be mojibake; only control characters need to go.
        value = ftfy.fixes.remove_control_chars(value)
    return unicodedata.normalize("NFC", value)


def _may_be_mojibake(value: str) -> bool:
    """True whenever ``ftfy.badness.is_bad(value)`` is (and rarely when it is not).

    Every pattern of ftfy's mojibake test spans at most two ASCII characters either side of
    the non-ASCII ones it needs, and needs two non-ASCII characters in a row, except for a
    few lone ones (``_MOJIBAKE_SEED_RE``). So a lone "í" in
    "Apurímac" cannot be mojibake, and only the stretches around the other non-ASCII runs
    need the test. Joining the stretches can only add matches, never lose one.
    """
    if value.isascii() or not (_TWO_NON_ASCII_RE.search(value) or _LONE_MOJIBAKE_RE.search(value)):
        return False  # the common case, answered by the two quickest searches
    stretches = []
    last_end = -1
    for match in _MOJIBAKE_SEED_RE.finditer(value):
        start = max(0, match.start() - _MOJIBAKE_REACH)
        end = match.end() + _MOJIBAKE_REACH
        if stretches and start <= last_end:
            stretches[-1] = (stretches[-1][0], end)
        else:
            stretches.append((start, end))
        last_end = end
    return bool(stretches) and ftfy.badness.is_bad("\n".join(value[start:end] for start, end in stretches))


def collapse_whitespace(value: str) -> str:
    """Every run of whitespace (any Unicode space, tabs, line breaks) → one space; trimmed."""
    return " ".join(value.split())


# --- titles ------------------------------------------------------------------------------


def _site_name_keys(site_names: Iterable[str]) -> set[str]:
    keys = set()
    for name in site_names:
        key = _name_key(name)
        if key:
            keys.add(key)
            if key.startswith("www."):
                keys.add(key[4:])
    return keys


def _name_key(text: str | None) -> str:
    return collapse_whitespace(text or "").casefold()


def _drop_site_name(title: str, names: set[str]) -> str:
    """Remove one "Title - Site" suffix or "Site | Title" prefix naming a known site."""
    for separator in _TITLE_SEPARATORS:
        spaced = f" {separator} "
        head, found, tail = title.rpartition(spaced)
        if found and head.strip() and _name_key(tail) in names:
            return head.strip()
        head, found, tail = title.partition(spaced)
        if found and tail.strip() and _name_key(head) in names:
            return tail.strip()
    return title


# --- summaries ---------------------------------------------------------------------------


def _drop_summary_trailer(summary: str) -> str:
    return _SUMMARY_TRAILER_RE.sub("", summary).strip()

"""Publication dates: from the candidates a page offers to one UTC time with a precision.

The spider hands over ``DateCandidate(signal, value)`` for every date it saw. Here they
are read in order of reliability (``SIGNAL_ORDER``) and the first plausible one wins:

- machine-readable values (JSON-LD, ``article:published_time``, ``<time datetime>``) go
  through ``datetime.fromisoformat`` (or the RFC 2822 reader of feeds): microseconds, no
  dateparser;
- human date lines ("June 16, 2023", "16 de marzo de 2023", "16/03/2023", "hace 3 días")
  go through ``dateparser`` in the article's language first, then the other configured
  languages, resolved against the fetch time (never the wall clock, so a replayed
  fixture gives the same answer every day);
- the URL's ``/YYYY/MM/DD/`` is read with a regex, here only: page objects and the spider
  ask ``url_date_candidates`` for it, and it travels as "YYYY-MM-DD".

Times stated without a zone are in the site's timezone (``sections.toml``). A date with no
time of day (precision ``day``) is stored as 00:00 UTC of the calendar day the page
states: it is a day, not an instant, and shifting it by the site's offset would move it to
the previous day for every site east of UTC.

Impossible dates are rejected with a reason (``DateRejected``): later than any timezone's
"today" at fetch time, or earlier than ``PERUWIRE_EARLIEST_DATE``. The next candidate is
then tried.

Human date lines cost about a millisecond each in dateparser, so they are parsed only
when no machine-readable signal gave a plausible date. The chosen date is compared with
the other cheap signals (machine-readable, URL); ``DateChoice.disagreements`` lists those
further apart than the configured number of hours, for the pipeline to log.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache

from peruwire_crawl.items import DateCandidate
from peruwire_crawl.normalize.text import clean_text
from peruwire_crawl.times import to_utc_or_none

# Most reliable first; a signal not listed here comes after all of them.
SIGNAL_ORDER = ("jsonld", "microdata", "meta", "time", "dateline", "url")
MACHINE_SIGNALS = frozenset({"jsonld", "microdata", "meta", "time"})

# The furthest ahead of UTC any timezone is: a day-precision date up to that day's
# date at fetch time may be "today" somewhere, so it is not in the future.
_MAX_UTC_OFFSET = timedelta(hours=14)
# Clocks of site and crawler differ a little; a stated time this far ahead is tolerated.
_CLOCK_SKEW = timedelta(minutes=15)
# A date line longer than this is not a date line (and would make dateparser slow).
_MAX_HUMAN_DATE_LENGTH = 120

_URL_DATE_RE = re.compile(r"(?<!\d)/?((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})(?:/|$)")
# The page object may hand the URL's date over already joined: "2023-06-16".
_JOINED_URL_DATE_RE = re.compile(r"((?:19|20)\d{2})-(\d{1,2})-(\d{1,2})")
_HAS_TIME_RE = re.compile(r"[T\s]\d")
_HAS_SECONDS_RE = re.compile(r"\d{1,2}:\d{2}:\d{2}|T\d{6}")
# "05.01.2025": the dotted numeric date is day first in every language that writes it.
_DOTTED_DATE_RE = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b")
_RFC2822_RE = re.compile(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}")
# Words around the date on a date line: "Published on June 16, 2023 by Peoples Dispatch".
_DATELINE_PREFIX_RE = re.compile(
    r"^(?:published|posted|updated|last\s+updated|publicado|actualizado|fecha)"
    r"(?:\s+(?:on|el|en|at))?\s*:?\s*",
    re.IGNORECASE,
)
_DATELINE_TAIL_RE = re.compile(r"(?:^|\s+)(?:by|por)\s+.*$|\s+[|·•]\s+.*$", re.IGNORECASE | re.DOTALL)


class DateRejected(ValueError):
    """A candidate that gives no usable date; ``reason`` is short and stable (for stats)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class DateContext:
    """What reading a date depends on, besides its text."""

    timezone: tzinfo  # the site's zone, for times stated without one
    fetched_at: datetime  # aware; "now" for relative dates and the future check
    earliest: datetime = datetime(1990, 1, 1, tzinfo=UTC)  # aware
    languages: tuple[str, ...] = ("en", "es")  # dateparser languages, article's first


@dataclass(frozen=True)
class ParsedDate:
    value: datetime  # aware, UTC
    precision: str  # "day", "minute" or "second"
    signal: str
    local_date: date  # the calendar day as the page stated it (in its own zone)
    # The time as the page stated it: in its own offset, naive when it gave none (then
    # ``value`` read it in the site's zone). None for a day.
    stated: datetime | None = None

    def isoformat(self) -> str:
        return self.value.isoformat()

    def stated_isoformat(self) -> str:
        """The date as the page stated it: "2023-06-16" for a day, else the time in the
        page's own offset, or with none where the page gave none."""
        if self.precision == "day" or self.stated is None:
            return self.local_date.isoformat()
        return self.stated.isoformat()


@dataclass
class DateChoice:
    chosen: ParsedDate | None = None
    rejected: list[tuple[str, DateRejected]] = field(default_factory=list)  # (signal, why)
    disagreements: list[tuple[ParsedDate, float]] = field(default_factory=list)  # (other, hours)


# --- choosing ----------------------------------------------------------------------------


def choose_date(
    candidates: Iterable,
    context: DateContext,
    disagreement_hours: float | None = None,
) -> DateChoice:
    """Walk the candidates in order of reliability; the first plausible date wins.

    ``candidates`` are ``DateCandidate``-like objects (``.signal``, ``.value``) or
    ``(signal, value)`` pairs. With ``disagreement_hours``, the other machine-readable and
    URL signals are read too and those further from the choice are reported.
    """
    choice = DateChoice()
    pending = sort_by_reliability(_as_pairs(candidates))
    checked: list[ParsedDate] = []
    for signal, value in pending:
        if choice.chosen is not None and not _is_cheap(signal):
            continue  # only for comparison, and not worth a dateparser call
        try:
            parsed = parse_candidate(signal, value, context)
        except DateRejected as rejected:
            choice.rejected.append((signal, rejected))
            continue
        if choice.chosen is None:
            choice.chosen = parsed
            if disagreement_hours is None:
                break
        else:
            checked.append(parsed)
    if choice.chosen is not None and disagreement_hours is not None:
        for other in checked:
            apart = hours_apart(choice.chosen, other)
            if apart > disagreement_hours:
                choice.disagreements.append((other, apart))
    return choice


def sort_by_reliability(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Stable sort by ``SIGNAL_ORDER``, unknown signals last (the spider's order is kept)."""
    rank = {signal: index for index, signal in enumerate(SIGNAL_ORDER)}
    return sorted(pairs, key=lambda pair: rank.get(pair[0], len(SIGNAL_ORDER)))


def hours_apart(a: ParsedDate, b: ParsedDate) -> float:
    """How far two dates disagree; a day-precision date is compared by calendar day."""
    if a.precision == "day" or b.precision == "day":
        return abs((a.local_date - b.local_date).days) * 24.0
    return abs((a.value - b.value).total_seconds()) / 3600.0


def _as_pairs(candidates: Iterable) -> list[tuple[str, str]]:
    pairs = []
    for candidate in candidates or ():
        if isinstance(candidate, tuple | list):
            signal, value = candidate
        elif isinstance(candidate, dict):
            signal, value = candidate.get("signal"), candidate.get("value")
        else:
            signal, value = candidate.signal, candidate.value
        pairs.append((str(signal or ""), "" if value is None else str(value)))
    return pairs


def _is_cheap(signal: str) -> bool:
    return signal in MACHINE_SIGNALS or signal == "url"


# --- reading one candidate ---------------------------------------------------------------


def parse_candidate(signal: str, value: str, context: DateContext) -> ParsedDate:
    """Read one candidate and check it is possible; raises ``DateRejected``."""
    text = (value or "").strip()
    if not text:
        raise DateRejected("empty")
    if signal == "url":
        day = parse_url_date(text)
        if day is None:
            raise DateRejected("unparseable", f"no /YYYY/MM/DD/ in {text!r}")
        parsed = _day(day, signal)
    else:
        parsed = _parse_text(signal, text, context)
    check_plausible(parsed, context)
    return parsed


def _parse_text(signal: str, text: str, context: DateContext) -> ParsedDate:
    machine = parse_machine_date(text)
    if machine is not None:
        stated, precision = machine
    else:
        stated, precision = parse_human_date(text, context)
    return _to_parsed(stated, precision, signal, context.timezone)


def _to_parsed(stated: datetime, precision: str, signal: str, zone: tzinfo) -> ParsedDate:
    if precision == "day":
        return _day(stated.date(), signal)
    as_stated = stated
    if stated.tzinfo is None:
        stated = stated.replace(tzinfo=zone)
    try:
        value = stated.astimezone(UTC)
    except (OverflowError, ValueError) as error:
        raise DateRejected("out of range", str(error)) from None
    return ParsedDate(value, precision, signal, stated.date(), as_stated)


def _day(day: date, signal: str) -> ParsedDate:
    return ParsedDate(datetime.combine(day, time(), UTC), "day", signal, day)


def check_plausible(parsed: ParsedDate, context: DateContext) -> None:
    """Reject a date no page could honestly state at fetch time."""
    fetched = context.fetched_at.astimezone(UTC)
    if parsed.precision == "day":
        # "Today" somewhere on Earth is fine; tomorrow everywhere is not.
        in_future = parsed.local_date > (fetched + _MAX_UTC_OFFSET).date()
    else:
        in_future = parsed.value > fetched + _CLOCK_SKEW
    if in_future:
        raise DateRejected("in the future", f"{parsed.isoformat()} > fetched {fetched.isoformat()}")
    if parsed.value < context.earliest:
        raise DateRejected(
            "too early", f"{parsed.isoformat()} < earliest {context.earliest.date().isoformat()}"
        )


def url_date_candidates(*urls: str | None) -> list[DateCandidate]:
    """The ``url`` candidate: the first ``/YYYY/MM/DD/`` among ``urls``, as "YYYY-MM-DD".

    What the spider keeps for an article whose page it could not read, and the last signal
    a page offers.
    """
    for url in urls:
        day = parse_url_date(url or "")
        if day is not None:
            return [DateCandidate("url", day.isoformat())]
    return []


def parse_url_date(text: str) -> date | None:
    """The ``/YYYY/MM/DD/`` of an article URL (or a path, or "YYYY-MM-DD"), as a date."""
    match = _URL_DATE_RE.search(text) or _JOINED_URL_DATE_RE.fullmatch(text.strip())
    if not match:
        return None
    year, month, day = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_machine_date(text: str) -> tuple[datetime, str] | None:
    """ISO 8601 (or RFC 2822, as feeds write) → (datetime, precision); ``None`` if neither.

    The datetime is naive when the text states no zone.
    """
    text = text.strip()
    if not text[:1].isdigit():
        return _parse_rfc2822(text)
    try:
        stated = datetime.fromisoformat(text)
    except ValueError:
        return _parse_rfc2822(text)
    if not _HAS_TIME_RE.search(text):
        return stated, "day"
    return stated, _time_precision(text)


def _parse_rfc2822(text: str) -> tuple[datetime, str] | None:
    if not _RFC2822_RE.match(text):
        return None
    try:
        stated = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if stated.tzinfo is None:  # "-0000": UTC, origin unknown
        stated = stated.replace(tzinfo=UTC)
    return stated, _time_precision(text)


def _time_precision(text: str) -> str:
    return "second" if _HAS_SECONDS_RE.search(text) else "minute"


def parse_human_date(text: str, context: DateContext) -> tuple[datetime, str]:
    """A date line read by dateparser → (datetime, precision); raises ``DateRejected``."""
    text = dateline_date_text(text)
    if not text:
        raise DateRejected("empty")
    if len(text) > _MAX_HUMAN_DATE_LENGTH:
        raise DateRejected("unparseable", f"too long for a date line ({len(text)} chars)")
    base = context.fetched_at.astimezone(context.timezone).replace(tzinfo=None)
    parser = _dateparser(tuple(context.languages), base, day_first=bool(_DOTTED_DATE_RE.search(text)))
    try:
        data = parser.get_date_data(text)
    except Exception as error:  # dateparser has raised odd errors on odd strings
        raise DateRejected("unparseable", f"{text!r} ({type(error).__name__})") from None
    if data is None or data.date_obj is None:
        raise DateRejected("unparseable", repr(text))
    parts = getattr(data, "parts", None) or ()
    if data.period not in ("day", "time") or (parts and not {"day", "month"} <= set(parts)):
        raise DateRejected("imprecise", f"{text!r} states no day")
    precision = "day" if data.period == "day" else _time_precision(text)
    return data.date_obj, precision


def dateline_date_text(text: str) -> str:
    """The date part of a date line: "June 16, 2023 by Peoples Dispatch" → "June 16, 2023"."""
    text = clean_text(text) or ""
    text = _DATELINE_TAIL_RE.sub("", text)
    return _DATELINE_PREFIX_RE.sub("", text).strip(" ,;|-–—")


def _dateparser(languages: tuple[str, ...], relative_base: datetime, day_first: bool = False):
    from dateparser.data.languages_info import language_order
    from dateparser.date import DateDataParser  # why here: importing dateparser costs ~0.3 s

    # The languages dateparser knows, in the order given (the article's own first).
    languages = tuple(code for code in languages if code in language_order) or ("en",)

    settings = {
        "RELATIVE_BASE": relative_base,
        "RETURN_TIME_AS_PERIOD": True,
        "PREFER_DATES_FROM": "past",
    }
    if day_first or (languages and languages[0] != "en"):
        settings["DATE_ORDER"] = "DMY"  # "03/04/2023" is 3 April everywhere but in US English
    return DateDataParser(languages=list(languages), settings=settings)


def warm_up_dateparser(languages: Iterable[str] = ("en", "es")) -> None:
    """Load dateparser's language data now rather than on the first article (~0.2 s)."""
    parser = _dateparser(tuple(languages), datetime(2000, 1, 1))
    for sample in ("June 16, 2023", "16 de marzo de 2023", "hace 3 días"):
        parser.get_date_data(sample)


# --- settings helpers --------------------------------------------------------------------


@lru_cache(maxsize=64)
def parse_instant(text: str | None) -> datetime | None:
    """An ISO 8601 instant (``fetched_at``), in UTC; naive means UTC. ``None`` if unreadable."""
    return to_utc_or_none(text)


def parse_earliest(value) -> datetime:
    """``PERUWIRE_EARLIEST_DATE`` ("1990-01-01", a date or a datetime) → aware datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    parsed = parse_instant(str(value))
    if parsed is None:
        raise ValueError(f"PERUWIRE_EARLIEST_DATE is not an ISO date: {value!r}")
    return parsed

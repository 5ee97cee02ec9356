"""Publication dates: candidates → one UTC time with precision and signal (peruwire_crawl/normalize/dates.py)."""

import time
from datetime import UTC, date, datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from peruwire_crawl.items import DateCandidate
from peruwire_crawl.normalize.dates import (
    DateContext,
    DateRejected,
    choose_date,
    dateline_date_text,
    parse_candidate,
    parse_machine_date,
    parse_url_date,
)

FETCHED = datetime(2023, 7, 1, 12, 0, tzinfo=UTC)  # the snapshot's fetch time
UTC_SITE = DateContext(timezone=UTC, fetched_at=FETCHED)
LIMA_SITE = DateContext(timezone=ZoneInfo("America/Lima"), fetched_at=FETCHED)
SPANISH_FIRST = DateContext(timezone=UTC, fetched_at=FETCHED, languages=("es", "en"))


def parsed(signal, value, context=UTC_SITE):
    result = parse_candidate(signal, value, context)
    return result.isoformat(), result.precision


# --- machine-readable signals -------------------------------------------------------------


@pytest.mark.parametrize(
    "signal, value, expected",
    [
        # WordPress / Yoast JSON-LD and Open Graph
        ("jsonld", "2023-06-16T10:30:00+00:00", ("2023-06-16T10:30:00+00:00", "second")),
        ("meta", "2023-06-16T05:30:00-05:00", ("2023-06-16T10:30:00+00:00", "second")),
        ("jsonld", "2023-06-16T10:30:00Z", ("2023-06-16T10:30:00+00:00", "second")),
        ("jsonld", "2023-06-16T10:30:00.123456+00:00", ("2023-06-16T10:30:00.123456+00:00", "second")),
        ("meta", "2023-06-16T10:30:00+0000", ("2023-06-16T10:30:00+00:00", "second")),
        ("time", "2023-06-16T10:30+02:00", ("2023-06-16T08:30:00+00:00", "minute")),
        ("time", "2023-06-16 10:30", ("2023-06-16T10:30:00+00:00", "minute")),
        ("time", "  2023-06-16  ", ("2023-06-16T00:00:00+00:00", "day")),
        ("jsonld", "20230616", ("2023-06-16T00:00:00+00:00", "day")),
        # a zone-less time is in the site's zone
        ("time", "2023-06-16T10:30:00", ("2023-06-16T10:30:00+00:00", "second")),
        # RFC 2822, as in feeds
        ("meta", "Fri, 16 Jun 2023 10:30:00 +0000", ("2023-06-16T10:30:00+00:00", "second")),
        ("meta", "Fri, 16 Jun 2023 10:30:00 -0500", ("2023-06-16T15:30:00+00:00", "second")),
        # a <time> element without a datetime attribute: its text is a human date
        ("time", "June 16, 2023", ("2023-06-16T00:00:00+00:00", "day")),
    ],
)
def test_machine_readable_dates(signal, value, expected):
    assert parsed(signal, value) == expected


def test_zone_less_machine_time_uses_site_timezone():
    assert parsed("time", "2023-06-16T10:30:00", LIMA_SITE) == ("2023-06-16T15:30:00+00:00", "second")


def test_day_precision_keeps_the_stated_day_whatever_the_site_zone():
    tokyo = DateContext(timezone=ZoneInfo("Asia/Tokyo"), fetched_at=FETCHED)
    for context in (UTC_SITE, LIMA_SITE, tokyo):
        assert parsed("jsonld", "2023-06-16", context) == ("2023-06-16T00:00:00+00:00", "day")


def test_machine_readable_dates_never_call_dateparser():
    # dates.py imports dateparser only when it needs it, so the patch goes to dateparser itself.
    with mock.patch("dateparser.date.DateDataParser", side_effect=AssertionError("dateparser called")):
        choice = choose_date(
            [DateCandidate("jsonld", "2023-06-16T10:30:00+00:00"),
             DateCandidate("meta", "2023-06-16T10:30:00+00:00"),
             DateCandidate("dateline", "June 16, 2023 by Peoples Dispatch"),
             DateCandidate("url", "https://peoplesdispatch.org/2023/06/16/slug/")],
            UTC_SITE,
            disagreement_hours=24,
        )
    assert choice.chosen.signal == "jsonld"


# --- human date lines ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, context, expected",
    [
        ("June 16, 2023", UTC_SITE, ("2023-06-16T00:00:00+00:00", "day")),
        ("June 16, 2023 by Peoples Dispatch", UTC_SITE, ("2023-06-16T00:00:00+00:00", "day")),
        ("March 16, 2023 by Zoe Alexandra", UTC_SITE, ("2023-03-16T00:00:00+00:00", "day")),
        ("Published on June 16, 2023", UTC_SITE, ("2023-06-16T00:00:00+00:00", "day")),
        ("16 de marzo de 2023", UTC_SITE, ("2023-03-16T00:00:00+00:00", "day")),
        ("16 de marzo de 2023 por Zoe Alexandra", UTC_SITE, ("2023-03-16T00:00:00+00:00", "day")),
        ("Publicado el 16 de marzo de 2023", UTC_SITE, ("2023-03-16T00:00:00+00:00", "day")),
        ("16/03/2023", UTC_SITE, ("2023-03-16T00:00:00+00:00", "day")),
        # ambiguous numeric dates follow the article's language
        ("03/04/2023", UTC_SITE, ("2023-03-04T00:00:00+00:00", "day")),
        ("03/04/2023", SPANISH_FIRST, ("2023-04-03T00:00:00+00:00", "day")),
        # with a time of day: the site's zone applies
        ("June 16, 2023 10:30 am", UTC_SITE, ("2023-06-16T10:30:00+00:00", "minute")),
        ("June 16, 2023 10:30 am", LIMA_SITE, ("2023-06-16T15:30:00+00:00", "minute")),
        ("16 de marzo de 2023, 10:30:15", LIMA_SITE, ("2023-03-16T15:30:15+00:00", "second")),
        ("June 16, 2023 10:30 EST", LIMA_SITE, ("2023-06-16T15:30:00+00:00", "minute")),
        # relative dates resolve against the fetch time (2023-07-01 12:00 UTC)
        ("hace 3 días", UTC_SITE, ("2023-06-28T00:00:00+00:00", "day")),
        ("3 days ago", UTC_SITE, ("2023-06-28T00:00:00+00:00", "day")),
        ("ayer", UTC_SITE, ("2023-06-30T00:00:00+00:00", "day")),
        ("yesterday", UTC_SITE, ("2023-06-30T00:00:00+00:00", "day")),
        ("hace 3 horas", UTC_SITE, ("2023-07-01T09:00:00+00:00", "minute")),
        # in Lima it is 07:00 on July 1st at fetch time: "3 hours ago" is 04:00 Lima
        ("hace 3 horas", LIMA_SITE, ("2023-07-01T09:00:00+00:00", "minute")),
    ],
)
def test_human_dates(value, context, expected):
    assert parsed("dateline", value, context) == expected


@pytest.mark.parametrize(
    "value, reason",
    [
        ("June 2023", "imprecise"),
        ("el mes pasado", "imprecise"),
        ("hace 2 semanas", "imprecise"),
        ("2023", "imprecise"),
        ("by Peoples Dispatch", "empty"),
        ("no date here at all", "unparseable"),
        ("", "empty"),
        ("x" * 500, "unparseable"),
    ],
)
def test_unusable_date_lines(value, reason):
    with pytest.raises(DateRejected) as rejected:
        parse_candidate("dateline", value, UTC_SITE)
    assert rejected.value.reason == reason


@pytest.mark.parametrize(
    "text, expected",
    [
        ("June 16, 2023 by Peoples Dispatch", "June 16, 2023"),
        ("March 16, 2023 by Zoe Alexandra and José Carlos Llerena", "March 16, 2023"),
        ("16 de marzo de 2023 | Internacional", "16 de marzo de 2023"),
        ("Posted on: June 16, 2023", "June 16, 2023"),
        ("Actualizado: 16/03/2023", "16/03/2023"),
    ],
)
def test_dateline_date_text(text, expected):
    assert dateline_date_text(text) == expected


def test_relative_dates_ignore_the_wall_clock():
    """A replayed fixture gives the same answer on any day, in any local zone."""
    answers = set()
    for now in ("2023-07-02 00:00", "2031-01-15 08:00"):
        with time_machine.travel(datetime.fromisoformat(now).replace(tzinfo=UTC), tick=False):
            answers.add(parsed("dateline", "hace 3 días"))
            answers.add(parsed("dateline", "June 16"))  # the year comes from the fetch time
    assert answers == {("2023-06-28T00:00:00+00:00", "day"), ("2023-06-16T00:00:00+00:00", "day")}


def test_relative_dates_ignore_the_machine_timezone(monkeypatch):
    results = set()
    for tz in ("UTC", "Asia/Tokyo", "America/Lima"):
        monkeypatch.setenv("TZ", tz)
        time.tzset()
        results.add(parsed("dateline", "hace 3 horas"))
        results.add(parsed("dateline", "June 16, 2023 10:30 am"))
    monkeypatch.delenv("TZ")
    time.tzset()
    assert results == {("2023-07-01T09:00:00+00:00", "minute"), ("2023-06-16T10:30:00+00:00", "minute")}


# --- URL ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("https://peoplesdispatch.org/2023/06/16/perus-de-facto-president-blames-protesters/", date(2023, 6, 16)),
        ("https://peoplesdispatch.org/2020/12/23/peruvian-agricultural-workers-strike/", date(2020, 12, 23)),
        ("/2023/3/6/slug", date(2023, 3, 6)),
        ("2023/06/16", date(2023, 6, 16)),
        ("2023-06-16", date(2023, 6, 16)),  # as the article page object hands it over
        ("2023-02-30", None),
        ("https://peoplesdispatch.org/2023/02/30/slug/", None),  # no such day
        ("https://peoplesdispatch.org/wp-content/uploads/2023/06/photo.jpg", None),
        ("https://peoplesdispatch.org/tag/new-peru-left/", None),
        ("https://example.org/12023/06/16/", None),
    ],
)
def test_url_dates(value, expected):
    assert parse_url_date(value) == expected


def test_url_signal_gives_day_precision():
    assert parsed("url", "https://peoplesdispatch.org/2023/06/16/slug/") == ("2023-06-16T00:00:00+00:00", "day")


# --- impossible dates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "signal, value, reason",
    [
        ("jsonld", "2031-01-01T00:00:00Z", "in the future"),
        ("jsonld", "2023-07-01T13:00:00+00:00", "in the future"),  # an hour after the fetch
        ("url", "https://peoplesdispatch.org/2023/07/03/slug/", "in the future"),
        ("dateline", "June 16, 2024", "in the future"),
        ("jsonld", "1970-01-01T00:00:00Z", "too early"),  # an epoch-zero timestamp
        ("meta", "0001-01-01T00:00:00+00:00", "too early"),
        ("url", "https://peoplesdispatch.org/1989/12/31/slug/", "too early"),
        ("dateline", "16 de marzo de 1985", "too early"),
        ("meta", "0001-01-01T00:00:00+01:00", "out of range"),
    ],
)
def test_impossible_dates_are_rejected(signal, value, reason):
    with pytest.raises(DateRejected) as rejected:
        parse_candidate(signal, value, UTC_SITE)
    assert rejected.value.reason == reason


def test_today_somewhere_is_not_the_future():
    # At 12:00 UTC it is already July 2nd in Kiribati (UTC+14).
    assert parsed("url", "/2023/07/02/slug/") == ("2023-07-02T00:00:00+00:00", "day")
    assert parsed("jsonld", "2023-07-01T12:10:00+00:00")[0] == "2023-07-01T12:10:00+00:00"  # clock skew


# --- choosing among signals -------------------------------------------------------------------


def candidates(*pairs):
    return [DateCandidate(signal, value) for signal, value in pairs]


def test_most_reliable_signal_wins_whatever_the_order_given():
    choice = choose_date(
        candidates(
            ("url", "https://peoplesdispatch.org/2023/06/16/slug/"),
            ("dateline", "June 16, 2023"),
            ("meta", "2023-06-16T09:00:00+00:00"),
            ("jsonld", "2023-06-16T10:30:00+00:00"),
        ),
        UTC_SITE,
    )
    assert (choice.chosen.signal, choice.chosen.isoformat()) == ("jsonld", "2023-06-16T10:30:00+00:00")


def test_jsonld_inside_graph_is_just_another_jsonld_candidate():
    # The spider flattens @graph; several jsonld candidates keep their order.
    choice = choose_date(candidates(("jsonld", "not a date"), ("jsonld", "2023-06-16T10:30:00Z")), UTC_SITE)
    assert choice.chosen.isoformat() == "2023-06-16T10:30:00+00:00"
    assert [signal for signal, _ in choice.rejected] == ["jsonld"]


def test_impossible_date_falls_through_to_next_signal():
    choice = choose_date(
        candidates(("jsonld", "2031-01-01T00:00:00Z"), ("dateline", "June 16, 2023"), ("url", "/2023/06/16/x/")),
        UTC_SITE,
    )
    assert (choice.chosen.signal, choice.chosen.isoformat()) == ("dateline", "2023-06-16T00:00:00+00:00")
    assert [(signal, r.reason) for signal, r in choice.rejected] == [("jsonld", "in the future")]


def test_no_usable_signal():
    choice = choose_date(candidates(("dateline", "Peoples Dispatch"), ("url", "/tag/peru/")), UTC_SITE)
    assert choice.chosen is None and len(choice.rejected) == 2


def test_disagreement_over_a_day_is_reported():
    choice = choose_date(
        candidates(("jsonld", "2023-06-20T10:00:00Z"), ("meta", "2023-06-20T11:00:00Z"), ("url", "/2023/06/16/x/")),
        UTC_SITE,
        disagreement_hours=24,
    )
    assert choice.chosen.signal == "jsonld"
    assert [(other.signal, hours) for other, hours in choice.disagreements] == [("url", 96.0)]


def test_evening_post_in_lima_is_not_a_disagreement():
    # 23:30 in Lima is 04:30 UTC the next day; the URL shows the Lima day.
    choice = choose_date(
        candidates(("jsonld", "2023-06-16T23:30:00-05:00"), ("url", "/2023/06/16/x/")),
        LIMA_SITE,
        disagreement_hours=24,
    )
    assert choice.chosen.isoformat() == "2023-06-17T04:30:00+00:00"
    assert choice.disagreements == []


def test_tuples_and_dicts_are_accepted_as_candidates():
    assert choose_date([("url", "/2023/06/16/x/")], UTC_SITE).chosen.signal == "url"
    assert choose_date([{"signal": "url", "value": "/2023/06/16/x/"}], UTC_SITE).chosen.signal == "url"


# --- properties -------------------------------------------------------------------------------

signals = st.sampled_from(["jsonld", "meta", "time", "dateline", "url", "other"])
date_like = st.one_of(
    st.text(max_size=40),
    st.datetimes(timezones=st.none() | st.just(UTC)).map(lambda d: d.isoformat()),
    st.dates().map(lambda d: d.strftime("%B %d, %Y")),
    st.builds("{}/{}/{}".format, st.integers(0, 3000), st.integers(0, 40), st.integers(0, 40)),
    st.sampled_from(["hace 3 días", "ayer", "June 16, 2023 by Peoples Dispatch", "2023-13-45", "99999-01-01"]),
)


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(st.tuples(signals, date_like), max_size=5))
def test_choosing_never_raises_and_never_returns_an_impossible_date(pairs):
    choice = choose_date(pairs, UTC_SITE, disagreement_hours=24)
    if choice.chosen is not None:
        assert datetime(1990, 1, 1, tzinfo=UTC) <= choice.chosen.value
        assert choice.chosen.value.tzinfo is UTC
        assert choice.chosen.precision in ("day", "minute", "second")


@settings(max_examples=200, deadline=None)
@given(moment=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2023, 7, 1, 11, 0), timezones=st.just(UTC)))
def test_a_chosen_date_read_again_gives_itself(moment):
    first = parse_candidate("jsonld", moment.isoformat(), UTC_SITE)
    again = parse_candidate("jsonld", first.isoformat(), UTC_SITE)
    assert again == first


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=30))
def test_machine_parser_never_raises(text):
    result = parse_machine_date(text)
    assert result is None or result[1] in ("day", "minute", "second")

"""An editor's words for a time, as a German or English newsroom types them: a table of the forms
read and refused, and round trips (a time written in each form reads back as itself)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from publisher.engine.planning.timewords import read

TODAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("9:30", datetime(2026, 12, 2, 9, 30)),
        ("09:30", datetime(2026, 12, 2, 9, 30)),
        ("9.30", datetime(2026, 12, 2, 9, 30)),
        ("9:30 Uhr", datetime(2026, 12, 2, 9, 30)),
        ("9.30 Uhr", datetime(2026, 12, 2, 9, 30)),
        ("9 Uhr", datetime(2026, 12, 2, 9, 0)),
        ("um 18 Uhr", datetime(2026, 12, 2, 18, 0)),
        ("20h", datetime(2026, 12, 2, 20, 0)),
        ("heute 18:15", datetime(2026, 12, 2, 18, 15)),
        ("morgen 8 Uhr", datetime(2026, 12, 3, 8, 0)),
        ("Morgen, 8 Uhr", datetime(2026, 12, 3, 8, 0)),
        ("morgen um 8", datetime(2026, 12, 3, 8, 0)),
        ("morgen 08:00", datetime(2026, 12, 3, 8, 0)),
        ("übermorgen 9:15", datetime(2026, 12, 4, 9, 15)),
        ("03.12. 08:00", datetime(2026, 12, 3, 8, 0)),
        ("3.12. 8 Uhr", datetime(2026, 12, 3, 8, 0)),
        ("03.12.2026 08:00", datetime(2026, 12, 3, 8, 0)),
        ("3.12.26 8:00", datetime(2026, 12, 3, 8, 0)),
        ("2026-12-03 08:00", datetime(2026, 12, 3, 8, 0)),
        ("2026-12-03T08:00", datetime(2026, 12, 3, 8, 0)),
        ("tomorrow 8am", datetime(2026, 12, 3, 8, 0)),
        ("8 Uhr morgen", datetime(2026, 12, 3, 8, 0)),
        ("um 8 Uhr morgen", datetime(2026, 12, 3, 8, 0)),
        ("Dienstag 8 Uhr", datetime(2026, 12, 8, 8, 0)),
        ("Mittwoch 9:30", datetime(2026, 12, 2, 9, 30)),
        ("Freitag, 17 Uhr", datetime(2026, 12, 4, 17, 0)),
        ("heute Abend", datetime(2026, 12, 2, 19, 0)),
        ("heute Abend 8 Uhr", datetime(2026, 12, 2, 20, 0)),
        ("morgen früh", datetime(2026, 12, 3, 8, 0)),
        ("morgen Mittag", datetime(2026, 12, 3, 12, 0)),
        ("tonight", datetime(2026, 12, 2, 19, 0)),
        ("tomorrow morning", datetime(2026, 12, 3, 8, 0)),
        ("today 6:30 pm", datetime(2026, 12, 2, 18, 30)),
        ("12pm", datetime(2026, 12, 2, 12, 0)),
    ],
)
def test_a_german_or_english_time_is_read_as_the_wall_clock_it_names(typed, meant) -> None:
    assert read(typed, TODAY) == meant


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [("+15m", 15), ("+15 min", 15), ("+ 15 Minuten", 15), ("in 15 min", 15), ("+2h", 120),
     ("+2 Std.", 120), ("in 2 Stunden", 120), ("in 1 hour", 60), ("in einer Stunde", 60),
     ("in einer halben Stunde", 30), ("in einer Viertelstunde", 15), ("in zwei Stunden", 120),
     ("in half an hour", 30)],
)  # fmt: skip
def test_a_delay_is_read_in_minutes_or_hours(typed, minutes) -> None:
    assert read(typed, TODAY) == timedelta(minutes=minutes)


def test_a_day_and_month_already_past_this_year_mean_next_year() -> None:
    assert read("03.01. 08:00", TODAY) == datetime(2027, 1, 3, 8, 0)


def test_a_time_with_its_own_offset_keeps_it() -> None:
    said = read("2026-12-03T08:00+01:00", TODAY)
    assert isinstance(said, datetime) and said.utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize(
    "typed",
    ["9", "morgen", "Dienstag", "x_main", "foo 8 Uhr", "25:00", "9:61", "31.02. 08:00", "13pm",
     "+15", "+15 Tage", "2026-13-01 08:00", "03.12.", ""],
)  # fmt: skip
def test_words_that_name_no_time_are_not_read_as_one(typed) -> None:
    assert read(typed, TODAY) is None


moments = st.datetimes(
    min_value=datetime(2026, 12, 2), max_value=datetime(2027, 12, 1, 23, 59)
).map(lambda d: d.replace(second=0, microsecond=0))


@given(moments)
def test_a_time_written_as_day_month_and_clock_reads_back_as_itself(moment) -> None:
    assert read(f"{moment:%d.%m.} {moment:%H:%M}", TODAY) == moment


@given(moments)
def test_a_time_written_with_its_year_and_uhr_reads_back_as_itself(moment) -> None:
    assert read(
        f"{moment.day}.{moment.month}.{moment:%Y} {moment.hour}.{moment:%M} Uhr", TODAY
    ) == (moment)


@given(moments)
def test_a_time_written_the_iso_way_reads_back_as_itself(moment) -> None:
    assert read(f"{moment:%Y-%m-%d %H:%M}", TODAY) == moment


@given(st.integers(min_value=0, max_value=2), st.integers(0, 23), st.integers(0, 59))
def test_a_day_word_and_clock_read_back_as_that_day(offset, hour, minute) -> None:
    word = ("heute", "morgen", "übermorgen")[offset]
    expected = datetime(2026, 12, 2 + offset, hour, minute)
    assert read(f"{word} {hour}:{minute:02d} Uhr", TODAY) == expected

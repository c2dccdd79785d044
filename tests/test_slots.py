"""Posting slots in each channel's time zone, across daylight-saving changes; editors' times."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from publisher.engine.planning.slots import TimeError, local_slot, next_slot, parse_time

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SLOTS = (time(7), time(9, 30), time(12), time(17), time(20))
NO_GAP = timedelta(0)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_next_slot_is_the_next_one_today() -> None:
    assert next_slot(utc(2025, 1, 15, 9, 0), SLOTS, BERLIN, [], NO_GAP) == utc(2025, 1, 15, 11, 0)


def test_after_the_last_slot_comes_tomorrows_first() -> None:
    assert next_slot(utc(2025, 1, 15, 20, 0), SLOTS, BERLIN, [], NO_GAP) == utc(2025, 1, 16, 6, 0)


def test_slot_keeps_its_local_time_across_the_spring_change() -> None:
    before = next_slot(utc(2025, 3, 29, 5, 0), SLOTS, BERLIN, [], NO_GAP)
    after = next_slot(utc(2025, 3, 30, 4, 0), SLOTS, BERLIN, [], NO_GAP)
    assert (before, after) == (utc(2025, 3, 29, 6, 0), utc(2025, 3, 30, 5, 0))


def test_slot_keeps_its_local_time_across_the_autumn_change() -> None:
    assert next_slot(utc(2025, 10, 26, 4, 0), SLOTS, BERLIN, [], NO_GAP) == utc(2025, 10, 26, 6, 0)


def test_slot_skipped_by_spring_forward_lands_after_the_gap() -> None:
    assert local_slot(datetime(2025, 3, 30).date(), time(2, 30), BERLIN) == utc(2025, 3, 30, 1, 30)


def test_slot_repeated_in_autumn_is_its_first_occurrence() -> None:
    assert local_slot(datetime(2025, 10, 26).date(), time(2, 30), BERLIN) == utc(
        2025, 10, 26, 0, 30
    )


def test_slot_near_another_post_is_skipped_for_the_gap() -> None:
    taken = [utc(2025, 1, 15, 8, 20)]  # 09:20 in Berlin
    found = next_slot(utc(2025, 1, 15, 7, 0), SLOTS, BERLIN, taken, timedelta(minutes=30))
    assert found == utc(2025, 1, 15, 11, 0)


def test_slot_already_taken_is_skipped_even_without_a_gap() -> None:
    taken = [utc(2025, 1, 15, 8, 30)]
    assert next_slot(utc(2025, 1, 15, 7, 0), SLOTS, BERLIN, taken, NO_GAP) == utc(
        2025, 1, 15, 11, 0
    )


def test_channel_without_slots_is_refused() -> None:
    with pytest.raises(TimeError, match="no posting slots"):
        next_slot(utc(2025, 1, 15), (), BERLIN, [], NO_GAP)


instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@given(now=instants, taken=st.lists(instants, max_size=8), gap=st.integers(0, 300))
def test_next_slot_is_a_free_slot_in_the_future(
    now: datetime, taken: list[datetime], gap: int
) -> None:
    found = next_slot(now, SLOTS, NEW_YORK, taken, timedelta(minutes=gap))
    assert found >= now
    assert found.astimezone(NEW_YORK).time() in SLOTS
    assert all(abs(found - t) >= max(timedelta(minutes=gap), timedelta(seconds=1)) for t in taken)


NOW = utc(2025, 1, 15, 9, 0)  # 10:00 in Berlin


def test_parse_time_reads_hh_mm_as_today_in_the_zone() -> None:
    assert parse_time("17:30", NOW, BERLIN) == utc(2025, 1, 15, 16, 30)


def test_parse_time_reads_a_naive_iso_time_in_the_zone() -> None:
    assert parse_time("2025-07-01 07:00", NOW, BERLIN) == utc(2025, 7, 1, 5, 0)


def test_parse_time_keeps_an_explicit_offset() -> None:
    assert parse_time("2025-01-16T07:00:00-05:00", NOW, BERLIN) == utc(2025, 1, 16, 12, 0)


def test_parse_time_refuses_the_past() -> None:
    with pytest.raises(TimeError, match="in the past"):
        parse_time("08:00", NOW, BERLIN)


@pytest.mark.parametrize("value", ["tomorrow", "25:00", "2025-13-01", ""])
def test_parse_time_refuses_what_is_no_time(value: str) -> None:
    with pytest.raises(TimeError, match="is not a time"):
        parse_time(value, NOW, BERLIN)

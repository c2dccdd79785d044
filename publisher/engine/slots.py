"""Posting schedules: a channel's daily slots in its own time zone, a minimum gap between posts,
and parsing the times editors type. Pure functions; all results are aware UTC datetimes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from publisher.errors import EditorError

SEARCH_DAYS = 31
# A time an editor gives may be this far behind the clock (typing takes a moment) and mean "now".
PAST_TOLERANCE = timedelta(seconds=60)


class TimeError(EditorError, ValueError):
    """An editor's time cannot be used; the message says why."""


def local_slot(day: date, slot: time, tz: ZoneInfo) -> datetime:
    """`slot` on `day` in `tz` as UTC. A time skipped by a spring-forward change lands after the
    gap (02:30 becomes 03:30); a time repeated in autumn is its first occurrence."""
    # fold=0 gives both behaviours (PEP 495): the earlier offset for repeated and skipped times.
    return datetime.combine(day, slot).replace(tzinfo=tz, fold=0).astimezone(UTC)


def next_slot(
    now: datetime,
    slots: Sequence[time],
    tz: ZoneInfo,
    taken: Iterable[datetime],
    min_gap: timedelta,
) -> datetime:
    """The first slot at or after `now` that is at least `min_gap` (and never zero) away from
    every taken time of the channel."""
    if not slots:
        raise TimeError("the channel has no posting slots configured")
    busy = sorted(taken)
    gap = max(min_gap, timedelta(seconds=1))
    start = now.astimezone(tz).date()
    for offset in range(SEARCH_DAYS):
        day = start + timedelta(days=offset)
        for slot in slots:
            candidate = local_slot(day, slot, tz)
            if candidate < now:
                continue
            if all(abs(candidate - other) >= gap for other in busy):
                return candidate
    raise TimeError(f"no free slot in the next {SEARCH_DAYS} days")


def parse_time(value: str, now: datetime, tz: ZoneInfo) -> datetime:
    """An editor's time as UTC: ISO 8601 with or without offset (without: in `tz`), or HH:MM for
    today in `tz`. Times in the past are refused."""
    text = value.strip()
    try:
        if len(text) <= 5 and ":" in text:
            parsed = datetime.combine(now.astimezone(tz).date(), time.fromisoformat(text))
        else:
            parsed = datetime.fromisoformat(text.replace(" ", "T", 1).replace("Z", "+00:00"))
    except ValueError:
        raise TimeError(
            f"{value!r} is not a time: use HH:MM, 2025-01-31T07:30 or 2025-01-31T07:30+01:00"
        ) from None
    if parsed.tzinfo is None:
        parsed = local_slot(parsed.date(), parsed.time(), tz)
    parsed = parsed.astimezone(UTC)
    if parsed < now - PAST_TOLERANCE:
        shown = parsed.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
        raise TimeError(f"{value!r} ({shown}) is in the past")
    return max(parsed, now)

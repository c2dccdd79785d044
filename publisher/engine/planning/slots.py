"""When posts go out: `When` (now, a time, or each channel's next free slot) and the one way an
editor's words for it are read, whether typed in the CLI, the bot or the desk; a channel's daily
slots in its own time zone with a minimum gap between posts. Pure; results are aware UTC."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from publisher.engine.planning import timewords
from publisher.errors import EditorError

SEARCH_DAYS = 31
# A time an editor gives may be this far behind the clock (typing takes a moment) and mean "now".
PAST_TOLERANCE = timedelta(seconds=60)
# Further ahead than this, a time is a slip of the keyboard (2062 for 2026), not a plan.
MAX_AHEAD = timedelta(days=366)


class TimeError(EditorError, ValueError):
    """An editor's time cannot be used; the message says why."""


class PastTime(TimeError):
    """An editor's time is already past (`at`, as it was read in its zone)."""

    def __init__(self, value: str, at: datetime) -> None:
        shown = at.strftime("%Y-%m-%d %H:%M %Z")
        super().__init__(f"{value!r} ({shown}) is in the past", key="in_past", when=at)


NOW_WORDS = frozenset({"now", "jetzt", "sofort"})
NEXT_WORDS = frozenset(
    {"next", "next_slot", "next-slot", "next slot", "slot", "nächster", "naechster"}
    | {"nächster slot", "naechster slot"}
)
BEST_WORDS = frozenset({"best", "best time", "beste zeit", "bester zeitpunkt"})


@dataclass(frozen=True)
class When:
    """When posts should go out: now, at an instant (aware), in each channel's next free slot
    (a channel without slots refuses it), or at the best free time its history knows of."""

    mode: Literal["now", "at", "next_slot", "best"] = "now"
    at: datetime | None = None

    def __post_init__(self) -> None:
        if self.mode == "at" and (self.at is None or self.at.tzinfo is None):
            raise TimeError("a post's time needs a time zone")

    @classmethod
    def parse(cls, text: str, zone: ZoneInfo, now: datetime) -> When:
        """An editor's words: "now" or "jetzt", "next" or "nächster Slot" (the next free slot),
        or a time as `publisher.engine.planning.timewords` reads it ("+15 min", "9:30 Uhr",
        "morgen 8 Uhr", "03.12. 08:00", ISO 8601), in the newsroom's `zone` unless it carries its
        own offset. Times in the past are refused."""
        word = " ".join(text.strip().lower().split())
        if word in NOW_WORDS:
            return cls("now")
        if word in NEXT_WORDS:
            return cls("next_slot")
        if word in BEST_WORDS:
            return cls("best")
        return cls("at", parse_time(text, now, zone))


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
    start = now.astimezone(tz).date()
    days = (start + timedelta(days=offset) for offset in range(SEARCH_DAYS))
    for candidate in free_slots(days, slots, tz, taken, min_gap, now):
        return candidate
    raise TimeError(
        f"no free slot in the next {SEARCH_DAYS} days", key="no_free_slot", days=SEARCH_DAYS
    )


def free_slots(
    days: Iterable[date],
    slots: Sequence[time],
    tz: ZoneInfo,
    taken: Iterable[datetime],
    min_gap: timedelta,
    now: datetime,
) -> Iterator[datetime]:
    """The channel's slots on `days`, at or after `now`, that are at least `min_gap` (and never
    zero) away from every taken time of the channel: the ones an editor may still fill."""
    busy = sorted(taken)
    gap = max(min_gap, timedelta(seconds=1))
    for day in days:
        for slot in slots:
            candidate = local_slot(day, slot, tz)
            # The taken times nearest the candidate are the ones either side of it.
            at = bisect_left(busy, candidate)
            near = busy[max(at - 1, 0) : at + 1]
            if candidate >= now and all(abs(candidate - other) >= gap for other in near):
                yield candidate


def after_quiet_hours(due: datetime, quiet: tuple[time, time] | None, zone: ZoneInfo) -> datetime:
    """`due`, or the end of the channel's quiet hours when it falls inside them (the window may
    span midnight: 23:00–06:00)."""
    if quiet is None:
        return due
    start, end = quiet
    local = due.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    inside = start <= clock < end if start <= end else clock >= start or clock < end
    if not inside:
        return due
    end_day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(due.tzinfo)


def spaced(due: datetime, taken: Iterable[datetime], gap: timedelta) -> datetime:
    """The first time at or after `due` that is at least `gap` from every taken time (a channel
    without a gap takes any time)."""
    if gap <= timedelta(0):
        return due
    for other in sorted(taken):
        if abs(due - other) < gap:
            due = other + gap
    return due


def parse_time(value: str, now: datetime, tz: ZoneInfo) -> datetime:
    """An editor's time as UTC (see `timewords.read`): a delay from `now`, a wall-clock time in
    `tz`, or an instant with its own offset. Times in the past are refused."""
    said = timewords.read(value, now.astimezone(tz).date())
    if said is None:
        raise _not_a_time(value)
    if isinstance(said, timedelta):
        return not_too_far(value, now + said, now, tz)
    try:
        parsed = local_slot(said.date(), said.time(), tz) if said.tzinfo is None else said
        parsed = parsed.astimezone(UTC)
    except OverflowError:  # the first or last day there is, moved out of range by its zone
        raise _not_a_time(value) from None
    if parsed < now - PAST_TOLERANCE:
        raise PastTime(value, parsed.astimezone(tz))
    return not_too_far(value, max(parsed, now), now, tz)


def not_too_far(value: str, moment: datetime, now: datetime, tz: ZoneInfo) -> datetime:
    """`moment`, unless it lies further ahead than a newsroom plans (MAX_AHEAD)."""
    if moment - now > MAX_AHEAD:
        shown = moment.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
        raise TimeError(
            f"{value!r} ({shown}) is more than a year ahead", key="too_far_ahead", when=shown
        )
    return moment


def _not_a_time(value: str) -> TimeError:
    return TimeError(
        f"{value!r} is not a time: write 09:30, tomorrow 8am, 03.12. 08:00, +15 min or "
        "2025-01-31T07:30+01:00",
        key="not_a_time",
        value=value,
    )

"""When a post goes out: a channel's times already taken, the post nearest a time, its free
slots, and a post's time by its timing (now, a time, its next free slot, the best time its
history knows of), planned around quiet hours, an embargo and `min_gap` for the release rules."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, func, select

from publisher.articles import Article
from publisher.config import Settings
from publisher.engine.lifecycle import TAKING_TIME
from publisher.engine.planning.besttime import best_time, candidates, known
from publisher.engine.planning.slots import (
    SEARCH_DAYS,
    When,
    after_quiet_hours,
    free_slots,
    local_slot,
    next_slot,
    spaced,
)
from publisher.engine.planning.timetable import taken_near
from publisher.engine.storage.schema import posts

# How far past a post's first time `plan` reads the channel's other posts at first.
PLAN_AHEAD = timedelta(days=2)


def closest_post(
    connection: Connection,
    channel: str,
    when: datetime,
    gap: timedelta,
    other_than: Collection[int],
) -> int | None:
    """A post of `channel` (other than those `other_than`) that is out or due less than `gap`
    from `when`, if there is one."""
    moment = func.coalesce(posts.c.sent_at, posts.c.due_at)
    return connection.execute(
        select(posts.c.id)
        .where(
            posts.c.channel == channel,
            posts.c.state.in_(TAKING_TIME),
            posts.c.id.not_in(other_than),
            moment > when - gap,
            moment < when + gap,
        )
        .limit(1)
    ).scalar()


def open_slots(
    engine: Engine,
    settings: Settings,
    name: str,
    now: datetime,
    days: int = 7,
    around: datetime | None = None,
) -> list[datetime]:
    """The slots of channel `name` a post may still take: in the next `days` days, and with
    `around` (when a post is planned for) in the days around that too."""
    zone = settings.channel_tz(name)
    first = now.astimezone(zone).date()
    wanted = {first + timedelta(days=n) for n in range(days)}
    if around is not None:
        planned = around.astimezone(zone).date()
        wanted |= {planned + timedelta(days=n) for n in range(-(days // 2), days // 2 + 1)}
    return free_times(engine, settings, {name: sorted(wanted)}, now)[name]


def free_times(
    engine: Engine,
    settings: Settings,
    days: Mapping[str, Sequence[date]],
    now: datetime,
    besides: Collection[int] = (),
) -> dict[str, list[datetime]]:
    """Each channel's slots on its `days` (in its own zone), from `now` on, that no post of the
    channel other than those `besides` is out or due within its `min_gap` of (never zero): the
    times an editor may still fill, as the desk's calendar and post page offer them and a bulk
    spread takes them. One reading of the posts near those slots serves every channel."""
    offered: dict[str, list[datetime]] = {}
    windows: set[tuple[datetime, datetime]] = set()
    for name, its_days in days.items():
        channel, zone = settings.channels[name], settings.channel_tz(name)
        gap = free_gap(channel.min_gap)
        slots = [local_slot(day, slot, zone) for day in its_days for slot in channel.slots]
        offered[name] = [slot for slot in slots if slot >= now]
        windows |= {(slot - gap, slot + gap) for slot in offered[name]}
    taken = taken_near(engine, list(offered), windows, besides)
    return {
        name: list(
            free_slots(
                days[name],
                settings.channels[name].slots,
                settings.channel_tz(name),
                taken[name],
                free_gap(settings.channels[name].min_gap),
                now,
            )
        )
        for name in offered
    }


def free_gap(minutes: int) -> timedelta:
    """How far a free slot lies from every other post of its channel: its `min_gap`, and never
    on the very time of another post."""
    return max(timedelta(minutes=minutes), timedelta(seconds=1))


def taken_times(
    connection: Connection,
    channel: str,
    since: datetime,
    until: datetime | None = None,
    besides: Collection[int] = (),
) -> list[datetime]:
    """The times in [`since`, `until`) that posts of `channel` (other than those `besides`)
    are out at or due at."""
    moment = func.coalesce(posts.c.sent_at, posts.c.due_at)
    conditions = [
        posts.c.channel == channel,
        posts.c.state.in_(TAKING_TIME),
        moment >= since,
        posts.c.id.not_in(besides),
    ]
    if until is not None:
        conditions.append(moment < until)
    return [row[0] for row in connection.execute(select(moment).where(*conditions))]


def due_at(
    connection: Connection, settings: Settings, name: str, timing: When, now: datetime
) -> datetime:
    """When a post of channel `name` queued now at `timing` goes out: the time given, now, or
    the channel's next free slot (TimeError when it has none)."""
    if timing.mode == "at" and timing.at is not None:
        return timing.at
    if timing.mode == "now":
        return now
    channel = settings.channels[name]
    if timing.mode == "best":
        return _best(connection, settings, name, now)
    # The slots searched lie within SEARCH_DAYS: the posts around them are the ones in the way.
    since, until = now - timedelta(days=1), now + timedelta(days=SEARCH_DAYS + 2)
    return next_slot(
        now,
        channel.slots,
        settings.channel_tz(name),
        taken_times(connection, name, since, until),
        timedelta(minutes=channel.min_gap),
    )


def per_channel(timing: When | Mapping[str, When], names: Iterable[str]) -> dict[str, When]:
    if isinstance(timing, When):
        return dict.fromkeys(names, timing)
    return dict(timing)


def slot_or_now(settings: Settings, name: str) -> When:
    """Channel `name`'s next slot, or now when it has no slots: what a post takes in place of a
    best time the channel's history cannot tell yet, or of a next slot it does not have."""
    return When("next_slot") if settings.channels[name].slots else When("now")


def breaking_now(timing: When, article: Article) -> When:
    """`timing` as `article` takes it: breaking news never waits for a best time, it goes now."""
    return When("now") if article.breaking and timing.mode == "best" else timing


def _best(connection: Connection, settings: Settings, name: str, now: datetime) -> datetime:
    """The best free time the channel's history knows of within the horizon; with too little
    history (or no free time), its next slot, or now when it has no slots."""
    channel = settings.channels[name]
    zone, gap = settings.channel_tz(name), timedelta(minutes=channel.min_gap)
    estimate = known(connection.engine, name)
    if estimate is not None and estimate.enough:
        horizon = timedelta(hours=settings.timing.horizon)
        taken = taken_times(connection, name, now - gap, now + horizon + gap)
        free = candidates(now, horizon, taken, gap, channel.quiet_hours, zone)
        chosen = best_time(estimate, free, zone)
        if chosen is not None:
            return chosen
    return due_at(connection, settings, name, slot_or_now(settings, name), now)


def still_free(
    connection: Connection, settings: Settings, name: str, at: datetime, now: datetime
) -> bool:
    """Whether `at`, a best time an editor was shown, can still be had on channel `name`: not
    past, within the horizon, outside quiet hours and `min_gap` away from its other posts."""
    channel = settings.channels[name]
    gap = timedelta(minutes=channel.min_gap)
    if not now - timedelta(minutes=1) <= at <= now + timedelta(hours=settings.timing.horizon):
        return False
    if after_quiet_hours(at, channel.quiet_hours, settings.channel_tz(name)) != at:
        return False
    return spaced(at, taken_times(connection, name, at - gap, at + gap + gap), gap) == at


def plan(
    connection: Connection,
    settings: Settings,
    name: str,
    timing: When,
    now: datetime,
    adjust: Callable[[str, datetime], datetime],
    latest: datetime | None = None,
) -> datetime:
    """When a post placed by the release rules goes out: its timing, moved later by `adjust`
    (quiet hours, embargo), then to the channel's next slot (with timing next_slot) or to the
    first time `min_gap` away from the channel's other posts, until all of them hold. A time
    past `latest` is given as soon as it is found (the caller refuses it): nothing further ahead
    is read. Raises TimeError when the channel has no free slot."""
    channel = settings.channels[name]
    gap = timedelta(minutes=channel.min_gap)
    # A next slot is searched for here, a few days of posts at a time, rather than by `due_at`
    # over the whole month ahead: a busy month's posts would make every release slower.
    first = now if timing.mode == "next_slot" else due_at(connection, settings, name, timing, now)
    # Every step moves the time later: a post more than the gap before the first time is never
    # in its way, and without a gap or slots none is (nothing is read).
    in_the_way = gap > timedelta(0) or timing.mode == "next_slot"
    # Only the posts near the time can be in its way: those of a few days are read, and the
    # next few days' only when the time settles beyond them (a busy queue has thousands ahead).
    read, until = min(first, now) - gap, max(first, now) + PLAN_AHEAD
    taken: list[datetime] = []
    ahead = PLAN_AHEAD
    while True:
        if in_the_way:
            taken += taken_times(connection, name, read, until)
            read = until
        due = first
        # Each step only moves later; a few rounds settle any quiet hours, slots and gaps.
        for _ in range(10):
            moved = adjust(name, due)
            if timing.mode == "next_slot":
                moved = next_slot(moved, channel.slots, settings.channel_tz(name), taken, gap)
            else:
                moved = spaced(moved, taken, gap)
            if moved == due:
                break
            due = moved
        if due + gap < until or (latest is not None and due > latest):
            return due
        # Each further reading looks twice as far: a booked month takes a few, not fifteen.
        ahead *= 2
        until = due + gap + ahead

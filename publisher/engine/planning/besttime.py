"""The timing `best`: among a channel's free times within the horizon (every quarter hour, its
quiet hours and `min_gap` kept), the one whose hour of the week wins a Thompson draw from what
the channel's history says (`publisher.engine.learning.estimate`). A channel whose history is
too short keeps to its slots; breaking news never waits for a best time (the callers send it
now)."""

from __future__ import annotations

import random
import time as clock
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from publisher.config import Settings
from publisher.engine.learning.estimate import Estimate
from publisher.engine.learning.history import learned
from publisher.engine.planning.slots import When, after_quiet_hours, spaced

STEP = timedelta(minutes=15)
# How long an estimate is used before it is learned again from the measurements since.
FRESH_FOR = 600.0

_rng = random.Random()
_learned: dict[tuple[str, str], tuple[float, Estimate]] = {}


def recently_learned(engine: Engine, settings: Settings, channel: str) -> Estimate:
    """The channel's estimate, learned again at most every FRESH_FOR seconds. Learning reads
    the channel's history: done before a transaction that queues with `best` opens (inside,
    `known` answers), as a second connection would wait for that transaction on SQLite."""
    key = (str(engine.url), channel)
    kept = _learned.get(key)
    if kept is None or clock.monotonic() - kept[0] > FRESH_FOR:
        kept = (clock.monotonic(), learned(engine, settings, channel))
        _learned[key] = kept
    return kept[1]


def known(engine: Engine, channel: str) -> Estimate | None:
    """The channel's estimate as last learned (None: never learned in this process)."""
    kept = _learned.get((str(engine.url), channel))
    return kept[1] if kept is not None else None


def learn_for(engine: Engine, settings: Settings, timings: dict[str, When]) -> None:
    """Learn, before queueing, the estimates of the channels about to be queued with `best`."""
    for name, timing in timings.items():
        if timing.mode == "best" and name in settings.channels:
            recently_learned(engine, settings, name)


def candidates(
    now: datetime,
    horizon: timedelta,
    taken: Iterable[datetime],
    gap: timedelta,
    quiet: tuple[time, time] | None,
    zone: ZoneInfo,
) -> list[datetime]:
    """The free times from now to the horizon, a quarter hour apart: outside quiet hours and
    `gap` away from every taken time."""
    taken = list(taken)
    aligned = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0) + STEP
    moments = [now, *(aligned + step * STEP for step in range(int(horizon / STEP)))]
    return [
        moment
        for moment in moments
        if moment <= now + horizon
        and after_quiet_hours(moment, quiet, zone) == moment
        and spaced(moment, taken, gap) == moment
    ]


def best_time(
    estimate: Estimate, free: list[datetime], zone: ZoneInfo, rng: random.Random | None = None
) -> datetime | None:
    """The free time a Thompson draw picks; None when there is none."""
    if not free:
        return None
    return estimate.pick(free, zone, rng or _rng)

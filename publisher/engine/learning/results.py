"""What sent posts achieved: which posts are due a measurement (1 hour, 24 hours and 7 days after
they went out, then no more), each channel asked for its numbers a batch at a time, and the
numbers kept as history (`measurements`). A rate limit is waited out at the channel's next
round; a refused token stops measuring that channel for a while, never its posting. A channel
whose platform reports each message's status is counted from the statuses recorded, one whose
platform pushes its numbers from the numbers last heard."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, exists, func, select

from publisher import roster
from publisher.channels import ChannelError, Result, channel_class
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.learning.pushed import heard_results
from publisher.engine.lifecycle import RATE_LIMIT_FALLBACK, Outcome, State
from publisher.engine.storage.schema import deliveries, measurements, posts, upsert

logger = logging.getLogger(__name__)

# The points a post is measured at, latest first: a post whose worker was down past a point is
# measured once, at the latest it has reached (its earlier points are not made up afterwards).
POINTS = (("7d", timedelta(days=7)), ("24h", timedelta(hours=24)), ("1h", timedelta(hours=1)))
LAST = POINTS[0][0]
# A measurement asked for before a post's first point (`stats collect`).
FIRST = "first"
# How long a channel whose token was refused is left alone before it is asked again.
AUTH_REST = timedelta(hours=1)


@dataclass(frozen=True)
class Due:
    """A post to measure now, at `point`."""

    post_id: int
    channel: str
    remote_id: str
    point: str


@dataclass
class Round:
    """What one round of measuring did: posts measured by channel, and the channels that were
    not asked (or stopped) with the reason, in English for the log and the command line."""

    measured: dict[str, int] = field(default_factory=dict)
    waiting: dict[str, str] = field(default_factory=dict)


def reached(sent_at: datetime, now: datetime) -> str | None:
    """The latest point a post sent at `sent_at` has reached by `now` (None: not the first)."""
    return next((name for name, after in POINTS if sent_at + after <= now), None)


def due(
    connection: Connection,
    now: datetime,
    channel: str | None = None,
    every_unmeasured: bool = False,
) -> list[Due]:
    """The posts to measure now: those past a point they have no measurement at (and not
    measured at the last point yet); with `every_unmeasured`, also every sent post never
    measured, at FIRST."""
    finished = exists().where(
        and_(measurements.c.post_id == posts.c.id, measurements.c.point == LAST)
    )
    query = select(posts.c.id, posts.c.channel, posts.c.remote_id, posts.c.sent_at).where(
        posts.c.state == State.SENT,
        posts.c.remote_id.is_not(None),
        posts.c.sent_at.is_not(None),
        ~finished,
    )
    if channel is not None:
        query = query.where(posts.c.channel == channel)
    candidates = connection.execute(query.order_by(posts.c.sent_at)).all()
    taken: dict[int, set[str]] = defaultdict(set)
    ids = [row.id for row in candidates]
    for start in range(0, len(ids), 500):
        for post_id, point in connection.execute(
            select(measurements.c.post_id, measurements.c.point).where(
                measurements.c.post_id.in_(ids[start : start + 500])
            )
        ):
            taken[post_id].add(point)
    found = []
    for row in candidates:
        point = reached(row.sent_at, now)
        if point is None and every_unmeasured and not taken[row.id]:
            point = FIRST
        if point is not None and point not in taken[row.id]:
            found.append(Due(row.id, row.channel, str(row.remote_id), point))
    return found


def _batches(items: list[Due], size: int) -> Iterable[list[Due]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Measurer:
    """Measures the posts that are due, channel by channel; remembers which channels rest (a
    rate limit, a refused token) until when. One per running worker."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.resting: dict[str, tuple[datetime, str]] = {}

    def run(
        self,
        now: datetime | None = None,
        channel: str | None = None,
        every_unmeasured: bool = False,
    ) -> Round:
        """One round: every post due (of `channel`, or all), a batch at a time."""
        now = now or utcnow()
        with self.engine.connect() as connection:
            found = due(connection, now, channel, every_unmeasured)
        by_channel: dict[str, list[Due]] = defaultdict(list)
        for one in found:
            by_channel[one.channel].append(one)
        done = Round()
        for name, waiting in by_channel.items():
            why = self._unmeasurable(name, now)
            if why:
                done.waiting[name] = why
                continue
            told = channel_class(self.settings.channels[name].type)
            if told.results_from_statuses or told.results_pushed:
                answered = (
                    counted_statuses(self.engine, waiting)
                    if told.results_from_statuses
                    else heard_results(
                        self.engine, self.settings, name, {d.post_id: d.remote_id for d in waiting}
                    )
                )
                self._keep(waiting, answered, now)
                done.measured[name] = len(answered)
                continue
            adapter = roster.sender(self.settings, name)
            try:
                for batch in _batches(waiting, adapter.results_per_call):
                    answered = adapter.results([one.remote_id for one in batch])
                    self._keep(batch, answered, now)
                    done.measured[name] = done.measured.get(name, 0) + len(answered)
            except ChannelError as exc:
                done.waiting[name] = self._rest(name, exc, now)
            finally:
                adapter.close()
        return done

    def _unmeasurable(self, name: str, now: datetime) -> str | None:
        """Why a channel is not asked now, if it is not."""
        if name not in self.settings.channels:
            return "no longer configured"
        if self.settings.channels[name].dry_run:
            return "a dry run: its posts are not on the platform"
        told = channel_class(self.settings.channels[name].type)
        if not (told.results_per_call or told.results_from_statuses or told.results_pushed):
            return "its platform tells no results"
        resting = self.resting.get(name)
        if resting is not None and resting[0] > now:
            return resting[1]
        return None

    def _rest(self, name: str, error: ChannelError, now: datetime) -> str:
        """After a refusal: until when the channel is left alone, and why."""
        if error.kind == "rate_limited":
            until = now + timedelta(seconds=error.retry_after or RATE_LIMIT_FALLBACK)
            why = f"rate limited: measuring again after {until:%H:%M} UTC"
        elif error.kind == "auth":
            until = now + AUTH_REST
            why = f"the token was refused: measuring paused until {until:%H:%M} UTC"
        else:
            # Transient, unclear or refused: the next round asks again.
            until, why = now, f"the platform failed: {error.message}"
        self.resting[name] = (until, why)
        logger.warning("results of %s: %s", name, why)
        return why

    def _keep(self, batch: list[Due], answered: dict[str, Result], now: datetime) -> None:
        rows: list[dict[str, Any]] = [
            {
                "post_id": one.post_id,
                "channel": one.channel,
                "point": one.point,
                "measured_at": now,
                "metrics": answered[one.remote_id].metrics,
                "raw": answered[one.remote_id].raw,
            }
            for one in batch
            if one.remote_id in answered
        ]
        if not rows:
            return
        with self.engine.begin() as connection:
            # Another worker may have measured the same point meanwhile: its numbers stand.
            connection.execute(
                upsert(connection, measurements).on_conflict_do_nothing(
                    index_elements=["post_id", "point"]
                ),
                rows,
            )


def counted_statuses(engine: Engine, waiting: list[Due]) -> dict[str, Result]:
    """Each post's messages by the latest status the platform reported of them: sent (every
    message taken), delivered (delivered or read), read; `reads` is the last."""
    counts: dict[int, Counter[str]] = {one.post_id: Counter() for one in waiting}
    with engine.connect() as connection:
        for post_id, status, number in connection.execute(
            select(deliveries.c.post_id, deliveries.c.status, func.count())
            .where(
                deliveries.c.post_id.in_(list(counts)),
                deliveries.c.outcome == Outcome.SENT,
            )
            .group_by(deliveries.c.post_id, deliveries.c.status)
        ):
            counts[post_id][status or "sent"] += number
    found = {}
    for one in waiting:
        by_status = counts[one.post_id]
        raw = {
            "sent": sum(by_status.values()) - by_status["failed"],
            "delivered": by_status["delivered"] + by_status["read"],
            "read": by_status["read"],
            "failed": by_status["failed"],
        }
        found[one.remote_id] = Result.of(raw, reads=raw["read"])
    return found

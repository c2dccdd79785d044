"""Taking a withdrawn article's posts down from their platforms. Withdrawing plans a takedown
for each post out (or going out) on a channel that takes posts down (engine/posts/takedowns.py);
a worker claims the due ones under a lease, calls the channel's `remove`, and records each
attempt as a delivery (action "remove"). Removing is idempotent on every platform (a post
already gone counts as done), so a takedown whose worker vanished is simply tried again: a
post is never left standing, and the platform sees one removal whatever happened on our side."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, insert, select, update

from publisher.channels import Channel, ChannelError
from publisher.channels.base import Removed
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.lifecycle import (
    RATE_LIMIT_FALLBACK,
    TAKEN_DOWN,
    Outcome,
    State,
    backoff,
)
from publisher.engine.posts.queue import record_event
from publisher.engine.posts.takedowns import TakedownState
from publisher.engine.storage.changes import notify_change
from publisher.engine.storage.schema import deliveries, posts, takedowns

logger = logging.getLogger(__name__)

# What a takedown's delivery rows say they did.
REMOVE = "remove"
# What a post with no id on its platform (marked sent by an editor) says instead of a removal.
NO_REMOTE_ID = "the platform's id of this post is not known: take it down there by hand"


@dataclass(frozen=True)
class Takedown:
    """A takedown this worker holds: the post, its id on the platform, this attempt's row."""

    post_id: int
    channel: str
    remote_id: str | None
    attempt: int
    delivery_id: int
    requested_by: str


@dataclass(frozen=True)
class TakenDown:
    """What one attempt came to, for logs."""

    takedown: Takedown
    outcome: Outcome
    state: TakedownState
    error: ChannelError | None = None


class Takedowns:
    """Claims, carries out and records takedowns, for one worker process."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        worker: str,
        adapters: dict[str, Channel],
        rng: random.Random,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.worker = worker
        self.adapters = adapters
        self.rng = rng
        self.lease = timedelta(seconds=settings.engine.lease)

    def claim(self, now: datetime | None = None, limit: int = 20) -> list[Takedown]:
        """Take due takedowns whose post is out into `working`, each with its delivery row; a
        takedown whose post never went out ends, as there is nothing to take down."""
        now = now or utcnow()
        with self.engine.begin() as connection:
            self._close_unneeded(connection, now)
            rows = connection.execute(
                select(
                    takedowns.c.post_id,
                    takedowns.c.channel,
                    takedowns.c.attempts,
                    takedowns.c.requested_by,
                    posts.c.remote_id,
                )
                .join(posts, posts.c.id == takedowns.c.post_id)
                .where(
                    takedowns.c.state == TakedownState.DUE,
                    takedowns.c.due_at <= now,
                    posts.c.state == State.SENT,
                    takedowns.c.channel.in_(list(self.adapters)),
                )
                .order_by(takedowns.c.due_at)
                .limit(limit)
                .with_for_update(skip_locked=True, of=takedowns)
            ).all()
            return [claimed for row in rows if (claimed := self._take(connection, row, now))]

    def _take(self, connection: Connection, row: Row, now: datetime) -> Takedown | None:
        post_id: int = row.post_id
        attempt: int = row.attempts + 1
        taken = connection.execute(
            update(takedowns)
            .where(takedowns.c.post_id == post_id, takedowns.c.state == TakedownState.DUE)
            .values(
                state=TakedownState.WORKING,
                worker=self.worker,
                lease_until=now + self.lease,
                attempts=attempt,
            )
        ).rowcount
        if not taken:
            return None
        channel: str = row.channel
        remote_id: str | None = row.remote_id
        delivery_id = connection.execute(
            insert(deliveries).values(
                post_id=post_id,
                channel=channel,
                attempt=attempt,
                worker=self.worker,
                started_at=now,
                outcome=Outcome.PENDING,
                payload={"remove": remote_id},
                action=REMOVE,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        return Takedown(post_id, channel, remote_id, attempt, delivery_id, row.requested_by)

    @staticmethod
    def _close_unneeded(connection: Connection, now: datetime) -> None:
        """Takedowns whose post never went out (its attempt failed, or an editor cancelled it
        while it was unclear) end: nothing of it stands."""
        gone = select(posts.c.id).where(
            posts.c.state.in_((State.FAILED, State.CANCELLED, State.QUEUED))
        )
        connection.execute(
            update(takedowns)
            .where(takedowns.c.state == TakedownState.DUE, takedowns.c.post_id.in_(gone))
            .values(state=TakedownState.NOT_NEEDED, finished_at=now)
        )

    def carry_out(self, takedown: Takedown) -> TakenDown:
        """Ask the platform to remove the post, and record what it said."""
        clock = time.perf_counter()
        removed: Removed | None = None
        error: ChannelError | None = None
        if takedown.remote_id is None:
            error = ChannelError("permanent", NO_REMOTE_ID)
        else:
            try:
                removed = self.adapters[takedown.channel].remove(takedown.remote_id)
            except ChannelError as exc:
                error = exc
            except Exception as exc:  # an adapter bug: removing again later is safe
                logger.exception("channel %s failed unexpectedly", takedown.channel)
                error = ChannelError("transient", f"{takedown.channel}: {type(exc).__name__}")
        return self._record(takedown, removed, error, time.perf_counter() - clock)

    def _record(
        self,
        takedown: Takedown,
        removed: Removed | None,
        error: ChannelError | None,
        seconds: float,
    ) -> TakenDown:
        now = utcnow()
        outcome = Outcome(removed) if removed else Outcome.of(error)
        values = self._next(takedown, error, now)
        with self.engine.begin() as connection:
            connection.execute(
                update(deliveries)
                .where(deliveries.c.id == takedown.delivery_id)
                .values(
                    finished_at=now,
                    outcome=outcome,
                    error_class=error.kind if error else None,
                    error=error.message if error else None,
                    latency_ms=round(seconds * 1000),
                )
            )
            mine = connection.execute(
                update(takedowns)
                .where(
                    takedowns.c.post_id == takedown.post_id,
                    takedowns.c.worker == self.worker,
                    takedowns.c.attempts == takedown.attempt,
                    takedowns.c.state == TakedownState.WORKING,
                )
                .values(worker=None, lease_until=None, **values)
            ).rowcount
            if mine and values["state"] == TakedownState.DONE:
                connection.execute(
                    update(posts)
                    .where(posts.c.id == takedown.post_id, posts.c.state == State.SENT)
                    .values(state=State.TAKEN_DOWN, updated_at=now)
                )
                record_event(
                    connection, [takedown.post_id], takedown.requested_by, TAKEN_DOWN, now, outcome
                )
            notify_change(connection)
        taken = TakenDown(takedown, outcome, TakedownState(values["state"]), error)
        self._log(taken)
        return taken

    def _next(
        self, takedown: Takedown, error: ChannelError | None, now: datetime
    ) -> dict[str, Any]:
        """The takedown's values after an attempt: done, due again later, or failed."""
        if error is None:
            return {"state": TakedownState.DONE, "finished_at": now, "error": None}
        channel = self.settings.channels[takedown.channel]
        if error.kind == "rate_limited":
            wait = error.retry_after or RATE_LIMIT_FALLBACK
        elif error.kind in ("transient", "uncertain") and takedown.attempt < channel.max_attempts:
            wait = backoff(takedown.attempt, channel.retry_base, channel.retry_max, self.rng)
        else:
            return {"state": TakedownState.FAILED, "finished_at": now, "error": error.message}
        return {
            "state": TakedownState.DUE,
            "due_at": now + timedelta(seconds=wait),
            "error": error.message,
        }

    @staticmethod
    def _log(taken: TakenDown) -> None:
        takedown = taken.takedown
        context = {"post_id": takedown.post_id, "channel": takedown.channel}
        if taken.error is None:
            logger.info(
                "post %s taken down from %s (%s)",
                takedown.post_id,
                takedown.channel,
                taken.outcome,
                extra=context,
            )
            return
        level = logging.ERROR if taken.state == TakedownState.FAILED else logging.WARNING
        logger.log(
            level,
            "post %s: taking it down from %s: %s (%s)",
            takedown.post_id,
            takedown.channel,
            taken.error.message,
            taken.error.kind,
            extra=context,
        )

    def expire(self, now: datetime | None = None) -> int:
        """Takedowns whose worker vanished are due again at once (removing twice is harmless:
        the platform says the post is gone); their attempt's outcome stays unclear."""
        now = now or utcnow()
        with self.engine.begin() as connection:
            ids = list(
                connection.execute(
                    select(takedowns.c.post_id)
                    .where(
                        takedowns.c.state == TakedownState.WORKING, takedowns.c.lease_until < now
                    )
                    .with_for_update(skip_locked=True)
                ).scalars()
            )
            if not ids:
                return 0
            connection.execute(
                update(takedowns)
                .where(takedowns.c.post_id.in_(ids))
                .values(state=TakedownState.DUE, due_at=now, worker=None, lease_until=None)
            )
            connection.execute(
                update(deliveries)
                .where(
                    deliveries.c.post_id.in_(ids),
                    deliveries.c.action == REMOVE,
                    deliveries.c.outcome == Outcome.PENDING,
                )
                .values(outcome=Outcome.UNCERTAIN, finished_at=now)
            )
        logger.warning("%d takedowns were left by a stopped worker; trying them again", len(ids))
        return len(ids)

    def next_due(self) -> datetime | None:
        """When a takedown next falls due or a takedown's lease runs out."""
        with self.engine.connect() as connection:
            due = connection.execute(
                select(func.min(takedowns.c.due_at))
                .join(posts, posts.c.id == takedowns.c.post_id)
                .where(takedowns.c.state == TakedownState.DUE, posts.c.state == State.SENT)
            ).scalar()
            lease = connection.execute(
                select(func.min(takedowns.c.lease_until)).where(
                    takedowns.c.state == TakedownState.WORKING
                )
            ).scalar()
        found = [t for t in (due, lease) if t is not None]
        return min(found) if found else None

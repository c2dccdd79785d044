"""Carrying out what is done to posts after they went out (engine/posts/amendments.py): a
worker claims the due amendments under a lease, calls the channel (`remove` to take a post
down, `edit` to correct it), and records each attempt as a delivery (its action "remove" or
"edit"). Both are idempotent on every platform (a post already gone counts as taken down, an
edit sets the same text again), so an amendment whose worker vanished is simply tried again:
a post is never left standing or uncorrected, and a post's amendments run one at a time."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, insert, select, update

from publisher.channels import Channel, ChannelError
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.lifecycle import (
    AFTER_ERROR,
    CORRECTED,
    RATE_LIMIT_FALLBACK,
    TAKEN_DOWN,
    Outcome,
    State,
    Then,
    backoff,
)
from publisher.engine.posts.amendments import UNFINISHED, Action, AmendmentState
from publisher.engine.posts.queue import record_event
from publisher.engine.storage.changes import notify_change
from publisher.engine.storage.schema import amendments, deliveries, posts

logger = logging.getLogger(__name__)

# What a post with no id on its platform (marked sent by an editor) says instead.
NO_REMOTE_ID = "the platform's id of this post is not known: see to it there by hand"


@dataclass(frozen=True)
class Amendment:
    """An amendment this worker holds: what it does to which post, the post's id on the
    platform, the new text of an edit, and this attempt's delivery row."""

    id: int
    post_id: int
    channel: str
    action: Action
    remote_id: str | None
    text: str | None
    attempt: int
    delivery_id: int
    requested_by: str


@dataclass(frozen=True)
class Amended:
    """What one attempt came to, for logs."""

    amendment: Amendment
    outcome: Outcome
    state: AmendmentState
    error: ChannelError | None = None


class Amendments:
    """Claims, carries out and records amendments, for one worker process."""

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

    def claim(self, now: datetime | None = None, limit: int = 20) -> list[Amendment]:
        """Take due amendments whose post is out, and no older one of the post unfinished,
        into `working`, each with its delivery row; one whose post never went out ends, as
        there is nothing to amend."""
        now = now or utcnow()
        older = amendments.alias("older")
        waiting_for_older = (
            select(older.c.id)
            .where(
                older.c.post_id == amendments.c.post_id,
                older.c.id < amendments.c.id,
                older.c.state.in_(UNFINISHED),
            )
            .exists()
        )
        with self.engine.begin() as connection:
            rows = connection.execute(
                select(
                    amendments.c.id,
                    amendments.c.post_id,
                    amendments.c.channel,
                    amendments.c.action,
                    amendments.c.text,
                    amendments.c.attempts,
                    amendments.c.requested_by,
                    posts.c.remote_id,
                    posts.c.state.label("post_state"),
                )
                .join(posts, posts.c.id == amendments.c.post_id)
                .where(
                    amendments.c.state == AmendmentState.DUE,
                    amendments.c.due_at <= now,
                    # A post still going out, or unclear, is waited for.
                    posts.c.state.not_in((State.SENDING, State.UNCERTAIN)),
                    amendments.c.channel.in_(list(self.adapters)),
                    ~waiting_for_older,
                )
                .order_by(amendments.c.due_at, amendments.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=amendments)
            ).all()
            unneeded = [row.id for row in rows if row.post_state != State.SENT]
            if unneeded:
                # Its post never went out (it failed, an editor cancelled it while it was
                # unclear) or is gone already: there is nothing to amend.
                connection.execute(
                    update(amendments)
                    .where(amendments.c.id.in_(unneeded))
                    .values(state=AmendmentState.NOT_NEEDED, finished_at=now)
                )
            out = [row for row in rows if row.post_state == State.SENT]
            return [claimed for row in out if (claimed := self._take(connection, row, now))]

    def _take(self, connection: Connection, row: Row, now: datetime) -> Amendment | None:
        attempt: int = row.attempts + 1
        taken = connection.execute(
            update(amendments)
            .where(amendments.c.id == row.id, amendments.c.state == AmendmentState.DUE)
            .values(
                state=AmendmentState.WORKING,
                worker=self.worker,
                lease_until=now + self.lease,
                attempts=attempt,
            )
        ).rowcount
        if not taken:
            return None
        delivery_id = connection.execute(
            insert(deliveries).values(
                post_id=row.post_id,
                channel=row.channel,
                attempt=attempt,
                worker=self.worker,
                started_at=now,
                outcome=Outcome.PENDING,
                payload={row.action: row.remote_id},
                action=row.action,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        return Amendment(
            id=row.id,
            post_id=row.post_id,
            channel=row.channel,
            action=Action(row.action),
            remote_id=row.remote_id,
            text=row.text,
            attempt=attempt,
            delivery_id=delivery_id,
            requested_by=row.requested_by,
        )

    def carry_out(self, amendment: Amendment) -> Amended:
        """Ask the platform to remove or edit the post, and record what it said."""
        clock = time.perf_counter()
        done: Outcome | None = None
        error: ChannelError | None = None
        channel = self.adapters[amendment.channel]
        try:
            if amendment.remote_id is None:
                raise ChannelError("permanent", NO_REMOTE_ID)
            if amendment.action == Action.REMOVE:
                done = Outcome(channel.remove(amendment.remote_id))
            else:
                channel.edit(amendment.remote_id, amendment.text or "")
                done = Outcome.EDITED
        except ChannelError as exc:
            error = exc
        except Exception as exc:  # an adapter bug: doing it again later is safe
            logger.exception("channel %s failed unexpectedly", amendment.channel)
            error = ChannelError("transient", f"{amendment.channel}: {type(exc).__name__}")
        return self._record(amendment, done, error, time.perf_counter() - clock)

    def _record(
        self,
        amendment: Amendment,
        done: Outcome | None,
        error: ChannelError | None,
        seconds: float,
    ) -> Amended:
        now = utcnow()
        outcome = done or Outcome.of(error)
        values = self._next(amendment, error, now)
        with self.engine.begin() as connection:
            connection.execute(
                update(deliveries)
                .where(deliveries.c.id == amendment.delivery_id)
                .values(
                    finished_at=now,
                    outcome=outcome,
                    error_class=error.kind if error else None,
                    error=error.message if error else None,
                    latency_ms=round(seconds * 1000),
                )
            )
            mine = connection.execute(
                update(amendments)
                .where(
                    amendments.c.id == amendment.id,
                    amendments.c.worker == self.worker,
                    amendments.c.attempts == amendment.attempt,
                    amendments.c.state == AmendmentState.WORKING,
                )
                .values(worker=None, lease_until=None, **values)
            ).rowcount
            if mine and values["state"] == AmendmentState.DONE:
                self._done(connection, amendment, outcome, now)
            notify_change(connection)
        amended = Amended(amendment, outcome, AmendmentState(values["state"]), error)
        self._log(amended)
        return amended

    @staticmethod
    def _done(
        connection: Connection, amendment: Amendment, outcome: Outcome, now: datetime
    ) -> None:
        """What a finished amendment makes of its post: taken down, or its new text."""
        post = posts.c.id == amendment.post_id
        if amendment.action == Action.REMOVE:
            connection.execute(
                update(posts)
                .where(post, posts.c.state == State.SENT)
                .values(state=State.TAKEN_DOWN, updated_at=now)
            )
            event, detail = TAKEN_DOWN, None
        else:
            connection.execute(
                update(posts).where(post).values(text=amendment.text, updated_at=now)
            )
            event, detail = CORRECTED, amendment.text or ""
        record_event(connection, [amendment.post_id], amendment.requested_by, event, now, detail)

    def _next(
        self, amendment: Amendment, error: ChannelError | None, now: datetime
    ) -> dict[str, Any]:
        """The amendment's values after an attempt: done, due again later, or failed."""
        if error is None:
            return {"state": AmendmentState.DONE, "finished_at": now, "error": None}
        channel = self.settings.channels[amendment.channel]
        then = AFTER_ERROR[error.kind]
        # Doing an amendment again is harmless, so one left unclear is simply tried again;
        # a refused credential fails it for an editor (no post waits behind it).
        if then == Then.ASK:
            then = Then.RETRY
        if then == Then.WAIT:
            wait = error.retry_after or RATE_LIMIT_FALLBACK
        elif then == Then.RETRY and amendment.attempt < channel.max_attempts:
            wait = backoff(amendment.attempt, channel.retry_base, channel.retry_max, self.rng)
        else:
            return {"state": AmendmentState.FAILED, "finished_at": now, "error": error.message}
        return {
            "state": AmendmentState.DUE,
            "due_at": now + timedelta(seconds=wait),
            "error": error.message,
        }

    @staticmethod
    def _log(amended: Amended) -> None:
        amendment = amended.amendment
        context = {"post_id": amendment.post_id, "channel": amendment.channel}
        if amended.error is None:
            logger.info(
                "post %s on %s: %s (%s)",
                amendment.post_id,
                amendment.channel,
                amendment.action,
                amended.outcome,
                extra=context,
            )
            return
        level = logging.ERROR if amended.state == AmendmentState.FAILED else logging.WARNING
        logger.log(
            level,
            "post %s on %s: %s: %s (%s)",
            amendment.post_id,
            amendment.channel,
            amendment.action,
            amended.error.message,
            amended.error.kind,
            extra=context,
        )

    def expire(self, now: datetime | None = None) -> int:
        """Amendments whose worker vanished are due again at once (doing one twice is
        harmless: a post gone is said to be gone, an edit sets the same text); their
        attempt's outcome stays unclear."""
        now = now or utcnow()
        with self.engine.begin() as connection:
            rows = connection.execute(
                select(amendments.c.id, amendments.c.post_id)
                .where(
                    amendments.c.state == AmendmentState.WORKING,
                    amendments.c.lease_until < now,
                )
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            connection.execute(
                update(amendments)
                .where(amendments.c.id.in_([row.id for row in rows]))
                .values(state=AmendmentState.DUE, due_at=now, worker=None, lease_until=None)
            )
            connection.execute(
                update(deliveries)
                .where(
                    deliveries.c.post_id.in_([row.post_id for row in rows]),
                    deliveries.c.action.in_(list(Action)),
                    deliveries.c.outcome == Outcome.PENDING,
                )
                .values(outcome=Outcome.UNCERTAIN, finished_at=now)
            )
        logger.warning("%d amendments were left by a stopped worker; trying them again", len(rows))
        return len(rows)

    def next_due(self) -> datetime | None:
        """When an amendment next falls due or an amendment's lease runs out."""
        with self.engine.connect() as connection:
            due = connection.execute(
                select(func.min(amendments.c.due_at))
                .join(posts, posts.c.id == amendments.c.post_id)
                .where(amendments.c.state == AmendmentState.DUE, posts.c.state == State.SENT)
            ).scalar()
            lease = connection.execute(
                select(func.min(amendments.c.lease_until)).where(
                    amendments.c.state == AmendmentState.WORKING
                )
            ).scalar()
        found = [t for t in (due, lease) if t is not None]
        return min(found) if found else None

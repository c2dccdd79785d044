"""Deliver due posts exactly once: claim them in one short transaction, call the channel with no
transaction open, record the outcome in another. A post left `sending` past its lease was maybe
posted and becomes `uncertain`; it is never re-sent blindly."""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, delete, func, insert, select, update

from channels import Channel, ChannelError, Outgoing, Receipt
from channels.log import Log
from publisher.config import ChannelSettings, Settings
from publisher.queue import active_pauses, utcnow
from publisher.schema import channel_pauses, deliveries, posts
from publisher.teasers import make_channel

logger = logging.getLogger("publisher.dispatch")


@dataclass(frozen=True)
class Claimed:
    """A post this worker holds in `sending`, with the delivery row of this attempt."""

    post_id: int
    delivery_id: int
    channel: str
    due_at: datetime
    claimed_at: datetime
    retries: int
    message: Outgoing


@dataclass(frozen=True)
class Delivered:
    """What one attempt came to, for logs and metrics."""

    claimed: Claimed
    outcome: str
    state: str
    started_at: datetime
    seconds: float
    receipt: Receipt | None = None
    error: ChannelError | None = None


# Records are the hot path: statements built once, with parameters, compile once.
_RECORD_DELIVERY = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("match_delivery"))
    .values(
        {
            column: bindparam(f"new_{column}")
            for column in (
                "finished_at",
                "outcome",
                "remote_id",
                "permalink",
                "error_class",
                "error",
                "latency_ms",
            )
        }
    )
)
# A post whose lease ran out was marked uncertain meanwhile; what the worker learnt wins.
_RECORD_POST = (
    update(posts)
    .where(
        posts.c.id == bindparam("match_post"),
        posts.c.worker == bindparam("match_worker"),
        posts.c.state.in_(("sending", "uncertain")),
    )
    .values(
        {
            column: bindparam(f"new_{column}")
            for column in (
                "state",
                "due_at",
                "retries",
                "sent_at",
                "remote_id",
                "permalink",
                "error_class",
                "error",
            )
        }
        | {"worker": None, "lease_until": None, "updated_at": bindparam("new_updated_at")}
    )
)


def worker_name() -> str:
    """A name for this worker process that no other process shares."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def backoff(retries: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with equal jitter: half the delay fixed, half random."""
    delay = min(cap, base * 2 ** max(retries - 1, 0))
    return delay / 2 + rng.uniform(0, delay / 2)


class Dispatcher:
    """Claims, sends and records posts for one worker process."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        worker: str | None = None,
        rng: random.Random | None = None,
        on_delivered: Callable[[Delivered], None] | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.worker = worker or worker_name()
        self.rng = rng or random.Random()
        self.on_delivered = on_delivered
        self.adapters: dict[str, Channel] = {
            name: self._adapter(name, channel) for name, channel in settings.channels.items()
        }
        self.lease = timedelta(seconds=settings.engine.lease)
        # When a rate limit or an auth error stopped a channel: posts of it claimed before then
        # and not yet sent go back to the queue unsent.
        self._halted: dict[str, datetime] = {}

    @staticmethod
    def _adapter(name: str, channel: ChannelSettings) -> Channel:
        if channel.dry_run:
            return Log(name, channel.model_dump())
        return make_channel(name, channel)

    def _concurrency(self, name: str) -> int:
        return self.settings.channels[name].concurrency or type(self.adapters[name]).concurrency

    @staticmethod
    def _in_flight(connection: Connection, name: str) -> int:
        return connection.execute(
            select(func.count()).where(posts.c.channel == name, posts.c.state == "sending")
        ).scalar_one()

    def _budget(self, connection: Connection, name: str, in_flight: int, now: datetime) -> int:
        budget = self._concurrency(name) - in_flight
        channel = self.settings.channels[name]
        if channel.rate_limit and budget > 0:
            window_start = now - timedelta(seconds=channel.rate_period)
            recent = connection.execute(
                select(func.count()).where(
                    deliveries.c.channel == name,
                    deliveries.c.started_at > window_start,
                    deliveries.c.outcome != "released",
                )
            ).scalar_one()
            budget = min(budget, channel.rate_limit - recent)
        return budget

    def _lock_channel(self, connection: Connection, name: str) -> None:
        # On PostgreSQL one worker at a time claims a channel (claims take milliseconds), so
        # concurrency and rate budgets hold across workers. Channels are always locked in the
        # configured order, so two workers cannot wait on each other.
        if connection.dialect.name == "postgresql":
            key = zlib.crc32(f"publisher:{name}".encode()) - 2**31
            connection.execute(select(func.pg_advisory_xact_lock(key)))

    def claim(self, now: datetime | None = None, limit: int | None = None) -> list[Claimed]:
        """Take due posts of channels that are not paused into `sending`, within each channel's
        concurrency and rate limit, and open a delivery row for each."""
        now = now or utcnow()
        limit = limit or self.settings.engine.batch
        claimed: list[Claimed] = []
        with self.engine.begin() as connection:
            paused = active_pauses(connection, now)
            for name in self.settings.channels:
                room = limit - len(claimed)
                if room <= 0:
                    break
                if name in paused:
                    continue
                self._lock_channel(connection, name)
                budget = min(
                    room, self._budget(connection, name, self._in_flight(connection, name), now)
                )
                if budget <= 0:
                    continue
                claimed += self._claim_channel(connection, name, budget, now)
        return claimed

    def _claim_channel(
        self, connection: Connection, name: str, budget: int, now: datetime
    ) -> list[Claimed]:
        rows = connection.execute(
            select(
                posts.c.id,
                posts.c.text,
                posts.c.link,
                posts.c.fields,
                posts.c.attempts,
                posts.c.retries,
                posts.c.due_at,
            )
            .where(posts.c.channel == name, posts.c.state == "queued", posts.c.due_at <= now)
            .order_by(posts.c.due_at, posts.c.id)
            .limit(budget)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return []
        connection.execute(
            update(posts)
            .where(posts.c.id.in_([row.id for row in rows]))
            .values(
                state="sending",
                worker=self.worker,
                lease_until=now + self.lease,
                attempts=posts.c.attempts + 1,
                updated_at=now,
            )
        )
        opened = (
            connection.execute(
                insert(deliveries).returning(deliveries.c.id, sort_by_parameter_order=True),
                [
                    {
                        "post_id": row.id,
                        "channel": name,
                        "attempt": row.attempts + 1,
                        "worker": self.worker,
                        "started_at": now,
                        "outcome": "pending",
                        "payload": {"text": row.text, "link": row.link, "fields": row.fields},
                    }
                    for row in rows
                ],
            )
            .scalars()
            .all()
        )
        return [
            Claimed(
                post_id=row.id,
                delivery_id=delivery_id,
                channel=name,
                due_at=row.due_at,
                claimed_at=now,
                retries=row.retries,
                message=Outgoing(row.id, row.text, row.link, row.fields),
            )
            for row, delivery_id in zip(rows, opened, strict=True)
        ]

    def deliver(self, claimed: Claimed) -> Delivered | None:
        """Send one claimed post and record what happened (None: released unsent, because its
        channel was stopped by a rate limit or an auth error since the claim)."""
        halted = self._halted.get(claimed.channel)
        if halted is not None and claimed.claimed_at <= halted:
            self.release(claimed)
            return None
        started = utcnow()
        clock = time.perf_counter()
        try:
            receipt = self.adapters[claimed.channel].send(claimed.message)
        except ChannelError as exc:
            return self._record(claimed, started, time.perf_counter() - clock, None, exc)
        except Exception as exc:  # an adapter bug must not leave the post in sending
            error = ChannelError("uncertain", f"{claimed.channel}: {type(exc).__name__}: {exc}")
            logger.exception("channel %s failed unexpectedly", claimed.channel)
            return self._record(claimed, started, time.perf_counter() - clock, None, error)
        return self._record(claimed, started, time.perf_counter() - clock, receipt, None)

    def _next_state(self, claimed: Claimed, error: ChannelError, now: datetime) -> dict[str, Any]:
        channel = self.settings.channels[claimed.channel]
        values: dict[str, Any] = {"error_class": error.kind, "error": error.message}
        if error.kind == "transient":
            retries = claimed.retries + 1
            if retries >= channel.max_attempts:
                values["state"] = "failed"
                values["error"] = f"gave up after {retries} attempts: {error.message}"
            else:
                wait = backoff(retries, channel.retry_base, channel.retry_max, self.rng)
                values.update(state="queued", due_at=now + timedelta(seconds=wait))
            values["retries"] = retries
        elif error.kind == "rate_limited":
            values.update(state="queued", due_at=now + timedelta(seconds=error.retry_after or 60))
        elif error.kind == "auth":
            values["state"] = "queued"
        elif error.kind == "uncertain":
            values["state"] = "uncertain"
        else:
            values["state"] = "failed"
        return values

    def _record(
        self,
        claimed: Claimed,
        started: datetime,
        seconds: float,
        receipt: Receipt | None,
        error: ChannelError | None,
    ) -> Delivered:
        now = utcnow()
        post_values: dict[str, Any] = {
            "state": "sent",
            "due_at": claimed.due_at,
            "retries": claimed.retries,
            "sent_at": now,
            "remote_id": receipt.remote_id if receipt else None,
            "permalink": receipt.permalink if receipt else None,
            "error_class": None,
            "error": None,
        }
        outcome = "sent"
        if error is not None:
            outcome = {"permanent": "failed"}.get(error.kind, error.kind)
            post_values.update(sent_at=None, **self._next_state(claimed, error, now))
        with self.engine.begin() as connection:
            connection.execute(
                _RECORD_DELIVERY,
                {
                    "match_delivery": claimed.delivery_id,
                    "new_finished_at": now,
                    "new_outcome": outcome,
                    "new_remote_id": post_values["remote_id"],
                    "new_permalink": post_values["permalink"],
                    "new_error_class": error.kind if error else None,
                    "new_error": error.message if error else None,
                    "new_latency_ms": round(seconds * 1000),
                },
            )
            connection.execute(
                _RECORD_POST,
                {"match_post": claimed.post_id, "match_worker": self.worker, "new_updated_at": now}
                | {f"new_{key}": value for key, value in post_values.items()},
            )
            if error is not None and error.kind in ("auth", "rate_limited"):
                self._pause(connection, claimed.channel, error, now)
                self._halted[claimed.channel] = now
        delivered = Delivered(
            claimed, outcome, post_values["state"], started, seconds, receipt, error
        )
        self._log(delivered)
        if self.on_delivered:
            self.on_delivered(delivered)
        return delivered

    def _pause(self, connection: Connection, name: str, error: ChannelError, now: datetime) -> None:
        until = None
        if error.kind == "rate_limited":
            until = now + timedelta(seconds=error.retry_after or 60)
        connection.execute(delete(channel_pauses).where(channel_pauses.c.channel == name))
        connection.execute(
            insert(channel_pauses).values(
                channel=name, reason=error.message, paused_at=now, until=until
            )
        )

    def _log(self, delivered: Delivered) -> None:
        claimed, error = delivered.claimed, delivered.error
        context = {
            "post_id": claimed.post_id,
            "channel": claimed.channel,
            "outcome": delivered.outcome,
            "state": delivered.state,
            "latency_ms": round(delivered.seconds * 1000),
        }
        if error is None:
            remote = delivered.receipt.remote_id if delivered.receipt else None
            logger.info(
                "post %s sent to %s in %d ms (remote id %s)",
                claimed.post_id,
                claimed.channel,
                context["latency_ms"],
                remote,
                extra=context,
            )
        elif error.kind == "auth":
            logger.error(
                "channel %s paused, editors must renew its credentials: %s",
                claimed.channel,
                error.message,
                extra=context,
            )
        else:
            level = logging.WARNING if delivered.state == "queued" else logging.ERROR
            logger.log(
                level,
                "post %s on %s: %s (%s), now %s",
                claimed.post_id,
                claimed.channel,
                error.message,
                error.kind,
                delivered.state,
                extra=context,
            )

    def release(self, claimed: Claimed) -> None:
        """Give back a claimed post that was never sent (the worker is stopping)."""
        now = utcnow()
        with self.engine.begin() as connection:
            connection.execute(
                update(deliveries)
                .where(deliveries.c.id == claimed.delivery_id)
                .values(finished_at=now, outcome="released")
            )
            connection.execute(
                update(posts)
                .where(and_(posts.c.id == claimed.post_id, posts.c.worker == self.worker))
                .values(
                    state="queued",
                    worker=None,
                    lease_until=None,
                    attempts=posts.c.attempts - 1,
                    updated_at=now,
                )
            )

    def expire_leases(self, now: datetime | None = None) -> int:
        """Mark posts whose worker vanished mid-delivery as uncertain; returns how many."""
        now = now or utcnow()
        with self.engine.begin() as connection:
            ids = (
                connection.execute(
                    select(posts.c.id)
                    .where(posts.c.state == "sending", posts.c.lease_until < now)
                    .with_for_update(skip_locked=True)
                )
                .scalars()
                .all()
            )
            if not ids:
                return 0
            # The worker stays named so that its late record, should it come, still lands.
            connection.execute(
                update(posts)
                .where(posts.c.id.in_(ids))
                .values(
                    state="uncertain",
                    lease_until=None,
                    error_class="uncertain",
                    error="the worker stopped while sending; check the platform before retrying",
                    updated_at=now,
                )
            )
            connection.execute(
                update(deliveries)
                .where(deliveries.c.post_id.in_(ids), deliveries.c.outcome == "pending")
                .values(outcome="uncertain", finished_at=now)
            )
        logger.warning("%d posts were left sending by a stopped worker; now uncertain", len(ids))
        return len(ids)

    def next_wakeup(self, now: datetime | None = None) -> datetime | None:
        """When there will next be something to do: a post falls due, a rate-limit pause ends,
        a lease runs out, or a channel's rate window frees up."""
        now = now or utcnow()
        with self.engine.connect() as connection:
            paused = active_pauses(connection, now)
            candidates = [pause.until for pause in paused.values() if pause.until is not None]
            busy = []
            for name in self.settings.channels:
                in_flight = self._in_flight(connection, name)
                if name in paused or self._budget(connection, name, in_flight, now) <= 0:
                    busy.append(name)
                    channel = self.settings.channels[name]
                    if channel.rate_limit and name not in paused:
                        oldest = connection.execute(
                            select(func.min(deliveries.c.started_at)).where(
                                deliveries.c.channel == name,
                                deliveries.c.started_at
                                > now - timedelta(seconds=channel.rate_period),
                            )
                        ).scalar()
                        if oldest is not None:
                            candidates.append(oldest + timedelta(seconds=channel.rate_period))
            due = connection.execute(
                select(func.min(posts.c.due_at)).where(
                    posts.c.state == "queued",
                    posts.c.channel.in_([n for n in self.settings.channels if n not in busy]),
                )
            ).scalar()
            lease = connection.execute(
                select(func.min(posts.c.lease_until)).where(posts.c.state == "sending")
            ).scalar()
        candidates += [t for t in (due, lease) if t is not None]
        return min(candidates) if candidates else None

    def run_once(self, now: datetime | None = None) -> list[Delivered]:
        """Deliver everything due now, one claim batch after another, in this thread."""
        self.expire_leases(now)
        results: list[Delivered] = []
        while True:
            batch = self.claim(now)
            if not batch:
                return results
            results += [d for d in map(self.deliver, batch) if d is not None]

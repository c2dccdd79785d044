"""Deliver due posts exactly once: claim them in one short transaction (`claims`), call the
channel with no transaction open, record the outcome in another. A post left `sending`
past its lease was maybe posted and becomes `uncertain`; it is never re-sent blindly.
Fan-out channels (WhatsApp recipients) record each recipient's delivery as soon as it is known."""

from __future__ import annotations

import logging
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, update

from publisher import roster
from publisher.channels import ChannelError, Receipt
from publisher.channels.base import TEXT_TOO_LONG
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.delivery import facts
from publisher.engine.delivery.amendments import Amendments
from publisher.engine.delivery.claimed import Claimed
from publisher.engine.delivery.claims import Claims
from publisher.engine.delivery.fanout import FanOut
from publisher.engine.delivery.leases import LeaseKeeper
from publisher.engine.lifecycle import (
    AFTER_ERROR,
    RATE_LIMIT_FALLBACK,
    Outcome,
    State,
    Then,
    backoff,
    stops_channel,
)
from publisher.engine.posts.pauses import pause_channel
from publisher.engine.storage.schema import deliveries, posts

logger = logging.getLogger(__name__)
# The longest wait a short, per-second limit grows to while it keeps being hit.
SHORT_LIMIT_CAP = 60.0
# What a post says that a failure of publisher's own left unclear.
UNEXPECTED = "an unexpected error while sending (see the log); check the platform before retrying"


@dataclass(frozen=True)
class Delivered:
    """What one attempt came to, for logs and metrics."""

    claimed: Claimed
    outcome: Outcome
    state: str
    started_at: datetime
    seconds: float
    receipt: Receipt | None = None
    error: ChannelError | None = None
    # A fan-out's platform calls, each one's seconds (`seconds` is then the whole round's).
    calls: tuple[float, ...] | None = None


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
        posts.c.attempts == bindparam("match_attempt"),
        posts.c.state.in_((State.SENDING, State.UNCERTAIN)),
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


class Dispatcher:
    """Sends and records the posts its `claims` take, for one worker process."""

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
        self.claims = Claims(engine, settings, worker)
        self.worker = self.claims.worker
        self.adapters = self.claims.adapters
        self.rng = rng or random.Random()
        self.on_delivered = on_delivered
        # When a rate limit or an auth error stopped a channel: posts of it claimed before then
        # and not yet sent go back to the queue unsent.
        self._halted: dict[str, datetime] = {}
        # Short limits hit in a row per channel (a platform's per-second throughput): each one
        # doubles the wait, a success starts again.
        self._strikes: dict[str, int] = {}
        self._strikes_lock = threading.Lock()
        self._fan_outs: dict[str, FanOut] = {}
        # Set when the worker is asked to stop: a fan-out under way sends no more messages.
        self.draining = threading.Event()
        self.keeper = LeaseKeeper(self.claims, self.claims.lease.total_seconds() / 3)
        # What is done to posts after they went out (takedowns, corrections), claimed and
        # carried out alongside the posts.
        self.amendments = Amendments(engine, settings, self.worker, self.adapters, self.rng)

    def deliver(self, claimed: Claimed) -> Delivered | None:
        """Send one claimed post and record what happened (None: released unsent, because its
        channel was stopped by a rate limit or an auth error since the claim, no longer this
        claim's when the attempt ended, or left unclear by a failure of its own). Whatever goes
        wrong with one post is logged and touches that post alone."""
        try:
            with self.keeper.holding(claimed):
                return self._attempt(claimed)
        except Exception:
            logger.exception(
                "post %s on %s: the attempt failed unexpectedly; it waits for an editor",
                claimed.post_id,
                claimed.channel,
                extra={"post_id": claimed.post_id, "channel": claimed.channel},
            )
            self._leave_unclear(claimed)
            return None

    def _attempt(self, claimed: Claimed) -> Delivered | None:
        halted = self._halted.get(claimed.channel)
        if halted is not None and claimed.claimed_at <= halted:
            self.claims.release(claimed)
            return None
        if claimed.fan_out:
            return self._deliver_fanout(claimed)
        started = utcnow()
        clock = time.perf_counter()
        receipt, error = self._send(claimed, claimed.message)
        return self._record(claimed, started, time.perf_counter() - clock, receipt, error)

    def _leave_unclear(self, claimed: Claimed) -> None:
        """After an unexpected failure: the post may be out, so it waits for an editor, as when
        its worker dies (and if even this cannot be written, its lease runs out to the same)."""
        now = utcnow()
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    update(deliveries)
                    .where(
                        deliveries.c.post_id == claimed.post_id,
                        deliveries.c.outcome == Outcome.PENDING,
                    )
                    .values(outcome=Outcome.UNCERTAIN, finished_at=now)
                )
                connection.execute(
                    update(posts)
                    .where(claimed.held_by(self.worker), posts.c.state == State.SENDING)
                    .values(
                        state=State.UNCERTAIN,
                        lease_until=None,
                        error_class=Outcome.UNCERTAIN,
                        error=UNEXPECTED,
                        updated_at=now,
                    )
                )
        except Exception:
            logger.exception("post %s: could not be marked unclear", claimed.post_id)

    def _send(self, claimed: Claimed, message: Any) -> tuple[Receipt | None, ChannelError | None]:
        try:
            return self.adapters[claimed.channel].send(message), None
        except ChannelError as exc:
            return None, exc
        except Exception as exc:  # an adapter bug must not leave the post in sending
            logger.exception("channel %s failed unexpectedly", claimed.channel)
            return None, ChannelError("uncertain", f"{claimed.channel}: {type(exc).__name__}")

    def _deliver_fanout(self, claimed: Claimed) -> Delivered | None:
        """Send to each recipient still owed the post, at the channel's pace (see `fanout`)."""
        started = utcnow()
        clock = time.perf_counter()
        fan_out = self._fan_outs.get(claimed.channel)
        if fan_out is None:
            fan_out = self._fan_outs[claimed.channel] = FanOut(
                self.engine,
                self.adapters[claimed.channel],
                self.worker,
                self.claims.renew,
                self.claims.lease.total_seconds() / 3,
                self.draining,
            )
        receipt, error, calls = fan_out.send(claimed)
        return self._record(
            claimed, started, time.perf_counter() - clock, receipt, error, calls=calls
        )

    def _next_state(self, claimed: Claimed, error: ChannelError, now: datetime) -> dict[str, Any]:
        """The post's values after an attempt that ended in `error`, as `AFTER_ERROR` says."""
        channel = self.settings.channels[claimed.channel]
        values: dict[str, Any] = {"error_class": error.kind, "error": error.message}
        match AFTER_ERROR[error.kind]:
            case Then.RETRY:
                retries = claimed.retries + 1
                values["retries"] = retries
                if retries >= channel.max_attempts:
                    values["state"] = State.FAILED
                    values["error"] = f"gave up after {retries} attempts: {error.message}"
                else:
                    wait = backoff(retries, channel.retry_base, channel.retry_max, self.rng)
                    values.update(state=State.QUEUED, due_at=now + timedelta(seconds=wait))
            case Then.WAIT:
                wait = self._wait(claimed, error)
                values.update(state=State.QUEUED, due_at=now + timedelta(seconds=wait))
            case Then.HOLD:
                values["state"] = State.QUEUED
            case Then.ASK:
                values["state"] = State.UNCERTAIN
            case Then.GIVE_UP:
                values["state"] = State.FAILED
        return values

    def _record(
        self,
        claimed: Claimed,
        started: datetime,
        seconds: float,
        receipt: Receipt | None,
        error: ChannelError | None,
        *,
        calls: tuple[float, ...] | None = None,
    ) -> Delivered | None:
        """Record what an attempt came to; a fan-out's `calls` were recorded one by one."""
        now = utcnow()
        post_values: dict[str, Any] = {
            "state": State.SENT,
            "due_at": claimed.due_at,
            "retries": claimed.retries,
            "sent_at": now,
            "remote_id": receipt.remote_id if receipt else None,
            "permalink": receipt.permalink if receipt else None,
            "error_class": None,
            "error": receipt.note if receipt else None,
        }
        outcome = Outcome.of(error)
        if error is not None:
            post_values.update(sent_at=None, **self._next_state(claimed, error, now))
        else:
            with self._strikes_lock:
                self._strikes.pop(claimed.channel, None)
        with self.engine.begin() as connection:
            if calls is None:
                self._record_delivery(connection, claimed, now, seconds, post_values, error)
            recorded = connection.execute(
                _RECORD_POST,
                {
                    "match_post": claimed.post_id,
                    "match_worker": self.worker,
                    "match_attempt": claimed.attempt,
                    "new_updated_at": now,
                }
                | {f"new_{key}": value for key, value in post_values.items()},
            ).rowcount
            if error is not None and stops_channel(error):
                wait = (post_values["due_at"] - now).total_seconds()
                self._pause(connection, claimed.channel, error, now, wait)
                self._halted[claimed.channel] = now
        if error is not None and error.code == TEXT_TOO_LONG:
            # The platform's limit may have changed: ask it again, and count with it from now.
            self.settings = facts.relearn(self.engine, self.settings, claimed.channel)
            self.adapters[claimed.channel] = roster.sender(self.settings, claimed.channel)
        if not recorded:
            # Its lease ran out and another claim holds the post (or an editor took it back):
            # what became of the post is that claim's to say, not this one's.
            logger.warning(
                "post %s on %s was no longer this worker's when its attempt ended; "
                "its outcome is left to whoever holds it",
                claimed.post_id,
                claimed.channel,
                extra={"post_id": claimed.post_id, "channel": claimed.channel},
            )
            return None
        delivered = Delivered(
            claimed, outcome, post_values["state"], started, seconds, receipt, error, calls
        )
        self._log(delivered)
        if self.on_delivered:
            self.on_delivered(delivered)
        return delivered

    @staticmethod
    def _record_delivery(
        connection: Connection,
        claimed: Claimed,
        now: datetime,
        seconds: float,
        post_values: dict[str, Any],
        error: ChannelError | None,
    ) -> None:
        connection.execute(
            _RECORD_DELIVERY,
            {
                "match_delivery": claimed.delivery_id,
                "new_finished_at": now,
                "new_outcome": Outcome.of(error),
                "new_remote_id": post_values["remote_id"],
                "new_permalink": post_values["permalink"],
                "new_error_class": error.kind if error else None,
                "new_error": error.message if error else post_values["error"],
                "new_latency_ms": round(seconds * 1000),
            },
        )

    def _wait(self, claimed: Claimed, error: ChannelError) -> float:
        """Seconds to wait after a rate limit: what the platform says, doubled (with jitter)
        while a short limit keeps being hit."""
        base = error.retry_after or RATE_LIMIT_FALLBACK
        if not error.backoff:
            return base
        with self._strikes_lock:
            strikes = self._strikes.get(claimed.channel, 0) + 1
            self._strikes[claimed.channel] = strikes
        if strikes == 1:
            return base
        return backoff(strikes, base, SHORT_LIMIT_CAP, self.rng)

    def _pause(
        self, connection: Connection, name: str, error: ChannelError, now: datetime, wait: float
    ) -> None:
        if error.kind == "rate_limited":
            pause_channel(
                connection, name, error.message, "rate_limit", now, now + timedelta(seconds=wait)
            )
        else:
            pause_channel(connection, name, error.message, error.fix, now)

    @staticmethod
    def _round_context(delivered: Delivered, context: dict[str, Any]) -> dict[str, Any]:
        """A fan-out round's figures: its messages, the round's time, and each message's time
        as its delivery row (and `publisher log`) has it, at the median."""
        calls = delivered.calls or ()
        return {k: v for k, v in context.items() if k != "latency_ms"} | {
            "messages": len(calls),
            "round_ms": round(delivered.seconds * 1000),
            "median_latency_ms": round(statistics.median(calls) * 1000) if calls else 0,
        }

    def _log(self, delivered: Delivered) -> None:
        claimed, error = delivered.claimed, delivered.error
        context = {
            "post_id": claimed.post_id,
            "channel": claimed.channel,
            "outcome": delivered.outcome,
            "state": delivered.state,
            "latency_ms": round(delivered.seconds * 1000),
        }
        if delivered.calls is not None:
            context = self._round_context(delivered, context)
        if error is None and delivered.calls is not None:
            logger.info(
                "post %s sent to %s: %d messages in %d ms, each %d ms at the median",
                claimed.post_id,
                claimed.channel,
                context["messages"],
                context["round_ms"],
                context["median_latency_ms"],
                extra=context,
            )
        elif error is None:
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
                "channel %s paused until an editor puts its %s right and resumes it: %s",
                claimed.channel,
                error.fix,
                error.message,
                extra=context,
            )
        else:
            level = logging.WARNING if delivered.state == State.QUEUED else logging.ERROR
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

    def close(self) -> None:
        """Stop renewing leases and let every channel release its connections."""
        self.keeper.stop()
        for adapter in self.adapters.values():
            adapter.close()

    def run_once(self, now: datetime | None = None) -> list[Delivered]:
        """Deliver everything due now, one claim batch after another, in this thread, then amend
        the posts out that are due to be taken down or corrected."""
        self.claims.expire_leases(now)
        self.amendments.expire(now)
        results: list[Delivered] = []
        while not self.draining.is_set():
            batch = self.claims.claim(now)
            if not batch:
                break
            results += [d for d in map(self.deliver, batch) if d is not None]
        while not self.draining.is_set():
            due = self.amendments.claim(now)
            if not due:
                break
            for amendment in due:
                self.amendments.carry_out(amendment)
        return results

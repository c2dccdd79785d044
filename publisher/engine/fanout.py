"""One post to many recipients (a WhatsApp channel's subscribers) at the platform's pace: sent
in parallel, each call spaced at the moment it is made to stay under the channel's messages per
second with a margin. A throughput refusal (130429) slows the round down rather than ending it:
the recipient is tried again in this round, the pace halves and recovers step by step. Before
each message a delivery row is written, and the number checked still subscribed in the same
transaction: a crash leaves at most the messages in flight unclear (never sent again), and
whoever unsubscribed meanwhile gets nothing. The post's list of recipients still owed is written
once a round, not once a message."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from sqlalchemy import Engine, func, select, update

from publisher.channels import Channel, ChannelError, Receipt
from publisher.channels.base import ErrorKind
from publisher.channels.text import masked
from publisher.clock import utcnow
from publisher.engine.claimed import Claimed
from publisher.engine.lifecycle import Outcome, State
from publisher.engine.schema import deliveries, posts, subscribers
from publisher.engine.subscribers import WINDOW, SubscriberState

# What a fan-out post as a whole comes to when recipients answered differently: the kind that
# asks most of the engine wins (pause, wait, retry, hold, fail).
PRECEDENCE: tuple[ErrorKind, ...] = ("auth", "rate_limited", "transient", "uncertain", "permanent")
# Messages in flight at once per message a second: enough to keep the pace with answers taking
# half a second.
IN_FLIGHT_PER_MPS = 0.5
MAX_IN_FLIGHT = 100


# The share of the platform's messages per second a round aims at: calls leave a thread a little
# early or late, and the platform counts any one second strictly.
MARGIN = 0.95
# A throughput refusal halves the pace; each message taken raises it by this share of the aim,
# and never below this share of it.
RECOVERY = 0.01
FLOOR = 0.05
# How often one recipient is tried again within a round after throughput refusals.
SLOWED_TRIES = 5


class Pace:
    """Spaces calls apart across threads: at most `per_second` × MARGIN a second, slowed down
    by half at each throughput refusal and sped up again by a step at each message taken
    (additive increase, multiplicative decrease)."""

    def __init__(self, per_second: float) -> None:
        self.aim = per_second * MARGIN
        self.rate = self.aim
        self.next = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        """Return at this call's moment (call right before the platform is asked)."""
        with self.lock:
            now = time.monotonic()
            at = max(self.next, now)
            self.next = at + 1.0 / self.rate
        if at > now:
            time.sleep(at - now)

    def slow_down(self) -> None:
        with self.lock:
            self.rate = max(self.aim * FLOOR, self.rate / 2)
            self.next = max(self.next, time.monotonic()) + 1.0 / self.rate

    def taken(self) -> None:
        with self.lock:
            self.rate = min(self.aim, self.rate + self.aim * RECOVERY)


@dataclass
class Round:
    """What one round of a fan-out came to."""

    owed: list[str] = field(default_factory=list)
    first: Receipt | None = None
    notes: list[str] = field(default_factory=list)
    errors: list[tuple[str, ChannelError]] = field(default_factory=list)
    sent: int = 0
    renewed: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Recipients refused for throughput, to be tried again in this round, and how often they
    # were refused so.
    again: deque[str] = field(default_factory=deque)
    slowed: Counter[str] = field(default_factory=Counter)


def slows_down(error: ChannelError) -> bool:
    """Whether an error asks for a slower pace (the throughput limit), not for a stop."""
    return error.kind == "rate_limited" and error.backoff and not error.recipient_only


def stops_channel(error: ChannelError) -> bool:
    """Whether an error holds every post of its channel: a refused credential or a limit of the
    account, not one of a single recipient."""
    return error.kind == "auth" or (error.kind == "rate_limited" and not error.recipient_only)


def combined(errors: list[tuple[str, ChannelError]], total: int) -> ChannelError | None:
    """One error standing for a fan-out's failed recipients, or None when all were reached."""
    for kind in PRECEDENCE:
        matching = [(recipient, error) for recipient, error in errors if error.kind == kind]
        if matching:
            recipient, first = matching[0]
            return ChannelError(
                kind,
                f"{len(errors)} of {total} recipients not reached; "
                f"{masked(recipient)}: {first.message}",
                retry_after=max(e.retry_after or 0 for _, e in matching) or None,
                code=first.code,
                backoff=first.backoff,
                recipient_only=all(e.recipient_only for _, e in matching),
            )
    return None


class _NoLongerOurs(Exception):
    """The post was taken from this worker (its lease ran out): send nothing more."""


class FanOut:
    """Sends claimed fan-out posts of one channel; `renew` extends this worker's lease on a
    post (False when it is no longer the worker's), every `renew_every` seconds."""

    def __init__(
        self,
        engine: Engine,
        adapter: Channel,
        worker: str,
        renew: Callable[[Claimed], bool],
        renew_every: float,
        draining: threading.Event | None = None,
    ) -> None:
        self.engine = engine
        self.adapter = adapter
        self.worker = worker
        self.renew = renew
        self.renew_every = renew_every
        self.draining = draining or threading.Event()
        per_second = adapter.messages_per_second()
        self.pace = Pace(per_second) if per_second else None
        self.threads = max(1, min(MAX_IN_FLIGHT, round((per_second or 2) * IN_FLIGHT_PER_MPS)))

    def send(self, claimed: Claimed) -> tuple[Receipt | None, ChannelError | None]:
        """Send `claimed` to every recipient it is owed to; what the post comes to."""
        done = Round(renewed=time.monotonic())
        recipients = iter(claimed.recipients)
        take = threading.Lock()
        stop = threading.Event()
        # The first message goes alone: an account refused or throttled shows with one message,
        # not with a whole wave of them.
        self._work(claimed, recipients, take, stop, done, single=True)
        workers = [
            threading.Thread(
                target=self._work, args=(claimed, recipients, take, stop, done), daemon=True
            )
            for _ in range(min(self.threads, len(claimed.recipients) - 1))
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        # Those never tried because the round stopped stay owed.
        done.owed += [*done.again, *recipients]
        with self.engine.begin() as connection:
            connection.execute(
                update(posts).where(claimed.held_by(self.worker)).values(pending=done.owed)
            )
        error = combined(done.errors, len(claimed.recipients))
        if error is None and done.owed and self.draining.is_set():
            # Not a refusal: the rest are owed at once, to whichever worker takes the post next.
            error = ChannelError(
                "rate_limited",
                f"the worker stopped with {len(done.owed)} of {len(claimed.recipients)} "
                "recipients still owed",
                retry_after=0.001,
                recipient_only=True,
            )
        if error is None and not done.owed:
            error = self._refused_earlier(claimed)
            unclear = self._unclear(claimed)
            if unclear:
                done.notes.append(
                    f"{unclear} recipients unclear (a worker stopped while sending to them; "
                    "they are not sent to again)"
                )
        receipt = None
        if done.first is not None or done.notes:
            first = done.first or Receipt()
            receipt = Receipt(first.remote_id, first.permalink, "; ".join(done.notes) or None)
        return receipt, error

    def _work(
        self,
        claimed: Claimed,
        recipients: Iterator[str],
        take: threading.Lock,
        stop: threading.Event,
        done: Round,
        single: bool = False,
    ) -> None:
        """Send to recipients taken one by one from `recipients` until none is left, `stop` is
        set, or, with `single`, after the first."""
        while not stop.is_set():
            if self.draining.is_set():
                stop.set()
                return
            with take:
                recipient = done.again.popleft() if done.again else next(recipients, None)
            if recipient is None:
                return
            if not stop.is_set() and not self._keep_lease(claimed, done):
                stop.set()
            if stop.is_set():
                with done.lock:
                    done.owed.append(recipient)
                return
            try:
                intended = self._intend(claimed, recipient)
            except _NoLongerOurs:
                stop.set()
                return
            if intended is None:
                continue
            delivery_id, free_form = intended
            # Paced here, at the moment of the call, not before the database write above: the
            # write's own time would otherwise bunch the calls.
            if self.pace is not None:
                self.pace.wait()
            began = time.perf_counter()
            receipt, error = self._send(claimed, recipient, free_form)
            self._finish(delivery_id, receipt, error, began)
            self._note(done, recipient, receipt, error, stop)
            if single and not done.again:
                return

    def _note(
        self,
        done: Round,
        recipient: str,
        receipt: Receipt | None,
        error: ChannelError | None,
        stop: threading.Event,
    ) -> None:
        if self.pace is not None and error is not None and slows_down(error):
            self.pace.slow_down()
        elif self.pace is not None and error is None:
            self.pace.taken()
        with done.lock:
            if error is not None and slows_down(error):
                done.slowed[recipient] += 1
                # Not sent: the recipient stays owed in this round, unless refused so often
                # that the next round (after the engine's wait) should have them.
                if done.slowed[recipient] < SLOWED_TRIES:
                    done.again.append(recipient)
                    return
            if error is None:
                done.sent += 1
                if receipt is not None:
                    done.first = done.first or receipt
                    if receipt.note:
                        done.notes.append(receipt.note)
                return
            done.errors.append((recipient, error))
            # Refused before it was sent: tried again later. A permanent refusal is final, and
            # an unclear one is never sent again blindly.
            if error.kind in ("transient", "rate_limited", "auth"):
                done.owed.append(recipient)
            if stops_channel(error):
                stop.set()

    def _send(
        self, claimed: Claimed, recipient: str, free_form: bool
    ) -> tuple[Receipt | None, ChannelError | None]:
        message = replace(claimed.message, recipient=recipient, free_form=free_form)
        try:
            return self.adapter.send(message), None
        except ChannelError as exc:
            return None, exc
        except Exception as exc:  # an adapter bug must not leave the delivery pending
            return None, ChannelError("uncertain", f"{claimed.channel}: {type(exc).__name__}")

    def _keep_lease(self, claimed: Claimed, done: Round) -> bool:
        """Renew the lease when it is time; False when the post is no longer ours."""
        with done.lock:
            due = time.monotonic() - done.renewed >= self.renew_every
            if due:
                done.renewed = time.monotonic()
        return self.renew(claimed) if due else True

    def _intend(self, claimed: Claimed, recipient: str) -> tuple[int, bool] | None:
        """The delivery row of a message about to go out, and whether a free-form message may
        reach the recipient; None when they have since unsubscribed or become unreachable
        (nothing is sent then)."""
        now = utcnow()
        with self.engine.begin() as connection:
            # The share lock keeps another worker from expiring the lease and claiming the
            # post until this recipient's delivery row is committed, so that it sees the row.
            held = connection.execute(
                select(posts.c.id)
                .where(claimed.held_by(self.worker), posts.c.state == State.SENDING)
                .with_for_update(read=True)
            ).first()
            if held is None:
                raise _NoLongerOurs
            free_form = True
            if self.adapter.subscribable:
                reader = connection.execute(
                    select(subscribers.c.state, subscribers.c.last_message_at).where(
                        subscribers.c.channel == claimed.channel, subscribers.c.phone == recipient
                    )
                ).first()
                if reader is not None and reader.state != SubscriberState.SUBSCRIBED:
                    return None
                # A reader who has not written within 24 hours only gets the template.
                free_form = reader is None or (
                    reader.last_message_at is not None and reader.last_message_at >= now - WINDOW
                )
            delivery_id = int(
                connection.execute(
                    deliveries.insert().returning(deliveries.c.id),
                    {
                        "post_id": claimed.post_id,
                        "channel": claimed.channel,
                        "attempt": claimed.attempt,
                        "worker": self.worker,
                        "started_at": now,
                        "outcome": Outcome.PENDING,
                        "recipient": recipient,
                        "payload": {
                            "text": claimed.message.text,
                            "link": claimed.message.link,
                            "free_form": free_form,
                        },
                    },
                ).scalar_one()
            )
            return delivery_id, free_form

    def _finish(
        self,
        delivery_id: int,
        receipt: Receipt | None,
        error: ChannelError | None,
        began: float,
    ) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery_id)
                .values(
                    finished_at=utcnow(),
                    outcome=Outcome.of(error),
                    remote_id=receipt.remote_id if receipt else None,
                    permalink=receipt.permalink if receipt else None,
                    error_class=error.kind if error else None,
                    error=error.message if error else (receipt.note if receipt else None),
                    latency_ms=round((time.perf_counter() - began) * 1000),
                )
            )

    def _unclear(self, claimed: Claimed) -> int:
        with self.engine.connect() as connection:
            return int(
                connection.execute(
                    select(func.count()).where(
                        deliveries.c.post_id == claimed.post_id,
                        deliveries.c.outcome == Outcome.UNCERTAIN,
                    )
                ).scalar_one()
            )

    def _refused_earlier(self, claimed: Claimed) -> ChannelError | None:
        """A fan-out whose last recipients were reached still failed if an earlier round had
        recipients refused for good (and no editor's retry has reached them since)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(deliveries.c.recipient, deliveries.c.outcome, deliveries.c.error)
                .where(
                    deliveries.c.post_id == claimed.post_id,
                    deliveries.c.outcome.in_([Outcome.SENT, Outcome.FAILED]),
                )
                .order_by(deliveries.c.id)
            ).all()
        reached = {row.recipient for row in rows if row.outcome == Outcome.SENT}
        refused = {
            row.recipient: row.error
            for row in rows
            if row.outcome == Outcome.FAILED and row.recipient not in reached
        }
        if not refused:
            return None
        recipient, reason = next(iter(refused.items()))
        return ChannelError(
            "permanent",
            f"{len(refused)} of {len(refused) + len(reached)} recipients not reached; "
            f"{masked(recipient)}: {reason}",
        )

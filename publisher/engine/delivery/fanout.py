"""One post to many recipients (a WhatsApp channel's subscribers) at the platform's pace.

The calls are made on one event loop (asyncio, with aiohttp), so hundreds can be in flight at
once at a small cost each: threads doing the same spent most of their time taking turns.
Recipients are taken a batch at a time (a tenth of a second's worth of messages): one
transaction checks that the post is still this worker's and who of the batch is still
subscribed, and writes a delivery row for each message about to go out. Each call is then
spaced at its moment by the channel's `Pace`, and the answers are written back a batch at a
time; the database work runs in threads beside the loop, never on it. So the database sees two
writes per batch, not two per message; a crash leaves at most the messages written and not yet
answered unclear (never sent again: about two batches plus those in flight), and a reader's
STOP holds for every batch written after it, a tenth of a second at most. A throughput refusal
(130429) slows the round down rather than ending it: the recipient is tried again in this
round. The post's list of recipients still owed is written once a round."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import Engine, update

from publisher.channels import Channel, ChannelError, Receipt
from publisher.channels.base import ErrorKind
from publisher.channels.text import masked
from publisher.clock import utcnow
from publisher.engine.delivery.claimed import Claimed
from publisher.engine.delivery.fanout_rows import Answer, FanOutRows, Intent, NoLongerOurs
from publisher.engine.delivery.pace import Pace
from publisher.engine.lifecycle import slows_down, stops_channel
from publisher.engine.storage.schema import posts

if TYPE_CHECKING:
    import aiohttp

# What a fan-out post as a whole comes to when recipients answered differently: the kind that
# asks most of the engine wins (pause, wait, retry, hold, fail).
PRECEDENCE: tuple[ErrorKind, ...] = ("auth", "rate_limited", "transient", "uncertain", "permanent")
# Messages in flight at once per message a second: enough to keep the pace with answers taking
# up to half a second (Meta's take a few hundred milliseconds).
IN_FLIGHT_PER_MPS = 0.5
MAX_IN_FLIGHT = 500
# A batch holds this many seconds' worth of messages at the channel's pace.
BATCH_SECONDS = 0.1
MAX_BATCH = 200
# How often one recipient is tried again within a round after throughput refusals.
SLOWED_TRIES = 5


@dataclass
class Round:
    """What one round of a fan-out came to, and the work under way in it (kept by the round's
    event loop alone)."""

    owed: list[str] = field(default_factory=list)
    first: Receipt | None = None
    notes: list[str] = field(default_factory=list)
    errors: list[tuple[str, ChannelError]] = field(default_factory=list)
    sent: int = 0
    # Each platform call's time in seconds, as its delivery row records it.
    calls: list[float] = field(default_factory=list)
    renewed: float = 0.0
    # Set when the round must end: the channel refused or the post is no longer ours.
    stopped: bool = False
    # Recipients refused for throughput, to be tried again in this round, and how often they
    # were refused so.
    again: deque[str] = field(default_factory=deque)
    slowed: Counter[str] = field(default_factory=Counter)
    # Messages written and neither answered nor given back yet; answers not yet written;
    # messages written but given back unsent when the round stopped.
    in_flight: int = 0
    answers: list[Answer] = field(default_factory=list)
    unsent: list[Intent] = field(default_factory=list)
    # Set at every answer, for the producer waiting to see whether anybody is left.
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def take_answers(self, at_least: int) -> list[Answer]:
        """The answers not yet written, taken to be written once there are `at_least`."""
        if len(self.answers) < at_least:
            return []
        taken, self.answers = self.answers, []
        return taken


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
                fix=first.fix,
            )
    return None


class RoundEnd(NamedTuple):
    """What a round of a fan-out came to: the post's receipt or error, and each platform
    call's time in seconds."""

    receipt: Receipt | None
    error: ChannelError | None
    calls: tuple[float, ...]


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
        self.rows = FanOutRows(engine, worker, adapter.subscribable)
        per_second = adapter.messages_per_second()
        self.pace = Pace(per_second) if per_second else None
        rate = per_second or 2
        self.in_flight = max(1, min(MAX_IN_FLIGHT, round(rate * IN_FLIGHT_PER_MPS)))
        self.batch = max(1, min(MAX_BATCH, round(rate * BATCH_SECONDS)))

    def send(self, claimed: Claimed) -> RoundEnd:
        """Send `claimed` to every recipient it is owed to (on an event loop of its own, in the
        calling thread); what the post comes to."""
        done = Round(renewed=time.monotonic())
        recipients = iter(claimed.recipients)
        asyncio.run(self._round(claimed, recipients, done))
        if done.unsent and self.rows.give_back(claimed, done.unsent):
            done.owed += [intent.recipient for intent in done.unsent]
        # Those never tried because the round stopped stay owed.
        done.owed += [*done.again, *recipients]
        with self.engine.begin() as connection:
            connection.execute(
                update(posts).where(claimed.held_by(self.worker)).values(pending=done.owed)
            )
        return self._outcome(claimed, done)

    async def _round(self, claimed: Claimed, recipients: Iterator[str], done: Round) -> None:
        import aiohttp

        connector = aiohttp.TCPConnector(limit=self.in_flight)
        # The channel names its proxy itself, read from the environment once.
        async with aiohttp.ClientSession(connector=connector) as session:
            await self._first(session, claimed, recipients, done)
            # Bounded: a batch is written only when the senders have taken most of the last
            # one, so few messages wait between their delivery row and their call.
            work: asyncio.Queue[Intent | None] = asyncio.Queue(maxsize=self.batch)
            senders = [
                asyncio.create_task(self._sender(session, claimed, work, done))
                for _ in range(min(self.in_flight, len(claimed.recipients)))
            ]
            await self._produce(claimed, recipients, work, done)
            for _ in senders:
                await work.put(None)
            await asyncio.gather(*senders)
        await self._write_answers(done, at_least=1)

    def _outcome(self, claimed: Claimed, done: Round) -> RoundEnd:
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
            error = self.rows.refused_earlier(claimed)
            unclear = self.rows.unclear(claimed)
            if unclear:
                done.notes.append(
                    f"{unclear} recipients unclear (a worker stopped while sending to them; "
                    "they are not sent to again)"
                )
        receipt = None
        if done.first is not None or done.notes:
            first = done.first or Receipt()
            receipt = Receipt(first.remote_id, first.permalink, "; ".join(done.notes) or None)
        return RoundEnd(receipt, error, tuple(done.calls))

    def _ending(self, done: Round) -> bool:
        """Whether the round must end now (the channel refused, or the worker is stopping)."""
        if self.draining.is_set():
            done.stopped = True
        return done.stopped

    async def _first(
        self,
        session: aiohttp.ClientSession,
        claimed: Claimed,
        recipients: Iterator[str],
        done: Round,
    ) -> None:
        """Send alone until one message is answered: an account refused or throttled shows
        with one message, not with a wave of them."""
        while not self._ending(done):
            intents = await self._next_batch(claimed, recipients, 1, done)
            if intents is None:
                return
            for intent in intents:
                await self._call(session, claimed, intent, done)
            await self._write_answers(done, at_least=1)
            if intents and not done.again:
                return

    async def _produce(
        self,
        claimed: Claimed,
        recipients: Iterator[str],
        work: asyncio.Queue[Intent | None],
        done: Round,
    ) -> None:
        """Write the messages' delivery rows a batch at a time and hand them to the senders,
        until every recipient is answered or the round ends."""
        while not self._ending(done):
            intents = await self._next_batch(claimed, recipients, self.batch, done)
            if intents is None:
                # Nobody left to take, unless a message in flight is refused for throughput.
                if done.in_flight == 0 and not done.again:
                    return
                done.changed.clear()
                await done.changed.wait()
                continue
            for intent in intents:
                await work.put(intent)

    async def _next_batch(
        self, claimed: Claimed, recipients: Iterator[str], size: int, done: Round
    ) -> list[Intent] | None:
        """The next messages to send, their delivery rows written (those refused for throughput
        first); None when nobody is left to take or the post is no longer ours."""
        batch = [done.again.popleft() for _ in range(min(size, len(done.again)))]
        batch += islice(recipients, size - len(batch))
        if not batch:
            return None
        try:
            intents = await asyncio.to_thread(self._intend, claimed, batch, done)
        except NoLongerOurs:
            done.stopped = True
            return None
        done.in_flight += len(intents)
        return intents

    def _intend(self, claimed: Claimed, batch: list[str], done: Round) -> list[Intent]:
        # The lease is renewed when it is time; the post may have been taken meanwhile.
        if time.monotonic() - done.renewed >= self.renew_every:
            done.renewed = time.monotonic()
            if not self.renew(claimed):
                raise NoLongerOurs
        return self.rows.intend(claimed, batch)

    async def _sender(
        self,
        session: aiohttp.ClientSession,
        claimed: Claimed,
        work: asyncio.Queue[Intent | None],
        done: Round,
    ) -> None:
        while (intent := await work.get()) is not None:
            if self._ending(done):
                done.unsent.append(intent)
                done.in_flight -= 1
                done.changed.set()
                continue
            await self._call(session, claimed, intent, done)
            await self._write_answers(done, at_least=self.batch)

    async def _write_answers(self, done: Round, at_least: int) -> None:
        """Write the answers not yet written, once there are `at_least` (beside the loop)."""
        answers = done.take_answers(at_least)
        if answers:
            await asyncio.to_thread(self.rows.write, answers)

    async def _call(
        self, session: aiohttp.ClientSession, claimed: Claimed, intent: Intent, done: Round
    ) -> None:
        # Paced here, at the moment of the call, not before the database write that precedes
        # it: the write's own time would otherwise bunch the calls.
        called_at = await self.pace.wait() if self.pace is not None else time.monotonic()
        began = time.perf_counter()
        message = replace(claimed.message, recipient=intent.recipient, free_form=intent.free_form)
        receipt: Receipt | None = None
        error: ChannelError | None = None
        try:
            receipt = await self.adapter.send_async(message, session)
        except ChannelError as exc:
            error = exc
        except Exception as exc:  # an adapter bug must not leave the delivery pending
            error = ChannelError("uncertain", f"{claimed.channel}: {type(exc).__name__}")
        took = time.perf_counter() - began
        done.calls.append(took)
        latency = round(took * 1000)
        if self.pace is not None and error is not None and slows_down(error):
            self.pace.slow_down(called_at)
        elif self.pace is not None and error is None:
            self.pace.taken()
        done.answers.append(Answer(intent, receipt, error, utcnow(), latency))
        self._count(done, intent.recipient, receipt, error)
        done.in_flight -= 1
        done.changed.set()

    @staticmethod
    def _count(
        done: Round, recipient: str, receipt: Receipt | None, error: ChannelError | None
    ) -> None:
        """What one answer means for the round."""
        if error is not None and slows_down(error):
            done.slowed[recipient] += 1
            # Not sent: the recipient stays owed in this round, unless refused so often that
            # the next round (after the engine's wait) should have them.
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
        # Refused before it was sent: tried again later. A permanent refusal is final, and an
        # unclear one is never sent again blindly.
        if error.kind in ("transient", "rate_limited", "auth"):
            done.owed.append(recipient)
        if stops_channel(error):
            done.stopped = True

"""The delivery rows of a fan-out, written a batch at a time: the rows of messages about to go
out (with who is still subscribed), their answers, and the rows of messages given back unsent;
and what the rows say about a post's earlier rounds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, bindparam, func, select, update

from publisher.channels import ChannelError, Receipt
from publisher.channels.text import masked
from publisher.clock import utcnow
from publisher.engine.audiences.subscribers import WINDOW, SubscriberState
from publisher.engine.delivery.claimed import Claimed
from publisher.engine.lifecycle import Outcome, State
from publisher.engine.storage.schema import deliveries, posts, subscribers


class NoLongerOurs(Exception):
    """The post was taken from this worker (its lease ran out): send nothing more."""


@dataclass(frozen=True)
class Intent:
    """A message about to go out, with its delivery row."""

    delivery_id: int
    recipient: str
    free_form: bool


@dataclass(frozen=True)
class Answer:
    """What the platform said to one message."""

    intent: Intent
    receipt: Receipt | None
    error: ChannelError | None
    finished_at: datetime
    latency_ms: int


class FanOutRows:
    """The delivery rows `worker` writes for the fan-out posts of one channel."""

    def __init__(self, engine: Engine, worker: str, subscribable: bool) -> None:
        self.engine = engine
        self.worker = worker
        self.subscribable = subscribable

    def held(self, connection: Connection, claimed: Claimed) -> bool:
        """Whether the post is still this worker's, kept so until the transaction ends: the
        share lock keeps another worker from expiring the lease and claiming the post until
        the rows written here are committed, so that it sees them."""
        return (
            connection.execute(
                select(posts.c.id)
                .where(claimed.held_by(self.worker), posts.c.state == State.SENDING)
                .with_for_update(read=True)
            ).first()
            is not None
        )

    def intend(self, claimed: Claimed, batch: list[str]) -> list[Intent]:
        """The delivery rows of messages about to go out, with whether a free-form message may
        reach each recipient; none for those who have since unsubscribed or become unreachable
        (nothing is sent to them)."""
        now = utcnow()
        with self.engine.begin() as connection:
            if not self.held(connection, claimed):
                raise NoLongerOurs
            readers = {}
            if self.subscribable:
                readers = {
                    row.phone: row
                    for row in connection.execute(
                        select(
                            subscribers.c.phone,
                            subscribers.c.state,
                            subscribers.c.last_message_at,
                        ).where(
                            subscribers.c.channel == claimed.channel,
                            subscribers.c.phone.in_(batch),
                        )
                    )
                }
            chosen: list[tuple[str, bool]] = []
            for recipient in batch:
                reader = readers.get(recipient)
                if reader is not None and reader.state != SubscriberState.SUBSCRIBED:
                    continue
                # A reader who has not written within 24 hours only gets the template.
                free_form = reader is None or (
                    reader.last_message_at is not None and reader.last_message_at >= now - WINDOW
                )
                chosen.append((recipient, free_form))
            if not chosen:
                return []
            ids = connection.execute(
                deliveries.insert().returning(deliveries.c.id, sort_by_parameter_order=True),
                [
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
                    }
                    for recipient, free_form in chosen
                ],
            ).scalars()
            return [
                Intent(int(delivery_id), recipient, free_form)
                for delivery_id, (recipient, free_form) in zip(ids, chosen, strict=True)
            ]

    def write(self, answers: list[Answer]) -> None:
        if not answers:
            return
        with self.engine.begin() as connection:
            connection.execute(
                update(deliveries)
                .where(deliveries.c.id == bindparam("answered"))
                .values(
                    finished_at=bindparam("at"),
                    outcome=bindparam("came_to"),
                    remote_id=bindparam("remote"),
                    permalink=bindparam("link"),
                    error_class=bindparam("kind"),
                    error=bindparam("reason"),
                    latency_ms=bindparam("took"),
                ),
                [
                    {
                        "answered": answer.intent.delivery_id,
                        "at": answer.finished_at,
                        "came_to": Outcome.of(answer.error),
                        "remote": answer.receipt.remote_id if answer.receipt else None,
                        "link": answer.receipt.permalink if answer.receipt else None,
                        "kind": answer.error.kind if answer.error else None,
                        "reason": answer.error.message
                        if answer.error
                        else (answer.receipt.note if answer.receipt else None),
                        "took": answer.latency_ms,
                    }
                    for answer in answers
                ],
            )

    def give_back(self, claimed: Claimed, unsent: list[Intent]) -> bool:
        """Mark the rows of messages written but not sent as given back, so that their
        recipients are owed again; False (and nothing changed) when the post is no longer ours,
        since whoever took it treats them as unclear."""
        with self.engine.begin() as connection:
            if not self.held(connection, claimed):
                return False
            connection.execute(
                update(deliveries)
                .where(
                    deliveries.c.id.in_([intent.delivery_id for intent in unsent]),
                    deliveries.c.outcome == Outcome.PENDING,
                )
                .values(finished_at=utcnow(), outcome=Outcome.RELEASED)
            )
        return True

    def unclear(self, claimed: Claimed) -> int:
        with self.engine.connect() as connection:
            return int(
                connection.execute(
                    select(func.count()).where(
                        deliveries.c.post_id == claimed.post_id,
                        deliveries.c.outcome == Outcome.UNCERTAIN,
                    )
                ).scalar_one()
            )

    def refused_earlier(self, claimed: Claimed) -> ChannelError | None:
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

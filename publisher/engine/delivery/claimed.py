"""What a worker holds while it sends a post: the claim (post, attempt, delivery row, recipients
still owed), how to tell it is still the worker's, and the names of posts and workers."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Row, and_

from publisher.channels import Outgoing
from publisher.engine.storage.schema import posts


@dataclass(frozen=True)
class Claimed:
    """A post this worker holds in `sending`, with the delivery row of this attempt; for a
    fan-out channel, the `recipients` it is still owed to (each gets a delivery row of its own
    as it is sent, and `delivery_id` is None)."""

    post_id: int
    delivery_id: int | None
    channel: str
    due_at: datetime
    claimed_at: datetime
    retries: int
    message: Outgoing
    recipients: tuple[str, ...] = ()
    attempt: int = 1
    fan_out: bool = False

    @classmethod
    def of(
        cls,
        row: Row,
        channel: str,
        now: datetime,
        delivery_id: int | None = None,
        recipients: tuple[str, ...] | None = None,
    ) -> Claimed:
        """The claim of a post row just taken into `sending` (its attempts not yet counted):
        a single delivery, or with `recipients` a fan-out."""
        return cls(
            post_id=row.id,
            delivery_id=delivery_id,
            channel=channel,
            due_at=row.due_at,
            claimed_at=now,
            retries=row.retries,
            message=Outgoing(row.id, row.text, row.link, row.fields, key=post_key(row)),
            recipients=recipients or (),
            attempt=row.attempts + 1,
            fan_out=recipients is not None,
        )

    def held_by(self, worker: str) -> ColumnElement[bool]:
        """Whether the post is still this claim: the worker's, and not claimed again since.
        The attempt tells two claims of one worker apart (a worker slower than its lease can
        expire its own post and claim it again while the first round still runs)."""
        return and_(
            posts.c.id == self.post_id,
            posts.c.worker == worker,
            posts.c.attempts == self.attempt,
        )


def post_key(row: Row) -> str:
    """A post's key for platforms: its id and the microsecond it was made."""
    return f"{row.id}-{int(row.created_at.timestamp() * 1_000_000)}"


def worker_name() -> str:
    """A name for this worker process that no other process shares."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

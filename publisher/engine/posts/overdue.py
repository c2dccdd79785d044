"""Nothing overdue goes out unseen: when a post an editor lets go (approves, restores, resumes
its channel) will go out, and the refusal that asks first when that would send something whose
time has passed at once. Every surface asks these; none decides it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select

from publisher.clock import utcnow
from publisher.engine.lifecycle import HOLDABLE, State
from publisher.engine.posts.pauses import active_pauses
from publisher.engine.storage.schema import posts
from publisher.errors import EditorError

# A post due no further back than this is "now" rather than overdue: the minute an editor
# takes to press a button.
GRACE = timedelta(minutes=1)


class Overdue(EditorError):
    """The action would send posts whose time has passed at once; an editor confirms it first
    (or chooses a new time). `posts` are the overdue posts; its values name the earliest time."""

    def __init__(
        self, message: str, *, key: str, posts: list[int], due: datetime, **values: object
    ):
        super().__init__(message, key=key, count=len(posts), due=due, **values)
        self.posts = posts


@dataclass(frozen=True)
class Going:
    """When a post goes out as things stand: at `at`, at once (`now`: its time has come or
    passed), held back while its channel is paused (`held`), or not by itself (`waits`: for an
    approver); `channel` is the post's."""

    channel: str
    at: datetime
    now: bool
    held: bool
    waits: bool


def going(engine: Engine, post_id: int) -> Going:
    """When post `post_id` goes out (it must exist)."""
    now = utcnow()
    with engine.connect() as connection:
        row = connection.execute(
            select(posts.c.state, posts.c.due_at, posts.c.channel).where(posts.c.id == post_id)
        ).one()
        paused = row.channel in active_pauses(connection, now)
    return Going(
        channel=row.channel,
        at=max(row.due_at, now),
        now=row.due_at <= now + GRACE,
        held=paused and row.state in HOLDABLE,
        waits=row.state == State.AWAITING_APPROVAL,
    )


def overdue_of_channel(connection: Connection, channel: str, now: datetime) -> list[Any]:
    """The channel's queued posts whose time has passed by more than the grace: what resuming
    it would send at once."""
    return list(
        connection.execute(
            select(posts.c.id, posts.c.due_at)
            .where(
                posts.c.channel == channel,
                posts.c.state == State.QUEUED,
                posts.c.due_at < now - GRACE,
            )
            .order_by(posts.c.due_at)
        ).all()
    )


def refuse_unasked(rows: list[Any], key: str, confirmed: bool, **values: object) -> None:
    """Refuse (Overdue) to let `rows` (posts with their `due_at`) go out at once unless an editor
    `confirmed` it."""
    if rows and not confirmed:
        ids = [row.id for row in rows]
        due = min(row.due_at for row in rows)
        raise Overdue(
            f"{len(ids)} post(s) due since {due.isoformat(timespec='minutes')} would go out at "
            "once; confirm, or choose a new time",
            key=key,
            posts=ids,
            due=due,
            **values,
        )

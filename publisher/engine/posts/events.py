"""A post's history as the desk shows it: who did what to it and when, one `PostEvent` each,
oldest first; and the channel a post is on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, case, select

from publisher.engine.lifecycle import APPROVE, WITHDRAWN
from publisher.engine.storage.schema import post_events, posts


@dataclass(frozen=True)
class PostEvent:
    """One thing done to a post: when, by whom (an editor, the webhook, a worker), and the
    verb's past tense as the lifecycle names it ("approved", "cancelled")."""

    at: datetime
    actor: str
    action: str
    # Why, where the one who did it said so (an article's withdrawal).
    reason: str | None = None


def post_history(engine: Engine, post_id: int) -> list[PostEvent]:
    """Everything done to the post, oldest first."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                post_events.c.at,
                post_events.c.actor,
                post_events.c.action,
                case((post_events.c.action == WITHDRAWN, post_events.c.detail)),
            )
            .where(post_events.c.post_id == post_id)
            .order_by(post_events.c.id)
        )
        return [PostEvent(*row) for row in rows]


@dataclass(frozen=True)
class Approval:
    """The text an approver let go, who and when."""

    text: str
    by: str
    at: datetime


def last_approval(engine: Engine, post_id: int) -> Approval | None:
    """The post's latest approval that noted its text (approvals before the text was noted
    have none to compare with)."""
    with engine.connect() as connection:
        row = connection.execute(
            select(post_events.c.detail, post_events.c.actor, post_events.c.at)
            .where(
                post_events.c.post_id == post_id,
                post_events.c.action == APPROVE.done,
                post_events.c.detail.is_not(None),
            )
            .order_by(post_events.c.id.desc())
            .limit(1)
        ).first()
    return None if row is None else Approval(row.detail, row.actor, row.at)


def channel_of(engine: Engine, post_id: int) -> str | None:
    """The channel the post is on (None: no such post)."""
    with engine.connect() as connection:
        return connection.execute(select(posts.c.channel).where(posts.c.id == post_id)).scalar()

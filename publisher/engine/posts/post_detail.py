"""One post as `queue show`, the desk's post page and the bot's `/show` give it: its listing, a
page of its delivery attempts with how many there are, and for a post sent to many recipients
what became of their messages."""

from __future__ import annotations

from typing import TypedDict

from sqlalchemy import Engine, func, or_, select

from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.lifecycle import Outcome
from publisher.engine.posts.amendments import (
    EditListing,
    TakedownListing,
    edits_of,
    takedown_of,
)
from publisher.engine.posts.listings import (
    DeliveryListing,
    PostListing,
    list_deliveries,
    post_listing,
)
from publisher.engine.posts.pauses import active_pauses
from publisher.engine.posts.queue import QueueError
from publisher.engine.storage.rowids import is_row_id
from publisher.engine.storage.schema import articles, deliveries, posts

# Delivery attempts `queue show` lists unless asked for another page.
DELIVERIES_SHOWN = 1000


class FailureReason(TypedDict):
    """One of the commonest reasons a post's messages failed, and how many it failed."""

    reason: str
    count: int


class FanOut(TypedDict):
    """What became of a post sent to many recipients, as `queue show --json` gives it."""

    recipients: int
    sent: int
    delivered: int
    read: int
    failed: int
    unclear: int
    reasons: list[FailureReason]


class PostDetail(PostListing):
    """A post as `queue show --json` gives it: its listing, a page of its delivery attempts
    (newest first), how many there are in all, and the summary of its recipients."""

    deliveries: list[DeliveryListing]
    deliveries_total: int
    deliveries_offset: int
    fan_out: FanOut | None
    # Its takedown, once its article was withdrawn after it went out (else None), and the
    # edits corrections made of it, oldest first.
    takedown: TakedownListing | None
    edits: list[EditListing]


def show_post(
    engine: Engine,
    settings: Settings,
    post_id: int,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> PostDetail:
    """One post with `limit` (else `DELIVERIES_SHOWN`) of its deliveries from `offset`, newest
    first."""
    if not is_row_id(post_id):
        raise QueueError(f"no post {post_id}", key="no_post", post=post_id)
    with engine.connect() as connection:
        row = connection.execute(
            select(posts, articles.c.headline, articles.c.url)
            .join(articles)
            .where(posts.c.id == post_id)
        ).first()
        paused = set(active_pauses(connection, utcnow()))
        total = connection.execute(
            select(func.count()).where(deliveries.c.post_id == post_id)
        ).scalar_one()
        takedown = takedown_of(connection, post_id)
        edits = edits_of(connection, post_id)
    if row is None:
        raise QueueError(f"no post {post_id}", key="no_post", post=post_id)
    return PostDetail(
        **post_listing(row, settings, paused),
        deliveries=list_deliveries(
            engine, post_ids=[post_id], limit=limit or DELIVERIES_SHOWN, offset=offset
        ),
        deliveries_total=total,
        deliveries_offset=offset,
        fan_out=fan_out_summary(engine, post_id),
        takedown=takedown,
        edits=edits,
    )


def fan_out_summary(engine: Engine, post_id: int) -> FanOut | None:
    """What became of a post's messages to its recipients, or None when it went to none."""
    failed_now = or_(deliveries.c.outcome == Outcome.FAILED, deliveries.c.status == "failed")
    with engine.connect() as connection:
        counts = connection.execute(
            select(
                func.count(deliveries.c.recipient),
                func.count().filter(deliveries.c.outcome == Outcome.SENT),
                func.count().filter(deliveries.c.status.in_(["delivered", "read"])),
                func.count().filter(deliveries.c.status == "read"),
                func.count().filter(failed_now),
                func.count().filter(deliveries.c.outcome == Outcome.UNCERTAIN),
            ).where(deliveries.c.post_id == post_id)
        ).one()
        if not counts[0]:
            return None
        reason = func.coalesce(deliveries.c.status_error, deliveries.c.error)
        reasons = connection.execute(
            select(reason, func.count())
            .where(deliveries.c.post_id == post_id, failed_now)
            .group_by(reason)
            .order_by(func.count().desc())
            .limit(3)
        ).all()
    recipients, sent, delivered, read, failed, unclear = counts
    return {
        "recipients": recipients,
        "sent": sent,
        "delivered": delivered,
        "read": read,
        "failed": failed,
        "unclear": unclear,
        "reasons": [{"reason": str(text), "count": n} for text, n in reasons],
    }

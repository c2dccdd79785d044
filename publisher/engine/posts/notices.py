"""A withdrawal's notice to the readers of a post its platform cannot take back (WhatsApp): a
new post on the same channel, to exactly the recipients the post reached, in the channel's
language and without a link, queued at once and sent by the fan-out like any post; one per
post, however often its article is withdrawn."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, insert, select

from publisher.articles import fold
from publisher.catalogue import translator
from publisher.channels.base import NOTICE
from publisher.config import Settings
from publisher.engine.lifecycle import Outcome, State
from publisher.engine.posts.queue import new_id, record_event
from publisher.engine.storage.schema import articles, deliveries, post_events, posts

# What the history of a post whose readers were sent a withdrawal's notice says (its detail:
# the notice's post number).
NOTICED = "withdrawal notice"


def queue_notices(
    connection: Connection,
    settings: Settings,
    post_ids: Sequence[int],
    by: str,
    now: datetime,
) -> list[int]:
    """Queue the notice to the readers of each of these posts, in the caller's transaction;
    the notices' post numbers."""
    queued: list[int] = []
    for post_id in post_ids:
        if _noticed(connection, post_id):
            continue
        row = connection.execute(
            select(posts.c.article_id, posts.c.channel, posts.c.channel_type, articles.c.headline)
            .join(articles, articles.c.id == posts.c.article_id)
            .where(posts.c.id == post_id)
        ).one()
        reached = sorted(
            connection.execute(
                select(deliveries.c.recipient)
                .where(
                    deliveries.c.post_id == post_id,
                    deliveries.c.outcome == Outcome.SENT,
                    deliveries.c.recipient.is_not(None),
                )
                .distinct()
            ).scalars()
        )
        if not reached:
            continue
        channel = settings.channels[row.channel]
        say = translator(channel.language or settings.language, "desk")
        text = say("withdrawal_notice", headline=" ".join(row.headline.split()))
        notice = new_id(
            connection.execute(
                insert(posts).values(
                    article_id=row.article_id,
                    channel=row.channel,
                    channel_type=row.channel_type,
                    text=text,
                    search=fold(f"{row.headline} {text}"),
                    link="",
                    fields={NOTICE: post_id, "headline": row.headline},
                    state=State.QUEUED,
                    approval_required=False,
                    due_at=now,
                    attempts=0,
                    retries=0,
                    queued_by=by,
                    edited=False,
                    pending=reached,
                    created_at=now,
                    updated_at=now,
                )
            )
        )
        record_event(connection, [notice], by, "queued", now)
        record_event(connection, [post_id], by, NOTICED, now, str(notice))
        queued.append(notice)
    return queued


def _noticed(connection: Connection, post_id: int) -> bool:
    return (
        connection.execute(
            select(post_events.c.id).where(
                post_events.c.post_id == post_id, post_events.c.action == NOTICED
            )
        ).first()
        is not None
    )

"""Posts that follow up on a post out: a notice to exactly the readers it reached, for a
platform that cannot take a message back or change it (WhatsApp: a withdrawal's notice, a
correction), and a reply under it (a correction on X, Bluesky, Threads). Each is a new post on
the same channel, queued at once without a link and sent like any post (exactly once, the
fan-out to the readers for a notice); its text is the catalogue's, in the channel's language."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from publisher import roster
from publisher.articles import fold
from publisher.catalogue import translator
from publisher.channels.base import NOTICE, REPLY_TO
from publisher.channels.text import truncate
from publisher.config import Settings
from publisher.engine.lifecycle import Outcome, State
from publisher.engine.posts.queue import new_id, record_event
from publisher.engine.storage.schema import articles, deliveries, post_events, posts

# What the history of a post whose readers were sent a withdrawal's notice says (its detail:
# the notice's post number); a post gets one, however often its article is withdrawn.
NOTICED = "withdrawal notice"
# What the history of a post says when a correction follows it up (its detail: the follow-up's
# post number).
CORRECTION_FOLLOWS = "correction follows"


def words(settings: Settings, channel: str, key: str, **values: object) -> str:
    """A follow-up's text from the catalogue, in the channel's language."""
    language = settings.channels[channel].language or settings.language
    return translator(language, "desk")(key, **values)


def reached(connection: Connection, post_id: int) -> list[str]:
    """The readers a post that went out one by one reached (none for a post to all)."""
    return sorted(
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


def queue_withdrawal_notices(
    connection: Connection,
    settings: Settings,
    post_ids: Sequence[int],
    by: str,
    now: datetime,
) -> list[int]:
    """Queue a withdrawal's notice to the readers of each of these posts, in the caller's
    transaction, once per post; the notices' post numbers."""
    queued: list[int] = []
    for post_id in post_ids:
        if _noticed(connection, post_id):
            continue
        original = _original(connection, post_id)
        headline = " ".join(original.headline.split())
        text = words(settings, original.channel, "withdrawal_notice", headline=headline)
        notice = queue_notice(connection, post_id, text, by, now)
        if notice is not None:
            record_event(connection, [post_id], by, NOTICED, now, str(notice))
            queued.append(notice)
    return queued


def queue_notice(
    connection: Connection, post_id: int, text: str, by: str, now: datetime
) -> int | None:
    """Queue `text` to exactly the readers the post reached (None: it reached none)."""
    readers = reached(connection, post_id)
    if not readers:
        return None
    return _follow_up(connection, post_id, text, by, now, {NOTICE: post_id}, readers)


def queue_reply(
    connection: Connection, settings: Settings, post_id: int, text: str, by: str, now: datetime
) -> int:
    """Queue `text` as a reply under the post on its platform, cut to the platform's rules."""
    original = _original(connection, post_id)
    channel = roster.configured(settings, original.channel)
    limit = channel.limit_for(None)
    fitted = truncate(text, lambda t: channel.measure(t) <= limit)
    return _follow_up(connection, post_id, fitted, by, now, {REPLY_TO: original.remote_id}, None)


def _original(connection: Connection, post_id: int) -> Any:
    return connection.execute(
        select(
            posts.c.article_id,
            posts.c.channel,
            posts.c.channel_type,
            posts.c.remote_id,
            articles.c.headline,
        )
        .join(articles, articles.c.id == posts.c.article_id)
        .where(posts.c.id == post_id)
    ).one()


def _follow_up(
    connection: Connection,
    post_id: int,
    text: str,
    by: str,
    now: datetime,
    fields: dict[str, Any],
    readers: list[str] | None,
) -> int:
    original = _original(connection, post_id)
    follow_up = new_id(
        connection.execute(
            insert(posts).values(
                article_id=original.article_id,
                channel=original.channel,
                channel_type=original.channel_type,
                text=text,
                search=fold(f"{original.headline} {text}"),
                link="",
                fields=fields | {"headline": original.headline},
                state=State.QUEUED,
                approval_required=False,
                due_at=now,
                attempts=0,
                retries=0,
                queued_by=by,
                edited=False,
                pending=readers,
                created_at=now,
                updated_at=now,
            )
        )
    )
    record_event(connection, [follow_up], by, "queued", now)
    return follow_up


def is_notice(fields: dict[str, Any] | None) -> bool:
    """Whether a post (by its fields) is a notice to the readers of another."""
    return NOTICE in (fields or {})


def is_follow_up(fields: dict[str, Any] | None) -> bool:
    """Whether a post (by its fields) follows up on another: a notice or a reply."""
    return is_notice(fields) or REPLY_TO in (fields or {})


def _noticed(connection: Connection, post_id: int) -> bool:
    return (
        connection.execute(
            select(post_events.c.id).where(
                post_events.c.post_id == post_id, post_events.c.action == NOTICED
            )
        ).first()
        is not None
    )

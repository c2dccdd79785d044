"""What needs a person, as the editors' bot tells it: posts that failed, are uncertain or wait
for approval, changed since a time; takedowns and corrections a platform refused since then;
channels paused since then; which of the matters told
before are settled since; approvers' decisions on the posts an editor queued from the bot
(approved, or sent back while waiting), made by someone else; and the posts queued from the
bot that went online since."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select

from publisher.engine.lifecycle import APPROVE, CANCEL, NEEDS_AN_EDITOR, TO_GO, State
from publisher.engine.posts.amendments import AmendmentState
from publisher.engine.posts.pauses import active_pauses
from publisher.engine.storage.schema import (
    amendments,
    articles,
    channel_pauses,
    post_events,
    posts,
)

# Events read again at each look: one committed after a later one is still found.
EVENTS_READ_AGAIN = 200
# Who queued a post from the bot: this, then the editor's Telegram id.
FROM_THE_BOT = "telegram:"


@dataclass(frozen=True)
class NeedsAPerson:
    """A post that failed, is uncertain or waits for approval, with what a notice about it says."""

    id: int
    channel: str
    state: str
    error: str | None
    error_class: str | None
    text: str
    queued_by: str
    headline: str
    # Attempts so far: a post that fails again after a retry is another matter to tell.
    attempts: int


@dataclass(frozen=True)
class Online:
    """A post queued from the bot that went out: where it can be seen (None where the platform
    gives no address, a message to many recipients)."""

    id: int
    channel: str
    permalink: str | None
    queued_by: str
    headline: str


@dataclass(frozen=True)
class ChannelPaused:
    """A channel paused at `paused_at`, why, and what would end it."""

    channel: str
    reason: str
    cause: str
    paused_at: datetime


@dataclass(frozen=True)
class Decision:
    """An approver let a post go (`approved`) or sent it back while it waited (event `id`)."""

    id: int
    approved: bool
    post_id: int
    channel: str
    due_at: datetime
    queued_by: str


@dataclass(frozen=True)
class Refused:
    """A takedown or a correction's edit a platform refused (amendment `id`): an editor sees
    to it on the platform, or tries it again."""

    id: int
    post_id: int
    channel: str
    action: str
    error: str | None
    headline: str


@dataclass(frozen=True)
class Attention:
    """One look: what needs a person since the last, which of the posts told as waiting for
    approval are no longer (with the state they are in), and the channels still paused."""

    changed: list[NeedsAPerson]
    paused: list[ChannelPaused]
    no_longer_waiting: dict[int, str]
    still_paused: set[str]
    online: list[Online]
    refused: list[Refused]


def look(engine: Engine, since: datetime, now: datetime, waiting: Collection[int]) -> Attention:
    """What changed since `since`, and which of the posts `waiting` (told as waiting for
    approval) no longer do, read in one connection."""
    with engine.connect() as connection:
        changed = [
            NeedsAPerson(*row)
            for row in connection.execute(
                select(
                    posts.c.id,
                    posts.c.channel,
                    posts.c.state,
                    posts.c.error,
                    posts.c.error_class,
                    posts.c.text,
                    posts.c.queued_by,
                    articles.c.headline,
                    posts.c.attempts,
                )
                .join(articles, articles.c.id == posts.c.article_id)
                .where(posts.c.state.in_(NEEDS_AN_EDITOR), posts.c.updated_at > since)
                .order_by(posts.c.id)
            )
        ]
        online = [
            Online(*row)
            for row in connection.execute(
                select(
                    posts.c.id,
                    posts.c.channel,
                    posts.c.permalink,
                    posts.c.queued_by,
                    articles.c.headline,
                )
                .join(articles, articles.c.id == posts.c.article_id)
                .where(
                    posts.c.state == State.SENT,
                    posts.c.sent_at > since,
                    posts.c.queued_by.like(f"{FROM_THE_BOT}%"),
                )
                .order_by(posts.c.id)
            )
        ]
        paused = [
            ChannelPaused(row.channel, row.reason, row.cause or "credentials", row.paused_at)
            for row in connection.execute(
                select(channel_pauses).where(channel_pauses.c.paused_at > since)
            )
        ]
        settled = dict(
            connection.execute(
                select(posts.c.id, posts.c.state).where(
                    posts.c.id.in_(list(waiting)), posts.c.state != State.AWAITING_APPROVAL
                )
            ).all()
        )
        still_paused = set(active_pauses(connection, now))
        refused = [
            Refused(*row)
            for row in connection.execute(
                select(
                    amendments.c.id,
                    amendments.c.post_id,
                    amendments.c.channel,
                    amendments.c.action,
                    amendments.c.error,
                    articles.c.headline,
                )
                .join(posts, posts.c.id == amendments.c.post_id)
                .join(articles, articles.c.id == posts.c.article_id)
                .where(
                    amendments.c.state == AmendmentState.FAILED, amendments.c.finished_at > since
                )
                .order_by(amendments.c.id)
            )
        ]
    return Attention(changed, paused, settled, still_paused, online, refused)


def held_for_authors(engine: Engine, channel: str) -> dict[str, list[int]]:
    """The posts still to go out on `channel` that editors queued from the bot, by who queued
    them: what a pause of the channel holds for each."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(posts.c.queued_by, posts.c.id)
            .where(
                posts.c.channel == channel,
                posts.c.state.in_(TO_GO),
                posts.c.queued_by.like(f"{FROM_THE_BOT}%"),
            )
            .order_by(posts.c.id)
        ).all()
    held: dict[str, list[int]] = {}
    for queued_by, post_id in rows:
        held.setdefault(queued_by, []).append(post_id)
    return held


def last_event(engine: Engine) -> int:
    """The newest event of any post (0 with none): decisions are looked for after it."""
    with engine.connect() as connection:
        return connection.execute(select(func.max(post_events.c.id))).scalar() or 0


def decisions(engine: Engine, after: int) -> tuple[list[Decision], int]:
    """Approvals and posts sent back (cancelled while waiting) of posts queued from the bot,
    made by someone other than their author, among the events after event `after` and the
    `EVENTS_READ_AGAIN` before it (ids are handed out before their transactions commit, not in
    commit order; the caller tells each once); and the newest event read (`after` if none)."""
    with engine.connect() as connection:
        return _decisions(connection, after)


def _decisions(connection: Connection, after: int) -> tuple[list[Decision], int]:
    rows = connection.execute(
        select(
            post_events.c.id,
            post_events.c.action,
            post_events.c.detail,
            post_events.c.actor,
            posts.c.id.label("post_id"),
            posts.c.channel,
            posts.c.due_at,
            posts.c.queued_by,
        )
        .join(posts, posts.c.id == post_events.c.post_id)
        .where(
            post_events.c.id > after - EVENTS_READ_AGAIN,
            post_events.c.action.in_([APPROVE.done, CANCEL.done]),
            posts.c.queued_by.like(f"{FROM_THE_BOT}%"),
        )
        .order_by(post_events.c.id)
    ).all()
    found = [
        Decision(
            row.id, row.action == APPROVE.done, row.post_id, row.channel, row.due_at, row.queued_by
        )
        for row in rows
        if row.actor != row.queued_by
        # A cancel by an editor, not one with its article's withdrawal (which says why).
        and (row.action == APPROVE.done or row.detail == f"was {State.AWAITING_APPROVAL}")
    ]
    return found, max(after, rows[-1].id) if rows else after

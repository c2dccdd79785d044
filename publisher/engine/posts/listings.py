"""What `queue list`, `queue show` and `log` report: posts and deliveries as plain dicts, the
shape of their `--json` output (ids, channel, state or outcome, times, remote id, permalink,
error class and message). Times are ISO 8601 UTC, with the newsroom's local time beside."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, Connection, Engine, case, func, select

from publisher.articles import fold
from publisher.channels.text import masked
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.lifecycle import (
    NEEDS_AN_EDITOR,
    RESCHEDULE,
    RESURFACED,
    TO_GO,
    Outcome,
    held,
    verbs_for,
)
from publisher.engine.posts.pauses import active_pauses
from publisher.engine.storage.schema import articles, channel_pauses, deliveries, posts

# What a finished delivery attempt can come to (the filters `log --outcome` takes).
OUTCOMES = tuple(outcome.value for outcome in Outcome if outcome != Outcome.PENDING)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class PostListing(TypedDict):
    """A post as `queue list --json` gives it (the README's contract): its article, channel,
    state and what an editor can do now, its times in UTC and the newsroom's, its text and
    link, and what the platform answered."""

    id: int
    article_id: int
    headline: str
    url: str
    channel: str
    type: str
    state: str
    held: bool
    actions: list[str]
    movable: bool
    configured: bool
    due_at: str
    due_local: str
    attempts: int
    queued_by: str
    resurfaced: bool
    edited: bool
    text: str
    link: str
    remote_id: str | None
    permalink: str | None
    error_class: str | None
    error: str | None
    sent_at: str | None
    created_at: str | None
    updated_at: str | None


class DeliveryListing(TypedDict):
    """One delivery attempt as `log --json` gives it (the README's contract), a recipient's
    number masked."""

    id: int
    post_id: int
    channel: str
    attempt: int
    worker: str | None
    outcome: str
    started_at: str | None
    finished_at: str | None
    latency_ms: int | None
    remote_id: str | None
    permalink: str | None
    error_class: str | None
    error: str | None
    recipient: str | None
    status: str | None
    status_at: str | None
    # What the attempt did: "send" (the post), or "remove" (took it down again).
    action: str


def post_listing(row: Any, settings: Settings, paused: set[str]) -> PostListing:
    local = row.due_at.astimezone(settings.tz)
    return {
        "id": row.id,
        "article_id": row.article_id,
        "headline": row.headline,
        "url": row.url,
        "channel": row.channel,
        "type": row.channel_type,
        "state": row.state,
        "held": held(row.state, row.channel, paused),
        # What an editor can do with it now (buttons), and whether it can be moved.
        "actions": verbs_for(row.state),
        "movable": RESCHEDULE.allows(row.state),
        # False for a post whose channel was renamed or removed from the configuration.
        "configured": row.channel in settings.channels,
        "due_at": row.due_at.isoformat(),
        "due_local": local.isoformat(),
        "attempts": row.attempts,
        "queued_by": row.queued_by,
        # Given another turn from the archive by a [[resurface]] rule.
        "resurfaced": row.queued_by.startswith(RESURFACED),
        "edited": row.edited,
        "text": row.text,
        "link": row.link,
        "remote_id": row.remote_id,
        "permalink": row.permalink,
        "error_class": row.error_class,
        "error": row.error,
        "sent_at": _iso(row.sent_at),
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
    }


def list_posts(
    engine: Engine,
    settings: Settings,
    *,
    include_done: bool = False,
    channel: str | None = None,
    post_ids: list[int] | None = None,
    due_from: datetime | None = None,
    due_until: datetime | None = None,
    article_id: int | None = None,
) -> list[PostListing]:
    """Posts still to go out and those held (awaiting approval, uncertain, failed); with
    `include_done`, sent and cancelled ones too; due in [`due_from`, `due_until`) when given.
    Soonest first; with `article_id`, that article's posts only."""
    query = select(posts, articles.c.headline, articles.c.url).join(articles)
    if due_from is not None:
        query = query.where(posts.c.due_at >= due_from)
    if due_until is not None:
        query = query.where(posts.c.due_at < due_until)
    if not include_done:
        query = query.where(posts.c.state.in_(TO_GO))
    if channel:
        query = query.where(posts.c.channel == channel)
    if post_ids is not None:
        query = query.where(posts.c.id.in_(post_ids))
    if article_id is not None:
        query = query.where(posts.c.article_id == article_id)
    with engine.connect() as connection:
        paused = set(active_pauses(connection, utcnow()))
        rows = connection.execute(query.order_by(posts.c.due_at, posts.c.id)).all()
    return [post_listing(row, settings, paused) for row in rows]


@dataclass(frozen=True)
class PostFilter:
    """Which posts a listing shows: by channel, states (none: those still to go out and the
    held ones), due in [`due_from`, `due_until`), and words of the headline or the text."""

    channel: str | None = None
    states: tuple[str, ...] = ()
    due_from: datetime | None = None
    due_until: datetime | None = None
    words: str = ""


def _conditions(chosen: PostFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [posts.c.state.in_(chosen.states or TO_GO)]
    if chosen.channel:
        conditions.append(posts.c.channel == chosen.channel)
    if chosen.due_from is not None:
        conditions.append(posts.c.due_at >= chosen.due_from)
    if chosen.due_until is not None:
        conditions.append(posts.c.due_at < chosen.due_until)
    # Words are compared folded (articles.fold): "muller" finds "Müller".
    for word in fold(chosen.words).split()[:5]:
        pattern = f"%{word.replace('%', '').replace('_', '')}%"
        conditions.append(posts.c.search.like(pattern))
    return conditions


def ids_of_posts(engine: Engine, chosen: PostFilter, limit: int) -> list[int]:
    """The numbers of the posts `chosen` (on every page), by due time, at most `limit`."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(posts.c.id)
            .join(articles)
            .where(*_conditions(chosen))
            .order_by(posts.c.due_at, posts.c.id)
            .limit(limit)
        )
        return [row.id for row in rows]


def headlines_of(engine: Engine, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """Each post's channel and its article's headline, to name posts an action left alone."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(posts.c.id, posts.c.channel, articles.c.headline)
            .join(articles)
            .where(posts.c.id.in_(list(ids)))
        )
        return {row.id: (row.channel, row.headline) for row in rows}


def page_of_posts(
    engine: Engine, settings: Settings, chosen: PostFilter, page: int = 1, per_page: int = 50
) -> tuple[list[PostListing], int, int]:
    """One page of the posts `chosen`, those needing an editor first (awaiting approval,
    failed, uncertain), then those of paused channels, then by due time; how many there are
    in all; and the page's number (a page past the last is the last)."""
    conditions = _conditions(chosen)
    with engine.connect() as connection:
        paused = set(active_pauses(connection, utcnow()))
        urgency = case(
            (posts.c.state.in_(NEEDS_AN_EDITOR), 0),
            (posts.c.channel.in_(paused or {""}), 1),
            else_=2,
        )
        total = connection.execute(
            select(func.count()).select_from(posts.join(articles)).where(*conditions)
        ).scalar_one()
        page = max(min(page, (total + per_page - 1) // per_page), 1)
        rows = connection.execute(
            select(posts, articles.c.headline, articles.c.url)
            .join(articles)
            .where(*conditions)
            .order_by(urgency, posts.c.due_at, posts.c.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
    return [post_listing(row, settings, paused) for row in rows], total, page


def _delivery_dict(row: Any) -> DeliveryListing:
    return {
        "id": row.id,
        "post_id": row.post_id,
        "channel": row.channel,
        "attempt": row.attempt,
        "worker": row.worker,
        "outcome": row.outcome,
        "started_at": _iso(row.started_at),
        "finished_at": _iso(row.finished_at),
        "latency_ms": row.latency_ms,
        "remote_id": row.remote_id,
        "permalink": row.permalink,
        "error_class": row.error_class,
        "error": row.error,
        # Masked: a subscriber's number is personal data; the store keeps it for exactly-once.
        "recipient": masked(row.recipient) if row.recipient else None,
        # What the platform reported of the message since (WhatsApp: delivered, read, failed).
        "status": row.status,
        "status_at": _iso(row.status_at),
        "action": row.action or "send",
    }


def list_deliveries(
    engine: Engine,
    *,
    channel: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    post_ids: list[int] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[DeliveryListing]:
    """The delivery log, newest first."""
    query = select(deliveries)
    if channel:
        query = query.where(deliveries.c.channel == channel)
    if outcome:
        query = query.where(deliveries.c.outcome == outcome)
    if since:
        query = query.where(deliveries.c.started_at >= since)
    if until:
        query = query.where(deliveries.c.started_at < until)
    if post_ids is not None:
        query = query.where(deliveries.c.post_id.in_(post_ids))
    query = (
        query.order_by(deliveries.c.started_at.desc(), deliveries.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    with engine.connect() as connection:
        return [_delivery_dict(row) for row in connection.execute(query)]


def post_note(post: Mapping[str, Any]) -> str:
    """What an editor should know about a post beside its state."""
    if not post["configured"] and post["state"] in TO_GO:
        return (
            f"channel {post['channel']} is not in the configuration: add it back, or cancel "
            f"the post (publisher queue cancel {post['id']})"
        )
    return post["error"] or post["permalink"] or ""


def channels_in_store(engine: Engine) -> set[str]:
    """Every channel the database has posts of, configured or not."""
    with engine.connect() as connection:
        return set(connection.execute(select(posts.c.channel).distinct()).scalars())


def stranded_posts(engine: Engine, settings: Settings) -> dict[str, list[int]]:
    """Posts still to go out on channels that are no longer configured, by channel: no worker
    sends them until the channel is back or an editor cancels them."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(posts.c.channel, posts.c.id)
            .where(
                posts.c.state.in_(TO_GO),
                posts.c.channel.not_in(list(settings.channels)),
            )
            .order_by(posts.c.id)
        ).all()
    stranded: dict[str, list[int]] = {}
    for channel, post_id in rows:
        stranded.setdefault(channel, []).append(post_id)
    return stranded


def change_version(connection: Connection) -> str:
    """A stamp that changes whenever a post, a delivery or a pause does: pages showing the queue
    compare it to know they are out of date. A finished delivery changes its post's time."""
    latest, count = connection.execute(select(func.max(posts.c.updated_at), func.count())).one()
    paused, pauses = connection.execute(
        select(func.max(channel_pauses.c.paused_at), func.count()).select_from(channel_pauses)
    ).one()
    return f"{count}.{_iso(latest)}.{pauses}.{_iso(paused)}"


def queue_version(engine: Engine) -> str:
    """`change_version` in a connection of its own."""
    with engine.connect() as connection:
        return change_version(connection)

"""The editors' verbs on one post (approve, cancel, retry, reschedule, mark sent, edit) and on a
channel (pause, resume). Each is one short transaction that the post lifecycle's verb table
allows or refuses; a refusal changes nothing, and every change is recorded with who made it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, select, update

from publisher import roster
from publisher.articles import Article, fold
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.lifecycle import (
    ALREADY_THERE,
    APPROVAL_AGAIN,
    APPROVE,
    CANCEL,
    EDIT,
    HOLDABLE,
    MARK_SENT,
    RESCHEDULE,
    RESTORE,
    RETRY,
    WITHDRAWN,
    State,
    Verb,
    approval_withdrawn,
    unapproved,
)
from publisher.engine.planning.planner import closest_post
from publisher.engine.posts.confirmed import mark_sent
from publisher.engine.posts.overdue import GRACE, overdue_of_channel, refuse_unasked
from publisher.engine.posts.pauses import pause_channel, resume_channel
from publisher.engine.posts.queue import (
    LinkMissing,
    QueueError,
    drops_link,
    not_withdrawn,
    record_event,
)
from publisher.engine.storage.changes import notify_change
from publisher.engine.storage.rowids import is_row_id
from publisher.engine.storage.schema import articles, post_events, posts
from publisher.teasers import compose


def _post(connection: Connection, post_id: int) -> Any:
    if not is_row_id(post_id):
        raise QueueError(f"no post {post_id}", key="no_post", post=post_id)
    row = connection.execute(select(posts).where(posts.c.id == post_id)).first()
    if row is None:
        raise QueueError(f"no post {post_id}", key="no_post", post=post_id)
    return row


def _transition(
    engine: Engine,
    post_id: int,
    verb: Verb,
    by: str,
    detail: str | Callable[[Any], str] | None = None,
    check: Callable[[Connection, Any], None] | None = None,
    former: str | None = None,
    **values: Any,
) -> None:
    """Apply `verb` to a post in one transaction: refused (nothing changed) unless the post's
    state allows it and `check` raises nothing; the state changes to the verb's target unless
    `values` say otherwise; a callable `detail` is what the history notes of the post's row."""
    now = utcnow()
    with engine.begin() as connection:
        row = _post(connection, post_id)
        if not verb.allows(row.state):
            message, values = verb.refusal(post_id, row.state)
            raise QueueError(message, key="verb_refused", **values)
        if check is not None:
            check(connection, row)
        if verb.target is not None:
            values.setdefault("state", verb.target)
        connection.execute(
            update(posts)
            .where(and_(posts.c.id == post_id, posts.c.state == row.state))
            .values(updated_at=now, **values)
        )
        noted = detail(row) if callable(detail) else detail
        record_event(connection, [post_id], by, verb.done, now, noted, former)
        notify_change(connection)


def text_version(text: str) -> str:
    """A short mark of one version of a post's text: what an approver saw is what they approve."""
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def approve(engine: Engine, post_id: int, by: str, *, seen: str | None) -> None:
    """Let a post that waits for approval go out at its time; who approved it is kept. `seen`
    is the `text_version` the approver read: an approval names the text it covers, so without
    one nothing is approved (key "approval_unseen"), nor when the text changed since (key
    "approval_outdated")."""
    if not seen:
        raise QueueError(
            f"post {post_id}: an approval names the text version the approver read",
            key="approval_unseen",
            post=post_id,
        )

    def same_text(connection: Connection, row: Any) -> None:
        if text_version(row.text) != seen:
            raise QueueError(
                f"the text of post {post_id} was changed meanwhile: read it again "
                f"(publisher queue show {post_id}) before approving it",
                key="approval_outdated",
                post=post_id,
            )

    # The history keeps the text approved: what changes after it is shown to the next approver.
    _transition(
        engine,
        post_id,
        APPROVE,
        by,
        detail=lambda row: str(row.text),
        check=same_text,
        approved_by=by,
        approved_at=utcnow(),
    )


def cancel(engine: Engine, post_id: int, by: str) -> None:
    """Withdraw a post that has not gone out; the state it had is noted, for `restore`."""
    with engine.connect() as connection:
        row = _post(connection, post_id)
    _transition(
        engine, post_id, CANCEL, by, detail=f"was {row.state}", former=row.state, worker=None
    )


def restore(
    engine: Engine,
    post_id: int,
    by: str,
    *,
    overdue_ok: bool = False,
    at: datetime | None = None,
) -> None:
    """Undo a cancel: the post waits or is queued again as before (at the time `at`, when the
    editor chose a new one), unless it had been tried (failed or uncertain posts stay
    cancelled) or its article is on the channel again since. A queued post whose time has
    passed would go out at once: refused (Overdue) unless the editor confirmed that
    (`overdue_ok`)."""
    with engine.connect() as connection:
        row = _post(connection, post_id)
        previous = connection.execute(
            select(post_events.c.former_state)
            .where(
                post_events.c.post_id == post_id,
                post_events.c.action.in_([CANCEL.done, WITHDRAWN]),
            )
            .order_by(post_events.c.id.desc())
            .limit(1)
        ).scalar()
        again = connection.execute(
            select(posts.c.id).where(
                posts.c.article_id == row.article_id,
                posts.c.channel == row.channel,
                posts.c.id != post_id,
                posts.c.state.in_(ALREADY_THERE),
            )
        ).scalar()
        article = Article.model_validate(
            connection.execute(
                select(articles.c.data).where(articles.c.id == row.article_id)
            ).scalar_one()
        )
    not_withdrawn(article)
    if row.state == State.CANCELLED and (previous not in HOLDABLE or again is not None):
        raise QueueError(f"post {post_id} cannot be restored", key="cannot_restore", post=post_id)
    moved: dict[str, Any] = {}
    if at is not None:
        not_past(at)
        moved["due_at"] = at
    elif previous == State.QUEUED and row.due_at < utcnow() - GRACE:
        refuse_unasked([row], "overdue_restore", overdue_ok, post=post_id)
    _transition(engine, post_id, RESTORE, by, state=previous, **moved)


def state_of(engine: Engine, post_id: int) -> str:
    """The state a post is in (QueueError when there is no such post)."""
    with engine.connect() as connection:
        return str(_post(connection, post_id).state)


def due_of(engine: Engine, post_id: int) -> datetime:
    """The time a post is due at (QueueError when there is no such post)."""
    with engine.connect() as connection:
        return _post(connection, post_id).due_at  # type: ignore[no-any-return]


def not_past(when: datetime) -> None:
    """Refuse a time to move a post to that has no zone or lies in the past."""
    if when.tzinfo is None:
        raise QueueError("a post's time needs a time zone")
    if when < utcnow() - timedelta(seconds=5):
        shown = when.isoformat(timespec="minutes")
        raise QueueError(f"{shown} is in the past", key="in_past", when=when)


def retry(engine: Engine, post_id: int, by: str, now: datetime | None = None) -> None:
    """Send a failed or uncertain post again, now or at the time `now` (an editor has checked
    it is not online); a post whose approval an edit withdrew waits for approval first."""
    with engine.connect() as connection:
        row = _post(connection, post_id)
    waits = unapproved(row.approval_required, row.approved_at)
    _transition(
        engine,
        post_id,
        RETRY,
        by,
        state=State.AWAITING_APPROVAL if waits else State.QUEUED,
        due_at=now or utcnow(),
        retries=0,
        worker=None,
        lease_until=None,
        # Fan-out posts owe again every recipient not yet reached, refused ones included.
        pending=None,
    )


def reschedule(
    engine: Engine,
    post_id: int,
    when: datetime,
    by: str,
    gaps: Mapping[str, timedelta] | None = None,
    making_way: Collection[int] = (),
) -> None:
    """Move a post that has not gone out to another time (in the future). With `gaps` (each
    channel's `min_gap`), a time closer than that to another post of the channel is refused,
    unless that post is one `making_way` (about to be moved too)."""
    not_past(when)

    def clear(connection: Connection, row: Any) -> None:
        if _minute(row.due_at) == _minute(when):
            # Nothing would change that an editor sees: nothing is recorded as a move.
            raise QueueError(
                f"post {post_id} is already due then", key="already_at", post=post_id, when=when
            )
        if gaps is None:
            return
        gap = max(gaps.get(row.channel, timedelta(0)), timedelta(seconds=1))
        other = closest_post(connection, row.channel, when, gap, {post_id, *making_way})
        if other is not None:
            minutes = int(gap.total_seconds() // 60)
            raise QueueError(
                f"post {other} on {row.channel} is due within {minutes} minutes of that time",
                key="too_close" if minutes else "time_taken",
                post=other,
                channel=row.channel,
                minutes=minutes,
            )

    _transition(
        engine,
        post_id,
        RESCHEDULE,
        by,
        when.astimezone(UTC).isoformat(timespec="minutes"),
        check=clear,
        due_at=when,
    )


def _minute(at: datetime) -> datetime:
    """A time as editors choose and read it: to the minute."""
    return at.replace(second=0, microsecond=0)


# The editor's verbs that are buttons (desk, bot), by name: each takes the engine, the post and
# who acts (`by`).
ACTIONS: dict[str, Callable[..., None]] = {
    APPROVE.name: approve,
    CANCEL.name: cancel,
    RETRY.name: retry,
    MARK_SENT.name: mark_sent,
    RESTORE.name: restore,
}


def edit(
    engine: Engine,
    settings: Settings,
    post_id: int,
    new_text: str,
    by: str,
    *,
    without_link: bool = False,
    seen: str | None = None,
) -> None:
    """Replace a post's text, validated against its channel's rules (QueueError lists problems).
    A text that drops the article's link is refused (LinkMissing) unless `without_link`. An
    approved post that is edited waits for approval again. `seen` is the post's version (its
    `updated_at`) the editor started from: if someone changed it since, nothing is overwritten.
    The post counts as edited while its text differs from the teaser composed for it."""
    new_text = new_text.replace("\r\n", "\n")
    with engine.begin() as connection:
        row = _post(connection, post_id)
        if seen is not None and row.updated_at.isoformat() != seen:
            last = connection.execute(
                select(post_events.c.actor)
                .where(post_events.c.post_id == post_id)
                .order_by(post_events.c.id.desc())
                .limit(1)
            ).scalar()
            raise QueueError(
                f"post {post_id} was changed meanwhile by {last or 'someone'}; reload it",
                key="changed_meanwhile",
                post=post_id,
                by=last or "?",
            )
        if not EDIT.allows(row.state):
            raise QueueError(
                f"post {post_id} is {row.state} and can no longer be edited",
                key="edit_refused",
                post=post_id,
                state=row.state,
            )
        if row.channel not in settings.channels:
            raise QueueError(
                f"post {post_id} belongs to channel {row.channel!r}, no longer configured"
            )
        channel = roster.configured(settings, row.channel)
        stored = connection.execute(select(articles.c.data).where(articles.c.id == row.article_id))
        article = Article.model_validate(stored.scalar_one())
        problems = channel.validate(new_text, article)
        if problems:
            raise QueueError(
                f"post {post_id} on {row.channel}: " + "; ".join(problems),
                key="text_refused",
                post=post_id,
                channel=row.channel,
                problems=problems,
            )
        if not without_link and drops_link(channel, new_text, row.link, article.url):
            raise LinkMissing(
                f"post {post_id} on {row.channel}: the text no longer holds the article's link",
                key="edit_link_missing",
                post=post_id,
                channel=row.channel,
            )
        now = utcnow()
        composed = compose(article, {row.channel: channel}, settings)[row.channel]
        values: dict[str, Any] = {
            "text": new_text,
            "search": fold(f"{article.headline} {new_text}"),
            "edited": new_text != composed.text,
            "updated_at": now,
        }
        detail = None
        if row.approved_at is not None:
            values.update(approval_withdrawn(row.state))
            detail = APPROVAL_AGAIN
        connection.execute(update(posts).where(posts.c.id == post_id).values(values))
        record_event(connection, [post_id], by, "edited", now, detail)
        notify_change(connection)


def _configured(settings: Settings, channel: str) -> None:
    """Refuse a channel the newsroom has not configured, naming those it has."""
    if channel not in settings.channels:
        known = ", ".join(sorted(settings.channels))
        raise QueueError(
            f"unknown channel {channel!r} (configured: {known})",
            key="unknown_channel",
            channel=channel,
            known=known,
        )


def pause(engine: Engine, settings: Settings, channel: str, reason: str) -> None:
    """Hold every post of a channel until it is resumed."""
    _configured(settings, channel)
    with engine.begin() as connection:
        pause_channel(connection, channel, reason, "editor", utcnow())


def resume(
    engine: Engine, settings: Settings, channel: str, *, overdue_ok: bool = False
) -> list[int]:
    """Let a paused channel's posts go out again; the posts that go out at once (their time has
    come). Posts it held past their time would go out at once: refused (Overdue) unless the
    editor confirmed that (`overdue_ok`)."""
    _configured(settings, channel)
    now = utcnow()
    with engine.begin() as connection:
        late = overdue_of_channel(connection, channel, now)
        refuse_unasked(late, "overdue_resume", overdue_ok, channel=channel)
        resume_channel(connection, channel)
        return list(
            connection.execute(
                select(posts.c.id)
                .where(
                    posts.c.channel == channel,
                    posts.c.state == State.QUEUED,
                    posts.c.due_at <= now,
                )
                .order_by(posts.c.due_at, posts.c.id)
            ).scalars()
        )

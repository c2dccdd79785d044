"""What is done to a post after it went out, as the queue keeps it: taking it down (its
article was withdrawn) or editing it (a correction), each a job with its state
(`AmendmentState`) that the worker carries out (engine/delivery/amendments.py); scheduling
them, and what `queue show` and the desk say of them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import TypedDict

from sqlalchemy import Connection, Engine, Row, insert, select, update

from publisher.clock import utcnow
from publisher.engine.storage.changes import notify_change
from publisher.engine.storage.schema import amendments, posts


class Action(StrEnum):
    """What an amendment does to its post; stored as its value (and as its deliveries')."""

    REMOVE = "remove"
    EDIT = "edit"


class AmendmentState(StrEnum):
    """Where an amendment is; stored as its value."""

    # Waiting for its time (its post may still be going out, or an older amendment of the
    # post be under way: it waits for them).
    DUE = "due"
    # A worker is calling the platform.
    WORKING = "working"
    # Done: the post is gone from its platform (removed now, or gone already), or edited.
    DONE = "done"
    # The platform refused, or gave no answer after every attempt: an editor sees to it.
    FAILED = "failed"
    # Its post never went out (it failed, or was cancelled): nothing to do.
    NOT_NEEDED = "not_needed"


# An amendment not yet carried out.
UNFINISHED = (AmendmentState.DUE, AmendmentState.WORKING)


def schedule_removals(
    connection: Connection, rows: Sequence[Row], by: str, reason: str | None, now: datetime
) -> None:
    """Take these posts (rows with id and channel) down, in the caller's transaction: a post
    being taken down or taken down already is left alone, one whose takedown failed is tried
    again."""
    if not rows:
        return
    existing = {
        row.post_id: (row.id, row.state)
        for row in connection.execute(
            select(amendments.c.post_id, amendments.c.id, amendments.c.state).where(
                amendments.c.post_id.in_([row.id for row in rows]),
                amendments.c.action == Action.REMOVE,
            )
        )
    }
    fresh = [row for row in rows if row.id not in existing]
    if fresh:
        connection.execute(
            insert(amendments),
            [_job(row.id, row.channel, Action.REMOVE, by, reason, now) for row in fresh],
        )
    again = [job for job, state in existing.values() if state == AmendmentState.FAILED]
    if again:
        connection.execute(
            update(amendments)
            .where(amendments.c.id.in_(again))
            .values(state=AmendmentState.DUE, due_at=now, attempts=0, error=None, requested_by=by)
        )
    notify_change(connection)


def schedule_edit(
    connection: Connection,
    post_id: int,
    channel: str,
    text: str,
    former: str,
    by: str,
    reason: str | None,
    now: datetime,
) -> None:
    """Give the post `text` on its platform in place of `former`, in the caller's transaction.
    An edit of the post still waiting takes the new text instead (it has not reached the
    platform yet); otherwise the edit waits for the ones before it."""
    waiting = connection.execute(
        update(amendments)
        .where(
            amendments.c.post_id == post_id,
            amendments.c.action == Action.EDIT,
            amendments.c.state == AmendmentState.DUE,
            amendments.c.attempts == 0,
        )
        .values(text=text, reason=reason, requested_by=by, requested_at=now)
    ).rowcount
    if not waiting:
        job = _job(post_id, channel, Action.EDIT, by, reason, now) | {
            "text": text,
            "former": former,
        }
        connection.execute(insert(amendments).values(job))
    notify_change(connection)


def try_again(engine: Engine, post_id: int, by: str) -> bool:
    """Try the post's newest refused amendment again (an editor put right what the platform
    refused, or deleted it by hand and wants it recorded); False when none was refused."""
    now = utcnow()
    with engine.begin() as connection:
        refused = connection.execute(
            select(amendments.c.id)
            .where(amendments.c.post_id == post_id)
            .order_by(amendments.c.id.desc())
            .limit(1)
        ).scalar()
        tried = connection.execute(
            update(amendments)
            .where(amendments.c.id == refused, amendments.c.state == AmendmentState.FAILED)
            .values(state=AmendmentState.DUE, due_at=now, attempts=0, error=None, requested_by=by)
        ).rowcount
        if tried:
            notify_change(connection)
    return bool(tried)


def newest_text(connection: Connection, post_id: int) -> str | None:
    """The text the post's newest edit not refused gives it (None: it was never edited)."""
    return connection.execute(
        select(amendments.c.text)
        .where(
            amendments.c.post_id == post_id,
            amendments.c.action == Action.EDIT,
            amendments.c.state != AmendmentState.FAILED,
        )
        .order_by(amendments.c.id.desc())
        .limit(1)
    ).scalar()


def _job(
    post_id: int, channel: str, action: Action, by: str, reason: str | None, now: datetime
) -> dict[str, object]:
    return {
        "post_id": post_id,
        "channel": channel,
        "action": action,
        "state": AmendmentState.DUE,
        "due_at": now,
        "attempts": 0,
        "requested_by": by,
        "reason": reason or None,
        "requested_at": now,
    }


class TakedownListing(TypedDict):
    """A post's takedown as `queue show --json` gives it: where it stands, who asked (an
    editor, or the CMS's source) and why, when it was asked and finished, how many attempts,
    and the platform's reason when it refused."""

    state: str
    requested_by: str
    reason: str | None
    requested_at: str
    finished_at: str | None
    attempts: int
    error: str | None


def takedown_of(connection: Connection, post_id: int) -> TakedownListing | None:
    """The post's takedown, if its article's withdrawal asked for one."""
    row = connection.execute(
        select(amendments)
        .where(amendments.c.post_id == post_id, amendments.c.action == Action.REMOVE)
        .order_by(amendments.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else _listed(row)


class EditListing(TakedownListing):
    """A correction's edit of a post as `queue show --json` gives it: a takedown's fields, the
    text before (`former`) and the text it gives the post (`text`)."""

    former: str | None
    text: str | None


def edits_of(connection: Connection, post_id: int) -> list[EditListing]:
    """The corrections' edits of the post, oldest first."""
    rows = connection.execute(
        select(amendments)
        .where(amendments.c.post_id == post_id, amendments.c.action == Action.EDIT)
        .order_by(amendments.c.id)
    ).all()
    return [EditListing(**_listed(row), former=row.former, text=row.text) for row in rows]


def _listed(row: Row) -> TakedownListing:
    return {
        "state": row.state,
        "requested_by": row.requested_by,
        "reason": row.reason,
        "requested_at": row.requested_at.isoformat(),
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "attempts": row.attempts,
        "error": row.error,
    }


def article_takedowns(engine: Engine, article_id: int) -> dict[int, str]:
    """Where the takedown of each of the article's posts stands, by post."""
    with engine.connect() as connection:
        return {
            row.post_id: row.state
            for row in connection.execute(
                select(amendments.c.post_id, amendments.c.state)
                .join(posts, posts.c.id == amendments.c.post_id)
                .where(posts.c.article_id == article_id, amendments.c.action == Action.REMOVE)
            )
        }

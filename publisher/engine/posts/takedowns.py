"""A withdrawal's takedowns as the queue keeps them: which posts out are taken down, kept on
purpose, or left because their platform removes nothing (`plan`), and where each takedown
stands (`TakedownState`). The worker carries them out (engine/delivery/takedowns.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypedDict

from sqlalchemy import Connection, Engine, Row, insert, select, update

from publisher import roster
from publisher.channels.base import NOTICE
from publisher.config import Settings
from publisher.engine.lifecycle import State
from publisher.engine.storage.changes import notify_change
from publisher.engine.storage.schema import posts, takedowns


class TakedownState(StrEnum):
    """Where a takedown is; stored as its value."""

    # Waiting for its time (its post may still be going out: it waits until it is out).
    DUE = "due"
    # A worker is calling the platform.
    WORKING = "working"
    # The post is gone from its platform (removed now, or gone already).
    DONE = "done"
    # The platform refused, or gave no answer after every attempt: an editor takes it down.
    FAILED = "failed"
    # Its post never went out (it failed, or was cancelled): nothing to take down.
    NOT_NEEDED = "not_needed"


@dataclass(frozen=True)
class Planned:
    """What a withdrawal does to its article's posts that are out (or going out): taken down,
    kept on purpose (`on_withdraw = "keep"`, or the editor asked to keep them), or left because
    the platform lets no post be removed (WhatsApp: its readers may get a notice instead)."""

    taking_down: list[int]
    kept: list[int]
    cannot: list[int]
    # Of those it cannot take down, the ones whose readers are sent a notice instead.
    noticed: list[int]


def out_or_going(connection: Connection, article_id: int) -> list[Row]:
    """The article's posts out or going out: the ones a withdrawal may take down (not the
    notices an earlier withdrawal sent to readers)."""
    rows = connection.execute(
        select(posts.c.id, posts.c.channel, posts.c.fields).where(
            posts.c.article_id == article_id, posts.c.state.in_((State.SENT, State.SENDING))
        )
    ).all()
    return [row for row in rows if NOTICE not in (row.fields or {})]


def sort_out(rows: list[Row], settings: Settings, *, keep_sent: bool = False) -> Planned:
    """Which of these posts (out or going out) a withdrawal takes down, keeps on purpose, or
    cannot take down."""
    taking_down: list[int] = []
    kept: list[int] = []
    cannot: list[int] = []
    noticed: list[int] = []
    for row in rows:
        channel = settings.channels.get(row.channel)
        if keep_sent or (channel is not None and channel.on_withdraw == "keep"):
            kept.append(row.id)
        elif channel is None or not roster.removable(settings, row.channel):
            cannot.append(row.id)
            if (
                channel is not None
                and roster.configured(settings, row.channel).notices_withdrawal()
            ):
                noticed.append(row.id)
        else:
            taking_down.append(row.id)
    return Planned(sorted(taking_down), sorted(kept), sorted(cannot), sorted(noticed))


def plan(
    connection: Connection,
    settings: Settings,
    article_id: int,
    by: str,
    reason: str | None,
    now: datetime,
    *,
    keep_sent: bool = False,
) -> Planned:
    """Plan a takedown of each of the article's posts out or going out, in the caller's
    transaction. A post already taken down, or being, is left alone; one whose takedown failed
    is tried again."""
    rows = out_or_going(connection, article_id)
    planned = sort_out(rows, settings, keep_sent=keep_sent)
    _schedule(connection, [r for r in rows if r.id in planned.taking_down], by, reason, now)
    return planned


def _schedule(
    connection: Connection, rows: list[Row], by: str, reason: str | None, now: datetime
) -> None:
    if not rows:
        return
    existing = {
        row.post_id: row.state
        for row in connection.execute(
            select(takedowns.c.post_id, takedowns.c.state).where(
                takedowns.c.post_id.in_([row.id for row in rows])
            )
        )
    }
    fresh = [row for row in rows if row.id not in existing]
    if fresh:
        connection.execute(
            insert(takedowns),
            [
                {
                    "post_id": row.id,
                    "channel": row.channel,
                    "state": TakedownState.DUE,
                    "due_at": now,
                    "attempts": 0,
                    "requested_by": by,
                    "reason": reason or None,
                    "requested_at": now,
                }
                for row in fresh
            ],
        )
    again = [i for i, state in existing.items() if state == TakedownState.FAILED]
    if again:
        connection.execute(
            update(takedowns)
            .where(takedowns.c.post_id.in_(again), takedowns.c.state == TakedownState.FAILED)
            .values(state=TakedownState.DUE, due_at=now, attempts=0, error=None, requested_by=by)
        )
    notify_change(connection)


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
    row = connection.execute(select(takedowns).where(takedowns.c.post_id == post_id)).first()
    if row is None:
        return None
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
                select(takedowns.c.post_id, takedowns.c.state)
                .join(posts, posts.c.id == takedowns.c.post_id)
                .where(posts.c.article_id == article_id)
            )
        }

"""A withdrawal's takedowns: which of its article's posts out are taken down, kept on purpose,
or left because their platform removes nothing (`sort_out`), and the takedowns planned
(`plan`); the worker carries them out (engine/delivery/amendments.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Row, select

from publisher import roster
from publisher.config import Settings
from publisher.engine.lifecycle import State
from publisher.engine.posts.amendments import schedule_removals
from publisher.engine.posts.followups import is_notice
from publisher.engine.storage.schema import posts


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
    return [row for row in rows if not is_notice(row.fields)]


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
    schedule_removals(connection, [r for r in rows if r.id in planned.taking_down], by, reason, now)
    return planned

"""The delivery log as the desk shows it: one row per attempt of a post, newest first, with the
post's headline; a fan-out to readers (WhatsApp) is one row per post with how many messages were
sent, delivered, read, failed (Meta's later reports of undeliverable ones included) and unclear,
not a row per reader. A page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, func, literal, or_, select

from publisher.engine.lifecycle import RESURFACED, Outcome
from publisher.engine.storage.schema import articles, deliveries, posts


@dataclass(frozen=True)
class LogFilter:
    """What the log shows: one channel, one outcome, deliveries started in [since, until)."""

    channel: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class LogRow:
    """One row of the log: an attempt, or a fan-out post's messages (`fan_out` with counts)."""

    post_id: int
    channel: str
    headline: str
    outcome: str
    started_at: datetime
    permalink: str | None = None
    remote_id: str | None = None
    error: str | None = None
    fan_out: dict[str, int] | None = None
    # The post was an archive article's another turn (`[[resurface]]`).
    resurfaced: bool = False
    # What the attempt did: "send", or "remove" / "edit" (a takedown, a correction).
    action: str = "send"


_FAILED = or_(deliveries.c.outcome == Outcome.FAILED, deliveries.c.status == "failed")


def _single(chosen: LogFilter) -> Select[Any]:
    query = select(
        deliveries.c.post_id,
        deliveries.c.channel,
        deliveries.c.outcome,
        deliveries.c.started_at,
        deliveries.c.permalink,
        deliveries.c.remote_id,
        deliveries.c.error,
        *(literal(0).label(name) for name in _COUNTS),
        deliveries.c.action,
    ).where(deliveries.c.recipient.is_(None))
    conditions: list[ColumnElement[bool]] = []
    if chosen.outcome:
        conditions.append(deliveries.c.outcome == chosen.outcome)
    if chosen.since:
        conditions.append(deliveries.c.started_at >= chosen.since)
    if chosen.until:
        conditions.append(deliveries.c.started_at < chosen.until)
    if chosen.channel:
        conditions.append(deliveries.c.channel == chosen.channel)
    return query.where(*conditions).order_by(
        deliveries.c.started_at.desc(), deliveries.c.post_id.desc()
    )


_COUNTS = ("sent", "delivered", "read", "failed", "unclear", "messages")


def _fan_outs(chosen: LogFilter) -> Select[Any]:
    started = func.min(deliveries.c.started_at)
    counts = {
        "sent": func.count().filter(deliveries.c.outcome == Outcome.SENT),
        "delivered": func.count().filter(deliveries.c.status.in_(["delivered", "read"])),
        "read": func.count().filter(deliveries.c.status == "read"),
        "failed": func.count().filter(_FAILED),
        "unclear": func.count().filter(deliveries.c.outcome == Outcome.UNCERTAIN),
        "messages": func.count(),
    }
    query = (
        select(
            deliveries.c.post_id,
            deliveries.c.channel,
            literal("fan_out").label("outcome"),
            started.label("started_at"),
            literal(None).label("permalink"),
            literal(None).label("remote_id"),
            literal(None).label("error"),
            *(value.label(name) for name, value in counts.items()),
            literal(None).label("action"),
        )
        .where(deliveries.c.recipient.is_not(None))
        .group_by(deliveries.c.post_id, deliveries.c.channel)
        .order_by(started.desc(), deliveries.c.post_id.desc())
    )
    if chosen.channel:
        query = query.where(deliveries.c.channel == chosen.channel)
    having: list[ColumnElement[bool]] = []
    if chosen.since:
        having.append(started >= chosen.since)
    if chosen.until:
        having.append(started < chosen.until)
    if chosen.outcome == Outcome.FAILED:
        having.append(counts["failed"] > 0)
    elif chosen.outcome == Outcome.UNCERTAIN:
        having.append(counts["unclear"] > 0)
    elif chosen.outcome == Outcome.SENT:
        having.append(counts["sent"] > 0)
    elif chosen.outcome:
        having.append(func.count().filter(deliveries.c.outcome == chosen.outcome) > 0)
    return query.having(*having) if having else query


def log_page(
    engine: Engine, chosen: LogFilter, page: int = 1, per_page: int = 50
) -> tuple[list[LogRow], int, int]:
    """One page of the log; how many rows there are in all; the page's number (a page past the
    last is the last)."""
    with engine.connect() as connection:
        total = sum(
            connection.execute(
                select(func.count()).select_from(kind.order_by(None).subquery())
            ).scalar_one()
            for kind in (_single(chosen), _fan_outs(chosen))
        )
        page = max(min(page, (total + per_page - 1) // per_page), 1)
        # The newest rows of each kind down to this page, merged: each kind reads newest first
        # and stops there, where one query over both would sort every delivery there is.
        wanted = page * per_page
        found = [
            row
            for kind in (_single(chosen), _fan_outs(chosen))
            for row in connection.execute(kind.limit(wanted))
        ]
        found.sort(key=lambda row: (row.started_at, row.post_id), reverse=True)
        shown = found[wanted - per_page : wanted]
        about = {
            row.id: (row.headline, row.queued_by.startswith(RESURFACED))
            for row in connection.execute(
                select(posts.c.id, posts.c.queued_by, articles.c.headline)
                .join(articles, articles.c.id == posts.c.article_id)
                .where(posts.c.id.in_({row.post_id for row in shown}))
            )
        }
    return [_row(row, *about.get(row.post_id, ("", False))) for row in shown], total, page


def _row(row: Any, headline: str, resurfaced: bool) -> LogRow:
    fan_out = {name: int(getattr(row, name)) for name in _COUNTS}
    return LogRow(
        post_id=row.post_id,
        channel=row.channel,
        headline=headline,
        outcome=row.outcome,
        started_at=row.started_at,
        permalink=row.permalink,
        remote_id=row.remote_id,
        error=row.error,
        fan_out=fan_out if row.outcome == "fan_out" else None,
        resurfaced=resurfaced,
        action=row.action or "send",
    )

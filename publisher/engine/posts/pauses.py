"""Paused channels, in one place: a channel is paused by an editor, by the platform's rate limit
(until its reset) or because it cannot post (credentials, settings, permissions); while paused,
its posts stay where they are and no worker claims them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Connection, delete, insert, or_, select

from publisher.engine.storage.changes import notify_change
from publisher.engine.storage.schema import channel_pauses

# What would end a pause: an editor putting the credentials, the channel's settings or the
# account's permissions right, the platform's reset (rate_limit), or an editor resuming it.
Cause = Literal["credentials", "settings", "permissions", "rate_limit", "editor"]


@dataclass(frozen=True)
class Pause:
    """Why a channel is paused, what would end it, and when the pause ends by itself (None:
    when resumed)."""

    reason: str
    until: datetime | None
    cause: Cause = "credentials"


def pause_channel(
    connection: Connection,
    channel: str,
    reason: str,
    cause: Cause,
    now: datetime,
    until: datetime | None = None,
) -> None:
    """Pause `channel` in the caller's transaction (a newer pause replaces an older one)."""
    connection.execute(delete(channel_pauses).where(channel_pauses.c.channel == channel))
    connection.execute(
        insert(channel_pauses).values(
            channel=channel, reason=reason, paused_at=now, until=until, cause=cause
        )
    )


def resume_channel(connection: Connection, channel: str) -> None:
    """Let a paused channel's posts go out again, in the caller's transaction."""
    connection.execute(delete(channel_pauses).where(channel_pauses.c.channel == channel))
    notify_change(connection)


def active_pauses(connection: Connection, now: datetime) -> dict[str, Pause]:
    """The channels paused at `now`."""
    rows = connection.execute(
        select(channel_pauses).where(
            or_(channel_pauses.c.until.is_(None), channel_pauses.c.until > now)
        )
    )
    return {row.channel: Pause(row.reason, row.until, row.cause or "credentials") for row in rows}

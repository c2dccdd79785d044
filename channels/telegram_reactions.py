"""Telegram's reaction counts, the only number its Bot API lets a channel's posts have: a bot that
administers the channel and lists "message_reaction_count" in `allowed_updates` is sent a
`message_reaction_count` update (core.telegram.org/bots/api#messagereactioncountupdated: `chat`,
`message_id`, `date`, `reactions` as `ReactionCount` objects of a `type` and a `total_count`) when
the anonymous reactions to a message change, grouped and up to a few minutes late. Every
reaction counts as a like; views reach no bot and stay unknown."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from publisher.channels.base import Heard, Result

# The update kind, as `allowed_updates` and the update itself name it.
UPDATE = "message_reaction_count"


def same_chat(configured: str | int | None, chat: Mapping[str, Any]) -> bool:
    """Whether the chat an update names is the channel's (`chat_id` as configured: a numeric
    id, or the "@name" of a public channel)."""
    if configured is None:
        return False
    wanted = str(configured).strip()
    if wanted.lstrip("-").isdigit():
        return chat.get("id") == int(wanted)
    username = chat.get("username")
    return isinstance(username, str) and username.lower() == wanted.lstrip("@").lower()


def reaction_counts(configured: str | int | None, update: Mapping[str, Any]) -> Heard | None:
    """What a `message_reaction_count` update says of a message in the configured chat: its
    reactions added up as likes; None for any other update or chat."""
    counted = update.get(UPDATE)
    if not isinstance(counted, Mapping) or not same_chat(configured, counted.get("chat") or {}):
        return None
    reactions = [r for r in counted.get("reactions") or () if isinstance(r, Mapping)]
    likes = sum(int(r.get("total_count") or 0) for r in reactions)
    at = datetime.fromtimestamp(int(counted.get("date") or 0), UTC)
    raw = {"reactions": [dict(r) for r in reactions]}
    return Heard(str(counted.get("message_id")), at, Result.of(raw, likes=likes))


def nothing_heard() -> Result:
    """A message no count was heard of while the channel was heard: no reactions."""
    return Result.of({"reactions": []}, likes=0)

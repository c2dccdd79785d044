"""The editors' bot's drafts and the texts it waits for, kept in the database so that a restart of
the bot loses neither: a draft as JSON under the key its buttons carry (the newest `MOST_DRAFTS`
kept), and for an editor in a chat what their next message there answers: a draft's text for a
channel (the draft's key), or a post's new text or time (`edit:<no.>`, `time:<no.>`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, delete, select

from publisher.clock import utcnow
from publisher.engine.storage.schema import bot_drafts, bot_waiting, upsert

# Drafts kept at most (the oldest go first): a bot runs for months, and a draft nobody pressed a
# button on is kept only so long.
MOST_DRAFTS = 200


def keep_draft(engine: Engine, key: str, data: dict[str, Any]) -> None:
    """Keep the draft under `key` (replacing what was kept), and no more than MOST_DRAFTS."""
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            upsert(connection, bot_drafts)
            .values(key=key, data=data, updated_at=now)
            .on_conflict_do_update(index_elements=["key"], set_={"data": data, "updated_at": now})
        )
        newest = (
            select(bot_drafts.c.key)
            .order_by(bot_drafts.c.updated_at.desc(), bot_drafts.c.key)
            .limit(MOST_DRAFTS)
        )
        connection.execute(delete(bot_drafts).where(bot_drafts.c.key.not_in(newest)))


def kept_draft(engine: Engine, key: str) -> dict[str, Any] | None:
    """The draft kept under `key`, or None (never made, or one of the oldest let go)."""
    with engine.connect() as connection:
        found = connection.execute(
            select(bot_drafts.c.data).where(bot_drafts.c.key == key)
        ).scalar()
    return dict(found) if found is not None else None


def keep_waiting(engine: Engine, user: int, chat: int, key: str, channel: str) -> None:
    """The editor's next message in `chat` is the draft's new text for `channel`."""
    now = utcnow()
    values = {"key": key, "channel": channel, "since": now}
    with engine.begin() as connection:
        connection.execute(
            upsert(connection, bot_waiting)
            .values(editor=user, chat=chat, **values)
            .on_conflict_do_update(index_elements=["editor", "chat"], set_=values)
        )


def waiting_for(engine: Engine, user: int, chat: int) -> tuple[str, str] | None:
    """The draft and channel whose new text the editor's next message in `chat` is, if any."""
    with engine.connect() as connection:
        found = connection.execute(
            select(bot_waiting.c.key, bot_waiting.c.channel).where(
                bot_waiting.c.editor == user, bot_waiting.c.chat == chat
            )
        ).first()
    return (str(found.key), str(found.channel)) if found is not None else None


def stop_waiting(engine: Engine, user: int, chat: int) -> None:
    """The editor's next message in `chat` is no text for a draft any more."""
    with engine.begin() as connection:
        connection.execute(
            delete(bot_waiting).where(bot_waiting.c.editor == user, bot_waiting.c.chat == chat)
        )

"""Tell the editors' chat what needs a person: failed posts, uncertain posts, posts waiting for
approval and paused channels, each with buttons to act on it. Checks the queue every
`notify_every` seconds; what was already there when the bot started is not repeated. A
notification counts as told only once Telegram took it; one that failed is sent next time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import Application

from publisher.bot.commands import Desk
from publisher.clock import utcnow
from publisher.engine.lifecycle import (
    APPROVE,
    CANCEL,
    MARK_SENT,
    NEEDS_AN_EDITOR,
    RETRY,
    State,
)
from publisher.engine.schema import channel_pauses, posts

logger = logging.getLogger("publisher.bot")


Marker = tuple[str, Any, str]


class Notifier:
    """Finds what changed since the last look and sends one message per item."""

    def __init__(self, desk: Desk, since: datetime | None = None) -> None:
        self.desk = desk
        self.since = since or utcnow()
        self._told: set[Marker] = set()
        # Found but not yet taken by Telegram, oldest first.
        self._waiting: dict[Marker, tuple[str, InlineKeyboardMarkup]] = {}

    def _changes(self) -> tuple[Sequence[Any], Sequence[Any], datetime]:
        now = utcnow()
        with self.desk.engine.connect() as connection:
            changed = connection.execute(
                select(posts.c.id, posts.c.channel, posts.c.state, posts.c.error, posts.c.text)
                .where(posts.c.state.in_(NEEDS_AN_EDITOR), posts.c.updated_at > self.since)
                .order_by(posts.c.id)
            ).all()
            paused = connection.execute(
                select(channel_pauses).where(channel_pauses.c.paused_at > self.since)
            ).all()
        return changed, paused, now

    def messages(self) -> list[tuple[Marker, str, InlineKeyboardMarkup]]:
        """The notifications due now (those that could not be sent before first), each with
        its buttons; `told` marks one as sent."""
        changed, paused, now = self._changes()
        self.since = now
        say = self.desk.say
        for post in changed:
            marker = ("post", post.id, post.state)
            if marker in self._told or marker in self._waiting:
                continue
            if post.state == State.FAILED:
                text = say("notify_failed", id=post.id, channel=post.channel, error=post.error)
                buttons = [RETRY, CANCEL]
            elif post.state == State.UNCERTAIN:
                text = say("notify_uncertain", id=post.id, channel=post.channel)
                buttons = [MARK_SENT, RETRY]
            else:
                text = say("notify_approval", id=post.id, channel=post.channel, text=post.text)
                buttons = [APPROVE, CANCEL]
            keyboard = [
                InlineKeyboardButton(
                    say(f"button_{verb.name}"), callback_data=f"p:{post.id}:{verb.name}"
                )
                for verb in buttons
            ]
            self._waiting[marker] = (text, InlineKeyboardMarkup([keyboard]))
        for pause in paused:
            marker = ("pause", pause.channel, pause.paused_at.isoformat())
            if marker in self._told or marker in self._waiting:
                continue
            text = say("notify_paused", channel=pause.channel, reason=pause.reason)
            text += "\n" + say(f"pause_help_{pause.cause or 'credentials'}")
            resume = InlineKeyboardButton(
                say("button_resume"), callback_data=f"c:{pause.channel}:resume"
            )
            self._waiting[marker] = (text, InlineKeyboardMarkup([[resume]]))
        return [(marker, text, buttons) for marker, (text, buttons) in self._waiting.items()]

    def told(self, marker: Marker) -> None:
        """Telegram took this notification."""
        self._waiting.pop(marker, None)
        self._told.add(marker)

    async def run(self, application: Application) -> None:
        """Check and send until the application stops."""
        chat = self.desk.bot_settings.editors_chat_id
        if chat is None:
            logger.warning("no [bot] editors_chat_id: notifications are off")
            return
        while True:
            try:
                for marker, text, buttons in await asyncio.to_thread(self.messages):
                    await application.bot.send_message(
                        chat, text, parse_mode="HTML", reply_markup=buttons
                    )
                    self.told(marker)
            except asyncio.CancelledError:
                raise
            except Exception:  # a database or network hiccup: try again next time
                logger.exception("notifying the editors failed")
            await asyncio.sleep(self.desk.bot_settings.notify_every)

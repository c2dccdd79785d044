"""What every part of the bot speaks with: the queue's database, the newsroom's settings, the
catalogue in the bot's language, replies kept to Telegram's limits, refusals told in words, and
times, numbers and channels written as the editor reads them."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from telegram import Update

from publisher.bot.access import Gate
from publisher.catalogue import describe, moment, number, short_moment, table, translator
from publisher.channels.telegram import Telegram
from publisher.config import Settings
from publisher.errors import EditorError

# The bot speaks Telegram: its messages keep to a Telegram message's limit.
MESSAGE_LIMIT = Telegram.limit


class Talk:
    """The bot's means of speaking, shared by its commands, its drafts and its notices."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.bot_settings = settings.bot
        self.language = settings.bot.language or settings.language
        self._say = translator(self.language, "bot")
        self.gate = Gate(settings.bot, self._say)

    def say(self, key: str, **values: Any) -> str:
        return self._say(key, **values)

    def reason(self, error: EditorError) -> str:
        """A refusal in the editor's words (plain text), channels by their labels."""
        return describe(error, self.language, self.settings.label)

    def explain(self, error: EditorError) -> str:
        """A refusal as the bot tells it."""
        return self.say("error", message=self.reason(error))

    def explain_failure(self, error_class: str | None) -> str:
        """What a kind of platform refusal means for the post ("" for a kind without words)."""
        return table(self.language, "bot").get(f"explain_{error_class}", "")

    def label(self, channel: str) -> str:
        return self.settings.label(channel)

    def when(self, at: datetime, channel: str | None = None) -> str:
        """A time in the channel's zone (else the newsroom's) with the zone's name."""
        zone = self.settings.channel_tz(channel) if channel else self.settings.tz
        return moment(at, zone, self.language)

    def soon(self, at: datetime) -> str:
        """A time in the next days, short enough for a button ("07:00", "Do. 07:00")."""
        return short_moment(at, self.settings.tz, self.language)

    def num(self, value: int) -> str:
        return number(value, self.language)

    async def reply(self, update: Update, text: str, **options: Any) -> Any:
        if update.effective_message is None:
            return None
        return await update.effective_message.reply_text(
            fit(text), parse_mode="HTML", disable_web_page_preview=True, **options
        )

    async def run(self, update: Update, function: Any, *args: Any) -> Any:
        """Run a queue operation in a thread; a refusal becomes one message to the editor."""
        try:
            return await asyncio.to_thread(function, *args)
        except EditorError as exc:
            await self.reply(update, self.explain(exc))
            return None


def fit(text: str) -> str:
    """Telegram refuses messages over 4,096 characters: long listings are cut at a line."""
    if len(text) <= MESSAGE_LIMIT:
        return text
    # Cut at a line: never inside a tag or an entity such as &amp;.
    cut = text[: MESSAGE_LIMIT - 30].rsplit("\n", 1)[0]
    # A cut inside a quote or preformatted block would leave it open.
    for tag in ("pre", "blockquote"):
        if cut.count(f"<{tag}>") > cut.count(f"</{tag}>"):
            cut += f"</{tag}>"
    return cut + "\n…"

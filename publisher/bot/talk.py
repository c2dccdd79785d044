"""What every part of the bot speaks with: the queue's database, the newsroom's settings, the
catalogue in the bot's language, replies kept to Telegram's limits, refusals told in words, and
times, numbers and channels written as the editor reads them."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from telegram import Update

from publisher.bot.access import Gate
from publisher.catalogue import describe, moment, number, short_moment, table, translator
from publisher.catalogue import going as going_words
from publisher.channels.telegram import Telegram
from publisher.config import Settings
from publisher.engine.posts.overdue import going
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
        return describe(error, self.language, self.settings.label, self.settings.tz)

    def explain(self, error: EditorError) -> str:
        """A refusal as the bot tells it."""
        return self.say("error", message=self.reason(error))

    def explain_failure(self, error_class: str | None) -> str:
        """What a kind of platform refusal means for the post ("" for a kind without words)."""
        return table(self.language, "bot").get(f"explain_{error_class}", "")

    def label(self, channel: str) -> str:
        return self.settings.label(channel)

    def who(self, actor: str) -> str:
        """Who did something to a post, as an editor in the bot reads it."""
        if actor.startswith("telegram:"):
            return self.say("someone_in_the_bot")
        return actor

    def when(self, at: datetime, channel: str | None = None) -> str:
        """A time in the channel's zone (else the newsroom's) with the zone's name."""
        zone = self.settings.channel_tz(channel) if channel else self.settings.tz
        return moment(at, zone, self.language)

    def going(self, post_id: int) -> str:
        """When a post an editor let go goes out (never a time already past)."""
        timing = going(self.engine, post_id)
        zone = self.settings.channel_tz(timing.channel)
        return going_words(timing, self.language, "bot", zone, self.label(timing.channel))

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

    async def reply_whole(self, update: Update, text: str, buttons: Any = None) -> Any:
        """A text that must be read whole before its buttons are pressed (an approval): in as
        many messages as it takes, never cut, the buttons under the last."""
        message = update.effective_message
        if message is None:
            return None
        chunks = parts(text)
        sent = None
        for number_, chunk in enumerate(chunks, 1):
            sent = await message.reply_text(
                chunk,
                parse_mode="HTML",
                disable_web_page_preview=True,
                reply_markup=buttons if number_ == len(chunks) else None,
            )
        return sent

    async def run(self, update: Update, function: Any, *args: Any) -> Any:
        """Run a queue operation in a thread; a refusal becomes one message to the editor."""
        try:
            return await asyncio.to_thread(function, *args)
        except EditorError as exc:
            await self.reply(update, self.explain(exc))
            return None


def fit(text: str) -> str:
    """Telegram refuses messages over 4,096 UTF-16 units (an emoji is two): long listings are
    cut at a line."""
    if _units(text) <= MESSAGE_LIMIT:
        return text
    # Cut at a line: never inside a tag or an entity such as &amp;.
    cut = text[: _within_units(text, MESSAGE_LIMIT - 30)].rsplit("\n", 1)[0]
    # A cut inside a quote or preformatted block would leave it open.
    for tag in ("pre", "blockquote"):
        if cut.count(f"<{tag}>") > cut.count(f"</{tag}>"):
            cut += f"</{tag}>"
    return cut + "\n…"


# Pieces of Telegram HTML: a tag, an entity, a run of words with what follows them, a run of
# spaces, or a lone "<" or "&" (each matched in one pass: linear on any input).
_PIECE = re.compile(r"<[^<>]{0,2000}>|&#?\w{1,10};|[^<&\s]+\s*|\s+|[<&]")
_TAG = re.compile(r"<(/?)([a-zA-Z-]+)")
# Tags open at once that a cut closes and opens again (Telegram's own texts nest two or three).
_DEEPEST = 8
# A word longer than this is cut where it must be.
_LONGEST_PIECE = 1000


def _within_units(text: str, most: int) -> int:
    """How many characters of `text` take at most `most` UTF-16 units."""
    units = 0
    for index, character in enumerate(text):
        units += 2 if ord(character) > 0xFFFF else 1
        if units > most:
            return index
    return len(text)


def _units(text: str) -> int:
    """The length Telegram counts: UTF-16 code units (an emoji outside the BMP is two)."""
    return len(text.encode("utf-16-le")) // 2


def parts(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """A Telegram HTML text as messages of at most `limit` units each, every character kept:
    cut between words where it can be, never inside a tag or an entity; a tag open at a cut is
    closed there and opened again in the next part."""
    pieces: list[str] = []
    for piece in _PIECE.findall(text):
        while len(piece) > _LONGEST_PIECE and not piece.startswith("<"):
            pieces.append(piece[:_LONGEST_PIECE])
            piece = piece[_LONGEST_PIECE:]
        pieces.append(piece)
    found: list[str] = []
    current: list[str] = []
    # The units of `current` and of the closing tags it would need, kept as they change.
    length = closing_length = 0
    # Tags open at this point: each one's name and its opening tag.
    opened: list[tuple[str, str]] = []
    for piece in pieces:
        units = _units(piece)
        if length and length + units + closing_length > limit and "".join(current).strip():
            found.append("".join(current) + _closing(opened))
            current = [tag for _, tag in opened]
            length = sum(_units(tag) for tag in current)
        current.append(piece)
        length += units
        tag = _TAG.match(piece) if piece.startswith("<") else None
        if tag is not None and tag.group(1):
            for at in range(len(opened) - 1, -1, -1):
                if opened[at][0] == tag.group(2).lower():
                    closing_length -= len(opened[at][0]) + 3
                    del opened[at]
                    break
        elif tag is not None and not piece.endswith("/>") and len(opened) < _DEEPEST:
            opened.append((tag.group(2).lower(), piece))
            closing_length += len(tag.group(2)) + 3
    text_left = "".join(current)
    if text_left.strip() or not found:
        found.append(text_left)
    return found


def _closing(opened: list[tuple[str, str]]) -> str:
    """The closing tags of the tags still open, innermost first."""
    return "".join(f"</{name}>" for name, _ in reversed(opened))

"""Tell the editors' chat what needs a person: failed posts, uncertain posts, posts waiting for
approval (again after every edit, the earlier notice marked out of date; a settled one loses its
buttons) and paused channels, each with buttons to act on it; and tell an author in their own
chat when an approver let their post go or sent it back, and when it went online. Checks the
queue every `notify_every` seconds. When the bot starts, what still needs a person from the last
day is told (it may have happened while the bot was down). A notification counts as told only
once Telegram took it; one that failed on the way is sent next time, each recipient's apart
from the others'. An editor Telegram will not let the bot write to privately (they never
started a private chat with it) is said once in the editors' chat, and gets nothing privately
until they write to the bot."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import Any

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application

from publisher import roster
from publisher.articles import whole_number
from publisher.bot import buttons, render
from publisher.bot.buttons import keyed
from publisher.bot.commands import BotHandlers
from publisher.bot.talk import fit, parts
from publisher.clock import utcnow
from publisher.engine.lifecycle import (
    APPROVE,
    CANCEL,
    MARK_SENT,
    RETRY,
    State,
)
from publisher.engine.posts import attention
from publisher.engine.posts.attention import (
    ChannelPaused,
    Decision,
    NeedsAPerson,
    Online,
    Refused,
)
from publisher.engine.posts.verbs import text_version

logger = logging.getLogger(__name__)

Marker = tuple[Any, ...]
# One look: posts needing a person, channels paused, open notices settled, authors' decisions.
Changes = tuple[
    list[NeedsAPerson],
    list[ChannelPaused],
    list[tuple[tuple[str, Any], str]],
    list[Decision],
    list[Online],
]
# How far back a starting bot looks for posts that still need a person.
LOOKBACK = timedelta(days=1)
# Each look reads this far back past the last: a post whose change was stamped before a look
# began but committed after it read is still found (what was told is not told again).
LOOK_AGAIN = timedelta(minutes=1)


@dataclass(frozen=True)
class Notice:
    """One message to send: to the editors' chat (`chat` None) or to an author's own chat. A
    notice `about` a post waiting for approval or a paused channel stays open until that is
    settled (its buttons are then taken away) or a newer notice about it replaces it."""

    text: str
    buttons: InlineKeyboardMarkup | None = None
    chat: int | None = None
    about: tuple[str, Any] | None = None


@dataclass
class _Sent:
    message_id: int
    text: str


class Notifier:
    """Finds what changed since the last look and sends one message per item."""

    def __init__(self, desk: BotHandlers, since: datetime | None = None) -> None:
        self.desk = desk
        self.since = since or utcnow() - LOOKBACK
        self.last_event: int | None = None
        self._told: set[Marker] = set()
        # Found but not yet taken by Telegram, oldest first.
        self._waiting: dict[Marker, Notice] = {}
        # The open notices in the editors' chat: ("approval", post id) or ("pause", channel).
        self.open: dict[tuple[str, Any], _Sent] = {}
        # Open notices to close, with what became of their matter.
        self._settled: list[tuple[tuple[str, Any], str]] = []
        # Takedowns and corrections refused since the last look.
        self._refused: list[Refused] = []

    def _changes(self) -> Changes:
        first = self.last_event is None
        now = utcnow()
        waiting = [key for kind, key in self.open if kind == "approval"]
        seen = attention.look(self.desk.engine, self.since - LOOK_AGAIN, now, waiting)
        settled: list[tuple[tuple[str, Any], str]] = [
            (("approval", post_id), self.desk.say(f"state_{state}"))
            for post_id, state in seen.no_longer_waiting.items()
        ]
        settled += [
            (("pause", channel), self.desk.say("resumed_note"))
            for kind, channel in self.open
            if kind == "pause" and channel not in seen.still_paused
        ]
        decided = self._decisions()
        self.since = now
        self._refused = seen.refused
        # What went online while the bot was down is no news to its author any more.
        return seen.changed, seen.paused, settled, decided, [] if first else seen.online

    def _decisions(self) -> list[Decision]:
        """Approvals and posts sent back since the last look (none at the first: it only
        notes where the events stand)."""
        if self.last_event is None:
            self.last_event = attention.last_event(self.desk.engine)
            return []
        found, self.last_event = attention.decisions(self.desk.engine, self.last_event)
        return found

    def messages(self) -> list[tuple[Marker, Notice]]:
        """The notifications due now (those that could not be sent before first); `told`
        marks one as sent. Approval notices of posts since settled are put right first."""
        changed, paused, settled, decided, online = self._changes()
        self._settled = settled
        for post in changed:
            version = text_version(post.text) if post.state == State.AWAITING_APPROVAL else ""
            # A post failing again (after a retry, an edit) is told again: its attempts differ.
            attempt = post.attempts if post.state != State.AWAITING_APPROVAL else 0
            marker: Marker = ("post", post.id, post.state, version, attempt)
            if marker not in self._told and marker not in self._waiting:
                self._waiting[marker] = self._post_notice(post, version)
                author = _author(post.queued_by)
                if post.state == State.FAILED and author is not None:
                    notice = self._post_notice(post, version)
                    self._waiting[(*marker, "author")] = Notice(notice.text, notice.buttons, author)
        for pause in paused:
            marker = ("pause", pause.channel, pause.paused_at.isoformat())
            if marker in self._told or marker in self._waiting:
                continue
            say = self.desk.say
            channel = self.desk.label(pause.channel)
            text = say("notify_paused", channel=channel, reason=self._why(pause))
            if pause.cause != "editor":
                # The platform's own words, after what they mean.
                text += "\n" + say("platform_said", error=pause.reason)
            text += "\n" + say(f"pause_help_{pause.cause}")
            resume = keyed(say("button_resume"), buttons.resume(pause.channel))
            self._waiting[marker] = Notice(
                text, InlineKeyboardMarkup([[resume]]), about=("pause", pause.channel)
            )
            for queued_by, held in attention.held_for_authors(
                self.desk.engine, pause.channel
            ).items():
                author = _author(queued_by)
                if author is not None:
                    self._waiting[(*marker, author)] = self._held_notice(pause, held, author)
        for row in decided:
            marker = ("decision", row.id)
            if marker not in self._told and marker not in self._waiting:
                self._waiting[marker] = self._decision_notice(row)
        for went in online:
            marker = ("online", went.id)
            author = _author(went.queued_by)
            if author is not None and marker not in self._told and marker not in self._waiting:
                self._waiting[marker] = self._online_notice(went, author)
        for refused in self._refused:
            marker = ("amendment", refused.id, refused.error or "")
            if marker not in self._told and marker not in self._waiting:
                say = self.desk.say
                text = say(
                    f"notify_{refused.action}_refused",
                    id=refused.post_id,
                    channel=self.desk.label(refused.channel),
                    headline=refused.headline,
                )
                said = say("platform_said", error=refused.error or "")
                self._waiting[marker] = Notice(f"{text}\n{said}")
        return list(self._waiting.items())

    def _held_notice(self, pause: ChannelPaused, held: list[int], author: int) -> Notice:
        text = self.desk.say(
            "author_held",
            channel=self.desk.label(pause.channel),
            reason=self._why(pause),
            posts=", ".join(f"#{post_id}" for post_id in held),
        )
        return Notice(text, chat=author)

    def _why(self, pause: ChannelPaused) -> str:
        """Why a channel is paused, in the editor's words: the editor's own reason, else what
        the platform's refusal means (its own words follow where it is told in full)."""
        if pause.cause == "editor":
            return pause.reason
        return self.desk.say(f"pause_why_{pause.cause}")

    def _online_notice(self, went: Online, author: int) -> Notice:
        say, channel = self.desk.say, self.desk.label(went.channel)
        if went.permalink:
            # Telegram shows an address in a message as a link of itself.
            text = say("author_online", id=went.id, channel=channel, link=went.permalink)
        else:
            text = say("author_out", id=went.id, channel=channel)
        return Notice(f"{text}\n„{escape(went.headline)}“", chat=author)

    def _post_notice(self, post: NeedsAPerson, version: str) -> Notice:
        say = self.desk.say
        channel = self.desk.label(post.channel)
        if post.state == State.FAILED:
            text = say("notify_failed", id=post.id, channel=channel, headline=post.headline)
            explained = self.desk.explain_failure(post.error_class)
            text += f"\n{escape(explained)}" if explained else ""
            text += "\n" + say("platform_said", error=post.error or "?")
            # Sent again unchanged, a refused text is refused again: only cancelling helps,
            # or a new text first.
            if post.error_class == "permanent":
                text += "\n" + say("failed_fix_text", id=post.id)
                verbs = [(CANCEL.name, "")]
            else:
                verbs = [(RETRY.name, ""), (CANCEL.name, "")]
        elif post.state == State.UNCERTAIN:
            text = say("notify_uncertain", id=post.id, channel=channel)
            verbs = [(MARK_SENT.name, ""), (RETRY.name, "")]
        else:
            text = say("notify_approval", id=post.id, channel=channel)
            if post.channel in self.desk.settings.channels:
                adapter = roster.configured(self.desk.settings, post.channel)
                text += "\n" + render.teaser(adapter, post.text)
            verbs = [(APPROVE.name, version), (CANCEL.name, "")]
        keyboard = [
            keyed(say(f"button_{verb}"), buttons.post(post.id, verb, version))
            for verb, version in verbs
        ]
        about = ("approval", post.id) if post.state == State.AWAITING_APPROVAL else None
        return Notice(text, InlineKeyboardMarkup([keyboard]), about=about)

    def _decision_notice(self, row: Decision) -> Notice:
        channel = self.desk.label(row.channel)
        author = _author(row.queued_by) or 0
        if row.approved:
            when = self.desk.when(row.due_at, row.channel)
            text = self.desk.say("author_approved", id=row.post_id, channel=channel, when=when)
        else:
            text = self.desk.say("author_sent_back", id=row.post_id, channel=channel)
        return Notice(text, chat=author)

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
                await self.send(application, chat)
            except asyncio.CancelledError:
                raise
            except Exception:  # a database or network hiccup: try again next time
                logger.exception("notifying the editors failed")
            await asyncio.sleep(self.desk.bot_settings.notify_every)

    async def send(self, application: Application, editors: int) -> None:
        """One round: what is due sent, earlier notices put right."""
        found = await asyncio.to_thread(self.messages)
        for about, outcome in self._settled:
            earlier = self.open.pop(about, None)
            # A notice settled by its own button already says what became of it, and who did it.
            if earlier is not None and (editors, earlier.message_id) not in self.desk.closed:
                settled = self.desk.say("notice_settled", state=outcome)
                await self._close(application, editors, earlier, settled)
        for marker, notice in found:
            if notice.chat in self.desk.gate.unreachable:
                # Said once in the editors' chat; the notice itself went there too.
                self.told(marker)
                continue
            try:
                await self._send(application, editors, notice)
            except Forbidden as exc:
                if notice.chat is None:
                    logger.error("the editors' chat refused the bot's notices: %s", exc.message)
                    continue
                self.told(marker)
                self._unreachable(notice.chat)
            except BadRequest as exc:
                # Telegram will refuse this one however often it is sent: dropped, and said.
                logger.error("notice %s refused by Telegram, not sent again: %s", marker, exc)
                self.told(marker)
            except TelegramError as exc:
                # A network hiccup, a rate limit: sent next time; the others go on.
                logger.warning("notice %s not sent yet (%s)", marker, exc)
            else:
                self.told(marker)

    def _unreachable(self, chat: int) -> None:
        """Telegram will not let the bot write to `chat` privately: say so once, in the
        editors' chat, with what the editor can do."""
        self.desk.gate.unreachable.add(chat)
        marker: Marker = ("unreachable", chat)
        if marker not in self._told:
            self._waiting[marker] = Notice(self.desk.say("notify_unreachable", user=chat))

    async def _send(self, application: Application, editors: int, notice: Notice) -> None:
        # A text an approver must read whole is never cut: as many messages as it takes,
        # its buttons under the last.
        chunks = parts(notice.text)
        for number, chunk in enumerate(chunks, 1):
            sent = await application.bot.send_message(
                notice.chat or editors,
                chunk,
                parse_mode="HTML",
                reply_markup=notice.buttons if number == len(chunks) else None,
                disable_web_page_preview=True,
            )
        if notice.about is not None and notice.chat is None:
            earlier = self.open.get(notice.about)
            self.open[notice.about] = _Sent(sent.message_id, chunks[-1])
            if earlier is not None:
                await self._close(application, editors, earlier, self.desk.say("notice_stale"))

    async def _close(self, application: Application, chat: int, sent: _Sent, note: str) -> None:
        """An earlier notice, its buttons taken away and a note added."""
        await application.bot.edit_message_text(
            fit(f"{sent.text}\n\n{note}"),
            chat_id=chat,
            message_id=sent.message_id,
            parse_mode="HTML",
            disable_web_page_preview=True,
        )


def _author(queued_by: str | None) -> int | None:
    """The Telegram user who queued a post from the bot, if one did."""
    if queued_by and queued_by.startswith("telegram:"):
        number = queued_by.removeprefix("telegram:")
        found = whole_number(number.removeprefix("-"))
        return None if found is None else (-found if number.startswith("-") else found)
    return None

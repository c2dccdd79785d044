"""The editors' commands and buttons: /queue (and an article's URL sent as it is) hands over to
the drafts; /list, /log, /stats, /approve (which shows the text it approves), /cancel, /retry,
/help, and the day's digest; /show and a post's buttons are in `post_buttons`, /edit in
`post_edits`, /pause and /resume in `channel_commands`, /withdraw and /correct in
`article_commands`; anything else gets a short help. Only allowed users act; database work runs
in threads so the bot stays responsive."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime, time
from typing import Any

from sqlalchemy import Engine
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop, ContextTypes

from publisher import actions, roster
from publisher.actions import ApproversOnly, Someone
from publisher.bot import buttons, render
from publisher.bot.article_commands import ArticleCommands
from publisher.bot.buttons import Button, Kind, keyed
from publisher.bot.channel_commands import ChannelCommands
from publisher.bot.draft import Asker
from publisher.bot.drafts import Drafts
from publisher.bot.menu import help_text, usage
from publisher.bot.post_buttons import PostButtons
from publisher.bot.post_edits import PendingEdit
from publisher.bot.talk import fit, parts
from publisher.catalogue import day
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.learning import scorecard
from publisher.engine.learning.pushed import keep_heard
from publisher.engine.lifecycle import State
from publisher.engine.posts import bot_drafts, verbs
from publisher.engine.posts.deliverylog import LogFilter, log_page
from publisher.engine.posts.listings import list_posts
from publisher.engine.posts.overdue import Overdue
from publisher.engine.posts.post_detail import show_post
from publisher.engine.posts.queue import QueueError
from publisher.engine.posts.updates import first_time
from publisher.errors import EditorError

logger = logging.getLogger(__name__)
# A message that starts with this is an article's address.
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)


# The day's best posts /stats lists.
BEST_TODAY = 5
# Settled messages remembered against a second tap: far more than a day's notices.
CLOSED_KEPT = 1_000


class BotHandlers(ChannelCommands, ArticleCommands, PostButtons):
    """The bot's handlers, bound to the queue's database and the newsroom's settings."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        super().__init__(engine, settings)
        self.drafts = Drafts(self)
        # /edit texts that drop the article's link, waiting for the editor's confirmation.
        self.pending_edits: dict[str, PendingEdit] = {}
        # Messages a button settled (chat, message id), newest last: their closing line is
        # said, so a second tap or the notifier's round adds no other.
        self.closed: dict[tuple[int, int], None] = {}

    async def once(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Let an update through only the first time it comes (see `engine.posts.updates`)."""
        if not isinstance(update, Update):
            return
        bot = context.bot.username or "editors"
        if not await asyncio.to_thread(first_time, self.engine, bot, update.update_id):
            logger.info(
                "Telegram update %s came again: acted on before, not again", update.update_id
            )
            raise ApplicationHandlerStop

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A bug in a handler: logged (without the token), and the editor is not left waiting."""
        logger.error("bot handler failed", exc_info=context.error)
        if isinstance(update, Update) and update.effective_message is not None:
            await update.effective_message.reply_text(
                self.say("error", message=self.say("internal_error"))
            )

    # --- commands --------------------------------------------------------------------------

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.reply(update, help_text(self.say))

    async def queue(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = list(context.args or [])
        if not args:
            await self.reply(update, usage("queue", self.say))
            return
        await self._draft(update, args[0], args[1:])

    async def _draft(self, update: Update, source: str, words: list[str]) -> None:
        user = update.effective_user
        owner = user.id if user else 0
        prepared = await self.run(update, self.drafts.start, source, words, owner)
        if prepared is not None:
            text, buttons = prepared
            await self.reply(update, text, reply_markup=buttons)

    async def message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A message that is no command: a channel's new text the editor was asked for, an
        article's address (as /queue), else a short help."""
        typed = (update.effective_message.text or "") if update.effective_message else ""
        asker = _asker(update)
        asked = await asyncio.to_thread(bot_drafts.waiting_for, self.engine, *asker)
        if asked is not None:
            await self._answer_asked(update, asker, asked, typed)
            return
        words = typed.split()
        # An address anywhere: what a share sheet sends puts the headline before it; what
        # follows it are channels and a time.
        address = next((n for n, word in enumerate(words) if _URL.fullmatch(word)), None)
        if address is not None:
            await self._draft(update, words[address], words[address + 1 :])
            return
        chat = update.effective_chat
        if chat is not None and chat.type != "private":
            # Editors talking to each other in the group: not for the bot.
            return
        await self.reply(update, self.say("not_understood"), reply_markup=self._help_buttons())

    async def _answer_asked(
        self, update: Update, asker: Asker, asked: tuple[str, str], typed: str
    ) -> None:
        """The message an editor was asked for: a post's new text or time, or a draft's text."""
        if asked[0].startswith(("edit:", "time:")):
            await self._post_answer(update, asker, asked, typed)
            return
        taken = await self.run(update, self.drafts.take_text, asker, typed)
        if taken is not None:
            await self.reply(update, taken[0], reply_markup=taken[1])

    async def not_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A voice note, photo, sticker or file: a short answer in a private chat (in the
        group, editors share such things among themselves)."""
        chat = update.effective_chat
        if chat is not None and chat.type == "private":
            await self.reply(update, self.say("not_text"), reply_markup=self._help_buttons())

    async def unknown(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        typed = (update.effective_message.text or "") if update.effective_message else ""
        command = typed.split()[0] if typed.split() else "/"
        await self.reply(
            update, self.say("unknown_command", command=command), reply_markup=self._help_buttons()
        )

    def _help_buttons(self) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [[keyed(self.say(f"button_{a}"), buttons.help_answer(a)) for a in buttons.HELP_ACTIONS]]
        )

    def _listing(self) -> str:
        return self._listed()[0]

    def _listed(self) -> tuple[str, list[int]]:
        """The posts still to go and those held, as lines, and their numbers."""
        rows = list_posts(self.engine, self.settings)[:40]
        if not rows:
            return self.say("empty_list"), []
        return "\n".join(render.post_line(p, self) for p in rows), [p["id"] for p in rows]

    def _log(self) -> str:
        rows, _, _ = log_page(self.engine, LogFilter(), per_page=15)
        if not rows:
            return self.say("empty_log")
        return "\n".join(render.log_line(row, self) for row in rows)

    async def list(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        listed = await self.run(update, self._listed)
        if listed is not None:
            await self.reply(update, listed[0], reply_markup=self._listed_buttons(listed[1]))

    async def log(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        log = await self.run(update, self._log)
        if log is not None:
            await self.reply(update, log)

    def _stats(self) -> str:
        today = datetime.combine(
            utcnow().astimezone(self.settings.tz).date(), time(), self.settings.tz
        )
        best = scorecard.ranked(scorecard.by_post(self.engine, since=today))[:BEST_TODAY]
        if not best:
            return self.say("stats_none")
        return "\n".join(
            [self.say("stats_head"), *(render.stats_line(item, self) for item in best)]
        )

    async def reactions_counted(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A channel's reaction counts changed: kept for the post they belong to (if any);
        the update, which comes from no user, goes to no other handler."""
        await asyncio.to_thread(keep_heard, self.engine, self.settings, update.to_dict())
        raise ApplicationHandlerStop

    def digest(self) -> str:
        """The day in the editors' chat: the posts planned for today, those that wait for
        approval, or that nothing does."""
        today = utcnow().astimezone(self.settings.tz).date()
        rows = list_posts(self.engine, self.settings)
        planned = [
            p
            for p in rows
            if p["state"] == State.QUEUED and datetime.fromisoformat(p["due_local"]).date() == today
        ]
        waiting = [p for p in rows if p["state"] == State.AWAITING_APPROVAL]
        lines = [self.say("digest_head", day=day(today, self.language))]
        if planned:
            lines += [self.say("digest_planned", count=len(planned))]
            lines += [render.post_line(p, self) for p in planned]
        if waiting:
            lines += [self.say("digest_waiting", count=len(waiting))]
            lines += [render.post_line(p, self) for p in waiting]
        if not planned and not waiting:
            lines.append(self.say("digest_nothing"))
        return "\n".join(lines)

    async def send_digest(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The day's digest, sent to the editors' chat (a JobQueue job, daily)."""
        chat = self.bot_settings.editors_chat_id
        if chat is None:
            return
        text = await asyncio.to_thread(self.digest)
        for chunk in parts(text):
            await context.bot.send_message(
                chat, chunk, parse_mode="HTML", disable_web_page_preview=True
            )

    async def stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        answer = await self.run(update, self._stats)
        if answer is not None:
            await self.reply(update, answer)

    async def _transition(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, verb: str
    ) -> None:
        post_id = await self._post_id(update, context, verb)
        if post_id is None:
            return
        if await self.run(update, self.act, verb, post_id, self.gate.editor(update)) is not None:
            await self.reply(update, self.say("done", id=post_id, verb=self.say(f"verb_{verb}")))

    def act(self, verb: str, post_id: int, editor: Someone, seen: str | None = None) -> bool:
        """Approve (the version of the text `seen`), cancel, retry or mark-sent a post (raises
        an EditorError when it cannot)."""
        actions.apply(self.engine, self.settings, verb, post_id, editor, seen=seen)
        return True

    async def approve(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The post's text as it will go out, with the button that approves this text: an
        approval is for a text the approver has read."""
        if not await self.gate.may(update, "approve"):
            return
        post_id = await self._post_id(update, context, "approve")
        if post_id is None:
            return
        asked = await self.run(update, self.approval_asked, post_id)
        if asked is not None:
            await self.reply_whole(update, asked[0], asked[1])

    def approval_asked(self, post_id: int, lead: str = "approve_ask") -> tuple[str, Any]:
        """The post's current text and a button approving exactly that text."""
        post = show_post(self.engine, self.settings, post_id)
        channel = roster.configured(self.settings, post["channel"])
        text = self.say(lead, id=post_id, channel=self.label(post["channel"]))
        text += "\n" + render.teaser(channel, post["text"])
        version = verbs.text_version(post["text"])
        label = self.say("button_approve")
        return text, InlineKeyboardMarkup(
            [[keyed(label, buttons.post(post_id, "approve", version))]]
        )

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        asker = _asker(update)
        asked = await asyncio.to_thread(bot_drafts.waiting_for, self.engine, *asker)
        if not context.args and asked is not None:
            # Typed while a text or time was asked for: the asking is left, no post cancelled.
            await self._answer_asked(update, asker, asked, "/cancel")
            return
        await self._transition(update, context, "cancel")

    async def retry(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._transition(update, context, "retry")

    # --- buttons ---------------------------------------------------------------------------

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        pressed = buttons.read(query.data)
        if pressed is None:
            await query.answer(self.say("button_stale"), show_alert=True)
            return
        draft = (
            await asyncio.to_thread(self.drafts.get, pressed.key)
            if pressed.kind == Kind.DRAFT
            else None
        )
        message = query.message
        where = (message.chat.id, message.message_id) if isinstance(message, Message) else None
        if (draft is not None and draft.done is not None) or where in self.closed:
            # A second tap on a button already used: the message keeps what it said.
            await query.answer(self.say("already_done"))
            return
        try:
            editor = self.gate.editor(update)
            text, keyboard, replace = await asyncio.to_thread(
                self._press, pressed, editor, _asker(update)
            )
        except ApproversOnly:
            await query.answer(self.say("error_approvers_only"), show_alert=True)
            return
        except EditorError as exc:
            text, keyboard, replace = self.explain(exc), None, False
        else:
            if where is not None and keyboard is None and not replace:
                self._closed_by_button(where)
        await query.answer()
        original = message.text_html if isinstance(message, Message) and message.text else ""
        whole = text if replace else f"{original}\n\n{text}"
        # A text to approve is never cut: what does not fit follows in new messages, and the
        # buttons go under the last.
        chunks = parts(whole) if keyboard is not None else [fit(whole)]
        try:
            await query.edit_message_text(
                chunks[0],
                parse_mode="HTML",
                disable_web_page_preview=True,
                reply_markup=keyboard if len(chunks) == 1 else None,
            )
        except BadRequest as exc:
            # A second tap that changes nothing (the same time again): Telegram refuses the
            # edit, and the message already says what the tap would.
            if "not modified" not in exc.message:
                raise
            return
        if len(chunks) > 1 and isinstance(message, Message):
            for number, chunk in enumerate(chunks[1:], 2):
                await context.bot.send_message(
                    message.chat_id,
                    chunk,
                    parse_mode="HTML",
                    disable_web_page_preview=True,
                    reply_markup=keyboard if number == len(chunks) else None,
                )

    def _closed_by_button(self, where: tuple[int, int]) -> None:
        self.closed[where] = None
        while len(self.closed) > CLOSED_KEPT:
            del self.closed[next(iter(self.closed))]

    def _press(
        self, pressed: Button, editor: Someone, asker: Asker
    ) -> tuple[str, InlineKeyboardMarkup | None, bool]:
        """What a button does: the message's new text (or what is added to it), its buttons,
        and whether the text replaces the message's."""
        key, action, version = pressed.key, pressed.action, pressed.version
        if pressed.kind == Kind.DRAFT:
            if action in ("sure", "sure_now"):
                return (*self.drafts.confirmed(key, action, editor.name), True)
            return (*self.drafts.press(key, action, editor.name, asker), True)
        if pressed.kind == Kind.SHOW:
            return self._post_pressed(int(key), action, editor, asker)
        if pressed.kind == Kind.MOVE:
            at = buttons.moved_to(pressed)
            if at is None:
                return self.say("button_stale"), None, False
            actions.move_to(self.engine, self.settings, int(key), at, by=editor.name)
            return self.say("post_moved", id=key, when=self.when(at)), None, False
        if pressed.kind == Kind.ARTICLE:
            return self.article_pressed(key, action, editor), None, False
        if pressed.kind == Kind.HELP:
            listing = {"list": self._listing, "log": self._log}.get(action)
            return (listing() if listing else help_text(self.say)), None, True
        if pressed.kind == Kind.EDIT:
            pending = self.pending_edits.pop(key, None)
            if pending is None:
                return self.say("expired"), None, False
            return self._edit(pending, editor, without_link=True), None, False
        if pressed.kind == Kind.POST:
            actions.check(action, editor)
            if action == "approve" and version is None:
                return (*self.approval_asked(pressed.post_id, "approval_outdated"), False)
            try:
                self.act(action, pressed.post_id, editor, seen=version)
            except QueueError as exc:
                if exc.key != "approval_outdated":
                    raise
                return (*self.approval_asked(pressed.post_id, "approval_outdated"), False)
            done = self.say("done", id=key, verb=self.say(f"verb_{action}"))
            if action == "approve":
                done += " " + self.going(pressed.post_id)
            return done, None, False
        try:
            said = self._channel("resume", key, editor, overdue_ok=action == "resume_overdue")
        except Overdue as exc:
            return self.explain(exc), self._send_overdue(key), False
        return said, None, False


def _asker(update: Update) -> Asker:
    """Who acts in which chat: an edit asked for waits for this person, in this chat."""
    user, chat = update.effective_user, update.effective_chat
    return (user.id if user else 0, chat.id if chat else 0)

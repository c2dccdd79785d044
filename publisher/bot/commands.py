"""The editors' commands and buttons: /queue with a preview and buttons, /list, /log, /show, /edit,
/approve, /cancel, /retry, /pause, /resume, /help. Only allowed users act; database work runs in
threads so the bot stays responsive."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from dataclasses import dataclass
from html import escape
from typing import Any, NamedTuple

from sqlalchemy import Engine
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import ContextTypes

from publisher import actions, roster
from publisher.articles import Article
from publisher.bot import render
from publisher.bot.access import Gate, actor
from publisher.catalogue import describe, reach, translator, unit
from publisher.clock import shown
from publisher.config import Settings
from publisher.engine import queue, verbs
from publisher.engine.listings import fan_out_summary, list_deliveries, list_posts, show_post
from publisher.engine.queue import QueueError
from publisher.engine.release import UnknownArticle, stored_article
from publisher.engine.schema import is_row_id
from publisher.engine.slots import When
from publisher.errors import EditorError
from publisher.intake.sources import load_article
from publisher.teasers import compose

logger = logging.getLogger("publisher.bot")
# Callback data of the bot's buttons: kind, key and action (see `_known_button`).
_BUTTON = re.compile(r"([dpce]):([^:]{1,200}):([a-z]{1,20})")
_BUTTON_ACTIONS = {"d": ("now", "queue", "edit", "cancel"), "e": ("nolink",)}


@dataclass(frozen=True)
class Draft:
    """A /queue preview waiting for its button."""

    article: Article
    channels: tuple[str, ...]
    when: When


class PendingEdit(NamedTuple):
    """An /edit waiting for its button."""

    post_id: int
    channel: str
    text: str


class Desk:
    """The bot's handlers, bound to the queue's database and the newsroom's settings."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.bot_settings = settings.bot
        self.language = settings.bot.language or settings.language
        self._say = translator(self.language, "bot")
        self.gate = Gate(settings.bot, self._say)
        self.drafts: dict[str, Draft] = {}
        # /edit texts that drop the article's link, waiting for the editor's confirmation.
        self.pending_edits: dict[str, PendingEdit] = {}

    def say(self, key: str, **values: Any) -> str:
        return self._say(key, **values)

    async def reply(self, update: Update, text: str, **options: Any) -> None:
        if update.effective_message is not None:
            await update.effective_message.reply_text(
                render.fit(text), parse_mode="HTML", disable_web_page_preview=True, **options
            )

    async def run(self, update: Update, function: Any, *args: Any) -> Any:
        """Run a queue operation in a thread; a refusal becomes one message to the editor."""
        try:
            return await asyncio.to_thread(function, *args)
        except EditorError as exc:
            await self.reply(update, self.say("error", message=describe(exc, self.language)))
            return None

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A bug in a handler: logged (without the token), and the editor is not left waiting."""
        logger.error("bot handler failed", exc_info=context.error)
        if isinstance(update, Update) and update.effective_message is not None:
            await update.effective_message.reply_text(
                self.say("error", message=self.say("internal_error"))
            )

    # --- commands --------------------------------------------------------------------------

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if await self.gate.guard(update):
            await self.reply(update, self.say("help"))

    async def queue(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self.gate.guard(update):
            return
        args = list(context.args or [])
        if not args:
            await self.reply(
                update, self.say("usage", usage="/queue <url|id> [channels] [now|HH:MM|+15m|next]")
            )
            return
        timing = next((a for a in args[1:] if When.looks_like(a)), None)
        names = [n for a in args[1:] if not When.looks_like(a) for n in a.split(",") if n]
        prepared = await self.run(update, self._prepare, args[0], names, timing)
        if prepared is None:
            return
        draft, preview = prepared
        key = secrets.token_hex(4)
        self.drafts[key] = draft
        buttons = InlineKeyboardMarkup(
            [
                [
                    render.button(self.say("button_now"), f"d:{key}:now"),
                    render.button(self.say("button_queue"), f"d:{key}:queue"),
                ],
                [
                    render.button(self.say("button_edit"), f"d:{key}:edit"),
                    render.button(self.say("button_cancel"), f"d:{key}:cancel"),
                ],
            ]
        )
        await self.reply(update, preview, reply_markup=buttons)

    def _prepare(self, source: str, names: list[str], timing: str | None) -> tuple[Draft, str]:
        channels = roster.chosen(self.settings, names or None)
        slotless = [n for n in channels if not self.settings.channels[n].slots]
        if timing is None:
            # Without a time, posts take each channel's next slot when every channel has them.
            when = When("now") if slotless else When("next_slot")
        else:
            when = actions.when(timing, self.settings)
        if when.mode == "next_slot" and slotless:
            raise QueueError(self.say("no_slots", channels=", ".join(slotless)))
        article = self._article(source)
        teasers = compose(article, channels, self.settings)
        whom = actions.reach(self.engine, self.settings, list(teasers))
        parts = [self.say("preview_head", headline=article.headline, timing=self._shown(when))]
        for name, teaser in teasers.items():
            head = self.say(
                "preview_channel",
                channel=name,
                length=teaser.length,
                limit=teaser.limit,
                unit=unit(teaser.unit, self.language),
            )
            if name in whom:
                head += "\n" + escape(
                    reach(whom[name].free_form, whom[name].template, self.language)
                )
            parts.append(head + f"\n<pre>{escape(teaser.text)}</pre>")
        return Draft(article, tuple(channels), when), "\n\n".join(parts)

    def _shown(self, when: When) -> str:
        if when.mode == "at" and when.at is not None:
            return shown(when.at, self.settings.tz)
        return self.say("when_next" if when.mode == "next_slot" else "when_now")

    def _article(self, source: str) -> Article:
        if source.startswith(("http://", "https://")):
            return load_article(source, self.settings)
        try:
            return stored_article(self.engine, source)
        except UnknownArticle:
            raise QueueError(
                f"no stored article {source!r}; send its URL instead",
                key="no_stored_article",
                article=source,
            ) from None

    async def list(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self.gate.guard(update):
            return
        rows = await self.run(update, list_posts, self.engine, self.settings)
        if rows is None:
            return
        if not rows:
            await self.reply(update, self.say("empty_list"))
            return
        await self.reply(update, "\n".join(render.post_line(p, self.say) for p in rows[:40]))

    async def log(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self.gate.guard(update):
            return
        rows = await self.run(update, lambda: list_deliveries(self.engine, limit=15))
        if not rows:
            if rows is not None:
                await self.reply(update, self.say("empty_log"))
            return
        await self.reply(update, "\n".join(render.delivery_line(d, self.say) for d in rows))

    async def show(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self.gate.guard(update):
            return
        post_id = await self._post_id(update, context, "/show <id>")
        if post_id is None:
            return
        post = await self.run(update, show_post, self.engine, self.settings, post_id)
        if post is None:
            return
        summary = await asyncio.to_thread(fan_out_summary, self.engine, post_id)
        await self.reply(update, render.post_detail(post, self.say, summary))

    async def edit(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self.gate.guard(update):
            return
        text = (update.effective_message.text or "") if update.effective_message else ""
        parts = text.split(maxsplit=3)
        if len(parts) < 4 or not parts[1].isdigit():
            await self.reply(update, self.say("usage", usage="/edit <id> <channel> <text>"))
            return
        post_id, channel, new_text = int(parts[1]), parts[2], parts[3]
        pending = PendingEdit(post_id, channel, new_text)
        try:
            result = await asyncio.to_thread(self._edit, pending, actor(update))
        except queue.LinkMissing as exc:
            key = secrets.token_hex(4)
            self.pending_edits[key] = pending
            button = InlineKeyboardMarkup(
                [[render.button(self.say("button_nolink"), f"e:{key}:nolink")]]
            )
            await self.reply(
                update, self.say("link_missing", message=str(exc)), reply_markup=button
            )
            return
        except EditorError as exc:
            await self.reply(update, self.say("error", message=describe(exc, self.language)))
            return
        await self.reply(update, self.say("edited", id=post_id, channel=channel, **result))

    def _edit(self, edit: PendingEdit, by: str, without_link: bool = False) -> dict[str, Any]:
        post_id, channel, new_text = edit
        post = show_post(self.engine, self.settings, post_id)
        if post["channel"] != channel:
            raise QueueError(
                f"post {post_id} is for {post['channel']}, not {channel}",
                key="other_channel",
                post=post_id,
                channel=post["channel"],
                asked=channel,
            )
        verbs.edit(self.engine, self.settings, post_id, new_text, by=by, without_link=without_link)
        adapter = roster.configured(self.settings, channel)
        shown = unit(adapter.unit, self.language)
        return {"length": adapter.measure(new_text), "limit": adapter.limit_for(), "unit": shown}

    async def _post_id(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, usage: str
    ) -> int | None:
        args = context.args or []
        if len(args) != 1 or not args[0].lstrip("#").isdigit():
            await self.reply(update, self.say("usage", usage=usage))
            return None
        return int(args[0].lstrip("#"))

    async def _transition(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, verb: str
    ) -> None:
        if not await self.gate.guard(update):
            return
        if verb == "approve" and not await self.gate.approvers_only(update):
            return
        post_id = await self._post_id(update, context, f"/{verb} <id>")
        if post_id is None:
            return
        if await self.run(update, self.act, verb, post_id, actor(update)) is not None:
            await self.reply(update, self.say("done", id=post_id, verb=self.say(f"verb_{verb}")))

    def act(self, verb: str, post_id: int, by: str) -> bool:
        """Approve, cancel, retry or mark-sent a post (raises QueueError when it cannot)."""
        verbs.ACTIONS[verb](self.engine, post_id, by=by)
        return True

    async def approve(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._transition(update, context, "approve")

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._transition(update, context, "cancel")

    async def retry(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._transition(update, context, "retry")

    async def pause(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self.gate.guard(update) or not await self.gate.approvers_only(update):
            return
        args = context.args or []
        if not args:
            await self.reply(update, self.say("usage", usage="/pause <channel> [reason]"))
            return
        user = update.effective_user
        reason = " ".join(args[1:]) or f"paused by {user.full_name if user else 'an editor'}"
        if await self.run(update, self._pause, args[0], reason):
            await self.reply(update, self.say("paused", channel=args[0]))

    def _pause(self, channel: str, reason: str) -> bool:
        verbs.pause(self.engine, self.settings, channel, reason)
        return True

    async def resume(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self.gate.guard(update) or not await self.gate.approvers_only(update):
            return
        args = context.args or []
        if len(args) != 1:
            await self.reply(update, self.say("usage", usage="/resume <channel>"))
            return
        if await self.run(update, self._resume, args[0]):
            await self.reply(update, self.say("resumed", channel=args[0]))

    def _resume(self, channel: str) -> bool:
        verbs.resume(self.engine, self.settings, channel)
        return True

    # --- buttons ---------------------------------------------------------------------------

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        if not self.gate.allowed(update):
            await self.gate.refuse(update)
            return
        button = _BUTTON.fullmatch(query.data or "")
        if button is None or not self._known_button(*button.groups()):
            await query.answer(self.say("button_stale"), show_alert=True)
            return
        kind, key, action = button.groups()
        needs_approver = (kind, action) in (("p", "approve"), ("c", "resume"))
        if needs_approver and not self.gate.approver(update):
            await query.answer(self.say("approvers_only"), show_alert=True)
            return
        try:
            outcome = await asyncio.to_thread(self._press, kind, key, action, actor(update))
        except EditorError as exc:
            outcome = self.say("error", message=describe(exc, self.language))
        await query.answer()
        message = query.message
        original = message.text_html if isinstance(message, Message) and message.text else ""
        await query.edit_message_text(
            render.fit(f"{original}\n\n{outcome}" if kind != "d" else outcome),
            parse_mode="HTML",
            disable_web_page_preview=True,
        )

    @staticmethod
    def _known_button(kind: str, key: str, action: str) -> bool:
        """Whether callback data is one of the buttons this bot makes (Telegram passes on
        whatever a client sends)."""
        if kind in ("d", "e"):
            return action in _BUTTON_ACTIONS[kind]
        if kind == "p":
            return key.isdigit() and is_row_id(int(key)) and action in verbs.ACTIONS
        return kind == "c" and action == "resume" and bool(key)

    def _press(self, kind: str, key: str, action: str, by: str) -> str:
        if kind == "d":
            draft = self.drafts.pop(key, None)
            if draft is None:
                return self.say("expired")
            if action == "cancel":
                return self.say("discarded")
            ids = actions.queue_article(
                self.engine,
                self.settings,
                draft.article,
                draft.channels,
                When("now") if action == "now" else draft.when,
                by=by,
                held=action == "edit",
            )
            posts = ", ".join(f"#{i}" for i in ids)
            return self.say("held_for_edit" if action == "edit" else "queued", posts=posts)
        if kind == "e":
            pending = self.pending_edits.pop(key, None)
            if pending is None:
                return self.say("expired")
            result = self._edit(pending, by, without_link=True)
            return self.say("edited", id=pending.post_id, channel=pending.channel, **result)
        if kind == "p":
            self.act(action, int(key), by)
            return self.say("done", id=key, verb=self.say(f"verb_{action}"))
        if kind == "c" and action == "resume":
            verbs.resume(self.engine, self.settings, key)
            return self.say("resumed", channel=key)
        raise QueueError("unknown button")

"""A post's own buttons in the bot: `/show` with what the post can do now (the verbs, the
channel's next free slots, another time, a new text), a button per post of `/list`, and the
editor's next message when a post's button asked for its text or time."""

from __future__ import annotations

import asyncio

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from publisher import actions, roster
from publisher.actions import Someone
from publisher.articles import whole_number
from publisher.bot import buttons, render
from publisher.bot.buttons import keyed
from publisher.bot.draft import Asker
from publisher.bot.drafts import LEAVING
from publisher.bot.menu import usage
from publisher.bot.post_edits import PendingEdit, PostEdits
from publisher.clock import utcnow
from publisher.engine.lifecycle import EDIT, verbs_for
from publisher.engine.planning.planner import open_slots
from publisher.engine.posts import bot_drafts, verbs
from publisher.engine.posts.post_detail import PostDetail, show_post
from publisher.errors import EditorError

# Posts of a /list that get a button of their own.
LISTED_BUTTONS = 20
# Free slots offered to move a post to.
MOVE_SLOTS = 3


class PostButtons(PostEdits):
    """Showing a post with its buttons, and what they ask for."""

    async def _post_id(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, command: str
    ) -> int | None:
        """The post number a command was given, or None after saying how it is given."""
        args = context.args or []
        if len(args) != 1 or whole_number(args[0].lstrip("#"), 100) is None:
            await self.reply(update, usage(command, self.say))
            return None
        return int(args[0].lstrip("#"))

    async def show(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        post_id = await self._post_id(update, context, "show")
        if post_id is None:
            return
        post = await self.run(update, show_post, self.engine, self.settings, post_id)
        if post is None:
            return
        await self.reply(
            update,
            render.post_detail(post, self),
            reply_markup=self._post_buttons(post, approver=self.gate.approver(update)),
        )

    def _post_pressed(
        self, post_id: int, action: str, editor: Someone, asker: Asker
    ) -> tuple[str, InlineKeyboardMarkup | None, bool]:
        """A post's own button: shown with its buttons, or its new text or time asked for (the
        editor's next message in this chat is it), or that asking left."""
        if action == "leave":
            bot_drafts.stop_waiting(self.engine, *asker)
            return self.say("post_ask_left", id=post_id), None, False
        post = show_post(self.engine, self.settings, post_id)
        if action in ("edit", "time"):
            bot_drafts.keep_waiting(self.engine, *asker, f"{action}:{post_id}", post["channel"])
            leave = keyed(self.say("button_cancel_edit"), buttons.show(post_id, "leave"))
            if action == "time":
                return self.say("post_time_ask", id=post_id), InlineKeyboardMarkup([[leave]]), False
            adapter = roster.configured(self.settings, post["channel"])
            asked = self.say(
                "edit_ask_formatted" if adapter.formatted else "edit_ask",
                channel=self.label(post["channel"]),
                text=adapter.editable(post["text"]),
            )
            return asked, InlineKeyboardMarkup([[leave]]), False
        return (
            render.post_detail(post, self),
            self._post_buttons(post, approver=editor.approver),
            True,
        )

    async def _post_answer(
        self, update: Update, asker: Asker, asked: tuple[str, str], typed: str
    ) -> None:
        """The editor's message that a post's button asked for: its new text or its time."""
        await asyncio.to_thread(bot_drafts.stop_waiting, self.engine, *asker)
        action, post_id = asked[0].split(":")
        if typed.strip().casefold() in LEAVING:
            await self.reply(update, self.say("post_ask_left", id=post_id))
            return
        if action == "edit":
            await self.apply_edit(update, PendingEdit(int(post_id), asked[1], typed))
            return
        editor = self.gate.editor(update)
        try:
            at = await asyncio.to_thread(
                actions.move, self.engine, self.settings, int(post_id), typed, by=editor.name
            )
        except EditorError as exc:
            # Asked again: the next message may be a time it takes.
            await asyncio.to_thread(
                bot_drafts.keep_waiting, self.engine, *asker, asked[0], asked[1]
            )
            await self.reply(update, self.explain(exc))
            return
        await self.reply(update, self.say("post_moved", id=post_id, when=self.when(at, asked[1])))

    def _post_buttons(self, post: PostDetail, *, approver: bool) -> InlineKeyboardMarkup | None:
        """What can be done with a post now, as buttons: approving (for approvers, for the text
        shown), cancelling, sending again, marking it online."""
        offered = verbs_for(post["state"], ("approve", "retry", "sent", "cancel"))
        version = verbs.text_version(post["text"])
        row = [
            keyed(
                self.say(f"button_{verb}"),
                buttons.post(post["id"], verb, version if verb == "approve" else None),
            )
            for verb in offered
            if verb != "approve" or approver
        ]
        rows = [row] if row else []
        if post["movable"] and post["configured"]:
            # The channel's next free slots, each the very time its button moves the post to.
            free = open_slots(self.engine, self.settings, post["channel"], utcnow(), days=2)
            moves = [
                keyed(self.say("button_move_to", when=self.soon(at)), buttons.move(post["id"], at))
                for at in free[:MOVE_SLOTS]
            ]
            moves.append(keyed(self.say("button_other_time"), buttons.show(post["id"], "time")))
            rows.append(moves)
        if EDIT.allows(post["state"]) and post["configured"]:
            rows.append([keyed(self.say("button_edit"), buttons.show(post["id"], "edit"))])
        return InlineKeyboardMarkup(rows) if rows else None

    def _listed_buttons(self, listed: list[int]) -> InlineKeyboardMarkup | None:
        """A button for each post listed (its number, the first LISTED_BUTTONS of them): it
        shows the post with the buttons for what it can do now."""
        keys = [keyed(f"#{n}", buttons.show(n)) for n in listed[:LISTED_BUTTONS]]
        rows = [keys[i : i + 5] for i in range(0, len(keys), 5)]
        return InlineKeyboardMarkup(rows) if rows else None

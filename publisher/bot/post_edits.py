"""The bot's `/edit <no.> <channel> <text>`: a queued post's new text, checked as at the desk; a
text without the article's link waits for a button confirming it, and the editor is told when
the edit withdrew an approval or replaced another editor's text of a moment ago."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta
from typing import NamedTuple

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from publisher import actions, roster
from publisher.actions import Someone
from publisher.articles import whole_number
from publisher.bot import buttons
from publisher.bot.buttons import keyed
from publisher.bot.menu import usage
from publisher.bot.talk import Talk
from publisher.catalogue import unit
from publisher.clock import utcnow
from publisher.engine.lifecycle import EDIT, State
from publisher.engine.posts import queue
from publisher.engine.posts.events import post_history
from publisher.engine.posts.post_detail import show_post
from publisher.engine.posts.queue import QueueError
from publisher.errors import EditorError

# /edit texts kept waiting for their button at most (the oldest go first).
MOST_PENDING_EDITS = 100
# Another editor's edit this recent is named to whoever replaces its text.
RECENT_EDIT = timedelta(minutes=30)


class PendingEdit(NamedTuple):
    """An /edit waiting for its button."""

    post_id: int
    channel: str
    text: str


class PostEdits(Talk):
    """Editing a queued post's text from the bot."""

    # /edit texts that drop the article's link, waiting for the editor's confirmation.
    pending_edits: dict[str, PendingEdit]

    async def edit(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        text = (update.effective_message.text or "") if update.effective_message else ""
        parts = text.split(maxsplit=3)
        if len(parts) < 4 or whole_number(parts[1], 100) is None:
            await self.reply(update, usage("edit", self.say))
            return
        post_id, new_text = int(parts[1]), parts[3]
        channel = self.settings.channel_named(parts[2]) or parts[2]
        await self.apply_edit(update, PendingEdit(post_id, channel, new_text))

    async def apply_edit(self, update: Update, pending: PendingEdit) -> None:
        """Edit the post as `pending` says and tell the editor; a text without the article's
        link waits for their button first."""
        try:
            said = await asyncio.to_thread(self._edit, pending, self.gate.editor(update))
        except queue.LinkMissing as exc:
            key = secrets.token_hex(4)
            self.pending_edits[key] = pending
            while len(self.pending_edits) > MOST_PENDING_EDITS:
                del self.pending_edits[next(iter(self.pending_edits))]
            button = InlineKeyboardMarkup(
                [[keyed(self.say("button_nolink"), buttons.edit_without_link(key))]]
            )
            await self.reply(
                update, self.say("link_missing", message=self.reason(exc)), reply_markup=button
            )
            return
        except EditorError as exc:
            await self.reply(update, self.explain(exc))
            return
        await self.reply(update, said)

    def _edit(self, edit: PendingEdit, editor: Someone, without_link: bool = False) -> str:
        """Edit a post's text; what the editor is told: its length against the limit, that it
        waits for approval again where an approval is withdrawn, and who changed the text
        shortly before (their text is what this one replaced)."""
        post_id, channel, new_text = edit
        post = show_post(self.engine, self.settings, post_id)
        others = [
            event
            for event in post_history(self.engine, post_id)
            if event.action == EDIT.done
            and event.actor != editor.name
            and event.at > utcnow() - RECENT_EDIT
        ]
        if post["channel"] != channel:
            raise QueueError(
                f"post {post_id} is for {post['channel']}, not {channel}",
                key="other_channel",
                post=post_id,
                channel=post["channel"],
                asked=channel,
            )
        actions.apply(
            self.engine,
            self.settings,
            "edit",
            post_id,
            editor,
            text=new_text,
            without_link=without_link,
        )
        adapter = roster.configured(self.settings, channel)
        length, limit = adapter.measure(new_text), adapter.limit_for()
        lines = [
            self.say(
                "edited",
                id=post_id,
                channel=self.label(channel),
                length=self.num(length),
                limit=self.num(limit),
                unit=unit(adapter.unit, self.language, adapter.display_name),
            )
        ]
        if others:
            lines.append(
                self.say(
                    "edit_replaced",
                    who=self.who(others[-1].actor),
                    when=self.when(others[-1].at, channel),
                )
            )
        now = show_post(self.engine, self.settings, post_id)["state"]
        if now == State.AWAITING_APPROVAL and post["state"] != State.AWAITING_APPROVAL:
            lines.append(self.say("edit_waits_again"))
        return "\n".join(lines)

"""The bot's commands for a channel: `/pause <channel> [reason]` (an emergency stop) and
`/resume <channel>`, asked first when posts it held are past their time, naming what goes out at
once; channels are named by their names or their labels."""

from __future__ import annotations

import asyncio

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from publisher import actions
from publisher.actions import Someone
from publisher.bot import buttons
from publisher.bot.buttons import keyed
from publisher.bot.menu import usage
from publisher.bot.talk import Talk
from publisher.engine.posts.overdue import Overdue
from publisher.errors import EditorError


class ChannelCommands(Talk):
    """Pausing and resuming channels from the bot (approvers only, as at the desk)."""

    async def pause(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = context.args or []
        if not args:
            await self.reply(update, usage("pause", self.say))
            return
        user = update.effective_user
        who = user.full_name if user else "?"
        reason = " ".join(args[1:]) or self.say("paused_by", name=who)
        editor = self.gate.editor(update)
        channel = self.settings.channel_named(args[0]) or args[0]
        said = await self.run(update, self._channel, "pause", channel, editor, reason)
        if said is not None:
            await self.reply(update, said)

    def _channel(
        self,
        action: str,
        channel: str,
        editor: Someone,
        reason: str = "",
        *,
        overdue_ok: bool = False,
    ) -> str:
        """Pause or resume `channel`; what the editor is told (a resume names what goes out
        at once)."""
        going = actions.apply_to_channel(
            self.engine, self.settings, action, channel, editor, reason, overdue_ok=overdue_ok
        )
        label = self.label(channel)
        if action == "pause":
            return self.say("paused", channel=label)
        said = self.say("resumed", channel=label)
        if going:
            posts = ", ".join(f"#{post_id}" for post_id in going)
            said += "\n" + self.say("resumed_going", posts=posts)
        return said

    async def resume(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = context.args or []
        if len(args) != 1:
            await self.reply(update, usage("resume", self.say))
            return
        editor = self.gate.editor(update)
        channel = self.settings.channel_named(args[0]) or args[0]
        try:
            said = await asyncio.to_thread(self._channel, "resume", channel, editor)
        except Overdue as exc:
            # Posts it held past their time would go out at once: asked first.
            await self.reply(update, self.explain(exc), reply_markup=self._send_overdue(channel))
            return
        except EditorError as exc:
            await self.reply(update, self.explain(exc))
            return
        await self.reply(update, said)

    def _send_overdue(self, channel: str) -> InlineKeyboardMarkup:
        """The button that resumes a channel and sends what it held past its time, once the
        editor has read how many and since when."""
        label = self.say("button_resume_overdue", channel=self.label(channel))
        return InlineKeyboardMarkup([[keyed(label, buttons.resume(channel, overdue=True))]])

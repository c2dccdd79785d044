"""Who may use the bot: allowed users in their private chats and the newsroom's chats, approvers
for approving, pausing and resuming (the desk's roles, by Telegram user id). Strangers are told
once and logged."""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from publisher import actions
from publisher.actions import Someone
from publisher.sections import BotSettings

logger = logging.getLogger(__name__)


class Gate:
    """The bot's door: whether an update's sender may act, and the one answer when not."""

    def __init__(self, settings: BotSettings, say: Callable[..., str]) -> None:
        self.settings = settings
        self.say = say
        # Users already told that the bot is not for them: told once, not on every message.
        self._told: set[int] = set()
        # Editors Telegram would not let the bot write to privately (they never started a
        # private chat with it): their notices stay in the editors' chat until they write.
        self.unreachable: set[int] = set()

    def allowed(self, update: Update) -> bool:
        user, chat = update.effective_user, update.effective_chat
        members = (*self.settings.allowed_users, *self.settings.approvers)
        if user is None or user.id not in members:
            return False
        if chat is None or chat.type == "private":
            return True
        return chat.id in (*self.settings.allowed_chats, self.settings.editors_chat_id)

    def approver(self, update: Update) -> bool:
        """Whether the user may approve posts and pause or resume channels, as at the desk."""
        user = update.effective_user
        return user is not None and user.id in self.settings.approvers

    async def stop_strangers(self, update: object, _context: object) -> None:
        """The first handler every update meets (an early group): a stranger is refused, and
        their update goes to no other handler."""
        if not isinstance(update, Update):
            return
        if not self.allowed(update):
            await self.refuse(update)
            raise ApplicationHandlerStop
        chat, user = update.effective_chat, update.effective_user
        if chat is not None and chat.type == "private" and user is not None:
            # Someone who writes to the bot privately can be written to from now on.
            self.unreachable.discard(user.id)

    def editor(self, update: Update) -> Someone:
        """Who acts, for `publisher.actions`: the Telegram user, and whether an approver."""
        return Someone(actor(update), self.approver(update))

    async def may(self, update: Update, action: str) -> bool:
        """True when the user may take `action` (an approver, or an action anyone allowed may
        take); anyone else is told so before being offered it."""
        if actions.may(action, self.editor(update)):
            return True
        if update.effective_message is not None:
            await update.effective_message.reply_text(
                self.say("error_approvers_only"), parse_mode="HTML"
            )
        return False

    async def refuse(self, update: Update) -> None:
        user = update.effective_user
        user_id = user.id if user else 0
        logger.warning(
            "refused Telegram user %s (%s) in chat %s",
            user_id,
            user.username if user else "?",
            update.effective_chat.id if update.effective_chat else "?",
        )
        if update.callback_query is not None:
            await update.callback_query.answer(self.say("refused"), show_alert=True)
        elif user_id not in self._told and update.effective_message is not None:
            self._told.add(user_id)
            await update.effective_message.reply_text(self.say("refused"))


def actor(update: Update) -> str:
    """Who acts, for the post's record: the Telegram user id."""
    user = update.effective_user
    return f"telegram:{user.id}" if user else "telegram"

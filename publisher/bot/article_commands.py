"""The bot's command for an article: `/withdraw <article> [reason]` (approvers only, as at the
desk). It asks first, listing what becomes of each of the article's posts (cancelled, taken
down, left standing and why); the question's buttons withdraw it, withdraw it leaving the posts
out standing, or leave it. What the question was about is kept in the database under the key
its buttons carry, so the buttons still work after the bot restarts."""

from __future__ import annotations

import secrets

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from publisher import actions
from publisher.actions import Someone
from publisher.bot import buttons
from publisher.bot.buttons import keyed
from publisher.bot.menu import usage
from publisher.bot.talk import Talk
from publisher.engine.posts import bot_drafts, identity
from publisher.engine.posts.listings import list_posts
from publisher.engine.posts.queue import UnknownArticle
from publisher.engine.releases.withdrawal import Withdrawal, foresee


class ArticleCommands(Talk):
    """Withdrawing an article from the bot."""

    async def withdraw(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = context.args or []
        if not args:
            await self.reply(update, usage("withdraw", self.say))
            return
        editor = self.gate.editor(update)
        asked = await self.run(update, self._ask, args[0], " ".join(args[1:]), editor)
        if asked is not None:
            await self.reply(update, asked[0], reply_markup=asked[1])

    def _ask(self, name: str, reason: str, editor: Someone) -> tuple[str, InlineKeyboardMarkup]:
        """The question before a withdrawal: what becomes of each post, and its buttons."""
        actions.check("withdraw", editor)
        found = identity.named(self.engine, name)
        if found is None:
            raise UnknownArticle(
                f"no stored article {name[:200]!r}", key="unknown_article", article=name[:200]
            )
        key = "w" + secrets.token_hex(7)
        data = {"withdraw": found.key, "reason": reason}
        bot_drafts.keep_draft(self.engine, key, data)
        foreseen = foresee(self.engine, self.settings, found.id)
        lines = [self.say("withdraw_ask", headline=found.headline), self.say("withdraw_intro")]
        lines += self._fates(found.id, foreseen)
        if reason:
            lines.append(self.say("withdraw_reason_said", reason=reason))
        keyboard = [
            [keyed(self.say("withdraw_yes"), buttons.withdrawal(key, "withdraw"))],
            [keyed(self.say("button_withdraw_keep"), buttons.withdrawal(key, "keep"))],
            [keyed(self.say("withdraw_no"), buttons.withdrawal(key, "leave"))],
        ]
        return "\n".join(lines), InlineKeyboardMarkup(keyboard)

    def _fates(self, article_id: int, withdrawal: Withdrawal) -> list[str]:
        """One line for each of the article's posts the withdrawal does something to."""
        posts = list_posts(self.engine, self.settings, include_done=True, article_id=article_id)
        lines = [
            "• " + self.say(f"withdraw_will_{fate}", post=post["id"], channel=self.label(channel))
            for post in posts
            if (fate := withdrawal.fate(post["id"])) is not None and (channel := post["channel"])
        ]
        return lines or [self.say("withdraw_will_nothing")]

    def withdrawal_pressed(self, key: str, action: str, editor: Someone) -> str:
        """A button of the question: the article withdrawn (leaving the posts out standing, for
        `keep`), or left as it is; what the message then says."""
        actions.check("withdraw", editor)
        data = bot_drafts.kept_draft(self.engine, key)
        if data is None or "withdraw" not in data:
            return self.say("button_stale")
        if action == "leave":
            return self.say("withdraw_left")
        done = actions.withdraw_article(
            self.engine,
            self.settings,
            str(data["withdraw"]),
            editor,
            str(data.get("reason") or ""),
            keep_sent=action == "keep",
        )
        return self.say("withdrawn_done") + "\n" + "\n".join(self._summary(done))

    def _summary(self, done: Withdrawal) -> list[str]:
        """What the withdrawal did, in a line per kind of post."""
        said = []
        for name, ids in (
            ("cancelled", done.cancelled),
            ("taking_down", done.taking_down),
            ("kept", done.kept),
            ("cannot", done.cannot),
            ("notices", done.notices),
        ):
            if ids:
                said.append(self.say(f"withdrawn_{name}", posts=", ".join(f"#{i}" for i in ids)))
        return said

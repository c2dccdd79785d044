"""The bot's commands for an article (approvers only, as at the desk): `/withdraw <article>
[reason]` and `/correct <article> <what was wrong and what is right>`. Each asks first, listing
what becomes of each of the article's posts; the question's buttons do it (a withdrawal may
leave the posts out standing), or leave it. What was asked is kept in the database under the
key its buttons carry, so the buttons still work after the bot restarts."""

from __future__ import annotations

import secrets
from collections.abc import Mapping

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
from publisher.engine.releases.correction import Correction, foresee_correction
from publisher.engine.releases.withdrawal import Withdrawal, foresee


class ArticleCommands(Talk):
    """Withdrawing and correcting an article from the bot."""

    async def withdraw(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = context.args or []
        if not args:
            await self.reply(update, usage("withdraw", self.say))
            return
        editor = self.gate.editor(update)
        asked = await self.run(update, self._ask_withdrawal, args[0], " ".join(args[1:]), editor)
        if asked is not None:
            await self.reply(update, asked[0], reply_markup=asked[1])

    async def correct(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = context.args or []
        if len(args) < 2:
            await self.reply(update, usage("correct", self.say))
            return
        editor = self.gate.editor(update)
        asked = await self.run(update, self._ask_correction, args[0], " ".join(args[1:]), editor)
        if asked is not None:
            await self.reply(update, asked[0], reply_markup=asked[1])

    def _ask_withdrawal(
        self, name: str, reason: str, editor: Someone
    ) -> tuple[str, InlineKeyboardMarkup]:
        """The question before a withdrawal: what becomes of each post, and its buttons."""
        actions.check("withdraw", editor)
        found = self._named(name)
        foreseen = foresee(self.engine, self.settings, found.id)
        key = self._keep({"withdraw": found.key, "reason": reason})
        lines = [self.say("withdraw_ask", headline=found.headline), self.say("withdraw_intro")]
        lines += self._fates(
            "withdraw", found.id, {p: foreseen.fate(p) for p in self._ids(found.id)}
        )
        if reason:
            lines.append(self.say("withdraw_reason_said", reason=reason))
        keyboard = [
            [keyed(self.say("withdraw_yes"), buttons.article(key, "withdraw"))],
            [keyed(self.say("button_withdraw_keep"), buttons.article(key, "keep"))],
            [keyed(self.say("withdraw_no"), buttons.article(key, "leave"))],
        ]
        return "\n".join(lines), InlineKeyboardMarkup(keyboard)

    def _ask_correction(
        self, name: str, note: str, editor: Someone
    ) -> tuple[str, InlineKeyboardMarkup]:
        """The question before a correction: what becomes of each post, the line it adds."""
        actions.check("correct", editor)
        note = actions.correction_note(note)
        found = self._named(name)
        steps = foresee_correction(self.engine, self.settings, found.id, note)
        key = self._keep({"correct": found.key, "note": note})
        lines = [self.say("correct_ask", headline=found.headline), self.say("correct_intro")]
        lines += self._fates("correct", found.id, {step.post_id: step.fate for step in steps})
        lines.append(self.say("correct_note_said", note=note))
        keyboard = [
            [keyed(self.say("correct_yes"), buttons.article(key, "correct"))],
            [keyed(self.say("correct_no"), buttons.article(key, "leave"))],
        ]
        return "\n".join(lines), InlineKeyboardMarkup(keyboard)

    def _named(self, name: str) -> identity.Named:
        found = identity.named(self.engine, name)
        if found is None:
            raise UnknownArticle(
                f"no stored article {name[:200]!r}", key="unknown_article", article=name[:200]
            )
        return found

    def _keep(self, asked: dict[str, str]) -> str:
        """Keep what was asked under a new key for the question's buttons."""
        key = "a" + secrets.token_hex(7)
        bot_drafts.keep_draft(self.engine, key, asked)
        return key

    def _ids(self, article_id: int) -> list[int]:
        listed = list_posts(self.engine, self.settings, include_done=True, article_id=article_id)
        return [post["id"] for post in listed]

    def _fates(self, action: str, article_id: int, fates: Mapping[int, str | None]) -> list[str]:
        """One line for each of the article's posts the action does something to."""
        listed = list_posts(self.engine, self.settings, include_done=True, article_id=article_id)
        channels = {post["id"]: post["channel"] for post in listed}
        lines = [
            "• " + self.say(f"{action}_will_{fate}", post=post, channel=self.label(channels[post]))
            for post, fate in fates.items()
            if fate is not None and post in channels
        ]
        return lines or [self.say("withdraw_will_nothing")]

    def article_pressed(self, key: str, action: str, editor: Someone) -> str:
        """A button of a question: the article withdrawn (leaving the posts out standing, for
        `keep`) or corrected, or left as it is; what the message then says."""
        asked = bot_drafts.kept_draft(self.engine, key)
        if asked is None or not ({"withdraw", "correct"} & set(asked)):
            return self.say("button_stale")
        if action == "leave":
            return self.say("withdraw_left" if "withdraw" in asked else "correct_left")
        if "correct" in asked and action == "correct":
            done = actions.correct_article(
                self.engine, self.settings, str(asked["correct"]), editor, str(asked["note"])
            )
            return self.say("corrected_done") + "\n" + "\n".join(self._corrected(done))
        if "withdraw" not in asked or action not in ("withdraw", "keep"):
            return self.say("button_stale")
        withdrawn = actions.withdraw_article(
            self.engine,
            self.settings,
            str(asked["withdraw"]),
            editor,
            str(asked.get("reason") or ""),
            keep_sent=action == "keep",
        )
        return self.say("withdrawn_done") + "\n" + "\n".join(self._withdrawn(withdrawn))

    def _withdrawn(self, done: Withdrawal) -> list[str]:
        """What the withdrawal did, in a line per kind of post."""
        return self._summed("withdrawn", done.to_json())

    def _corrected(self, done: Correction) -> list[str]:
        """What the correction did, in a line per kind of post."""
        return self._summed("corrected", done.to_json())

    def _summed(self, prefix: str, done: Mapping[str, list[int]]) -> list[str]:
        return [
            self.say(f"{prefix}_{name}", posts=", ".join(f"#{i}" for i in ids))
            for name, ids in done.items()
            if ids and name != "in_flight"
        ]

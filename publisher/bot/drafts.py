"""An article on its way to the queue in the bot (/queue, or its URL sent as it is): a preview of
every channel's teaser as it will look, with the time it would go out, whether an approver must
let it go and whom it reaches; buttons to choose the time, to change a channel's text inside the
draft, to queue it or post it now. Sending at once to readers' phones or on several channels,
or at once from "queue", is confirmed first; a button already used changes nothing again."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, time, timedelta
from html import escape

from telegram import InlineKeyboardMarkup

from publisher import actions, roster
from publisher.actions import Planned
from publisher.articles import Article, pasted_address
from publisher.bot import render
from publisher.bot.buttons import draft as draft_button
from publisher.bot.buttons import keyed
from publisher.bot.draft import Asker, Draft
from publisher.bot.talk import Talk
from publisher.catalogue import problem, unit
from publisher.clock import utcnow
from publisher.engine.planning.slots import TimeError, When, local_slot
from publisher.engine.posts import bot_drafts
from publisher.engine.posts.queue import QueueError, UnknownArticle, drops_link
from publisher.engine.releases.release import stored_article
from publisher.intake.sources import load_article
from publisher.teasers import compose

# The time buttons: a quarter of an hour from now, and tomorrow morning at this hour.
SOON = timedelta(minutes=15)
MORNING = time(8, 0)
# What an editor types to leave the text they were asked for (the button does the same).
LEAVING = frozenset({"abbrechen", "abbruch", "cancel", "/cancel", "zurück", "stop"})
_ADDRESS = re.compile(r"https?://\S+", re.IGNORECASE)


class Drafts:
    """The drafts of the editors in this bot, by the key their buttons carry."""

    def __init__(self, talk: Talk) -> None:
        self.talk = talk
        # A text that looked like another article's address, kept until the editor says
        # whether it is the new text after all.
        self.doubtful: dict[Asker, str] = {}

    # --- what is kept (in the database: a restart of the bot loses no draft) ------------------

    def get(self, key: str) -> Draft | None:
        """The draft its buttons call `key`, or None (never made, or one of the oldest)."""
        found = bot_drafts.kept_draft(self.talk.engine, key)
        return Draft.from_data(found) if found is not None else None

    def keep(self, key: str, draft: Draft) -> None:
        bot_drafts.keep_draft(self.talk.engine, key, draft.as_data())

    def _ask(self, asker: Asker, key: str, channel: str) -> None:
        """An editor asked for a channel's new text, in a chat: their next message there is it.
        Nobody else's, and nowhere else."""
        bot_drafts.keep_waiting(self.talk.engine, *asker, key, channel)

    def _asked(self, asker: Asker) -> tuple[str, str] | None:
        """The draft and channel whose text the editor's next message in the chat is, taken
        (they are asked again where it cannot be the text)."""
        found = bot_drafts.waiting_for(self.talk.engine, *asker)
        if found is not None:
            bot_drafts.stop_waiting(self.talk.engine, *asker)
        return found

    # --- starting ---------------------------------------------------------------------------

    def start(self, source: str, words: list[str], owner: int) -> tuple[str, InlineKeyboardMarkup]:
        """A new draft from an article's URL or stored id and the editor's further words
        (channel names and a time, in any order); its preview and buttons."""
        names, timing = self._read_words(words)
        channels = tuple(roster.chosen(self.talk.settings, names or None))
        when = self._timing(timing) if timing else When("next_slot")
        article = self._article(source)
        key = secrets.token_hex(4)
        draft = Draft(article, channels, when, owner)
        self.keep(key, draft)
        return self.preview(key, draft)

    def _read_words(self, words: list[str]) -> tuple[list[str], str | None]:
        names: list[str] = []
        rest: list[str] = []
        for word in words:
            named = [self.talk.settings.channel_named(part) for part in word.split(",") if part]
            if named and all(named):
                names.extend(name for name in named if name)
            else:
                rest.append(word)
        return names, " ".join(rest) or None

    def _timing(self, words: str) -> When:
        try:
            return actions.when(words, self.talk.settings)
        except TimeError as exc:
            if exc.key != "not_a_time":
                raise
            # The dry-run log is the newsroom's test bench, not a channel editors post to.
            named = self.talk.settings.unnamed_channels()
            known = ", ".join(f"{n} ({self.talk.label(n)})" for n in named)
            raise QueueError(
                f"{words!r} is neither a channel nor a time; channels: {known}",
                key="neither_channel_nor_time",
                words=words,
                channels=known,
            ) from None

    def _article(self, source: str) -> Article:
        source = pasted_address(source)
        if source.startswith(("http://", "https://")):
            return load_article(source, self.talk.settings)
        try:
            return stored_article(self.talk.engine, source)
        except UnknownArticle:
            raise QueueError(
                f"no stored article {source!r}; send its URL instead",
                key="no_stored_article",
                article=source,
            ) from None

    # --- the preview ------------------------------------------------------------------------

    def _plan(self, draft: Draft) -> dict[str, Planned]:
        return actions.plan(
            self.talk.engine, self.talk.settings, draft.article, draft.channels, draft.when
        )

    def preview(self, key: str, draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
        """Every channel's teaser as it will look, its time and rule, whom it reaches; the
        buttons to choose the time, edit, queue, post now or drop the draft."""
        planned = self._plan(draft)
        say = self.talk.say
        timing = self._timing_words(draft.when)
        parts = [say("preview_head", headline=draft.article.headline, timing=timing)]
        # Named up front: a long preview may be read only in part, and "Einplanen" queues all.
        going = [self.talk.label(name) for name in draft.channels if planned[name].due]
        if going:
            parts[0] += "\n" + say("preview_going_to", channels=", ".join(going))
        teasers = compose(
            draft.article, roster.chosen(self.talk.settings, draft.channels), self.talk.settings
        )
        for name in draft.channels:
            channel = roster.configured(self.talk.settings, name)
            text = draft.texts.get(name, teasers[name].text)
            head = say(
                "preview_channel",
                channel=self.talk.label(name),
                length=self.talk.num(channel.measure(text)),
                limit=self.talk.num(channel.limit_for(draft.article)),
                unit=unit(channel.unit, self.talk.language, channel.display_name),
            )
            limit = channel.limit_for(draft.article)
            if limit < channel.limit_for():
                head += "\n" + say("limit_with_image", limit=self.talk.num(limit))
            parts.append(f"{head}\n{self._line(planned[name])}\n{render.teaser(channel, text)}")
        return "\n\n".join(parts), self._buttons(key, draft, planned)

    def _timing_words(self, when: When) -> str:
        if when.mode == "at" and when.at is not None:
            return self.talk.when(when.at)
        return self.talk.say(
            {"next_slot": "when_next", "best": "when_best"}.get(when.mode, "when_now")
        )

    def _line(self, plan: Planned) -> str:
        """When a channel's post would go out, by which rule, with or without approval, and
        whom it reaches; or why it cannot be queued."""
        say = self.talk.say
        if plan.due is None:
            reason = self.talk.reason(plan.refusal) if plan.refusal else ""
            return say("preview_refused", reason=reason)
        line = say(
            "preview_time",
            when=self.talk.when(plan.due, plan.channel),
            rule=say(plan.rule),
            approval=say("needs_approval" if plan.approval else "no_approval"),
        )
        if plan.reach is not None:
            line += "\n" + say(
                "planned_reach",
                total=self.talk.num(plan.reach.total),
                free_form=self.talk.num(plan.reach.free_form),
                template=self.talk.num(plan.reach.template),
            )
        return line

    def _buttons(self, key: str, draft: Draft, planned: dict[str, Planned]) -> InlineKeyboardMarkup:
        say = self.talk.say
        slots = sorted(p.due for p in planned.values() if p.by_slot and p.due is not None)
        if draft.when.mode != "next_slot":
            slots = self._next_slots(draft)
        next_label = (
            say("button_next_at", time=self.talk.soon(slots[0])) if slots else say("button_next")
        )
        return InlineKeyboardMarkup(
            [
                [keyed(say("button_queue"), draft_button(key, "queue"))],
                [
                    keyed(next_label, draft_button(key, "next")),
                    keyed(say("button_soon"), draft_button(key, "soon")),
                    keyed(say("button_tomorrow"), draft_button(key, "tomorrow")),
                ],
                [
                    keyed(say("button_now"), draft_button(key, "now")),
                    keyed(say("button_edit"), draft_button(key, "edit")),
                    keyed(say("button_cancel"), draft_button(key, "cancel")),
                ],
            ]
        )

    def _next_slots(self, draft: Draft) -> list[datetime]:
        with_slots = Draft(draft.article, draft.channels, When("next_slot"), draft.owner)
        planned = self._plan(with_slots).values()
        return sorted(p.due for p in planned if p.by_slot and p.due is not None)

    # --- the buttons ------------------------------------------------------------------------

    def press(
        self, key: str, action: str, by: str, asker: Asker
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        """What a draft's button does, pressed by `asker`; the message's new text and
        buttons."""
        draft = self.get(key)
        if draft is None:
            return self.talk.say("expired"), None
        if action == "leave":
            bot_drafts.stop_waiting(self.talk.engine, *asker)
            self.doubtful.pop(asker, None)
            return self.preview(key, draft)
        if action == "take":
            return self.take_text(asker, self.doubtful.pop(asker, ""), sure=True)
        if action in ("next", "soon", "tomorrow"):
            draft.when = self._chosen_time(action)
            self.keep(key, draft)
            return self.preview(key, draft)
        if action == "back":
            return self.preview(key, draft)
        if action == "cancel":
            draft.done = self.talk.say("discarded")
            self.keep(key, draft)
            return draft.done, None
        if action == "edit":
            return self._which_text(key, draft, asker)
        if action.startswith("edit"):
            return self._ask_text(key, draft, int(action.removeprefix("edit")), asker)
        timing = When("now") if action == "now" else draft.when
        planned = actions.plan(
            self.talk.engine, self.talk.settings, draft.article, draft.channels, timing
        )
        at_once = any(p.now for p in planned.values() if p.when is not None)
        asking = actions.asks_first(planned) or (action == "queue" and at_once)
        if action in ("queue", "now") and asking:
            return self._confirmation(key, planned, "sure_now" if action == "now" else "sure")
        return self._queue(key, draft, planned, by)

    def _chosen_time(self, action: str) -> When:
        if action == "next":
            return When("next_slot")
        now = utcnow()
        if action == "soon":
            return When("at", now + SOON)
        tomorrow = now.astimezone(self.talk.settings.tz).date() + timedelta(days=1)
        return When("at", local_slot(tomorrow, MORNING, self.talk.settings.tz))

    def _confirmation(
        self, key: str, planned: dict[str, Planned], action: str
    ) -> tuple[str, InlineKeyboardMarkup]:
        """What goes where, when and to how many, asked once before it goes."""
        say = self.talk.say
        lines = [say("confirm_head")]
        lines += [
            f"<b>{escape(self.talk.label(name))}</b>: {self._line(plan)}"
            for name, plan in planned.items()
        ]
        buttons = InlineKeyboardMarkup(
            [
                [
                    keyed(say("button_confirm"), draft_button(key, action)),
                    keyed(say("button_back"), draft_button(key, "back")),
                ]
            ]
        )
        return "\n\n".join(lines), buttons

    def confirmed(self, key: str, action: str, by: str) -> tuple[str, None]:
        """The editor confirmed the plan they were shown: queued now as planned again."""
        draft = self.get(key)
        if draft is None:
            return self.talk.say("expired"), None
        timing = When("now") if action == "sure_now" else draft.when
        planned = actions.plan(
            self.talk.engine, self.talk.settings, draft.article, draft.channels, timing
        )
        return self._queue(key, draft, planned, by)

    def _queue(
        self, key: str, draft: Draft, planned: dict[str, Planned], by: str
    ) -> tuple[str, None]:
        """Queue what fits; say each post's channel, time and whether it waits for approval,
        and every channel that could not take it with its reason."""
        say = self.talk.say
        if not any(p.when is not None for p in planned.values()):
            reasons = [self._refused(n, p) for n, p in planned.items()]
            return say("nothing_queued") + "\n" + "\n".join(reasons), None
        ids = actions.queue_planned(
            self.talk.engine,
            self.talk.settings,
            draft.article,
            planned,
            by=by,
            texts=draft.texts,
        )
        fitting = [name for name, plan in planned.items() if plan.when is not None]
        lines = [say("queued_head")]
        for post_id, name in zip(ids, fitting, strict=True):
            plan = planned[name]
            due = self.talk.when(plan.due, name) if plan.due else ""
            waits = say("queued_waits") if plan.approval else ""
            held = say("queued_held") if plan.held else ""
            lines.append(
                say("queued_line", id=post_id, channel=self.talk.label(name), when=due)
                + waits
                + held
            )
        lines += [self._refused(n, p) for n, p in planned.items() if p.when is None]
        draft.done = "\n".join(lines)
        self.keep(key, draft)
        return draft.done, None

    def _refused(self, name: str, plan: Planned) -> str:
        reason = self.talk.reason(plan.refusal) if plan.refusal else ""
        return self.talk.say("not_queued_line", channel=self.talk.label(name), reason=reason)

    # --- a channel's text, changed in the draft ---------------------------------------------

    def _which_text(
        self, key: str, draft: Draft, asker: Asker
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        if len(draft.channels) == 1:
            return self._ask_text(key, draft, 0, asker)
        buttons = [
            [keyed(self.talk.label(name), draft_button(key, f"edit{n}"))]
            for n, name in enumerate(draft.channels)
        ]
        buttons.append([keyed(self.talk.say("button_back"), draft_button(key, "back"))])
        return self.talk.say("edit_which"), InlineKeyboardMarkup(buttons)

    def _ask_text(
        self, key: str, draft: Draft, index: int, asker: Asker
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        if not 0 <= index < len(draft.channels):
            return self.talk.say("button_stale"), None
        name = draft.channels[index]
        self._ask(asker, key, name)
        channel = roster.configured(self.talk.settings, name)
        teaser = compose(draft.article, {name: channel}, self.talk.settings)[name]
        current = channel.editable(draft.texts.get(name, teaser.text))
        ask = "edit_ask_formatted" if channel.formatted else "edit_ask"
        asked = self.talk.say(ask, channel=self.talk.label(name), text=current)
        return asked, self._leave_button(key)

    def _leave_button(self, key: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [[keyed(self.talk.say("button_cancel_edit"), draft_button(key, "leave"))]]
        )

    def take_text(
        self, asker: Asker, typed: str, *, sure: bool = False
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        """The editor's new text for the channel they chose: checked against its rules and
        for the article's link, then the draft's preview again. "Abbrechen" leaves the edit;
        a message starting with another article's address is asked about first (unless
        `sure`: the editor said it is the text)."""
        asked = self._asked(asker)
        if asked is None:
            return self.talk.say("expired"), None
        key, name = asked
        draft = self.get(key)
        if draft is None or draft.done is not None:
            return self.talk.say("expired"), None
        if typed.strip().casefold() in LEAVING:
            return self.preview(key, draft)
        first = typed.split()[0] if typed.split() else ""
        if (
            not sure
            and _ADDRESS.fullmatch(first)
            and first.rstrip("/") != draft.article.url.rstrip("/")
        ):
            self._ask(asker, key, name)
            self.doubtful[asker] = typed
            return self.talk.say(
                "edit_doubtful", channel=self.talk.label(name)
            ), InlineKeyboardMarkup(
                [
                    [keyed(self.talk.say("button_take_text"), draft_button(key, "take"))],
                    [keyed(self.talk.say("button_cancel_edit"), draft_button(key, "leave"))],
                ]
            )
        channel = roster.configured(self.talk.settings, name)
        text = channel.from_editable(typed.replace("\r\n", "\n").strip())
        problems = channel.validate(text, draft.article)
        label = self.talk.label(name)
        if problems:
            self._ask(asker, key, name)
            told = "; ".join(problem(found, self.talk.language) for found in problems)
            refused = self.talk.say("edit_refused", channel=label, problems=told)
            return refused, self._leave_button(key)
        link = compose(draft.article, {name: channel}, self.talk.settings)[name].link
        if drops_link(channel, text, link or draft.article.url, draft.article.url):
            self._ask(asker, key, name)
            return self.talk.say("edit_link_missing", channel=label), self._leave_button(key)
        draft.texts[name] = text
        self.keep(key, draft)
        text_shown, buttons = self.preview(key, draft)
        return self.talk.say("edit_taken", channel=label) + "\n\n" + text_shown, buttons

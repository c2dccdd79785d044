"""One post at the desk: its preview as the platform shows it, its text to edit with a live
count, who queued, edited and approved it and when, and every delivery attempt; approving,
editing, cancelling (asked once, and undone with one click) from there."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from publisher import actions, roster
from publisher.catalogue import going as going_words
from publisher.catalogue import reach, table, unit
from publisher.clock import utcnow
from publisher.engine.audiences.subscribers import Reach
from publisher.engine.learning import scorecard
from publisher.engine.lifecycle import (
    ARTICLE_UPDATED,
    CANCEL,
    EDIT,
    RESCHEDULE,
    TO_GO,
    VERBS,
    State,
)
from publisher.engine.planning.planner import open_slots
from publisher.engine.posts import verbs
from publisher.engine.posts.events import PostEvent, channel_of, last_approval, post_history
from publisher.engine.posts.overdue import going
from publisher.engine.posts.post_detail import PostDetail, show_post
from publisher.engine.posts.queue import LinkMissing, QueueError
from publisher.engine.releases.release import stored_article
from publisher.errors import EditorError
from publisher.web.desk.auth import CheckedForm, DeskUser
from publisher.web.desk.base import PageGroup, Pages, RowId
from publisher.web.desk.images import through_desk
from publisher.web.desk.textdiff import word_changes

# Deliveries a post's page lists (a fan-out has one per recipient; the log has them all).
SHOWN_DELIVERIES = 50
# What the view says after an action it redirected from.
DONE = (
    *("edited", "edited_again", "edited_waits"),
    *("approve", "cancel", "restore", "reschedule", "retry"),
)
# Actions after which the page says when the post goes out.
LET_GO = ("approve", "restore", "reschedule", "retry")


class PostPages(PageGroup):
    """The post view and its forms."""

    def __init__(self, desk: Pages) -> None:
        super().__init__(desk)
        self.router.add_api_route(
            "/posts/{post_id}", self.view, methods=["GET"], response_class=HTMLResponse
        )
        self.router.add_api_route("/posts/{post_id}/edit", self.edit, methods=["POST"])

    def _history(self, events: list[PostEvent]) -> list[dict[str, Any]]:
        words = table(self.desk.language, "desk")
        return [
            {
                "at": self.desk.words.when(event.at),
                "actor": event.actor,
                "action": words.get(f"event_{event.action}", event.action),
                "reason": event.reason,
            }
            for event in events
        ]

    def _since_approval(self, post: PostDetail) -> dict[str, Any] | None:
        """What changed in a text waiting for approval since it was last approved (an edit, an
        update of the article), word by word, as the channel's editor writes it."""
        if (
            post["state"] != State.AWAITING_APPROVAL
            or post["channel"] not in self.settings.channels
        ):
            return None
        approval = last_approval(self.engine, post["id"])
        if approval is None or approval.text == post["text"]:
            return None
        channel = roster.configured(self.settings, post["channel"])
        return {
            "by": self.desk.words.who(approval.by),
            "when": self.desk.words.when(approval.at, post["channel"]),
            "pieces": word_changes(channel.editable(approval.text), channel.editable(post["text"])),
        }

    def _reach(self, whom: Reach | None) -> str | None:
        """Whom a subscribable channel's post reaches, as the desk says it."""
        return reach(whom.free_form, whom.template, self.desk.language) if whom else None

    def _stored(self, post_id: int, typed: str) -> str:
        """What an editor typed for a post, as the post's text (Telegram's HTML from its marks)."""
        name = channel_of(self.engine, post_id)
        if name is None or name not in self.settings.channels:
            return typed
        return roster.configured(self.settings, name).from_editable(typed)

    def _takedown(self, post: PostDetail) -> dict[str, str] | None:
        """What the post page says of the post's takedown: asked by whom and when, done when,
        or refused with the platform's reason."""
        takedown = post["takedown"]
        if takedown is None or takedown["state"] == "not_needed":
            return None
        words = self.desk.words
        values = {
            "who": words.who(takedown["requested_by"]),
            "when": words.when(takedown["finished_at"] or takedown["requested_at"]),
            "reason": takedown["error"] or "",
        }
        said = self.desk.t(f"takedown_said_{takedown['state']}", **values)
        return {"state": takedown["state"], "said": said}

    def _view(self, post_id: int) -> dict[str, Any]:
        post = show_post(self.engine, self.settings, post_id, limit=SHOWN_DELIVERIES)
        article = stored_article(self.engine, str(post["article_id"]))
        context: dict[str, Any] = {"post": post, "article": article, "typed": post["text"]}
        if post["channel"] in self.settings.channels:
            channel = roster.configured(self.settings, post["channel"])
            template = channel.template_preview(post["text"], article)
            context |= {
                "platform": channel.display_name,
                # Channels escape what they put in a preview (tests/test_previews.py).
                "preview": Markup(
                    channel.preview(post["text"], through_desk(article, post["article_id"]))
                ),
                # What readers outside a conversation get instead of the text (WhatsApp).
                "template": Markup(template) if template is not None else None,
                "typed": channel.editable(post["text"]),
                "length": channel.measure(post["text"]),
                "limit": channel.limit_for(article),
                "unit": unit(channel.unit, self.desk.language, channel.display_name),
            }
        events = post_history(self.engine, post_id)
        context["history"] = self._history(events)
        context["since_approval"] = self._since_approval(post)
        # An edited text the article's update left as it was may say what the article no longer
        # does: said until the text is edited again.
        actions_done = [event.action for event in events]
        updated = max((n for n, a in enumerate(actions_done) if a == ARTICLE_UPDATED), default=-1)
        edited = max((n for n, a in enumerate(actions_done) if a == "edited"), default=-1)
        context["article_changed"] = updated > edited and post["state"] in TO_GO
        context["fan_out"] = post["fan_out"]
        context["takedown"] = self._takedown(post)
        if post["state"] in TO_GO:
            whom = actions.reach(self.engine, self.settings, [post["channel"]])
            context["reach"] = self._reach(whom.get(post["channel"]))
        # A fan-out has a delivery per recipient: the page lists the latest few.
        context["more_deliveries"] = post["deliveries_total"] - len(post["deliveries"])
        context["deliveries"] = [
            {**delivery, "started": self.desk.words.when(delivery["started_at"], post["channel"])}
            for delivery in post["deliveries"]
        ]
        context["editable"] = EDIT.allows(post["state"])
        # A copy of the post, on any channel (its own at another time), from the article's page.
        context["duplicate_to"] = list(self.desk.channels)
        # A failed post moved is tried again at that time.
        movable = RESCHEDULE.allows(post["state"]) or post["state"] == State.FAILED
        context["movable"] = movable and post["configured"]
        if context["movable"]:
            due = datetime.fromisoformat(post["due_at"])
            slots = open_slots(self.engine, self.settings, post["channel"], utcnow(), around=due)
            context["open_slots"] = [
                (
                    moment.isoformat(timespec="minutes"),
                    self.desk.words.when(moment, post["channel"]),
                )
                for moment in slots
            ]
            context["due_input"] = post["due_local"][:16]
        context["verbs"] = [
            name
            for name in ("approve", "retry", "cancel", "restore")
            if VERBS[name].allows(post["state"])
        ]
        # The text version on show: an approval from this page covers exactly this text.
        context["version"] = verbs.text_version(post["text"])
        return context

    def _going(self, post_id: int, channel: str) -> str:
        return going_words(
            going(self.engine, post_id),
            self.desk.language,
            "desk",
            self.settings.channel_tz(channel),
            self.settings.label(channel),
        )

    def done_message(self, post_id: int, done: str, channel: str) -> str:
        """What an editor's action did to the post on `channel`, and when it goes out now that
        it was let go (never a time already past)."""
        message = self.desk.t(f"post_{done}")
        if done in LET_GO:
            message += " " + self._going(post_id, channel)
        return message

    def view(self, request: Request, post_id: RowId) -> Response:
        """A post's page as its address asks for it."""
        return self.page(request, post_id)

    def page(
        self,
        request: Request,
        post_id: int,
        message: str | None = None,
        status: int = 200,
        text: str | None = None,
        confirm: str | None = None,
        linkless: bool = False,
    ) -> Response:
        try:
            context = self._view(post_id)
        except EditorError as exc:
            return self.desk.render(
                request, "message.html.j2", {"message": self.desk.reason(exc)}, 404
            )
        if text is not None:
            context["typed"] = text
        done = request.query_params.get("done")
        confirm = confirm or request.query_params.get("confirm")
        state = context["post"]["state"]
        if confirm == "cancel" and not CANCEL.allows(state):
            # Asked to cancel a post that can no longer be: say why instead of asking.
            text, values = CANCEL.refusal(post_id, state)
            refusal = QueueError(text, key="verb_refused", **values)
            message, status, confirm = (
                self.desk.t("stale", reason=self.desk.reason(refusal)),
                409,
                None,
            )
        if message is None and done in DONE:
            message = self.done_message(post_id, done, context["post"]["channel"])
        measured = scorecard.by_post(self.engine, post=post_id) if state == "sent" else []
        context |= {
            "results": measured[0] if measured else None,
            "message": message,
            "status_error": status >= 400,
            "done": done,
            "confirm": confirm,
            "linkless": linkless,
        }
        return self.desk.render(request, "post.html.j2", context, status)

    def edit(self, request: Request, post_id: RowId, user: DeskUser, form: CheckedForm) -> Response:
        text = str(form.get("text") or "").replace("\r\n", "\n")
        try:
            waited = verbs.state_of(self.engine, post_id) == State.AWAITING_APPROVAL
            actions.apply(
                self.engine, self.settings, "edit", post_id, user,
                text=self._stored(post_id, text),
                without_link=bool(form.get("without_link")),
                seen=str(form["seen"]) if form.get("seen") else None,
            )  # fmt: skip
        except LinkMissing:
            refusal = self.desk.t("refused_edit", reason=self.desk.t("link_missing"))
            return self.page(request, post_id, refusal, 422, text, linkless=True)
        except EditorError as exc:
            refusal = self.desk.t("refused_edit", reason=self.desk.reason(exc))
            return self.page(request, post_id, refusal, 422, text)
        # An approved post that is edited waits for approval again: the page says so, and
        # says nothing of an approval a post that was waiting never had.
        waits = verbs.state_of(self.engine, post_id) == State.AWAITING_APPROVAL
        done = "edited_waits" if waited else "edited_again" if waits else "edited"
        return RedirectResponse(f"/posts/{post_id}?done={done}", status_code=303)

"""The desk's overview pages: the queue with its buttons, the week's plan with free slots, and
the delivery log; and the actions their buttons take (approve, cancel, retry, move a post, pause
or resume a channel)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from publisher import actions
from publisher.actions import ApproversOnly
from publisher.articles import whole_number
from publisher.bulk import Move
from publisher.catalogue import moment, number
from publisher.clock import utcnow
from publisher.engine.audiences.subscribers import counts as subscriber_counts
from publisher.engine.lifecycle import Outcome, State
from publisher.engine.posts.deliverylog import LogFilter, log_page
from publisher.engine.posts.events import channel_of
from publisher.engine.posts.listings import PostFilter, page_of_posts
from publisher.engine.posts.overdue import Overdue
from publisher.engine.posts.pauses import active_pauses
from publisher.engine.storage.rowids import is_row_id
from publisher.errors import EditorError
from publisher.web.desk.auth import CheckedForm, DeskUser, form_once
from publisher.web.desk.base import PageGroup, Pages, RowId, day_in_address, local_path
from publisher.web.desk.forms import ChannelAction, PostAction, carried
from publisher.web.desk.posts import DONE, PostPages

# What the desk's buttons may do (marking sent stays with the command line and the bot).
ACTIONS = ("approve", "cancel", "retry", "restore")
# What the queue does to many posts at once (web/desk/bulkform.py), in its menu's order.
BULK = ("approve", "cancel", "restore", "retry", "reschedule", "shift", "spread")
# The states the queue's filter offers.
STATES = tuple(state.value for state in State if state != State.SENDING)
PER_PAGE = 50
# The outcomes the log's filter offers (those an attempt ends with).
SHOWN_OUTCOMES = tuple(
    outcome for outcome in Outcome if outcome not in (Outcome.PENDING, Outcome.RELEASED)
)


class Overview(PageGroup):
    """The overview pages of one desk (its templates, its user and its database); a refusal
    that an editor must read a post for (its text changed, its time passed) shows the post's
    page (`post_pages`)."""

    def __init__(self, desk: Pages, post_pages: PostPages) -> None:
        super().__init__(desk)
        self.post_pages = post_pages
        route = self.router.add_api_route
        route("/queue", self.queue, methods=["GET"], response_class=HTMLResponse)
        route("/posts/{post_id}/{action}", self.post_action, methods=["POST"])
        route("/channels", self.channels, methods=["GET"], response_class=HTMLResponse)
        route("/channels/{name}/{action}", self.channel_action, methods=["POST"])
        route("/log", self.log_page, methods=["GET"], response_class=HTMLResponse)

    def filter_of(self, query: Mapping[str, str]) -> tuple[PostFilter, int, dict[str, str]]:
        """The queue's filters and page from the address, and the values to show in its form."""
        shown = {key: query.get(key, "").strip() for key in ("channel", "state", "day", "q")}
        due_from = due_until = None
        day = day_in_address(shown["day"])
        if day is None:
            shown["day"] = ""
        else:
            due_from = datetime.combine(day, time(), self.settings.tz)
            due_until = due_from + timedelta(days=1)
        states = (shown["state"],) if shown["state"] in STATES else ()
        chosen = PostFilter(
            channel=shown["channel"] if shown["channel"] in self.settings.channels else None,
            states=states,
            due_from=due_from,
            due_until=due_until,
            words=shown["q"][:100],
        )
        page = query.get("page", "")
        # A page past the last shows the last; a number of a hundred digits is no page.
        return chosen, whole_number(page, 6) or 1, shown

    def queue(self, request: Request) -> Response:
        """The queue as its address asks for it (after an action in one of its rows, with what
        became of that post)."""
        done = request.query_params.get("done", "")
        post_id = whole_number(request.query_params.get("post", ""), 12)
        if done not in DONE or post_id is None or not is_row_id(post_id):
            return self.queue_page(request)
        channel = channel_of(self.engine, post_id)
        if channel is None:  # an address naming a post there is not
            return self.queue_page(request)
        said = self.post_pages.done_message(post_id, done, channel)
        return self.queue_page(request, f"#{post_id}: {said}")

    def queue_page(
        self,
        request: Request,
        message: str | None = None,
        status: int = 200,
        query: Mapping[str, str] | None = None,
        left_alone: list[dict[str, Any]] | None = None,
        moved: list[dict[str, Any]] | None = None,
        undo: Sequence[Move] = (),
        undo_verb: tuple[str, list[int]] | None = None,
    ) -> Response:
        """The queue, one page at a time, filtered as the address (or `query`) says; after a
        bulk action, with the posts it `left_alone` and those it `moved` (with their times), and
        the moves it can `undo` (or the verb that undoes it, on which posts)."""
        chosen, page, shown = self.filter_of(request.query_params if query is None else query)
        posts, total, page = page_of_posts(self.engine, self.settings, chosen, page, PER_PAGE)
        pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)
        context = {
            "posts": posts,
            "message": message,
            "left_alone": left_alone or [],
            "moved": moved or [],
            # The moves just made, each back to where it was: one button undoes them.
            "undo": ";".join(carried(Move(m.post_id, m.after, m.before)) for m in undo),
            # Or the verb that undoes a bulk cancel or restore, and its posts.
            "undo_verb": undo_verb[0] if undo_verb else None,
            "undo_ids": ",".join(map(str, undo_verb[1])) if undo_verb else "",
            "once": form_once(),
            "status_error": status >= 400,
            "bulk": BULK,
            "filters": shown,
            "states": STATES,
            "channels": list(self.settings.channels),
            "page": page,
            "pages": pages,
            "total": total,
            "query": urlencode({k: v for k, v in shown.items() if v}),
        }
        return self.desk.render(request, "queue.html.j2", context, status)

    def post_action(
        self, request: Request, post_id: RowId, action: str, user: DeskUser, form: CheckedForm
    ) -> Response:
        if action not in (*ACTIONS, "reschedule"):
            return self.desk.render(request, "message.html.j2", {"message": action}, 404)
        chosen = PostAction.read(form)
        if action == "cancel" and actions.may(action, user) and not chosen.confirmed:
            # Cancelling asks once, on the post's own page.
            return RedirectResponse(f"/posts/{post_id}?confirm=cancel", status_code=303)
        try:
            actions.apply(
                self.engine, self.settings, action, post_id, user,
                at=chosen.at, seen=chosen.seen, overdue_ok=chosen.overdue_ok,
            )  # fmt: skip
        except ApproversOnly:
            raise
        except Overdue as exc:
            # Restoring it would send it at once: the post's page asks first.
            return self.post_pages.page(
                request, post_id, self.desk.reason(exc), 409, None, "overdue"
            )
        except EditorError as exc:
            if exc.key in ("approval_outdated", "approval_unseen"):
                # The text as it is now, to read before approving.
                return self.post_pages.page(request, post_id, self.desk.reason(exc), 409)
            reason = self.desk.reason(exc)
            if local_path(chosen.back).startswith(f"/posts/{post_id}?"):
                # Refused on the post's own page: the editor stays there, and reads why.
                return self.post_pages.page(request, post_id, reason, 422)
            if action != "reschedule":
                reason = self.desk.t("stale", reason=reason)
            return self.queue_page(request, reason, 422)
        return RedirectResponse(local_path(chosen.back), status_code=303)

    def channel_action(
        self, request: Request, name: str, action: str, user: DeskUser, form: CheckedForm
    ) -> Response:
        reason = self.desk.t("paused_by", name=user.name)
        chosen = ChannelAction.read(form)
        try:
            actions.apply_to_channel(
                self.engine, self.settings, action, name, user, reason,
                overdue_ok=chosen.overdue_ok,
            )  # fmt: skip
        except ApproversOnly:
            raise
        except Overdue as exc:
            # Resuming would send what it held past its time at once: asked first.
            return self.channels_page(request, self.desk.reason(exc), 409, asking=name)
        except EditorError as exc:
            return self.queue_page(request, self.desk.t("stale", reason=self.desk.reason(exc)))
        return RedirectResponse(local_path(chosen.back), status_code=303)

    def channels(self, request: Request) -> Response:
        """The channels page as its address asks for it."""
        return self.channels_page(request)

    def channels_page(
        self, request: Request, message: str | None = None, status: int = 200, asking: str = ""
    ) -> Response:
        """Every channel: its platform, whether it posts for real, whether it is paused and
        why, its readers; approvers stop and restart it here (an emergency stop). `asking`: the
        channel whose resuming would send overdue posts at once, asked about with `message`."""
        with self.engine.connect() as connection:
            paused = active_pauses(connection, utcnow())
        readers = subscriber_counts(self.engine)
        rows = []
        language, zone = self.desk.language, self.settings.tz
        for name, configured in self.settings.channels.items():
            pause = paused.get(name)
            until = pause.until if pause else None
            subscribed = readers[name].get("subscribed", 0) if name in readers else None
            rows.append(
                {
                    "name": name,
                    "platform": self.desk.every_channel[name].display_name,
                    "dry_run": configured.dry_run,
                    "log": configured.type == "log",
                    "paused": pause.reason if pause else None,
                    "until": moment(until, zone, language) if until else None,
                    "readers": None if subscribed is None else number(subscribed, language),
                }
            )
        context = {
            "rows": rows,
            "message": message,
            "asking": asking,
            "status_error": status >= 400,
        }
        return self.desk.render(request, "channels.html.j2", context, status)

    def log_page(
        self,
        request: Request,
        channel: str | None = None,
        outcome: str | None = None,
        day: str | None = None,
        page: str | None = None,
    ) -> Response:
        """The delivery log, newest first, a page at a time (a fan-out is one row per post)."""
        since = until = None
        chosen_day = day_in_address(day)
        if chosen_day is not None:
            since = datetime.combine(chosen_day, time(), self.settings.tz)
            until = since + timedelta(days=1)
        chosen = LogFilter(
            channel=channel if channel in self.settings.channels else None,
            outcome=outcome if outcome in SHOWN_OUTCOMES else None,
            since=since,
            until=until,
        )
        number = whole_number(page or "", 6) or 1
        rows, total, number = log_page(self.engine, chosen, number, PER_PAGE)
        shown = {
            "channel": chosen.channel or "",
            "outcome": chosen.outcome or "",
            "day": chosen_day.isoformat() if chosen_day else "",
        }
        context = {
            "rows": rows,
            "outcomes": SHOWN_OUTCOMES,
            "channels": list(self.settings.channels),
            "page": number,
            "pages": max((total + PER_PAGE - 1) // PER_PAGE, 1),
            "total": total,
            "query": urlencode({k: v for k, v in shown.items() if v}),
        } | shown
        return self.desk.render(request, "log.html.j2", context)

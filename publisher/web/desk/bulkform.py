"""The queue's bulk form: one action on the ticked posts, or on every post the filter finds
(asked once, with the count); moves as one time, a shift or a spread over free slots. Every
post left as it was is named with its reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response

from publisher import actions, bulk
from publisher.articles import whole_number
from publisher.catalogue import moment, number
from publisher.clock import utcnow
from publisher.engine.lifecycle import State
from publisher.engine.planning.slots import TimeError
from publisher.engine.posts import verbs
from publisher.engine.posts.listings import headlines_of, ids_of_posts, list_posts
from publisher.engine.posts.overdue import going
from publisher.engine.posts.queue import QueueError
from publisher.engine.posts.users import User
from publisher.engine.storage.rowids import is_row_id
from publisher.errors import EditorError
from publisher.web.desk.auth import CheckedForm, DeskUser, first_use
from publisher.web.desk.base import local_path
from publisher.web.desk.forms import BulkChoice, carried
from publisher.web.desk.overview import BULK, PER_PAGE, Overview
from publisher.web.desk.turns import TAKE_TURN

VERBS = ("approve", "cancel", "restore", "retry")

Plan = Callable[[list[int]], tuple[list[bulk.Move], list[bulk.Refused]]]
# The actions that give posts new times: the new times are shown before anything moves, and
# what moved can be undone.
MOVES = ("reschedule", "shift", "spread")
UNDO = "undo"


class BulkForm:
    """The bulk form of one desk's queue."""

    def __init__(self, overview: Overview) -> None:
        self.overview = overview
        self.desk = overview.desk
        self.engine = overview.engine
        self.settings = overview.settings
        self.router = APIRouter(dependencies=[TAKE_TURN])
        self.router.add_api_route("/queue/bulk", self.apply, methods=["POST"])

    def apply(self, request: Request, user: DeskUser, form: CheckedForm) -> Response:
        """Carry out the bulk form: ask first when it cancels or reaches past the page."""
        chosen = BulkChoice.read(form)
        action, everywhere, confirmed = chosen.action, chosen.everywhere, chosen.confirmed
        back = local_path(chosen.back)
        query = dict(parse_qsl(urlsplit(back).query))
        if action not in (*BULK, UNDO):
            return self.overview.queue_page(request, self.desk.t("bulk_nothing"), 422, query)
        actions.check("reschedule" if action == UNDO else action, user)
        if chosen.moves:
            # Moves an editor saw (confirmed, or offered to undo): made as they were shown.
            return self._move_as_shown(request, chosen, query, user)
        try:
            _typed_for(chosen)
            planned = self._plan(chosen) if action in MOVES else None
        except EditorError as exc:
            return self.overview.queue_page(request, self.desk.reason(exc), 422, query)
        ticked = ",".join(chosen.ticked)
        if confirmed:
            ids = _numbers(chosen.ids or ticked, bulk.MOST)
        elif everywhere:
            found, _, _ = self.overview.filter_of(query)
            ids = ids_of_posts(self.engine, found, bulk.MOST + 1)
            if len(ids) > bulk.MOST:
                message = self.desk.t("bulk_too_many", most=number(bulk.MOST, self.desk.language))
                return self.overview.queue_page(request, message, 422, query)
        else:
            ids = _numbers(ticked, PER_PAGE)
        if not ids:
            return self.overview.queue_page(request, self.desk.t("bulk_nothing"), 422, query)
        if planned is not None:
            plan, said = planned
            moves, refused = plan(ids)
            return self._ask_moves(request, chosen, moves, refused, back, said)
        # Approving asks first too: the confirmation shows every text it approves.
        if not confirmed and (everywhere or action in ("cancel", "approve")):
            return self._confirm(request, chosen, ids, back)
        if chosen.once and not first_use(request, chosen.once):
            # The page was reloaded after the change: it is not made twice.
            message = self.desk.t("bulk_already_done")
            return self.overview.queue_page(request, message, 409, query)
        # An approval covers the text version its confirmation showed (`seen_ID`).
        refused = bulk.each(
            ids, lambda post_id: self._apply(action, post_id, user, chosen.seen.get(post_id))
        )
        done = self.desk.t(
            "bulk_done",
            done=number(len(ids) - len(refused), self.desk.language),
            total=number(len(ids), self.desk.language),
        )
        if action in ("approve", "restore", "retry"):
            done += self._going_now(ids, refused)
        left = self._named(refused)
        # A cancel is undone by restoring the posts, a restore by cancelling them again.
        undone_by = {"cancel": "restore", "restore": "cancel"}.get(action)
        again = [i for i in ids if i not in {one.post_id for one in refused}]
        undo_verb = (undone_by, again) if undone_by and again else None
        return self.overview.queue_page(
            request, done, 422 if refused else 200, query, left_alone=left, undo_verb=undo_verb
        )

    def _move_as_shown(
        self, request: Request, chosen: BulkChoice, query: dict[str, str], user: User
    ) -> Response:
        """Make the moves the editor saw, each post to the time shown (a post moved since is
        left alone), and offer to undo them."""
        if chosen.once and not first_use(request, chosen.once):
            message = self.desk.t("bulk_already_done")
            return self.overview.queue_page(request, message, 409, query)
        moves = list(chosen.moves)[: bulk.MOST]
        # Posts all moved to one time keep their gap; a shift or a spread moves them as one.
        together = chosen.action != "reschedule"
        refused = bulk.apply_moves(
            self.engine, self.settings, moves, by=user.name, together=together
        )
        left = {one.post_id for one in refused}
        made = [move for move in moves if move.post_id not in left]
        done = self.desk.t(
            "bulk_undone" if chosen.action == UNDO else "bulk_done",
            done=number(len(made), self.desk.language),
            total=number(len(moves), self.desk.language),
        )
        return self.overview.queue_page(
            request,
            done,
            422 if refused else 200,
            query,
            left_alone=self._named(refused),
            moved=self._moved(made),
            undo=[] if chosen.action == UNDO else made,
        )

    def _ask_moves(
        self,
        request: Request,
        chosen: BulkChoice,
        moves: list[bulk.Move],
        refused: list[bulk.Refused],
        back: str,
        said: str,
    ) -> Response:
        """Each post's time now and the time it would get, before anything moves."""
        if not moves:
            return self.overview.queue_page(
                request, self.desk.t("bulk_nothing_moves"), 422,
                dict(parse_qsl(urlsplit(back).query)), left_alone=self._named(refused),
            )  # fmt: skip
        title = self.desk.t(
            "confirm_bulk_moves", count=len(moves), total=number(len(moves), self.desk.language)
        )
        context = {
            "title": title,
            "action": chosen.action,
            "back": back,
            "said": said,
            "once": chosen.once,
            "everywhere": chosen.everywhere,
            "moves": self._moved(moves),
            "left_alone": self._named(refused),
        }
        return self.desk.render(request, "confirm_bulk.html.j2", context)

    def _plan(self, chosen: BulkChoice) -> tuple[Plan, str]:
        """The moves the action plans for a list of posts, and what the confirmation says of
        it; the time or hours it needs are read once, so that "+15m" is one time for every
        post."""
        engine, settings, action = self.engine, self.settings, chosen.action
        if action == "shift":
            shift = bulk.shift_of(chosen.hours)
            hours = number(shift.total_seconds() / 3600, self.desk.language)
            said = self.desk.t("confirm_bulk_shift", hours=hours)
            return lambda ids: bulk.planned_shift(engine, ids, shift), said
        at = actions.when(chosen.at, settings).at if chosen.at.strip() else None
        if action == "spread":
            start = at or utcnow()
            when = moment(start, settings.tz, self.desk.language)
            said = self.desk.t("confirm_bulk_spread", when=when)
            return lambda ids: bulk.planned_spread(engine, settings, ids, start), said
        if at is None:
            raise TimeError("choose a date and time", key="no_time_given")
        return lambda ids: bulk.planned_time(engine, ids, at), ""

    def _going_now(self, ids: list[int], refused: list[bulk.Refused]) -> str:
        """What the editor is told of the posts let go whose time has passed: they go out now
        (never the time already gone)."""
        left = {one.post_id for one in refused}
        now = [i for i in ids if i not in left and going(self.engine, i).now]
        if not now:
            return ""
        return " " + self.desk.t(
            "bulk_going_now", count=len(now), posts=number(len(now), self.desk.language)
        )

    def _apply(self, action: str, post_id: int, user: User, seen: str | None) -> None:
        actions.apply(self.engine, self.settings, action, post_id, user, seen=seen)

    def _confirm(self, request: Request, chosen: BulkChoice, ids: list[int], back: str) -> Response:
        action = chosen.action
        title = self.desk.t(
            "confirm_bulk_cancel" if action == "cancel" else "confirm_bulk",
            count=len(ids),
            action=self.desk.t(f"bulk_{action}"),
            total=number(len(ids), self.desk.language),
        )
        context = {
            "title": title,
            "action": action,
            "ids": ",".join(map(str, ids)),
            "back": back,
            "everywhere": chosen.everywhere,
            "once": chosen.once,
            "approving": self._shown(ids) if action == "approve" else [],
        }
        return self.desk.render(request, "confirm_bulk.html.j2", context)

    def _shown(self, ids: list[int]) -> list[dict[str, Any]]:
        """The posts a bulk approval would approve, each with its whole text as it goes out
        and that text's version, which the approval then names."""
        found = list_posts(self.engine, self.settings, include_done=True, post_ids=ids)
        return [
            {
                "id": post["id"],
                "channel": post["channel"],
                "headline": post["headline"],
                "text": post["text"],
                "version": verbs.text_version(post["text"]),
            }
            for post in found
            if post["state"] == State.AWAITING_APPROVAL
        ]

    def _moved(self, moves: list[bulk.Move]) -> list[dict[str, Any]]:
        """Each move with its post's channel and headline, its time before and after."""
        known = headlines_of(self.engine, [move.post_id for move in moves])
        return [
            {
                "id": move.post_id,
                "channel": known[move.post_id][0],
                "headline": known[move.post_id][1],
                "before": move.before,
                "due_at": move.after,
                "carried": carried(move),
            }
            for move in moves
            if move.post_id in known
        ]

    def _named(self, refused: list[bulk.Refused]) -> list[dict[str, Any]]:
        """Each post left alone with its channel, headline and reason, in the editor's words."""
        known = headlines_of(self.engine, [r.post_id for r in refused])
        named = []
        for one in refused:
            channel, headline = known.get(one.post_id, ("", ""))
            named.append(
                {
                    "id": one.post_id,
                    "channel": channel,
                    "headline": headline,
                    "reason": self.desk.reason(one.reason),
                }
            )
        return named


def _numbers(text: str, most: int) -> list[int]:
    """Post numbers from a comma-separated list, each once, at most `most` of them."""
    parts = (part.strip() for part in text.split(","))
    numbers = dict.fromkeys(n for part in parts if (n := whole_number(part)) and is_row_id(n))
    return list(numbers)[:most]


def _typed_for(chosen: BulkChoice) -> None:
    """Refuse a time or hours typed for another action than the one chosen: never ignored."""
    uses = {"reschedule": "at", "spread": "at", "shift": "hours"}.get(chosen.action)
    typed = {"at": chosen.at, "hours": chosen.hours}
    if any(typed[name].strip() for name in {"at", "hours"} - {uses}):
        raise QueueError("a time or hours typed for another action", key="bulk_field_unused")

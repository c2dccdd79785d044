"""Queueing an article from its page, safe by default: the editor's choices are read (a typed
time with another timing chosen is refused, not ignored), each channel's time is worked out
before anything is queued (the next free slot by default; a channel without slots at once), a
post going out at once to subscribers or on several channels is confirmed first with what goes
where, when and to how many, and what fits is queued while every channel that cannot take it is
named with its reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from publisher import actions
from publisher.actions import Planned
from publisher.catalogue import moment, number, problem
from publisher.config import Settings
from publisher.engine.planning.slots import TimeError, When
from publisher.engine.posts import desk_drafts, queue
from publisher.engine.posts.queue import UnknownArticle
from publisher.engine.releases.release import stored_article
from publisher.errors import EditorError
from publisher.web.desk.auth import CheckedForm, DeskUser
from publisher.web.desk.base import RowId
from publisher.web.desk.intake import Choices, Intake, choices_from
from publisher.web.desk.turns import TAKE_TURN


class Planning:
    """The article form's submission: plan, confirm, queue, and say what happened."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake
        self.engine = intake.engine
        self.settings = intake.settings
        self.language = intake.language
        self.t = intake.t
        self.render = intake.render
        self.router = APIRouter(dependencies=[TAKE_TURN])
        self.router.add_api_route(
            "/articles/{article_id}/queue", self.queue_article, methods=["POST"]
        )

    def _choices(self, form: Any) -> Choices:
        return choices_from(form, self.intake.channels)

    def _when(self, chosen: Choices) -> When:
        """The timing the editor chose; a time typed beside another choice is a question, not
        something to ignore."""
        if chosen.timing == "at":
            if not chosen.at:
                raise TimeError("choose a date and time", key="no_time_given")
            return actions.when(chosen.at, self.settings)
        if chosen.at:
            raise TimeError(
                f"a time was typed ({chosen.at}) but {chosen.timing} was chosen",
                key="time_not_chosen",
                value=chosen.at.replace("T", " "),
                timing=self.t(chosen.timing),
            )
        if chosen.timing == "best":
            return When("best")
        return When("now") if chosen.timing == "now" else When("next_slot")

    def queue_article(
        self, request: Request, article_id: RowId, user: DeskUser, form: CheckedForm
    ) -> Response:
        try:
            article = stored_article(self.engine, str(article_id))
        except UnknownArticle as exc:
            return self.render(
                request, "message.html.j2", {"message": self.intake.reason(exc)}, 404
            )
        chosen = self._choices(form)
        included = [n for n in self.intake.channels if n in (chosen.included or ())]
        page = self.intake.article_page
        if not included:
            refusal = self.t("refused", reason=self.t("include_one"))
            return page(request, article_id, chosen, None, refusal, 422)
        try:
            when = self._when(chosen)
            planned = actions.plan(
                self.engine, self.settings, article, included, when,
                again=chosen.again, shown=_shown_times(form, included, self.settings),
            )  # fmt: skip
            if not any(p.when for p in planned.values()):
                refusal = self.t("refused", reason=self.t("no_channel_fits"))
                context = self._plan_context(planned, chosen, asking=False)
                return page(request, article_id, chosen, None, refusal, 422, confirm=context)
            confirmed = form.get("confirmed") == chosen.fingerprint(_times(planned))
            # A text its channel refuses is said before anything is asked, never after.
            actions.check_texts(self.settings, article, planned, chosen.texts, chosen.without_link)
            if actions.asks_first(planned) and not confirmed:
                context = self._plan_context(planned, chosen, asking=True)
                return page(request, article_id, chosen, None, None, 200, confirm=context)
            ids = actions.queue_planned(
                self.engine, self.settings, article, planned,
                by=user.name, texts=chosen.texts, without_link=chosen.without_link,
                force=bool(chosen.again),
            )  # fmt: skip
            # Queued: the draft the editor's tabs kept of this page has done its work.
            desk_drafts.let_go(self.engine, user.name, article_id)
        except queue.TextsRefused as exc:
            problems = {
                name: [problem(p, self.language) for p in found]
                for name, found in exc.problems.items()
            }
            for name in exc.linkless:
                problems[name].append(self.t("link_missing"))
            reason = next(
                f"{self.settings.label(n)}: {'; '.join(p)}" for n, p in problems.items() if p
            )
            return page(
                request, article_id, chosen, problems,
                self.t("refused", reason=reason), 422, exc.linkless,
            )  # fmt: skip
        except EditorError as exc:
            refusal = self.t("refused", reason=self.intake.reason(exc))
            return page(request, article_id, chosen, None, refusal, 422)
        fitting = [name for name in included if planned[name].when is not None]
        context = self._plan_context(planned, chosen, asking=False)
        context |= {
            "message": self.t("queued", ids=", ".join(map(str, ids))),
            "posts": dict(zip(fitting, ids, strict=True)),
            "article_id": article_id,
            "headline": article.headline,
        }
        return self.render(request, "queued.html.j2", context)

    def _plan_context(
        self, planned: dict[str, Planned], chosen: Choices, *, asking: bool
    ) -> dict[str, Any]:
        """Each channel's line as the editor reads it: where, when, by which rule, whether an
        approver must let it go, whom it reaches; or why it cannot be queued."""
        rows = []
        for name, plan in planned.items():
            channel = self.intake.every_channel[name]
            row: dict[str, Any] = {"name": name, "platform": channel.display_name}
            if plan.refusal is not None or plan.due is None:
                row["refusal"] = self.intake.reason(plan.refusal) if plan.refusal else ""
            else:
                zone = self.settings.channel_tz(name)
                row["due"] = moment(plan.due, zone, self.language)
                row["rule"] = self.t(plan.rule)
                row["approval"] = self.t("needs_approval" if plan.approval else "no_approval")
                if plan.reach is not None:
                    row["reach"] = self.t(
                        "planned_reach",
                        total=number(plan.reach.total, self.language),
                        free_form=number(plan.reach.free_form, self.language),
                        template=number(plan.reach.template, self.language),
                    )
            rows.append(row)
        times = _times(planned)
        fitting = [name for name, plan in planned.items() if plan.due is not None]
        now = [self.settings.label(name) for name in fitting if planned[name].now]
        return {
            "rows": rows,
            "asking": asking,
            # What goes out at once, when not all of it does: the question names it.
            "some_now": ", ".join(now) if len(now) < len(fitting) else None,
            "fingerprint": chosen.fingerprint(times),
            # The best times shown, kept when the editor confirms them while they are free.
            "times": {n: t for n, t in times.items() if planned[n].best},
        }


def _times(planned: dict[str, Planned]) -> dict[str, str]:
    """Each channel's planned time to the minute, as the editor was shown it ("now" is now
    whenever the editor confirms it, but a best time drawn is the time drawn, now or not: the
    confirmation carries it back, and a new draw must not take its place)."""
    return {
        name: plan.due.isoformat(timespec="minutes")
        for name, plan in planned.items()
        if plan.due is not None and plan.when is not None and (plan.best or not plan.now)
    }


def _shown_times(form: Any, names: list[str], settings: Settings) -> dict[str, datetime]:
    """The best times a confirmation showed (`planned_NAME`), as the form carries them back."""
    found = {}
    for name in names:
        text = str(form.get(f"planned_{name}") or "")[:40]
        try:
            at = actions.when(text, settings).at if text else None
        except EditorError:
            # Past by now, or not a time: the channel's time is worked out again.
            at = None
        if at is not None:
            found[name] = at
    return found

"""Withdrawing and correcting an article at the desk (approvers only): the article page offers
both; a first press asks, listing what will become of each of the article's posts (cancelled,
taken down, edited, answered under, left and why) and changing nothing; the answer carries it
out. The article and post pages then show each takedown and edit as it goes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Engine

from publisher import actions
from publisher.catalogue import moment
from publisher.config import Settings
from publisher.engine.posts import identity
from publisher.engine.posts.listings import list_posts
from publisher.engine.releases.correction import foresee_correction
from publisher.engine.releases.withdrawal import foresee, withdrawn_as
from publisher.errors import EditorError
from publisher.web.desk.auth import CheckedForm, DeskUser
from publisher.web.desk.base import PageGroup, Pages, RowId
from publisher.web.desk.forms import Amending


def withdrawal_shown(
    engine: Engine, settings: Settings, language: str, article_id: int
) -> dict[str, str | None] | None:
    """How the article page says the article was withdrawn (by whom, when, why); None while
    it stands."""
    withdrawn = withdrawn_as(engine, article_id)
    if withdrawn is None:
        return None
    return {
        "by": "CMS" if withdrawn.by in ("webhook", "cms") else withdrawn.by,
        "when": moment(withdrawn.at, settings.tz, language) if withdrawn.at else "",
        "reason": withdrawn.reason,
    }


class ArticleAmendments(PageGroup):
    """The question before a withdrawal or a correction, and the withdrawal or correction."""

    def __init__(self, desk: Pages) -> None:
        super().__init__(desk)
        route = self.router.add_api_route
        route("/articles/{article_id}/withdraw", self.withdraw, methods=["POST"])
        route("/articles/{article_id}/correct", self.correct, methods=["POST"])
        route("/posts/{post_id}/amendment/retry", self.try_again, methods=["POST"])

    def withdraw(
        self, request: Request, article_id: RowId, user: DeskUser, form: CheckedForm
    ) -> Response:
        """Ask first (what will happen to each post), then withdraw as confirmed."""
        actions.check("withdraw", user)
        chosen = Amending.read(form)
        found = identity.numbered(self.engine, article_id)
        if found is None:
            return self._unknown(request, article_id)
        if not chosen.confirmed:
            foreseen = foresee(self.engine, self.settings, article_id, keep_sent=chosen.keep_sent)
            fates = {post: foreseen.fate(post) for post in self._posts(article_id)}
            return self._ask(request, "withdraw", found.headline, article_id, chosen, fates)
        actions.withdraw_article(
            self.engine, self.settings, found.key, user, chosen.said, keep_sent=chosen.keep_sent
        )
        return RedirectResponse(f"/articles/{article_id}", status_code=303)

    def correct(
        self, request: Request, article_id: RowId, user: DeskUser, form: CheckedForm
    ) -> Response:
        """Ask first (what will happen to each post, and the line it gains), then correct."""
        actions.check("correct", user)
        chosen = Amending.read(form)
        found = identity.numbered(self.engine, article_id)
        if found is None:
            return self._unknown(request, article_id)
        try:
            if not chosen.confirmed:
                actions.correction_note(chosen.said)
                steps = foresee_correction(self.engine, self.settings, article_id, chosen.said)
                fates = {step.post_id: step.fate for step in steps}
                return self._ask(request, "correct", found.headline, article_id, chosen, fates)
            actions.correct_article(self.engine, self.settings, found.key, user, chosen.said)
        except EditorError as exc:
            message = self.desk.reason(exc)
            return self.desk.render(request, "message.html.j2", {"message": message}, 422)
        return RedirectResponse(f"/articles/{article_id}", status_code=303)

    def try_again(self, post_id: RowId, user: DeskUser, form: CheckedForm) -> Response:
        """Try a post's refused takedown or correction again."""
        actions.try_amendment_again(self.engine, post_id, user)
        return RedirectResponse(f"/posts/{post_id}", status_code=303)

    def _unknown(self, request: Request, article_id: int) -> Response:
        message = self.desk.t("error_unknown_article", article=article_id)
        return self.desk.render(request, "message.html.j2", {"message": message}, 404)

    def _posts(self, article_id: int) -> dict[int, str]:
        """The article's posts (their channels), in the order the article page lists them."""
        listed = list_posts(self.engine, self.settings, include_done=True, article_id=article_id)
        return {post["id"]: post["channel"] for post in listed}

    def _ask(
        self,
        request: Request,
        action: str,
        headline: str,
        article_id: int,
        chosen: Amending,
        fates: Mapping[int, str | None],
    ) -> Response:
        """The question: one line per post the action does something to."""
        channels = self._posts(article_id)
        label = self.desk.words.label
        lines = [
            {
                "kind": fate,
                "text": self.desk.t(
                    f"{action}_will_{fate}", post=post, channel=label(channels.get(post, ""))
                ),
            }
            for post, fate in fates.items()
            if fate is not None
        ] or [{"kind": "nothing", "text": self.desk.t("withdraw_will_nothing")}]
        context: dict[str, Any] = {
            "action": action,
            "article_id": article_id,
            "headline": headline,
            "lines": lines,
            "said": chosen.said,
            "keep_sent": chosen.keep_sent,
        }
        return self.desk.render(request, "amend.html.j2", context)

"""Withdrawing an article at the desk (approvers only): the article page offers it; a first
press asks, listing what will become of each of the article's posts (cancelled, taken down from
its platform, left standing and why); the answer carries it out. The article page then shows
each takedown as it goes."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Engine

from publisher import actions
from publisher.catalogue import moment
from publisher.config import Settings
from publisher.engine.posts import identity
from publisher.engine.posts.listings import list_posts
from publisher.engine.releases.withdrawal import Withdrawal, foresee, withdrawn_as
from publisher.web.desk.auth import CheckedForm, DeskUser
from publisher.web.desk.base import PageGroup, Pages, RowId
from publisher.web.desk.forms import Withdrawing


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


class Withdrawals(PageGroup):
    """The question before a withdrawal, and the withdrawal."""

    def __init__(self, desk: Pages) -> None:
        super().__init__(desk)
        self.router.add_api_route(
            "/articles/{article_id}/withdraw", self.withdraw, methods=["POST"]
        )

    def withdraw(
        self, request: Request, article_id: RowId, user: DeskUser, form: CheckedForm
    ) -> Response:
        """Ask first (what will happen to each post), then withdraw as confirmed."""
        actions.check("withdraw", user)
        chosen = Withdrawing.read(form)
        found = identity.numbered(self.engine, article_id)
        if found is None:
            message = self.desk.t("error_unknown_article", article=article_id)
            return self.desk.render(request, "message.html.j2", {"message": message}, 404)
        if not chosen.confirmed:
            foreseen = foresee(self.engine, self.settings, article_id, keep_sent=chosen.keep_sent)
            context = {
                "article_id": article_id,
                "headline": found.headline,
                "lines": self._lines(article_id, foreseen),
                "reason": chosen.reason,
                "keep_sent": chosen.keep_sent,
            }
            return self.desk.render(request, "withdraw.html.j2", context)
        actions.withdraw_article(
            self.engine, self.settings, found.key, user, chosen.reason, keep_sent=chosen.keep_sent
        )
        return RedirectResponse(f"/articles/{article_id}", status_code=303)

    def _lines(self, article_id: int, foreseen: Withdrawal) -> list[dict[str, str]]:
        """What the question says of each post, in the order the article page lists them."""
        posts = list_posts(self.engine, self.settings, include_done=True, article_id=article_id)
        label = self.desk.words.label
        lines = []
        for post in posts:
            number, channel = post["id"], post["channel"]
            kind = foreseen.fate(number)
            if kind is None:
                continue
            text = self.desk.t(f"withdraw_will_{kind}", post=number, channel=label(channel))
            lines.append({"kind": kind, "text": text})
        if not lines:
            lines.append({"kind": "nothing", "text": self.desk.t("withdraw_will_nothing")})
        return lines

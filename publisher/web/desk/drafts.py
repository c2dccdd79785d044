"""An article page's draft: the page sends what the editor chose and typed as they type
(`/api/articles/{id}/draft`), kept per editor and article (`engine.posts.desk_drafts`) and
shown again on that page in any tab, after a session ended too; "start afresh" discards it."""

from __future__ import annotations

from fastapi import Depends
from fastapi.responses import JSONResponse, RedirectResponse, Response

from publisher.engine.posts import desk_drafts
from publisher.engine.posts.queue import UnknownArticle
from publisher.engine.releases.release import stored_article
from publisher.teasers import compose
from publisher.web.bodies import DraftFields
from publisher.web.desk.auth import ApiUser, CheckedForm, DeskUser, api_user
from publisher.web.desk.base import PageGroup, Pages, RowId

# The fields of an article's form a draft keeps (each with a channel's name after it, but the
# timing and its time).
CHANNEL_FIELDS = ("include_", "text_", "without_link_", "again_")
OTHER_FIELDS = ("timing", "at")


class Drafts(PageGroup):
    """Keeping and discarding the drafts of article pages."""

    def __init__(self, desk: Pages) -> None:
        super().__init__(desk)
        route = self.router.add_api_route
        route(
            "/api/articles/{article_id}/draft",
            self.keep,
            methods=["POST"],
            dependencies=[Depends(api_user)],
        )
        route("/articles/{article_id}/draft/discard", self.discard, methods=["POST"])

    def keep(self, article_id: RowId, body: DraftFields, user: ApiUser) -> Response:
        """Keep the page's fields as the editor left them: a text only where it differs from
        the teaser composed now (a later update of the article still reaches the others)."""
        try:
            article = stored_article(self.engine, str(article_id))
        except UnknownArticle as exc:
            return JSONResponse({"error": self.desk.reason(exc)}, status_code=404)
        channels = self.desk.channels
        composed = compose(article, channels, self.settings)
        fields: dict[str, str] = {}
        for name, value in body.fields.items():
            channel_field = next((f for f in CHANNEL_FIELDS if name.startswith(f)), None)
            channel = name.removeprefix(channel_field) if channel_field else None
            if name in OTHER_FIELDS or (channel in channels and channel_field != "text_"):
                fields[name] = value
            elif channel in channels:
                text = channels[channel].from_editable(value.replace("\r\n", "\n"))
                if text != composed[channel].text:
                    fields[name] = value
        desk_drafts.keep(self.engine, user.name, article_id, fields)
        return JSONResponse({"kept": True})

    def discard(self, article_id: RowId, user: DeskUser, form: CheckedForm) -> Response:
        """Start the article's page afresh: the draft is let go."""
        desk_drafts.let_go(self.engine, user.name, article_id)
        return RedirectResponse(f"/articles/{article_id}", status_code=303)

"""The desk: its words and templates, and the routers of its groups of pages (signing in,
taking in articles, posts, the overview pages, the calendar). Who is signed in and the CSRF check
of every form are dependencies the routes declare (`auth`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Engine

from publisher import roster
from publisher.catalogue import describe, translator
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.posts.listings import change_version, queue_version
from publisher.engine.posts.pauses import active_pauses
from publisher.errors import EditorError
from publisher.web.desk.amendments import ArticleAmendments
from publisher.web.desk.auth import csrf_token, signed_in
from publisher.web.desk.bulkform import BulkForm
from publisher.web.desk.calendar import Calendar
from publisher.web.desk.drafts import Drafts
from publisher.web.desk.intake import Intake
from publisher.web.desk.overview import Overview
from publisher.web.desk.planning import Planning
from publisher.web.desk.posts import PostPages
from publisher.web.desk.results import Results
from publisher.web.desk.signin import SignIn
from publisher.web.desk.turns import TAKE_TURN
from publisher.web.desk.words import Words

# Pages that redraw themselves when the queue changes (another editor, the bot, a delivery).
LIVE_PAGES = ("queue.html.j2", "plan.html.j2", "post.html.j2", "log.html.j2")


class DeskPages:
    """The pages, bound to the queue's database and the newsroom's settings."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.language = settings.desk.language or settings.language
        self.t = translator(self.language, "desk")
        environment = Environment(
            loader=PackageLoader("publisher.web", "templates/desk"),
            autoescape=select_autoescape(default=True),
        )
        self.words = Words(settings, self.language)
        environment.globals.update(self.words.globals())
        self.templates = Jinja2Templates(env=environment)
        # Built once: every page and every keystroke's count needs them. The cards show the
        # channels an article goes to by default; counting works for every configured channel.
        self.every_channel = roster.chosen(settings, list(settings.channels))
        self.channels = {n: self.every_channel[n] for n in roster.chosen(settings, None)}
        # Each group of pages brings its own router; every page but signing in is for a
        # signed-in editor only.
        intake = Intake(self)
        post_pages = PostPages(self)
        overview = Overview(self, post_pages)
        self.routers = [
            SignIn(self).router,
            intake.router,
            Planning(intake).router,
            post_pages.router,
            overview.router,
            BulkForm(overview).router,
            Calendar(self).router,
            Drafts(self).router,
            ArticleAmendments(self).router,
            Results(self).router,
        ]
        changes = APIRouter(dependencies=[Depends(signed_in), TAKE_TURN])
        changes.add_api_route("/api/changes", self.changes, methods=["GET"])
        self.routers.append(changes)

    # --- rendering -------------------------------------------------------------------------

    def render(
        self, request: Request, template: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        user = request.scope.get("desk_user")
        with self.engine.connect() as connection:
            paused = active_pauses(connection, utcnow())
            version = change_version(connection)
        return self.templates.TemplateResponse(
            request,
            template,
            {
                "t": self.t,
                "lang": self.language,
                "user": user,
                "csrf": csrf_token(request),
                "paused": paused,
                "version": version,
                # A page drawn in answer to a form (a refusal, a question) keeps still: its
                # address is the form's, which drawing it again would ask for as a page.
                "live": template in LIVE_PAGES and request.method == "GET",
                **context,
            },
            status_code=status,
        )

    def changes(self) -> Response:
        """The queue's change stamp, for pages that update themselves when it moves."""
        return JSONResponse(
            {"version": queue_version(self.engine)}, headers={"Cache-Control": "no-store"}
        )

    def reason(self, refusal: EditorError) -> str:
        """What a refusal says, in the desk's language."""
        return describe(refusal, self.language, self.settings.label, self.settings.tz)

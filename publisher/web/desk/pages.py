"""The desk: its words, templates, who is signed in and the CSRF check of every form, and the
routes of its groups of pages (signing in, taking in articles, posts, the overview pages, the
calendar)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from publisher import roster
from publisher.catalogue import describe, translator
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.listings import change_version
from publisher.engine.pauses import active_pauses
from publisher.errors import EditorError
from publisher.web.desk.auth import check_csrf, csrf_token, current_user
from publisher.web.desk.bulkform import BulkForm
from publisher.web.desk.calendar import Calendar
from publisher.web.desk.intake import Intake
from publisher.web.desk.overview import Overview
from publisher.web.desk.planning import Planning
from publisher.web.desk.posts import PostPages
from publisher.web.desk.signin import SignIn
from publisher.web.desk.words import Words

# Pages that redraw themselves when the queue changes (another editor, the bot, a delivery).
LIVE_PAGES = ("queue.html.j2", "plan.html.j2", "post.html.j2", "log.html.j2")
# Fields a desk form may have (a page of ticked posts, an article's texts for every channel).
FORM_FIELDS = 300


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
        self.router = APIRouter()
        route = self.router.add_api_route
        signin = SignIn(self)
        route("/signin", signin.page, methods=["GET"], response_class=HTMLResponse)
        route("/signin", signin.form, methods=["POST"])
        route("/signout", signin.out, methods=["POST"])
        intake = Intake(self)
        route("/", intake.front, methods=["GET"], response_class=HTMLResponse)
        route("/intake", intake.intake, methods=["POST"])
        route("/articles/{article_id}", intake.article, methods=["GET"])
        route("/articles/{article_id}/queue", Planning(intake).queue_article, methods=["POST"])
        route("/api/measure", intake.measure, methods=["POST"])
        route("/articles/{article_id}/image", intake.article_image, methods=["GET"])
        overview = Overview(self)
        post_pages = PostPages(self)
        route("/posts/{post_id}", post_pages.view, methods=["GET"], response_class=HTMLResponse)
        route("/posts/{post_id}/edit", post_pages.edit, methods=["POST"])
        route("/queue", overview.queue, methods=["GET"], response_class=HTMLResponse)
        route("/queue/bulk", BulkForm(overview).apply, methods=["POST"])
        route("/posts/{post_id}/{action}", overview.post_action, methods=["POST"])
        route("/channels", overview.channels_page, methods=["GET"], response_class=HTMLResponse)
        route("/channels/{name}/{action}", overview.channel_action, methods=["POST"])
        calendar = Calendar(self)
        route("/plan", calendar.page, methods=["GET"], response_class=HTMLResponse)
        route("/api/posts/{post_id}/move", calendar.move, methods=["POST"])
        route("/api/changes", self.changes, methods=["GET"])
        route("/log", overview.log_page, methods=["GET"], response_class=HTMLResponse)

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
                "live": template in LIVE_PAGES,
                **context,
            },
            status_code=status,
        )

    async def changes(self, request: Request) -> Response:
        """The queue's change stamp, for pages that update themselves when it moves."""
        self.user(request)

        def read() -> str:
            with self.engine.connect() as connection:
                return change_version(connection)

        stamp = await run_in_threadpool(read)
        return JSONResponse({"version": stamp}, headers={"Cache-Control": "no-store"})

    def user(self, request: Request) -> Any:
        user = current_user(request, self.engine, self.settings)
        request.scope["desk_user"] = user
        return user

    async def form_user(self, request: Request, files: int = 0) -> Any:
        """The user of a form post, after its CSRF token is checked; a form may carry `files`
        files (only the intake takes one) and a page's worth of fields."""
        user = self.user(request)
        form = await request.form(max_files=files, max_fields=FORM_FIELDS)
        check_csrf(request, str(form.get("csrf") or ""))
        return user

    def reason(self, refusal: EditorError) -> str:
        """What a refusal says, in the desk's language."""
        return describe(refusal, self.language, self.settings.label)

"""The desk's pages and form actions. Queue operations run in threads; a refusal (a text over
the limit, a time in the past, a post that already went out) is a message on the page and
changes nothing."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy import Engine, desc, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from publisher import actions, roster
from publisher.articles import Article, ArticleError
from publisher.catalogue import describe, number, problem, reach, translator, unit
from publisher.channels import Channel
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine import queue
from publisher.engine.listings import change_version
from publisher.engine.pauses import active_pauses
from publisher.engine.release import UnknownArticle, stored_article
from publisher.engine.schema import articles
from publisher.engine.slots import When
from publisher.engine.subscribers import Reach
from publisher.errors import EditorError
from publisher.intake.sources import article_from_document, document_text, load_article
from publisher.teasers import compose
from publisher.web.bodies import json_request
from publisher.web.desk.auth import check_csrf, csrf_token, current_user
from publisher.web.desk.base import RowId
from publisher.web.desk.calendar import Calendar
from publisher.web.desk.guard import MAX_NAME, SigninGuard
from publisher.web.desk.overview import Overview
from publisher.web.desk.posts import PostPages
from publisher.web.users import check_password, close_session, open_session


@dataclass(frozen=True)
class Choices:
    """What an editor chose on an article's page, shown again as it was after a refusal:
    texts, the channels ticked (None: the default, all), the timing and its time."""

    texts: dict[str, str] = field(default_factory=dict)
    included: frozenset[str] | None = None
    timing: str = "now"
    at: str = ""
    without_link: frozenset[str] = frozenset()


# Pages that redraw themselves when the queue changes (another editor, the bot, a delivery).
LIVE_PAGES = ("queue.html.j2", "plan.html.j2", "post.html.j2", "log.html.j2")
# Pages fetched for intake at once; more wait their turn (each ends within [fetch] timeout).
FETCHES_AT_ONCE = 8
# How long a sign-in waits for its turn to hash before the server says it is busy.
HASHING_WAIT = 10.0
# Fields a desk form may have (a page of ticked posts, an article's texts for every channel).
FORM_FIELDS = 300
# Longer passwords are nobody's: they are refused without the cost of hashing them.
MAX_PASSWORD = 1_000


def typed(form: Any, field: str) -> str:
    """What an editor typed in a form's text field, with the browser's line ends made `\n`."""
    return str(form.get(field) or "").replace("\r\n", "\n")


class Desk:
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
        self.templates = Jinja2Templates(env=environment)
        # Built once: every page and every keystroke's count needs them. The cards show the
        # channels an article goes to by default; counting works for every configured channel.
        self.every_channel = roster.chosen(settings, list(settings.channels))
        self.channels = {n: self.every_channel[n] for n in roster.chosen(settings, None)}
        self.guard = SigninGuard()
        self.fetches = anyio.CapacityLimiter(FETCHES_AT_ONCE)
        self.router = APIRouter()
        route = self.router.add_api_route
        route("/signin", self.signin_page, methods=["GET"], response_class=HTMLResponse)
        route("/signin", self.signin, methods=["POST"])
        route("/signout", self.signout, methods=["POST"])
        route("/", self.front, methods=["GET"], response_class=HTMLResponse)
        route("/intake", self.intake, methods=["POST"])
        route("/articles/{article_id}", self.article, methods=["GET"])
        route("/articles/{article_id}/queue", self.queue_article, methods=["POST"])
        route("/api/measure", self.measure, methods=["POST"])
        overview = Overview(self)
        post_pages = PostPages(self)
        route("/posts/{post_id}", post_pages.view, methods=["GET"], response_class=HTMLResponse)
        route("/posts/{post_id}/edit", post_pages.edit, methods=["POST"])
        route("/queue", overview.queue, methods=["GET"], response_class=HTMLResponse)
        route("/queue/bulk", overview.bulk, methods=["POST"])
        route("/posts/{post_id}/{action}", overview.post_action, methods=["POST"])
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

    def _reach(self, whom: Reach | None) -> str | None:
        """Whom a subscribable channel's post reaches, as the desk says it."""
        return reach(whom.free_form, whom.template, self.language) if whom else None

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

    # --- signing in ------------------------------------------------------------------------

    async def signin_page(self, request: Request) -> Response:
        return self.render(request, "signin.html.j2", {})

    async def signin(self, request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=3)
        check_csrf(request, str(form.get("csrf") or ""))
        name, password = str(form.get("name") or ""), str(form.get("password") or "")
        address = request.client.host if request.client else "?"
        wait = self.guard.wait(name, address)
        if wait > 0:
            message = (
                self.t("signin_wait_seconds", seconds=math.ceil(wait))
                if wait < 60
                else self.t("signin_throttled", minutes=math.ceil(wait / 60))
            )
            return self.render(request, "signin.html.j2", {"error": message}, 429)
        user = None
        if len(name) <= MAX_NAME and len(password) <= MAX_PASSWORD:
            async with self.guard.hashing(timeout=HASHING_WAIT) as admitted:
                if not admitted:
                    message = self.t("signin_busy")
                    return self.render(request, "signin.html.j2", {"error": message}, 503)
                user = await run_in_threadpool(check_password, self.engine, name, password)
        if user is None:
            self.guard.failed(name, address)
            return self.render(request, "signin.html.j2", {"error": self.t("signin_failed")}, 401)
        self.guard.succeeded(name)
        token = await run_in_threadpool(
            open_session, self.engine, user, self.settings.desk.session_hours
        )
        request.session.clear()
        request.session["session"] = token
        return RedirectResponse("/", status_code=303)

    async def signout(self, request: Request) -> Response:
        await self.form_user(request)
        token = request.session.get("session")
        if isinstance(token, str):
            await run_in_threadpool(close_session, self.engine, token)
        request.session.clear()
        return RedirectResponse("/signin", status_code=303)

    # --- taking in an article --------------------------------------------------------------

    async def front(self, request: Request) -> Response:
        """The intake page, as an address shows it (what it says after a refusal is never
        taken from the address)."""
        return await self.intake_page(request)

    async def intake_page(
        self, request: Request, error: str | None = None, status: int = 200
    ) -> Response:
        self.user(request)
        with self.engine.connect() as connection:
            recent = connection.execute(
                select(articles.c.id, articles.c.headline, articles.c.updated_at)
                .order_by(desc(articles.c.updated_at))
                .limit(20)
            ).all()
        return self.render(request, "intake.html.j2", {"recent": recent, "error": error}, status)

    async def intake(self, request: Request) -> Response:
        await self.form_user(request, files=1)
        form = await request.form()
        url = str(form.get("url") or "").strip()
        upload = form.get("file")
        try:
            if isinstance(upload, UploadFile) and upload.filename:
                limit = self.settings.fetch.max_bytes
                raw = await upload.read(limit + 1)
                if len(raw) > limit:
                    message = self.t(
                        "upload_too_large", name=upload.filename, limit=number(limit, self.language)
                    )
                    return await self.intake_page(request, error=message, status=413)
                text = document_text(raw, upload.filename)
                article = await run_in_threadpool(
                    lambda: article_from_document(
                        text,
                        source=upload.filename or "upload",
                        settings=self.settings,
                        url=url or None,
                    )
                )
            elif url:
                # Fetches wait for their own few threads: slow sites must not take the threads
                # every other page needs.
                article = await anyio.to_thread.run_sync(
                    load_article, url, self.settings, limiter=self.fetches
                )
            else:
                raise ArticleError("paste a URL or choose a file", key="paste_or_file")
            stored = await run_in_threadpool(self._store, article)
        except EditorError as exc:
            return await self.intake_page(request, error=self.reason(exc))
        kept = "?kept=1" if stored.kept and stored.article != article else ""
        return RedirectResponse(f"/articles/{stored.id}{kept}", status_code=303)

    def _store(self, article: Article) -> queue.Stored:
        with self.engine.begin() as connection:
            return queue.upsert_article(connection, article, utcnow(), "editor")

    # --- previews, editing, queueing -------------------------------------------------------

    def _channels(self, names: list[str] | None = None) -> dict[str, Channel]:
        return {n: c for n, c in self.channels.items() if names is None or n in names}

    async def article(self, request: Request, article_id: RowId, kept: bool = False) -> Response:
        """An article's page; `kept` says an upload found the CMS's version stored, and that
        this one is shown."""
        message = self.t("article_kept") if kept else None
        return await self.article_page(request, article_id, message=message)

    async def article_page(
        self,
        request: Request,
        article_id: int,
        chosen: Choices | None = None,
        problems: dict[str, list[str]] | None = None,
        message: str | None = None,
        status: int = 200,
        confirm_link: frozenset[str] = frozenset(),
    ) -> Response:
        self.user(request)
        try:
            article = await run_in_threadpool(stored_article, self.engine, str(article_id))
        except UnknownArticle as exc:
            return self.render(request, "message.html.j2", {"message": self.reason(exc)}, 404)
        chosen = chosen or Choices()
        channels = self._channels()
        teasers = compose(article, channels, self.settings)
        whom = await run_in_threadpool(actions.reach, self.engine, self.settings, list(teasers))
        cards = []
        for name, teaser in teasers.items():
            text = chosen.texts.get(name, teaser.text)
            channel = channels[name]
            cards.append(
                {
                    "name": name,
                    "platform": channel.display_name,
                    # As the editor types it (Telegram: **bold** and [text](url), not HTML).
                    "text": channel.editable(text),
                    # Channels escape what they put in a preview (tests/test_previews.py).
                    "preview": Markup(channel.preview(text, article)),
                    "length": channel.measure(text),
                    "limit": channel.limit_for(article),
                    "unit": unit(channel.unit, self.language),
                    "problems": (problems or {}).get(name, []),
                    "confirm_link": name in confirm_link,
                    "included": chosen.included is None or name in chosen.included,
                    "without_link": name in chosen.without_link,
                    "reach": self._reach(whom.get(name)),
                }
            )
        context = {
            "article": article,
            "article_id": article_id,
            "cards": cards,
            "timing": chosen.timing,
            "at": chosen.at,
        }
        return self.render(request, "article.html.j2", context | {"message": message}, status)

    async def queue_article(self, request: Request, article_id: RowId) -> Response:
        user = await self.form_user(request)
        form = await request.form()
        try:
            article = await run_in_threadpool(stored_article, self.engine, str(article_id))
        except UnknownArticle as exc:
            return self.render(request, "message.html.j2", {"message": self.reason(exc)}, 404)
        names = self._channels()
        chosen = Choices(
            texts={n: c.from_editable(typed(form, f"text_{n}")) for n, c in names.items()},
            included=frozenset(n for n in names if form.get(f"include_{n}")),
            timing=str(form.get("timing") or "now"),
            at=str(form.get("at") or ""),
            without_link=frozenset(n for n in names if form.get(f"without_link_{n}")),
        )
        included = [n for n in names if n in (chosen.included or ())]
        if not included:
            refusal = self.t("refused", reason=self.t("include_one"))
            return await self.article_page(request, article_id, chosen, None, refusal, 422)
        try:
            when = self._when(chosen.timing, chosen.at)
            ids = await run_in_threadpool(
                lambda: actions.queue_article(
                    self.engine, self.settings, article, included, when,
                    by=user.name, texts=chosen.texts, without_link=chosen.without_link,
                )
            )  # fmt: skip
        except queue.TextsRefused as exc:
            problems = {
                name: [problem(p, self.language) for p in found]
                for name, found in exc.problems.items()
            }
            for name in exc.linkless:
                problems[name].append(self.t("link_missing"))
            reason = next(f"{n}: {'; '.join(p)}" for n, p in problems.items() if p)
            return await self.article_page(
                request, article_id, chosen, problems,
                self.t("refused", reason=reason), 422, exc.linkless,
            )  # fmt: skip
        except EditorError as exc:
            refusal = self.t("refused", reason=self.reason(exc))
            return await self.article_page(request, article_id, chosen, None, refusal, 422)
        return self.render(
            request, "message.html.j2", {"message": self.t("queued", ids=", ".join(map(str, ids)))}
        )

    def _when(self, mode: str, at: str) -> When:
        if mode == "next_slot":
            return When("next_slot")
        if mode == "at":
            return actions.when(at or "?", self.settings)
        return When("now")

    def reason(self, refusal: EditorError) -> str:
        """What a refusal says, in the desk's language."""
        return describe(refusal, self.language)

    async def measure(self, request: Request) -> Response:
        """Length, limit and problems of a text by the channel's own rules (for live counters)."""
        self.user(request)
        check_csrf(request, request.headers.get("x-csrf-token"))
        body = await json_request(request)
        if not isinstance(body, dict):
            return JSONResponse({"error": "send a JSON object"}, status_code=400)
        name = str(body.get("channel", ""))
        if name not in self.settings.channels:
            return JSONResponse({"error": f"unknown channel {name!r}"}, status_code=400)
        channel = self.every_channel[name]
        article = None
        if body.get("article_id") is not None:
            try:
                article = stored_article(self.engine, str(body["article_id"]))
            except UnknownArticle:
                article = None
        text = channel.from_editable(str(body.get("text", "")).replace("\r\n", "\n"))
        limit = channel.limit_for(article) if article else channel.limit
        answer: dict[str, Any] = {
            "length": channel.measure(text),
            "limit": limit,
            "unit": unit(channel.unit, self.language),
            "problems": [problem(p, self.language) for p in channel.validate(text, article)],
        }
        if article is not None:
            # Safe HTML: channels escape what they put in a preview (tests/test_previews.py).
            answer["preview"] = channel.preview(text, article)
        return JSONResponse(answer)

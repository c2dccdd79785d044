"""The HTTP side of publisher, one ASGI app (`publisher serve`, or inside `publisher run`): each
front mounted with the engine and the settings (the CMS webhook, the widget, the redirect links,
WhatsApp's webhook, the desk), the door and the middleware around them, `/healthz`, and the
JSON refusals every script-facing front shares."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool

from publisher.articles import ArticleError
from publisher.config import Settings
from publisher.engine.posts.queue import UnknownArticle
from publisher.engine.storage.store import answers, database_away
from publisher.web.article_hook import mount_article_hook
from publisher.web.bodies import BodyLimits, Refused, TextOnly
from publisher.web.desk import message_page, mount_desk
from publisher.web.door import NewsroomDoor
from publisher.web.paths import speaks_json
from publisher.web.proxies import Forwarded, SecureCookies
from publisher.web.redirect import mount_redirect
from publisher.web.whatsapp_hook import mount_whatsapp
from publisher.web.widget_pages import mount_widget

logger = logging.getLogger(__name__)
NOT_CACHED = {"Cache-Control": "no-store"}
# While the database is away: when to ask again.
AWAY = NOT_CACHED | {"Retry-After": "5"}


def create_app(
    engine: Engine, settings: Settings, on_queued: Callable[[], None] | None = None
) -> FastAPI:
    """The ASGI app; `on_queued` wakes a dispatcher in the same process."""

    # No redirect to a path with or without its trailing slash: it would be made absolute with
    # whatever Host the request named.
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        redirects.start()
        try:
            yield
        finally:
            # Clicks counted since the last writing are written before the server goes.
            await run_in_threadpool(redirects.stop)

    app = FastAPI(
        title="publisher",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
        lifespan=lifespan,
    )
    redirects = mount_redirect(app, engine, settings)
    app.state.clicks, app.state.link_targets = redirects.clicks, redirects.targets
    serve = settings.serve

    @app.exception_handler(ArticleError)
    async def _invalid(request: Request, exc: ArticleError) -> JSONResponse:
        logger.warning("request to %s refused (400): %s", request.url.path, exc)
        return JSONResponse({"error": str(exc)}, status_code=400)

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> JSONResponse:
        logger.warning("request to %s refused (%d): %s", request.url.path, exc.status, exc.message)
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(DBAPIError)
    async def _database_away(request: Request, exc: DBAPIError) -> Response:
        # A database restarting or out of reach is a moment to wait, not a server error: the
        # CMS and scripts retry a 503, an editor reads a page that says so (no traceback).
        if not database_away(exc):
            raise exc
        logger.warning(
            "%s %s answered 503: the database does not answer (%s)",
            request.method,
            request.url.path,
            type(exc.orig).__name__,
        )
        if speaks_json(request.url.path):
            return JSONResponse(
                {"error": "the database does not answer: try again in a moment"},
                status_code=503,
                headers=AWAY,
            )
        page = message_page(settings, "database_away", 503)
        page.headers.update(AWAY)
        return page

    mount_widget(app, engine, settings)

    @app.exception_handler(UnknownArticle)
    async def _unknown(request: Request, exc: UnknownArticle) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=404, headers=NOT_CACHED)

    # Inside the desk's sessions (added by mount_desk, after it): the door asks whether a
    # request's session is open before it reads the request's body.
    app.add_middleware(BodyLimits, door=NewsroomDoor(settings))
    mount_desk(app, engine, settings)

    @app.get("/healthz")
    async def healthz() -> Response:
        """For a load balancer or a monitor: 200 while the database answers, else 503."""

        if await run_in_threadpool(answers, engine):
            return JSONResponse({"ok": True}, headers=NOT_CACHED)
        logger.warning("health check: the database does not answer")
        return JSONResponse(
            {"ok": False, "error": "the database does not answer"},
            status_code=503,
            headers=NOT_CACHED,
        )

    mount_article_hook(app, engine, settings, on_queued)
    mount_whatsapp(app, engine, settings)

    if settings.desk.secure_cookies == "auto":
        app.add_middleware(SecureCookies)
    app.add_middleware(Forwarded, trusted=serve.trusted_proxies)
    app.add_middleware(TextOnly)
    return app

"""The HTTP side of publisher, one ASGI app (`publisher serve`, or inside `publisher run`):
`POST /hooks/articles`, the CMS webhook, signed as the README specifies (every refusal is a JSON
body `{"error": ...}` with 400, 401, 413 or 503, and nothing is queued); `/widget/{id}` and
`/widget/{id}/meta`, a stored article's share bar and link-preview tags, with caching headers."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from publisher.articles import ArticleError, article_from_mapping
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.posts.queue import UnknownArticle
from publisher.engine.releases.release import public_article, release
from publisher.engine.storage.store import StoreError
from publisher.web.bodies import BodyLimits, Refused, TextOnly, json_body, read_limited
from publisher.web.desk import mount_desk
from publisher.web.door import NewsroomDoor
from publisher.web.proxies import Forwarded, SecureCookies
from publisher.web.redirect import mount_redirect
from publisher.web.signing import (
    PREVIOUS_SECRET_ENV,
    SECRET_ENV,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Replayed,
    SignatureError,
    spend,
    verify,
)
from publisher.web.whatsapp_hook import mount_whatsapp
from publisher.web.widget import render_meta, render_widget

logger = logging.getLogger(__name__)
NOT_CACHED = {"Cache-Control": "no-store"}


def create_app(
    engine: Engine, settings: Settings, on_queued: Callable[[], None] | None = None
) -> FastAPI:
    """The ASGI app; `on_queued` wakes a dispatcher in the same process."""

    # No redirect to a path with or without its trailing slash: it would be made absolute with
    # whatever Host the request named.
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        clicks.start()
        try:
            yield
        finally:
            # Clicks counted since the last writing are written before the server goes.
            await run_in_threadpool(clicks.stop)

    app = FastAPI(
        title="publisher",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
        lifespan=lifespan,
    )
    clicks = mount_redirect(app, engine, settings)
    app.state.clicks = clicks
    serve = settings.serve

    @app.exception_handler(ArticleError)
    async def _invalid(request: Request, exc: ArticleError) -> JSONResponse:
        logger.warning("request to %s refused (400): %s", request.url.path, exc)
        return JSONResponse({"error": str(exc)}, status_code=400)

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> JSONResponse:
        logger.warning("request to %s refused (%d): %s", request.url.path, exc.status, exc.message)
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    # Registered before /widget/{article_id}, which would take "meta" for an id.
    @app.get("/widget/{article_id}/meta", response_class=HTMLResponse)
    @app.get("/widget/meta", response_class=HTMLResponse)
    async def widget_meta(request: Request, article_id: str = "", url: str = "") -> Response:
        """A published article's Open Graph and Twitter card tags, cacheable."""
        article = await run_in_threadpool(public_article, engine, article_id or url)
        return _cached(request, render_meta(article, settings), settings)

    @app.get("/widget/{article_id}", response_class=HTMLResponse)
    @app.get("/widget", response_class=HTMLResponse)
    async def widget(request: Request, article_id: str = "", url: str = "") -> Response:
        """A published article's share bar and follow box, by its CMS id (or `?url=` for an
        article without one), cacheable."""
        article = await run_in_threadpool(public_article, engine, article_id or url)
        return _cached(request, render_widget(article, settings), settings)

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

        def database_answers() -> bool:
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
            except SQLAlchemyError:
                return False
            return True

        if await run_in_threadpool(database_answers):
            return JSONResponse({"ok": True}, headers=NOT_CACHED)
        logger.warning("health check: the database does not answer")
        return JSONResponse(
            {"ok": False, "error": "the database does not answer"},
            status_code=503,
            headers=NOT_CACHED,
        )

    @app.post("/hooks/articles", status_code=202)
    async def article_hook(request: Request) -> dict[str, Any]:
        """Release an article: Article JSON, signed; answers what was queued or updated."""
        secret = os.environ.get(SECRET_ENV, "")
        if not secret:
            raise Refused(503, f"the webhook is off: {SECRET_ENV} is not set on the server")
        body = await read_limited(request, serve.max_body)
        signature = request.headers.get(SIGNATURE_HEADER)
        try:
            verify(
                [secret, os.environ.get(PREVIOUS_SECRET_ENV, "")],
                request.headers.get(TIMESTAMP_HEADER),
                signature,
                body,
                window=serve.replay_window,
            )
        except SignatureError as exc:
            raise Refused(401, str(exc)) from None
        # Parsed in a thread: no parse of what a client sent runs on the event loop.
        article = await run_in_threadpool(lambda: article_from_mapping(json_body(body)))

        def spend_signature(connection: Connection) -> None:
            spend(connection, str(signature), serve.replay_window, utcnow())

        try:
            result = await run_in_threadpool(
                lambda: release(
                    engine,
                    settings,
                    article,
                    "webhook",
                    on_queued=on_queued,
                    before=spend_signature,
                )
            )
        except Replayed as exc:
            raise Refused(401, str(exc)) from None
        except StoreError as exc:
            raise Refused(503, str(exc)) from None
        return {"article": article.to_json(), **result.to_json()}

    mount_whatsapp(app, engine, settings)

    if settings.desk.secure_cookies == "auto":
        app.add_middleware(SecureCookies)
    app.add_middleware(Forwarded, trusted=serve.trusted_proxies)
    app.add_middleware(TextOnly)
    return app


def _cached(request: Request, html: str, settings: Settings) -> Response:
    """The HTML with caching headers; a matching If-None-Match gets 304."""
    etag = '"' + hashlib.sha256(html.encode()).hexdigest()[:32] + '"'
    headers = {
        "Cache-Control": f"public, max-age={settings.widget.cache_seconds}",
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return HTMLResponse(html, headers=headers)

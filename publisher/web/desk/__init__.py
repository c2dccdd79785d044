"""The web desk at `/`: editors take in articles, see and edit each channel's teaser as its
platform shows it, queue, approve, plan the week and look back at deliveries. Server-rendered
Jinja2 pages with a little plain JavaScript; every asset ships in the package (no CDN, no build).
Lengths and validation come from the channel modules through `/api/measure`."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from publisher.actions import ApproversOnly
from publisher.catalogue import number, translator
from publisher.channels import channel_classes
from publisher.config import Settings
from publisher.web.bodies import API_BODY
from publisher.web.desk.auth import Forbidden, SignedOut
from publisher.web.desk.pages import DeskPages
from publisher.web.desk.signin import signin_address
from publisher.web.paths import speaks_json

logger = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent.parent / "static"
# The desk loads nothing from elsewhere and may not be framed (clickjacking an approve button).
DESK_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
STATIC_CACHE = "public, max-age=300"


# The most a form may send: the sign-in's three short fields, an uploaded article (within
# [fetch] max_bytes, plus the form around it), and every other form (an article's texts for
# every channel, a page of ticked posts).
SIGNIN_BODY = 4_096
UPLOAD_SLACK = 65_536
FORM_BODY = 1_000_000


def body_limit(settings: Settings, path: str) -> int:
    """How many bytes a request to one of the desk's paths may send."""
    if path == "/signin":
        return SIGNIN_BODY
    if path == "/intake":
        return settings.fetch.max_bytes + UPLOAD_SLACK
    if path.startswith("/api/"):
        return API_BODY
    return FORM_BODY


def message_page(settings: Settings, key: str, status: int, **values: str) -> Response:
    """A page saying one thing (message `key` of the catalogue), for an answer the app gives
    before it reads the request."""
    language = settings.desk.language or settings.language
    t = translator(language, "desk")
    page = (
        f'<!doctype html><html lang="{language}"><meta charset="utf-8"><title>publisher</title>'
        '<link rel="stylesheet" href="/static/desk.css"><main id="main">'
        f'<p class="message" role="alert">{t(key, **values)}</p>'
        f'<p><a href="/">{t("nav_desk")}</a></p></main></html>'
    )
    return HTMLResponse(page, status_code=status, headers=DESK_HEADERS)


def too_large(settings: Settings, limit: int) -> Response:
    """The page a browser gets for a form larger than the desk takes."""
    language = settings.desk.language or settings.language
    return message_page(settings, "body_too_large", 413, limit=number(limit, language))


def _cached(files: ASGIApp) -> ASGIApp:
    """Static files answered with a short public cache lifetime."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_cached(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Cache-Control"] = STATIC_CACHE
            await send(message)

        await files(scope, receive, send_cached)

    return app


class DeskHeaders:
    """ASGI middleware: every answer but the widget's carries the desk's headers, and is kept by
    no browser or proxy cache unless it says otherwise (the widget is made to be embedded in
    article pages). Plain ASGI: Starlette's `@app.middleware("http")` cost every request, the
    CMS webhook's and the redirects' included, a fifth of a millisecond."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/widget"):
            await self.app(scope, receive, send)
            return

        async def send_protected(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in DESK_HEADERS.items():
                    headers[name] = value
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_protected)


def mount_desk(app: FastAPI, engine: Engine, settings: Settings) -> None:
    """Add the desk's pages, assets, sessions and error pages to the ASGI app."""
    desk_settings = settings.desk
    secret = os.environ.get(desk_settings.session_secret_env, "")
    if not secret:
        logger.warning(
            "%s is not set: sessions end when the server restarts", desk_settings.session_secret_env
        )
        secret = secrets.token_urlsafe(32)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="publisher_session",
        max_age=int(desk_settings.session_hours * 3600),
        same_site="lax",
        https_only=desk_settings.secure_cookies is True,
    )
    # The desk's own scripts and styles: compressed, kept by the browser a few minutes and
    # then checked by their ETag (an upgrade reaches every editor within minutes).
    app.mount("/static", GZipMiddleware(_cached(StaticFiles(directory=STATIC))), name="static")
    # Each platform's preview frame is styled by its channel module; the desk serves them as one
    # stylesheet because its CSP allows no inline styles.
    channel_styles = "\n".join(cls.preview_css for cls in channel_classes() if cls.preview_css)

    @app.get("/channels.css", include_in_schema=False)
    async def _channel_styles() -> Response:
        return Response(
            channel_styles, media_type="text/css", headers={"Cache-Control": "max-age=300"}
        )

    app.add_middleware(DeskHeaders)

    # What the desk's dependencies (`auth.signed_in`) look users up with.
    app.state.engine = engine
    app.state.settings = settings
    desk = DeskPages(engine, settings)
    for router in desk.routers:
        app.include_router(router)

    @app.exception_handler(SignedOut)
    async def _signed_out(request: Request, exc: SignedOut) -> Response:
        if speaks_json(request.url.path):
            return JSONResponse({"error": "sign in first"}, status_code=401)
        return RedirectResponse(signin_address(request), status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # An address the desk has no page for, or a method it takes no form by: a page in the
        # editor's words (scripts and hooks get JSON).
        if speaks_json(request.url.path):
            return JSONResponse({"error": str(exc.detail)}, exc.status_code, exc.headers)
        # Starlette's own words ("Too many fields…") are no editor's: the desk says its own.
        words = {404: "no_such_page", 405: "no_such_page", 400: "form_not_read"}
        key = words.get(exc.status_code)
        message = desk.t(key) if key else str(exc.detail)
        return desk.render(request, "message.html.j2", {"message": message}, exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, exc: RequestValidationError) -> Response:
        # An address or a field no page of the desk has (a post number past any row): a page
        # saying so, or for scripts and hooks a JSON refusal.
        if speaks_json(request.url.path):
            return JSONResponse({"error": "the request is malformed"}, status_code=400)
        return desk.render(request, "message.html.j2", {"message": desk.t("no_such_page")}, 404)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return forbidden(request, exc.message_key)

    @app.exception_handler(ApproversOnly)
    async def _approvers_only(request: Request, exc: ApproversOnly) -> Response:
        return forbidden(request, "error_approvers_only")

    def forbidden(request: Request, key: str) -> Response:
        if speaks_json(request.url.path):
            return JSONResponse({"error": desk.t(key)}, status_code=403)
        return desk.render(request, "message.html.j2", {"message": desk.t(key)}, 403)

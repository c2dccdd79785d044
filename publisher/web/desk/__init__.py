"""The web desk at `/`: editors take in articles, see and edit each channel's teaser as its
platform shows it, queue, approve, plan the week and look back at deliveries. Server-rendered
Jinja2 pages with a little plain JavaScript; every asset ships in the package (no CDN, no build).
Lengths and validation come from the channel modules through `/api/measure`."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.middleware.sessions import SessionMiddleware

from publisher.channels import channel_classes
from publisher.config import Settings
from publisher.web.desk.auth import Forbidden, SignedOut
from publisher.web.desk.pages import Desk

logger = logging.getLogger("publisher.web.desk")
STATIC = Path(__file__).resolve().parent.parent / "static"
# The desk loads nothing from elsewhere and may not be framed (clickjacking an approve button).
DESK_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


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
        https_only=desk_settings.secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Each platform's preview frame is styled by its channel module; the desk serves them as one
    # stylesheet because its CSP allows no inline styles.
    channel_styles = "\n".join(cls.preview_css for cls in channel_classes() if cls.preview_css)

    @app.get("/channels.css", include_in_schema=False)
    async def _channel_styles() -> Response:
        return Response(
            channel_styles, media_type="text/css", headers={"Cache-Control": "max-age=300"}
        )

    @app.middleware("http")
    async def _protect(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        # The widget is made to be embedded in article pages; everything else is the desk's.
        if not request.url.path.startswith("/widget"):
            response.headers.update(DESK_HEADERS)
        return response

    desk = Desk(engine, settings)
    app.include_router(desk.router)

    @app.exception_handler(SignedOut)
    async def _signed_out(request: Request, exc: SignedOut) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "sign in first"}, status_code=401)
        return RedirectResponse("/signin", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": desk.t(exc.message_key)}, status_code=403)
        return desk.render(request, "message.html.j2", {"message": desk.t(exc.message_key)}, 403)

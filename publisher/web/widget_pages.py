"""`/widget/{id}` and `/widget/{id}/meta` (or `?url=` for an article without a CMS id): a
published article's share bar and follow box, and its link-preview tags, served with caching
headers (an ETag; a matching If-None-Match gets 304)."""

from __future__ import annotations

import hashlib

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from publisher.config import Settings
from publisher.engine.releases.release import public_article
from publisher.web.widget import render_meta, render_widget


def mount_widget(app: FastAPI, engine: Engine, settings: Settings) -> None:
    """Add the widget's routes to the app."""

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

"""`POST /hooks/articles`, the CMS webhook, signed as the README specifies: Article JSON in,
what was queued or updated out (202); every refusal a JSON body `{"error": ...}` with 400, 401,
413 or 503, and nothing queued. The signature is spent in the release's own transaction."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool

from publisher.articles import article_from_mapping
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.releases.release import release
from publisher.engine.storage.store import StoreError
from publisher.web.bodies import Refused, json_body, read_limited
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

logger = logging.getLogger(__name__)


def mount_article_hook(
    app: FastAPI, engine: Engine, settings: Settings, on_queued: Callable[[], None] | None
) -> None:
    """Add the CMS webhook to the app; `on_queued` wakes a dispatcher in the same process."""
    serve = settings.serve
    if not os.environ.get(SECRET_ENV):
        # Said at start, not only to the CMS once it calls.
        logger.warning("%s is not set: the CMS webhook answers 503 until it is", SECRET_ENV)

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

"""`/hooks/whatsapp`, the webhook to register in Meta's app settings (WhatsApp > Configuration):
`GET` answers Meta's verification (`hub.mode=subscribe`, `hub.verify_token` equal to
WHATSAPP_VERIFY_TOKEN: the `hub.challenge` back, else 403); `POST` takes Meta's events signed
with the app secret (`X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with
WHATSAPP_APP_SECRET>`, checked in constant time: 401 and nothing stored when wrong). Readers'
keywords subscribe and unsubscribe them before the answer; confirmations go out after it."""

from __future__ import annotations

import logging
import os

from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from publisher import roster
from publisher.channels.base import ChannelError, Outgoing
from publisher.channels.whatsapp_events import (
    SIGNATURE_HEADER,
    challenge,
    read_events,
    signed_by,
)
from publisher.config import Settings
from publisher.engine.audiences.inbox import Reply, take_message, take_status
from publisher.web.bodies import Refused, json_body, read_limited

VERIFY_TOKEN_ENV = "WHATSAPP_VERIFY_TOKEN"
APP_SECRET_ENV = "WHATSAPP_APP_SECRET"
logger = logging.getLogger(__name__)


def mount_whatsapp(app: FastAPI, engine: Engine, settings: Settings) -> None:
    """Add the WhatsApp webhook's two routes to the app."""

    def send(reply: Reply) -> None:
        try:
            roster.sender(settings, reply.channel).send(
                Outgoing(0, reply.text, "", recipient=reply.phone)
            )
        except ChannelError as exc:
            logger.warning("%s: the confirmation could not be sent: %s", reply.channel, exc)

    @app.get("/hooks/whatsapp", response_class=PlainTextResponse)
    async def verify(request: Request) -> Response:
        answer = challenge(request.query_params, os.environ.get(VERIFY_TOKEN_ENV, ""))
        if answer is None:
            raise Refused(403, "the verify token does not match")
        return PlainTextResponse(answer)

    @app.post("/hooks/whatsapp")
    async def events(request: Request, background: BackgroundTasks) -> dict[str, int]:
        secret = os.environ.get(APP_SECRET_ENV, "")
        if not secret:
            raise Refused(503, f"the WhatsApp webhook is off: {APP_SECRET_ENV} is not set")
        body = await read_limited(request, settings.serve.max_body)
        if not signed_by(secret, body, request.headers.get(SIGNATURE_HEADER)):
            raise Refused(401, f"{SIGNATURE_HEADER} is not the app's signature of this body")
        # Parsed in a thread: no parse of what a client sent runs on the event loop.
        messages, statuses = await run_in_threadpool(lambda: read_events(json_body(body)))

        def take() -> list[Reply]:
            replies = [take_message(engine, settings, message) for message in messages]
            for status in statuses:
                take_status(engine, settings, status)
            return [reply for reply in replies if reply is not None]

        for reply in await run_in_threadpool(take):
            background.add_task(send, reply)
        return {"messages": len(messages), "statuses": len(statuses)}

"""Reading a request's body: within a size limit (for every route, at the door, by
`BodyLimits`), as JSON that holds only text, the desk's JSON calls as pydantic models, and the
refusal (status and message) that the app answers as `{"error": ...}`."""

from __future__ import annotations

import asyncio
import json
from typing import Protocol

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.datastructures import FormData, Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from publisher.articles import is_text, not_text_at, whole_number

# The desk's own JSON calls (a text to measure, a post to move) are small.
API_BODY = 64_000


class Refused(Exception):
    """A request refused with `status` and a message for whoever sent it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_body(body: bytes) -> object:
    """The decoded JSON of a request body; anything else (broken syntax, nesting too deep for
    the parser, numbers of thousands of digits, escapes of lone surrogates that no text can
    hold) is a 400 refusal."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refused(400, f"the body is not JSON: {exc}") from None
    except RecursionError:
        raise Refused(400, "the body is not JSON this server reads: nested too deeply") from None
    where = not_text_at(data)
    if where:
        raise Refused(400, f"{where}: holds a character that is not text (a lone surrogate)")
    return data


class ApiBody(BaseModel):
    """The body of one of the desk's JSON calls: fields it does not know are ignored, and no
    string may hold a character that is not text (a lone surrogate, which only JSON's escapes
    make). A body that does not fit is a 400 with `{"error": ...}`."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _only_text(cls, data: object) -> object:
        where = not_text_at(data)
        if where:
            raise ValueError(f"{where}: holds a character that is not text")
        return data


class Measure(ApiBody):
    """A text to count by a channel's rules (`/api/measure`), for one of the article's cards."""

    channel: str = ""
    text: str = ""
    article_id: int | str | None = None


class DraftFields(ApiBody):
    """An article page's fields as the editor left them (`/api/articles/{id}/draft`)."""

    fields: dict[str, str] = Field(default_factory=dict, max_length=200)


class Move(ApiBody):
    """A post dropped on another time in the calendar (`/api/posts/{id}/move`)."""

    at: str = ""


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (whole_number(declared) or 0) > limit:
        raise Refused(413, f"the body is larger than {limit:,} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Refused(413, f"the body is larger than {limit:,} bytes")
    return bytes(body)


class Door(Protocol):
    """What a request to a path may send, decided before its body is read."""

    def limit(self, path: str) -> int:
        """The bytes a request to `path` may send."""

    def refuse(self, path: str, limit: int) -> Response:
        """The answer to a request that sends more than `limit`."""

    async def vouch(self, scope: Scope) -> Response | None:
        """None when someone the app knows vouches for the request (a signed-in editor's
        session, a signature's headers), else the answer it gets unread."""

    def slow(self, path: str) -> Response:
        """The answer to a body that pauses or trickles."""


# What a request that nobody vouches for may send (a sign-in, a signed-out page's form); a larger
# body is answered unread, so a stranger cannot make the server hold megabytes.
UNVOUCHED_BODY = 64_000
# A body must keep coming: no pause longer than BODY_PAUSE seconds, and all of it within
# BODY_GRACE seconds and one more for every BODY_RATE bytes it may have.
BODY_PAUSE = 10.0
BODY_GRACE = 10.0
BODY_RATE = 32_000
# An answer given before the body was read ends the connection: what is still on its way is
# not read.
CLOSE = {"Connection": "close"}


class BodyLimits:
    """ASGI middleware: a request's body is read, up to the limit its path allows, before the
    app sees it; a larger one is answered 413 unread (no form parsed, no file spooled to disk),
    whatever its Content-Length says. A request allowed more than `UNVOUCHED_BODY` must first
    be vouched for, and a body that pauses or trickles is answered 408, as the `Door` says."""

    def __init__(self, app: ASGIApp, door: Door) -> None:
        self.app = app
        self.door = door

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        door, path = self.door, scope["path"]
        limit = door.limit(path)
        declared = whole_number(Headers(scope=scope).get("content-length", "")) or 0
        unvouched = await door.vouch(scope) if limit > UNVOUCHED_BODY else None
        if unvouched is not None:
            limit = UNVOUCHED_BODY
        answer = _closing(unvouched or door.refuse(path, limit)) if declared > limit else None
        if answer is None:
            body = await _read(receive, limit, declared)
            if body is None:
                return
            if isinstance(body, _Slow):
                answer = _closing(door.slow(path))
            elif len(body) > limit:
                answer = _closing(unvouched or door.refuse(path, limit))
            else:
                await self.app(scope, _replay(body, receive), send)
                return
        await answer(scope, receive, send)


class _Slow:
    """A body that paused too long or came too slowly."""


async def _read(receive: Receive, limit: int, declared: int) -> bytes | _Slow | None:
    """The body, up to one byte more than `limit`; `_Slow` when it does not keep coming, None
    when the client went away."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BODY_GRACE + (declared or limit) / BODY_RATE
    body = bytearray()
    while True:
        wait = min(BODY_PAUSE, deadline - loop.time())
        try:
            async with asyncio.timeout(max(wait, 0)):
                message = await receive()
        except TimeoutError:
            return _Slow()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if len(body) > limit or not message.get("more_body", False):
            return bytes(body)


def _closing(answer: Response) -> Response:
    answer.headers.update(CLOSE)
    return answer


class TextOnly:
    """ASGI middleware: an address whose path or query holds a NUL character (`%00`), which no
    page, link or article address has and PostgreSQL cannot store or compare, is refused with
    400 before any route sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"]
            or b"%00" in scope["query_string"]
            or b"\x00" in scope["query_string"]
        ):
            answer = Response(
                json.dumps({"error": "the address holds a NUL character"}),
                status_code=400,
                media_type="application/json",
            )
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)


def text_fields(form: FormData) -> FormData:
    """A form whose every field is text: one holding a NUL character or bytes that are no
    UTF-8 (a lone surrogate) is refused (400), as nothing an editor types holds either."""
    for value in form.values():
        if isinstance(value, str) and ("\x00" in value or not is_text(value)):
            raise Refused(400, "a form field holds a NUL character or no text")
    return form


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the app the body read already, then whatever comes after it."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed

"""Reading a request's body: within a size limit (for every route, at the door, by
`BodyLimits`), as JSON that holds only text, the desk's JSON calls as pydantic models, and the
refusal (status and message) that the app answers as `{"error": ...}`."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, model_validator
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


Limit = Callable[[str], int]
Refusal = Callable[[str, int], Response]


class BodyLimits:
    """ASGI middleware: a request's body is read, up to the limit its path allows, before the
    app sees it; a larger one is answered 413 unread (no form parsed, no file spooled to disk),
    whatever its Content-Length says. `limit(path)` gives the bytes a path takes, `refuse(path,
    limit)` the answer to one that sends more."""

    def __init__(self, app: ASGIApp, limit: Limit, refuse: Refusal) -> None:
        self.app = app
        self.limit = limit
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = self.limit(path)
        declared = Headers(scope=scope).get("content-length", "")
        if (whole_number(declared) or 0) > limit:
            await self.refuse(path, limit)(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await self.refuse(path, limit)(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(bytes(body), receive), send)


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

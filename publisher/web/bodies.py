"""Reading a webhook's request: its body within a size limit, as JSON, and the refusal
(status and message) that the app answers as `{"error": ...}`."""

from __future__ import annotations

import json

from fastapi import Request


class Refused(Exception):
    """A request refused with `status` and a message for whoever sent it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_body(body: bytes) -> object:
    """The decoded JSON of a request body; anything else (broken syntax, nesting too deep for
    the parser, numbers of thousands of digits) is a 400 refusal."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refused(400, f"the body is not JSON: {exc}") from None
    except RecursionError:
        raise Refused(400, "the body is not JSON this server reads: nested too deeply") from None


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"the body is larger than {limit:,} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Refused(413, f"the body is larger than {limit:,} bytes")
    return bytes(body)

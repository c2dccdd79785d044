"""Telegram's error answers read as the engine needs them, from python-telegram-bot's errors (and,
for a server's failure, the HTTP status the library leaves out): which is a rate limit, which
says the bot may not post, which is worth another try, and which may have posted."""

from __future__ import annotations

import warnings
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from publisher.channels.base import ChannelError
from publisher.channels.http import by_status
from publisher.channels.secrets import redact

if TYPE_CHECKING:
    from telegram.error import TelegramError
    from telegram.request import HTTPXRequest

_PHOTO_PROBLEMS = ("wrong file identifier", "failed to get http url content", "wrong type of")


def status_request() -> type[HTTPXRequest]:
    """python-telegram-bot's HTTP client, keeping the status of a server's failure (408, 5xx),
    which the library's own errors leave out: a gateway's lost answer may have posted."""
    from telegram.error import NetworkError
    from telegram.request import HTTPXRequest

    class ServerFailed(NetworkError):
        def __init__(self, status: int) -> None:
            super().__init__(f"HTTP {status} from Telegram")
            self.status = status

    class StatusRequest(HTTPXRequest):
        async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
            status, payload = await super().do_request(*args, **kwargs)
            if status == 408 or status >= 500:
                raise ServerFailed(status)
            return status, payload

    return StatusRequest


def classify(name: str, exc: TelegramError) -> ChannelError:
    """The engine's reading of a python-telegram-bot error (messages never hold the token)."""
    import httpx
    from telegram.error import (
        BadRequest,
        ChatMigrated,
        Forbidden,
        InvalidToken,
        NetworkError,
        RetryAfter,
        TimedOut,
    )

    text = redact(str(exc.message))
    if isinstance(exc, RetryAfter):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return ChannelError("rate_limited", f"{name}: {text}", retry_after=seconds, code="429")
    if isinstance(exc, InvalidToken):
        return ChannelError("auth", f"{name}: the bot token was refused", code="401")
    if isinstance(exc, Forbidden):
        return ChannelError(
            "auth", f"{name}: the bot may not post there: {text}", code="403", fix="permissions"
        )
    if isinstance(exc, ChatMigrated):
        return ChannelError(
            "permanent",
            f"{name}: the group became a supergroup; set chat_id = {exc.new_chat_id}",
            code="400",
        )
    if isinstance(exc, BadRequest):
        lowered = text.lower()
        if "chat not found" in lowered:
            return ChannelError(
                "auth", f"{name}: {text}; check chat_id", code="400", fix="settings"
            )
        if any(problem in lowered for problem in _PHOTO_PROBLEMS):
            return ChannelError("permanent", f"{name}: {text}", code="photo")
        return ChannelError("permanent", f"{name}: {text}", code="400")
    cause = exc.__cause__
    if isinstance(exc, TimedOut):
        if isinstance(cause, httpx.ConnectTimeout | httpx.PoolTimeout):
            return ChannelError("transient", f"{name}: connection timed out", never_sent=True)
        return ChannelError("uncertain", f"{name}: no answer in time after sending")
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        return by_status(status, f"{name}: {text}")
    if isinstance(exc, NetworkError):
        if isinstance(cause, httpx.ConnectError):
            return ChannelError("transient", f"{name}: cannot connect", never_sent=True)
        if isinstance(cause, httpx.HTTPError):
            return ChannelError("uncertain", f"{name}: connection lost while sending")
        return ChannelError("transient", f"{name}: {text}")
    return ChannelError("permanent", f"{name}: {text}")

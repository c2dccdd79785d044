"""X's error answers read as the engine needs them: which refusal is a rate limit (and until when),
which says the credentials cannot post, which is worth another try.

Sources: docs.x.com/x-api/fundamentals/rate-limits (the 15-minute window's `x-rate-limit-*`
headers, the 24-hour caps' `x-user-limit-24hour-*` and `x-app-limit-24hour-*`) and
docs.x.com/x-api/fundamentals/response-codes-and-errors (problem types).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from publisher.channels.base import ChannelError
from publisher.channels.http import by_status
from publisher.channels.secrets import redact

if TYPE_CHECKING:
    import requests
    import tweepy

# X's posting window is 15 minutes; its 24-hour caps have headers of their own.
DEFAULT_RATE_WAIT = 900.0
RESET_HEADERS = (
    ("x-rate-limit-remaining", "x-rate-limit-reset"),
    ("x-user-limit-24hour-remaining", "x-user-limit-24hour-reset"),
    ("x-app-limit-24hour-remaining", "x-app-limit-24hour-reset"),
)
# Problem types saying the credentials cannot post at all, whatever the text.
AUTH_PROBLEMS = ("oauth1-permissions", "unsupported-authentication", "client-forbidden")


def http_exception(response: requests.Response) -> tweepy.HTTPException:
    """tweepy's own exception for an answer tweepy did not fetch itself."""
    import tweepy

    kinds: dict[int, type[tweepy.HTTPException]] = {
        400: tweepy.BadRequest,
        401: tweepy.Unauthorized,
        403: tweepy.Forbidden,
        404: tweepy.NotFound,
        429: tweepy.TooManyRequests,
    }
    kind = kinds.get(response.status_code)
    if kind is None:
        kind = tweepy.TwitterServerError if response.status_code >= 500 else tweepy.HTTPException
    return kind(response)


def rate_wait(headers: Any, now: float | None = None) -> float:
    """Seconds until X lets the account post again: the latest reset among the exhausted limits
    (the 15-minute window and the 24-hour user and app caps), else the window's reset."""
    now = time.time() if now is None else now
    resets = []
    for remaining, reset in RESET_HEADERS:
        if headers.get(reset) and headers.get(remaining) in ("0", None):
            try:
                resets.append(float(headers[reset]))
            except ValueError:
                continue
    if not resets:
        return DEFAULT_RATE_WAIT
    return max(0.0, max(resets) - now)


def classify(name: str, exc: tweepy.HTTPException) -> ChannelError:
    """The engine's reading of an X API error answer."""
    response = exc.response
    status = response.status_code
    detail = "; ".join(str(m) for m in exc.api_messages) or f"HTTP {status}"
    message = redact(f"{name}: {detail}")
    try:
        problem = str(response.json().get("type", ""))
    except ValueError:
        problem = ""
    if any(problem.endswith(p) for p in AUTH_PROBLEMS):
        return ChannelError("auth", message, code=str(status), fix="permissions")
    if status == 403:
        # X's 403 is mostly about the post (a duplicate, a reply not allowed): refused for good.
        return ChannelError("permanent", message, code="403")
    return by_status(status, message, wait=rate_wait(response.headers))

"""What Facebook Pages and the WhatsApp Cloud API share: Meta's Graph API. Calls with a pinned
API version and a bearer token, errors read from `error.code`/`error_subcode` (most arrive as
HTTP 400, so the status says little), rate-limit waits from the usage headers, and token expiry
from `debug_token`.

https://developers.facebook.com/docs/graph-api/guides/error-handling
https://developers.facebook.com/docs/graph-api/overview/rate-limiting
https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from publisher.channels.base import ChannelError, Finding, TokenOptions
from publisher.channels.http import HttpSession, by_status, network_error_async, retry_after
from publisher.channels.secrets import redact

if TYPE_CHECKING:
    import aiohttp

GRAPH_API_BASE = "https://graph.facebook.com"
GRAPH_API_VERSION = "v26.0"
EXPIRY_WARNING = 7 * 24 * 3600

# Token expired, revoked, or the session invalidated: an editor must connect the channel again.
AUTH_CODES = frozenset({102, 190})
# Missing or withdrawn permissions: every post of the channel would fail the same way, so the
# channel pauses until someone grants them (10, 200-299: "handle the missing permission").
PERMISSION_CODES = frozenset({3, 10, *range(200, 300)})
# App, page, user and business-use-case throttling and WhatsApp's account limits, counted over
# a rolling hour.
RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613, 80001, 80007, 131048})
# WhatsApp's throughput per business number (80 messages a second by default): a second's wait,
# doubled by the engine while it keeps coming.
THROUGHPUT_LIMIT = 130429
THROUGHPUT_WAIT = 1.0
# WhatsApp's pair rate: about one message every 6 seconds to the same person; it holds back
# that recipient only.
PAIR_RATE_LIMIT = 131056
PAIR_RATE_WAIT = 6.0
# Temporary trouble on Meta's side.
TRANSIENT_CODES = frozenset({1, 2, 131000, 131016})
DUPLICATE_POST = 506
# "Temporarily blocked for policy violations": wait before trying again.
POLICY_BLOCK = 368
USAGE_HEADERS = ("X-Business-Use-Case-Usage", "X-Page-Usage", "X-App-Usage", "X-Ad-Account-Usage")
DEFAULT_RATE_WAIT = 3600.0


class GraphOptions(TokenOptions):
    """Keys every Graph API channel takes."""

    api_version: str = GRAPH_API_VERSION


# What the Graph API answers a request for an object it does not have (code 100, subcode 33):
# a post to take down that is gone already.
GONE = "100/33"


class GraphClient:
    """Calls to one Graph API version on behalf of one channel: through a requests session, or
    on an asyncio session for a fan-out."""

    def __init__(self, name: str, api_base: str | None, options: GraphOptions) -> None:
        self.name = name
        base = (api_base or GRAPH_API_BASE).rstrip("/")
        self.root = f"{base}/{options.api_version}"
        self.timeout = options.timeout
        # A WhatsApp fan-out has hundreds of messages in flight at once, each on a connection.
        self.http = HttpSession(name, options.timeout, self.root, connections=500)

    def call(
        self,
        method: str,
        path: str,
        token: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The JSON answer of a successful call; a classified ChannelError otherwise."""
        response = self.http.request(
            method,
            f"{self.root}/{path.lstrip('/')}",
            json=json_body,
            data=data,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
        )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if 200 <= response.status_code < 300 and isinstance(answer, dict):
            return answer
        raise classify(self.name, response.status_code, answer, response.headers)

    async def call_async(
        self,
        session: aiohttp.ClientSession,
        method: str,
        path: str,
        token: str,
        *,
        json_body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """`call` on an asyncio session, for a fan-out with hundreds of messages in flight."""
        import aiohttp

        try:
            async with session.request(
                method,
                f"{self.root}/{path.lstrip('/')}",
                json=json_body,
                headers={"Authorization": f"Bearer {token}"},
                # aiohttp would read the environment and ~/.netrc again at every call.
                proxy=self.http.proxy,
                ssl=self.http.tls,
                timeout=aiohttp.ClientTimeout(sock_connect=self.timeout, sock_read=self.timeout),
            ) as response:
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise network_error_async(self.name, exc) from None
        if 200 <= response.status < 300 and isinstance(answer, dict):
            return answer
        raise classify(self.name, response.status, answer, response.headers)

    def close(self) -> None:
        self.http.close()


def classify(name: str, status: int, answer: Any, headers: Mapping[str, str]) -> ChannelError:
    """The engine's reading of a Graph API error answer."""
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict):
        return _by_status(name, status, headers)
    code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    detail = str(error.get("error_user_msg") or error.get("message") or f"HTTP {status}")
    details = error.get("error_data", {})
    if isinstance(details, dict) and details.get("details"):
        detail = f"{detail}: {details['details']}"
    label = f"code {code}" + (f"/{subcode}" if subcode else "")
    message = redact(f"{name}: {detail} ({label})")
    tag = f"{code}" + (f"/{subcode}" if subcode else "")
    if code in AUTH_CODES or (error.get("type") == "OAuthException" and code is None):
        return ChannelError("auth", message, code=tag)
    if code == THROUGHPUT_LIMIT:
        return ChannelError(
            "rate_limited", message, retry_after=THROUGHPUT_WAIT, code=tag, backoff=True
        )
    if code == PAIR_RATE_LIMIT:
        wait = PAIR_RATE_WAIT + random.uniform(0, 2)
        return ChannelError(
            "rate_limited", message, retry_after=wait, code=tag, recipient_only=True
        )
    if code in RATE_LIMIT_CODES:
        return ChannelError("rate_limited", message, retry_after=usage_wait(headers), code=tag)
    if code == POLICY_BLOCK:
        return ChannelError("rate_limited", message, retry_after=DEFAULT_RATE_WAIT, code=tag)
    if code in PERMISSION_CODES:
        return ChannelError("auth", message, code=tag, fix="permissions")
    if code in TRANSIENT_CODES or error.get("is_transient") is True or status >= 500:
        return ChannelError("transient", message, code=tag)
    return ChannelError("permanent", message, code=tag)


def _by_status(name: str, status: int, headers: Mapping[str, str]) -> ChannelError:
    wait = retry_after(headers.get("Retry-After"), DEFAULT_RATE_WAIT)
    return by_status(status, f"{name}: HTTP {status} without a Graph API error", wait=wait)


def usage_wait(headers: Mapping[str, str]) -> float:
    """Seconds until access returns, from the usage headers: the business-use-case header names
    `estimated_time_to_regain_access` in minutes; the app and page headers only give percentages,
    and their window is a rolling hour."""
    waits: list[float] = []
    for header in USAGE_HEADERS:
        raw = headers.get(header)
        if not raw:
            continue
        try:
            usage = json.loads(raw)
        except ValueError:
            continue
        for entry in _usage_entries(usage):
            minutes = entry.get("estimated_time_to_regain_access")
            if isinstance(minutes, int | float) and minutes > 0:
                waits.append(float(minutes) * 60)
    if waits:
        return max(waits)
    return retry_after(headers.get("Retry-After"), DEFAULT_RATE_WAIT)


def _usage_entries(usage: Any) -> list[dict[str, Any]]:
    if isinstance(usage, dict) and all(isinstance(v, list) for v in usage.values()) and usage:
        return [e for entries in usage.values() for e in entries if isinstance(e, dict)]
    return [usage] if isinstance(usage, dict) else []


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def token_findings(client: GraphClient, token: str) -> list[Finding]:
    """What `debug_token` says of the channel's token: valid, and when it expires."""
    try:
        answer = client.call("GET", "debug_token", token, params={"input_token": token})
    except ChannelError as exc:
        return [Finding("warning", f"could not inspect the token: {exc.message}")]
    data = answer.get("data") or {}
    if not data.get("is_valid", False):
        reason = (data.get("error") or {}).get("message", "the token is not valid")
        return [Finding("error", redact(f"token: {reason}"))]
    expires = _int(data.get("expires_at")) or 0
    if expires == 0:
        return [Finding("ok", "token does not expire")]
    left = expires - time.time()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(expires))
    if left <= 0:
        return [Finding("error", f"token expired on {when}")]
    if left < EXPIRY_WARNING:
        days = left / 86400
        return [Finding("warning", f"token expires in {days:.1f} days, on {when}: renew it")]
    return [Finding("ok", f"token valid until {when}")]


# Codes of an id the Graph API does not know (any more): some aliases do not exist (803, when
# several are asked at once), an object that does not exist (100).
UNKNOWN_OBJECT = frozenset({"803", "100"})


def no_such_object(error: ChannelError) -> bool:
    """Whether a refusal says the object asked for is not there (deleted, or never was)."""
    return error.kind == "permanent" and (error.code or "").split("/")[0] in UNKNOWN_OBJECT


def insight_values(insights: Any) -> dict[str, Any]:
    """An insights answer's `data` as each metric's (lifetime) value by its name."""
    return {
        str(item.get("name")): (item.get("values") or [{}])[0].get("value")
        for item in (insights or {}).get("data") or []
        if isinstance(item, dict)
    }

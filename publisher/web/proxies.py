"""Where a request came from, as the HTTP side believes it: the peer as it connected (kept for
the desk's proxy sign-in), the client and scheme that trusted reverse proxies forward
(`[serve] trusted_proxies`; from anyone else, X-Forwarded-* headers are ignored), and session
cookies marked Secure when the request came over HTTPS."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

PEER = "publisher.peer"


class Forwarded:
    """ASGI middleware: keeps the connecting peer's address in the scope, then lets uvicorn's
    ProxyHeadersMiddleware read X-Forwarded-For and X-Forwarded-Proto from the trusted proxies
    alone (none trusted: the headers change nothing)."""

    def __init__(self, app: ASGIApp, trusted: Sequence[str]) -> None:
        self.app = app
        # uvicorn types its middleware with its own (narrower) ASGI types; the app is the same.
        self.forwarded = (
            ProxyHeadersMiddleware(app, trusted_hosts=list(trusted))  # type: ignore[arg-type]
            if trusted
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            scope[PEER] = client[0] if client else None
        if self.forwarded is None:
            await self.app(scope, receive, send)
        else:
            await self.forwarded(scope, receive, send)  # type: ignore[arg-type]


class SecureCookies:
    """ASGI middleware: cookies set in answer to a request that came over HTTPS are marked
    Secure (`secure_cookies = "auto"`): a desk tried out over plain HTTP signs in, and one
    served over HTTPS never sends its session over HTTP."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                cookies = headers.getlist("set-cookie")
                if cookies:
                    del headers["set-cookie"]
                    for cookie in cookies:
                        secure = "secure" in cookie.lower().replace(" ", "").split(";")
                        headers.append("set-cookie", cookie if secure else f"{cookie}; secure")
            await send(message)

        await self.app(scope, receive, send_secure)

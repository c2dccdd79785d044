"""Serving the app with uvicorn: quietly, believing no forwarded header itself, closing a
connection that has not sent a whole request head within `HEAD_SECONDS` (uvicorn waits for one
for ever: a thousand idle or half-sent connections held the server's sockets and memory), and
ending a connection answered before its body was read as a browser can read the answer; in
`publisher serve`, or in a thread of `publisher run`."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any, cast

import h11
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

# How long a connection may take to send a request's head (line and headers), from when it
# opens or sends the first byte of its next request.
HEAD_SECONDS = 10.0
# How long the rest of a body is read and dropped after an answer given before it (a 303 to the
# sign-in page for a stranger's upload): closed at once with bytes unread, the connection is
# reset, and a browser still sending shows the reset instead of the answer.
LINGER_SECONDS = 5.0


class HeadTimed(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request head is late, and
    lingering over the unread rest of a body answered early."""

    _head_timer: asyncio.TimerHandle | None = None
    lingering = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(cast(asyncio.Transport, _Lingering(transport, self)))
        self._wait_for_head()

    def data_received(self, data: bytes) -> None:
        if self.lingering:
            return
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:
            # The first bytes of a request (uvicorn's keep-alive wait ends with them).
            if self._head_timer is None:
                self._wait_for_head()
        elif self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)

    def _wait_for_head(self) -> None:
        self._head_timer = self.loop.call_later(HEAD_SECONDS, self._head_late)

    def _head_late(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()

    def linger(self, transport: asyncio.Transport) -> None:
        """Answered with the request's body still coming: say no more is sent, read and drop
        the rest, and close after `LINGER_SECONDS` (or when the client closes its side, as
        uvicorn's protocol does at the end of what it sends)."""
        self.lingering = True
        if transport.can_write_eof():
            transport.write_eof()
        transport.resume_reading()
        self.loop.call_later(LINGER_SECONDS, transport.close)


class _Lingering:
    """The connection's transport as uvicorn sees it: closing it while the request's body is
    still coming lingers (`HeadTimed.linger`) instead."""

    def __init__(self, transport: asyncio.Transport, protocol: HeadTimed) -> None:
        self._transport = transport
        self._protocol = protocol

    def close(self) -> None:
        protocol = self._protocol
        if protocol.lingering or protocol.conn.their_state is not h11.SEND_BODY:
            self._transport.close()
        elif not self._transport.is_closing():
            protocol.linger(self._transport)

    def is_closing(self) -> bool:
        return self._protocol.lingering or self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def uvicorn_config(app: FastAPI, **options: Any) -> uvicorn.Config:
    """How uvicorn serves the app: quietly, believing no forwarded header itself (the app's
    `Forwarded` middleware believes the trusted proxies' alone), with `HeadTimed`, and logging
    through publisher's own handler (`publisher.logs`: one format, JSON included) rather than
    handlers of its own."""
    return uvicorn.Config(
        app,
        log_level="warning",
        log_config=None,
        access_log=False,
        proxy_headers=False,
        http=HeadTimed,
        **options,
    )


class ServerThread:
    """Runs the app with uvicorn in a thread of a process that has other work (`publisher run`)."""

    def __init__(
        self, app: FastAPI, host: str, port: int, sock: socket.socket | None = None
    ) -> None:
        """Serve on `host`:`port`, or on `sock` when it is given (bound already, so that a
        taken port is told before anything starts)."""
        config = uvicorn_config(app, host=host, port=port)
        self.server = uvicorn.Server(config)
        sockets = {"sockets": [sock]} if sock is not None else {}
        self.thread = threading.Thread(
            target=self.server.run, kwargs=sockets, name="http", daemon=True
        )

    def start(self, timeout: float = 10.0) -> None:
        """Start serving; returns once the socket listens."""
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the HTTP server did not start (is the port taken?)")
            time.sleep(0.01)

    @property
    def port(self) -> int:
        """The port it listens on (the one the system chose when asked for port 0)."""
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

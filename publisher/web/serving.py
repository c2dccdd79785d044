"""Serving the app with uvicorn: quietly, believing no forwarded header itself, and closing a
connection that has not sent a whole request head within `HEAD_SECONDS` (uvicorn waits for one
for ever: a thousand idle or half-sent connections held the server's sockets and memory); in
`publisher serve`, or in a thread of `publisher run`."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import h11
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

# How long a connection may take to send a request's head (line and headers), from when it
# opens or sends the first byte of its next request.
HEAD_SECONDS = 10.0


class HeadTimed(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request head is late."""

    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._wait_for_head()

    def data_received(self, data: bytes) -> None:
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


def uvicorn_config(app: FastAPI, **options: Any) -> uvicorn.Config:
    """How uvicorn serves the app: quietly, believing no forwarded header itself (the app's
    `Forwarded` middleware believes the trusted proxies' alone), and with `HeadTimed`."""
    return uvicorn.Config(
        app, log_level="warning", access_log=False, proxy_headers=False, http=HeadTimed, **options
    )


class ServerThread:
    """Runs the app with uvicorn in a thread of a process that has other work (`publisher run`)."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        config = uvicorn_config(app, host=host, port=port)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="http", daemon=True)

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

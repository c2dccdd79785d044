"""The stand-ins' common part: a real HTTP server on 127.0.0.1 that records each call and can be
told to answer the next calls with a given error; free ports."""

from __future__ import annotations

import builtins
import contextlib
import itertools
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Answer = tuple[int, dict[str, Any], dict[str, str]]


@dataclass
class Call:
    """One request as the stand-in received it."""

    method: str
    path: str
    # The query's first value of each name; `queried` has every value (`uris=…&uris=…`).
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    queried: dict[str, list[str]] = field(default_factory=dict)
    # When the request arrived (time.monotonic, comparable across processes of one machine).
    received_at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Contract:
    """How one platform's stand-in answers each kind of error at the call that makes a post,
    what a post whose answer was lost comes to, and how a channel of the platform is pointed at
    it: a row of the table that tests/test_platform_delivery.py runs over every platform."""

    # The channel type, the stand-in that speaks for the platform, and a part of the path of
    # the call that makes the post.
    type: str
    stand_in: builtins.type[StandIn]
    path: str
    # The answer for each kind: auth, rate_limited (a wait of minutes at least), transient,
    # permanent; made when asked, so that times in them are fresh.
    answers: Callable[[], dict[str, Answer]]
    # Words of the permanent refusal that the post's error keeps.
    reason: str
    # The channel's keys besides `type` and `api_base`, for a running stand-in.
    options: Callable[[Any], dict[str, Any]] = lambda _: {}
    # The credentials the channel reads from the environment.
    env: dict[str, str] = field(default_factory=dict)
    # Whether a post gets an address of its own on the platform.
    permalink: bool = True
    # Where a refused credential shows, when not at `path`: a platform whose channel signs in
    # again when a post's token has expired is refused for good at signing in.
    auth_path: str | None = None
    # The end of the path of the call that makes the post, when not `path`'s end (a platform
    # that makes a post in two calls publishes it with the second): its answer is lost in the
    # lost-answer case.
    lost_path: str | None = None
    # What a post whose answer was lost comes to once the engine has retried it and looked it
    # up: "sent" (found, or taken again without a second post) or "uncertain" (an editor
    # looks: the platform offers no way to tell).
    after_lost_answer: str = "uncertain"
    # How many posts the platform holds, where a call repeated with the same idempotency key
    # makes none (None: as many as calls that make a post).
    made: Callable[[Any], int] | None = None
    # Readers' doings since a post went out, made on the running stand-in in the platform's own
    # numbers (the stand-in, the post's id there, how many readers): what `publisher demo`
    # then measures. None where a post's numbers are not asked of the platform.
    audience: Callable[[Any, str, int], None] | None = None
    # Whether trying a post again after a lost answer is safe (an idempotency key, a look for
    # the post first): then a gateway's lost answer (502, 504) is retried, not left unclear.
    retry_safe: bool = False
    # What a plain HTTP status means on this platform where it differs from what it means on
    # all (channels/http.py `by_status`): the outcome the post's delivery comes to.
    quirks: dict[int, str] = field(default_factory=dict)
    # The method and a part of the path of the call that takes a post down (None: the
    # platform lets no post be removed).
    remove_call: tuple[str, str] | None = None
    # The method and a part of the path of the call that edits a post (None: the platform lets
    # no post be edited).
    edit_call: tuple[str, str] | None = None

    def path_of(self, kind: str) -> str:
        """The call that answers with `kind`."""
        return self.auth_path if kind == "auth" and self.auth_path else self.path


class StandIn:
    """A platform on 127.0.0.1. Subclasses answer in `respond`; `fail_next` scripts errors."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._failures: deque[tuple[str, str | None, Answer]] = deque()
        # Answers to give late (see `lose_next_answer`): the path's end and the delay.
        self._late: list[tuple[str, float]] = []
        self._lock = threading.Lock()
        # Notified at every request, for benchmarks that wait for arrivals without polling.
        self.arrived = threading.Condition(self._lock)
        self.ids = itertools.count(1001)
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in two writes; with Nagle's algorithm and delayed ACKs the
            # body would wait 40 ms, which no real platform makes a client wait.
            disable_nagle_algorithm = True

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                parts = urlsplit(self.path)
                call = Call(
                    method=self.command,
                    path=parts.path,
                    query={k: v[0] for k, v in parse_qs(parts.query).items()},
                    queried=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                _parse_body(call)
                status, answer, headers = stand_in._answer(call)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fail_next(
        self,
        path_part: str,
        status: int,
        answer: dict[str, Any],
        headers: dict[str, str] | None = None,
        times: int = 1,
        method: str | None = None,
    ) -> None:
        """Answer the next `times` requests whose path contains `path_part` (made with
        `method`, if given) with this error."""
        with self._lock:
            for _ in range(times):
                self._failures.append((path_part, method, (status, answer, headers or {})))

    def lose_next_answer(self, path_end: str, delay: float = 3.0) -> None:
        """Do what the next POST whose path ends in `path_end` asks, then answer `delay` seconds
        late: a client that stopped waiting has lost the answer, though the platform acted."""
        with self._lock:
            self._late.append((path_end, delay))

    def posts(self, path_part: str) -> list[Call]:
        """The POST requests whose path contains `path_part`, in order."""
        return [c for c in self.calls if c.method == "POST" and path_part in c.path]

    def _answer(self, call: Call) -> Answer:
        with self._lock:
            self.calls.append(call)
            self.arrived.notify_all()
            for index, (part, method, answer) in enumerate(self._failures):
                if part in call.path and method in (None, call.method):
                    del self._failures[index]
                    return answer
            delay = None
            for index, (end, _) in enumerate(self._late):
                if call.method == "POST" and call.path.endswith(end):
                    delay = self._late.pop(index)[1]
                    break
        answer = self.respond(call)
        if delay is not None:
            time.sleep(delay)
        return answer

    def respond(self, call: Call) -> Answer:
        raise NotImplementedError


class QuietServer(ThreadingHTTPServer):
    """A threading HTTP server for tests: closing does not wait for clients that keep idle
    connections open (keep-alive), and clients that vanish are no error."""

    daemon_threads = True
    block_on_close = False
    # A platform takes hundreds of connections opened at once (a fan-out's first wave); the
    # default backlog of 5 would reset them.
    request_queue_size = 1024

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that vanish mid-answer (killed workers, timeouts) are part of the tests."""

    def shutdown(self) -> None:
        """Stop serving at once: a connection of our own wakes the serving loop, which would
        otherwise notice only at its next poll (hundreds of tests each close several)."""
        self._BaseServer__shutdown_request = True
        host, port = self.server_address[:2]
        with contextlib.suppress(OSError), socket.create_connection((str(host), port), 1):
            pass
        super().shutdown()


def _parse_body(call: Call) -> None:
    kind = call.headers.get("content-type", "")
    if kind.startswith("application/x-www-form-urlencoded"):
        call.form = {k: v[0] for k, v in parse_qs(call.body.decode()).items()}
    elif kind.startswith("multipart/form-data"):
        message = BytesParser(policy=default).parsebytes(
            f"Content-Type: {kind}\r\n\r\n".encode() + call.body
        )
        for part in message.iter_parts():
            name = str(part.get_param("name", header="content-disposition"))
            payload = part.get_payload(decode=True)
            payload = payload if isinstance(payload, bytes) else b""
            if part.get_filename():
                call.files[name] = payload
            else:
                call.form[name] = payload.decode()


# --- X: API v2 with OAuth 1.0a user context or an OAuth 2 user token --------------------------


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:`port`."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0

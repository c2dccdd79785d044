"""Local stand-ins for the platforms: real HTTP servers on 127.0.0.1 that speak each platform's
documented wire format (paths, authentication, bodies, success and error payloads), record what
they receive, and can be told to answer the next calls with a given error."""

from __future__ import annotations

import itertools
import json
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from oauthlib.oauth1 import Client as OAuth1Client

Answer = tuple[int, dict[str, Any], dict[str, str]]


@dataclass
class Call:
    """One request as the stand-in received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    # When the request arrived (time.monotonic, comparable across processes of one machine).
    received_at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class StandIn:
    """A platform on 127.0.0.1. Subclasses answer in `respond`; `fail_next` scripts errors."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._failures: deque[tuple[str, Answer]] = deque()
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

            do_GET = do_POST = _handle

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
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
    ) -> None:
        """Answer the next `times` requests whose path contains `path_part` with this error."""
        with self._lock:
            for _ in range(times):
                self._failures.append((path_part, (status, answer, headers or {})))

    def posts(self, path_part: str) -> list[Call]:
        """The POST requests whose path contains `path_part`, in order."""
        return [c for c in self.calls if c.method == "POST" and path_part in c.path]

    def _answer(self, call: Call) -> Answer:
        with self._lock:
            self.calls.append(call)
            self.arrived.notify_all()
            for index, (part, answer) in enumerate(self._failures):
                if part in call.path:
                    del self._failures[index]
                    return answer
        return self.respond(call)

    def respond(self, call: Call) -> Answer:
        raise NotImplementedError


class _QuietServer(ThreadingHTTPServer):
    # Closing does not wait for clients that keep idle connections open (keep-alive).
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that vanish mid-answer (killed workers, timeouts) are part of the tests."""


def _parse_body(call: Call) -> None:
    kind = call.headers.get("content-type", "")
    if kind.startswith("application/x-www-form-urlencoded"):
        call.form = {k: v[0] for k, v in parse_qs(call.body.decode()).items()}
    elif kind.startswith("multipart/form-data"):
        message = BytesParser(policy=default).parsebytes(
            f"Content-Type: {kind}\r\n\r\n".encode() + call.body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename():
                call.files[name] = payload
            else:
                call.form[name] = payload.decode()


# --- X: API v2 with OAuth 1.0a user context or an OAuth 2 user token --------------------------

X_KEYS = {
    "X_API_KEY": "xkey-consumer",
    "X_API_SECRET": "xsecret-consumer-7f3a",
    "X_ACCESS_TOKEN": "123-xaccess-token",
    "X_ACCESS_TOKEN_SECRET": "xsecret-access-91bd",
}
X_OAUTH2_TOKEN = "x-oauth2-user-token-5c1e"


class XStandIn(StandIn):
    """`POST /2/tweets`, `POST /2/media/upload`, `GET /2/users/me`, OAuth signatures checked."""

    def __init__(self) -> None:
        super().__init__()
        self.revoked = False
        self.texts: set[str] = set()
        self.timeline: list[dict[str, Any]] = []

    def _authorised(self, call: Call) -> bool:
        if self.revoked:
            return False
        header = call.headers.get("authorization", "")
        if header == f"Bearer {X_OAUTH2_TOKEN}":
            return True
        if not header.startswith("OAuth "):
            return False
        fields = dict(
            (key.strip(), value.strip('"'))
            for key, value in (part.split("=", 1) for part in header[6:].split(","))
        )
        signer = OAuth1Client(
            X_KEYS["X_API_KEY"],
            client_secret=X_KEYS["X_API_SECRET"],
            resource_owner_key=X_KEYS["X_ACCESS_TOKEN"],
            resource_owner_secret=X_KEYS["X_ACCESS_TOKEN_SECRET"],
            nonce=fields.get("oauth_nonce"),
            timestamp=fields.get("oauth_timestamp"),
        )
        query = "&".join(f"{k}={v}" for k, v in call.query.items())
        uri = f"{self.url}{call.path}" + (f"?{query}" if query else "")
        _, signed, _ = signer.sign(uri, http_method=call.method)
        return signed["Authorization"] == header

    def respond(self, call: Call) -> Answer:
        limits = {
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "99",
            "x-rate-limit-reset": str(int(time.time()) + 900),
        }
        if not self._authorised(call):
            return (
                401,
                {
                    "title": "Unauthorized",
                    "type": "about:blank",
                    "status": 401,
                    "detail": "Unauthorized",
                },
                limits,
            )
        if call.method == "GET" and call.path == "/2/users/123/tweets":
            # X shows links as t.co links in a post's text.
            shown = [
                t | {"text": re.sub(r"https?://\S+", "https://t.co/abc123", t["text"])}
                for t in self.timeline
            ]
            return 200, {"data": shown, "meta": {"result_count": len(shown)}}, limits
        if call.method == "GET" and call.path == "/2/users/me":
            return 200, {"data": {"id": "123", "name": "News.de", "username": "newsde"}}, limits
        if call.method == "POST" and call.path == "/2/media/upload":
            if "media" not in call.files:
                return (
                    400,
                    {"errors": [{"message": "media is required"}], "title": "Invalid Request"},
                    {},
                )
            media_id = str(next(self.ids))
            return (
                200,
                {
                    "data": {
                        "id": media_id,
                        "media_key": f"3_{media_id}",
                        "size": len(call.files["media"]),
                        "expires_after_secs": 86400,
                    }
                },
                limits,
            )
        if call.method == "POST" and call.path == "/2/tweets":
            text = call.json.get("text", "")
            if text in self.texts:
                return (
                    403,
                    {
                        "detail": "You are not allowed to create a Tweet with duplicate content.",
                        "type": "about:blank",
                        "title": "Forbidden",
                        "status": 403,
                    },
                    limits,
                )
            self.texts.add(text)
            tweet_id = str(next(self.ids))
            self.timeline.insert(
                0, {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}
            )
            return (
                201,
                {"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": []}},
                limits,
            )
        return 404, {"title": "Not Found Error", "detail": call.path}, {}


X_RATE_LIMITED: Answer = (
    429,
    {
        "title": "Too Many Requests",
        "detail": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
    },
    {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0"},
)


def x_rate_limited(reset_in: float) -> Answer:
    status, body, headers = X_RATE_LIMITED
    return status, body, headers | {"x-rate-limit-reset": str(int(time.time() + reset_in))}


# --- Meta Graph API: Facebook Pages and the WhatsApp Cloud API --------------------------------

GRAPH_TOKEN = "EAAG-graph-page-token-2d4f"
GRAPH_VERSION = "v26.0"


def graph_error(code: int, message: str, subcode: int | None = None, **extra: Any) -> dict:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEf123",
    }
    if subcode:
        error["error_subcode"] = subcode
    return {"error": error | extra}


EXPIRED_TOKEN = graph_error(
    190, "Error validating access token: Session has expired on Tuesday.", 463
)


class GraphStandIn(StandIn):
    """Graph API basics: bearer token, pinned version, `debug_token`."""

    def __init__(self, page_id: str = "1234567890", phone_number_id: str = "1098765") -> None:
        super().__init__()
        self.page_id = page_id
        self.phone_number_id = phone_number_id
        self.revoked = False
        self.expires_at = 0
        self.messages: set[str] = set()
        self.feed: list[dict[str, str]] = []

    def respond(self, call: Call) -> Answer:
        prefix = f"/{GRAPH_VERSION}/"
        if not call.path.startswith(prefix):
            return 400, graph_error(2635, "unknown API version"), {}
        if self.revoked or call.headers.get("authorization") != f"Bearer {GRAPH_TOKEN}":
            return 400, EXPIRED_TOKEN, {}
        path = call.path[len(prefix) :]
        if path == "debug_token":
            return (
                200,
                {
                    "data": {
                        "app_id": "555",
                        "type": "PAGE",
                        "is_valid": True,
                        "expires_at": self.expires_at,
                        "scopes": ["pages_manage_posts", "whatsapp_business_messaging"],
                    }
                },
                {},
            )
        if path == self.page_id and call.method == "GET":
            return 200, {"id": self.page_id, "name": "News.de"}, {}
        if path == f"{self.page_id}/feed" and call.method == "POST":
            if call.form.get("message") in self.messages:
                return 400, graph_error(506, "Duplicate status message"), {}
            self.messages.add(call.form.get("message", ""))
            post_id = f"{self.page_id}_{next(self.ids)}"
            self.feed.insert(0, {"id": post_id, "message": call.form.get("message", "")})
            return 200, {"id": post_id}, {}
        if path == f"{self.page_id}/feed" and call.method == "GET":
            return 200, {"data": self.feed[: int(call.query.get("limit", 25))]}, {}
        if path == f"{self.page_id}/photos" and call.method == "POST":
            photo = str(next(self.ids))
            return 200, {"id": photo, "post_id": f"{self.page_id}_{photo}"}, {}
        if path == self.phone_number_id and call.method == "GET":
            return (
                200,
                {
                    "id": self.phone_number_id,
                    "display_phone_number": "+49 30 1234567",
                    "verified_name": "News.de",
                    "quality_rating": "GREEN",
                },
                {},
            )
        if path == f"{self.phone_number_id}/messages" and call.method == "POST":
            body = call.json
            if body.get("messaging_product") != "whatsapp":
                return 400, graph_error(100, "(#100) Invalid parameter"), {}
            to = body["to"]
            return (
                200,
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
                    "messages": [{"id": f"wamid.HBgL{next(self.ids)}"}],
                },
                {},
            )
        return 400, graph_error(100, f"Unsupported request: {call.method} {path}"), {}


# --- Telegram Bot API --------------------------------------------------------------------------

TELEGRAM_TOKEN = "123456:AAF-telegram-bot-token-9e8d"


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _visible_length(html: str) -> int:
    parser = _Visible()
    parser.feed(html)
    parser.close()
    return len("".join(parser.text).encode("utf-16-le")) // 2


class TelegramStandIn(StandIn):
    """`/bot<token>/<method>`: getMe, getChat, sendMessage, sendPhoto, with the Bot API's
    `{"ok": ..., "result" | "description", "parameters"}` envelope."""

    def __init__(self, chat: str = "@newsde") -> None:
        super().__init__()
        self.chat = chat
        self.chat_id = -1001234567890
        self.revoked = False

    def _chat(self) -> dict[str, Any]:
        return {
            "id": self.chat_id,
            "type": "channel",
            "title": "News.de",
            "username": self.chat.lstrip("@"),
        }

    def respond(self, call: Call) -> Answer:
        prefix = f"/bot{TELEGRAM_TOKEN}/"
        if self.revoked or not call.path.startswith(prefix):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, {}
        method = call.path[len(prefix) :]
        params = call.form or (call.json if call.body else {})
        if method == "getMe":
            return (
                200,
                {
                    "ok": True,
                    "result": {
                        "id": 123456,
                        "is_bot": True,
                        "first_name": "News Desk",
                        "username": "newsde_desk_bot",
                    },
                },
                {},
            )
        if params.get("chat_id") not in (self.chat, str(self.chat_id)):
            return (
                400,
                {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
                {},
            )
        if method == "getChat":
            return (
                200,
                {
                    "ok": True,
                    "result": self._chat()
                    | {
                        "accent_color_id": 0,
                        "max_reaction_count": 11,
                        "accepted_gift_types": {
                            "unlimited_gifts": False,
                            "limited_gifts": False,
                            "unique_gifts": False,
                            "premium_subscription": False,
                            "gifts_from_channels": False,
                        },
                    },
                },
                {},
            )
        if method == "sendMessage":
            if _visible_length(params.get("text", "")) > 4096:
                return (
                    400,
                    {
                        "ok": False,
                        "error_code": 400,
                        "description": "Bad Request: message is too long",
                    },
                    {},
                )
            return self._message({"text": params["text"]})
        if method == "sendPhoto":
            if _visible_length(params.get("caption", "")) > 1024:
                return (
                    400,
                    {
                        "ok": False,
                        "error_code": 400,
                        "description": "Bad Request: message caption is too long",
                    },
                    {},
                )
            return self._message(
                {
                    "caption": params.get("caption", ""),
                    "photo": [
                        {"file_id": "AgAD", "file_unique_id": "AQAD", "width": 1280, "height": 720}
                    ],
                }
            )
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, {}

    def _message(self, content: dict[str, Any]) -> Answer:
        message = {"message_id": next(self.ids), "date": int(time.time()), "chat": self._chat()}
        return 200, {"ok": True, "result": message | content}, {}


def telegram_flood(retry_after: int) -> Answer:
    return (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {retry_after}",
            "parameters": {"retry_after": retry_after},
        },
        {},
    )


class BotApiStandIn(StandIn):
    """The Bot API as an editors' bot sees it: updates the test pushes come out of getUpdates
    (long polling), and what the bot sends is recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.updates: list[dict[str, Any]] = []
        self.update_ids = itertools.count(1)
        self.message_ids = itertools.count(500)
        self.pending = threading.Condition()
        # What the bot sent, as Telegram answered it, with the buttons it carried.
        self.messages: list[dict[str, Any]] = []

    def push_command(self, user: int, chat: int, text: str, username: str = "editor") -> None:
        command = text.split()[0]
        self._push(
            {
                "message": {
                    "message_id": next(self.message_ids),
                    "date": int(time.time()),
                    "chat": _chat(chat),
                    "from": {
                        "id": user,
                        "is_bot": False,
                        "first_name": username.title(),
                        "username": username,
                    },
                    "text": text,
                    "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
                }
            }
        )

    def push_button(self, user: int, chat: int, data: str, message: dict[str, Any]) -> None:
        self._push(
            {
                "callback_query": {
                    "id": str(next(self.ids)),
                    "from": {"id": user, "is_bot": False, "first_name": "Editor"},
                    "chat_instance": "1",
                    "data": data,
                    "message": message | {"chat": _chat(chat)},
                }
            }
        )

    def _push(self, update: dict[str, Any]) -> None:
        with self.pending:
            self.updates.append({"update_id": next(self.update_ids)} | update)
            self.pending.notify_all()

    def sent(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every call of `method`, in order."""
        found = []
        for call in list(self.calls):
            if call.path.endswith(f"/{method}"):
                found.append(call.form or (call.json if call.body else {}))
        return found

    def respond(self, call: Call) -> Answer:
        prefix = f"/bot{TELEGRAM_TOKEN}/"
        if not call.path.startswith(prefix):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, {}
        method = call.path[len(prefix) :]
        params = call.form or (call.json if call.body else {})
        if method == "getMe":
            return _ok({"id": 777, "is_bot": True, "first_name": "Desk", "username": "desk_bot"})
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            wait = min(float(params.get("timeout") or 0), 0.5)
            with self.pending:
                ready = [u for u in self.updates if u["update_id"] >= offset]
                if not ready and wait:
                    self.pending.wait(wait)
                    ready = [u for u in self.updates if u["update_id"] >= offset]
            return _ok(ready)
        if method in ("sendMessage", "editMessageText"):
            chat = int(params["chat_id"]) if params.get("chat_id") else -1
            message = {
                "message_id": int(params.get("message_id") or next(self.message_ids)),
                "date": int(time.time()),
                "chat": _chat(chat),
                "text": params["text"],
            }
            if method == "sendMessage":
                markup = params.get("reply_markup")
                buttons = json.loads(markup) if isinstance(markup, str) else markup
                self.messages.append(message | {"buttons": buttons})
            return _ok(message)
        if method in ("deleteWebhook", "setWebhook", "setMyCommands", "answerCallbackQuery"):
            return _ok(True)
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, {}


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:`port`."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _chat(chat: int) -> dict[str, Any]:
    return {"id": chat, "type": "private" if chat > 0 else "supergroup", "title": "Desk"}


def _ok(result: Any) -> Answer:
    return 200, {"ok": True, "result": result}, {}


def channels_toml(
    x: XStandIn,
    graph: GraphStandIn,
    telegram: TelegramStandIn,
    recipients: tuple[str, ...] = ("+4915112345678",),
    x_name: str = "x_main",
) -> str:
    """The configuration of one channel per platform, each pointed at its stand-in."""
    return (
        f'[channels.{x_name}]\ntype = "x"\napi_base = "{x.url}"\nimage = false\n'
        f'[channels.facebook]\ntype = "facebook"\napi_base = "{graph.url}"\n'
        f'page_id = "{graph.page_id}"\n'
        f'[channels.whatsapp]\ntype = "whatsapp"\napi_base = "{graph.url}"\n'
        f'phone_number_id = "{graph.phone_number_id}"\n'
        f"recipients = {json.dumps(list(recipients))}\n"
        f'[channels.telegram]\ntype = "telegram"\napi_base = "{telegram.url}"\n'
        'chat_id = "@newsde"\n'
    )

"""Telegram's Bot API as the Telegram channel and python-telegram-bot use it: messages and photos in
HTML, chats, and Telegram's flood-wait answers."""

from __future__ import annotations

import json
import time
from html.parser import HTMLParser
from typing import Any

from standins.base import Answer, Call, Contract, StandIn

TELEGRAM_TOKEN = "123456:AAF-telegram-bot-token-9e8d"


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)


# The tags Telegram's HTML parse mode takes, and the entity each becomes.
ENTITY_OF_TAG = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote",
    "tg-spoiler": "spoiler",
}  # fmt: skip


class MarkupError(ValueError):
    """Telegram's refusal of a text in HTML parse mode."""


class _Entities(HTMLParser):
    """A text in Telegram's HTML as Telegram keeps it: plain text and entities (offsets and
    lengths in UTF-16 code units); tags Telegram does not know, or left open, are refused."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""
        self.open: list[tuple[str, int, dict[str, str]]] = []
        self.entities: list[dict[str, Any]] = []

    def _at(self) -> int:
        return len(self.text.encode("utf-16-le")) // 2

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ENTITY_OF_TAG:
            raise MarkupError(f'Unsupported start tag "{tag}"')
        self.open.append((tag, self._at(), {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            raise MarkupError(f'Unexpected end tag "{tag}"')
        _, start, attrs = self.open.pop()
        entity: dict[str, Any] = {
            "type": ENTITY_OF_TAG[tag], "offset": start, "length": self._at() - start,
        }  # fmt: skip
        if tag == "a":
            entity["url"] = attrs.get("href", "")
        if entity["length"]:
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.text += data


def parse_html(html: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's reading of a text in HTML parse mode: its plain text and entities, or
    MarkupError with Telegram's words."""
    parser = _Entities()
    parser.feed(html)
    parser.close()
    if parser.open:
        tag = parser.open[-1][0]
        raise MarkupError(f'Can\'t find end tag corresponding to start tag "{tag}"')
    return parser.text, sorted(parser.entities, key=lambda e: e["offset"])


def _visible_length(html: str) -> int:
    parser = _Visible()
    parser.feed(html)
    parser.close()
    return len("".join(parser.text).encode("utf-16-le")) // 2


# How long after sending a bot may delete its message in a channel.
DELETABLE_FOR = 48 * 3600


class TelegramStandIn(StandIn):
    """`/bot<token>/<method>`: getMe, getChat, sendMessage, sendPhoto, with the Bot API's
    `{"ok": ..., "result" | "description", "parameters"}` envelope."""

    def __init__(self, chat: str = "@newsde") -> None:
        super().__init__()
        self.chat = chat
        self.chat_id = -1001234567890
        self.revoked = False
        # The messages in the channel, by id, with when they were sent (Unix seconds), and
        # what each shows (its text or its caption, and the message it replies to).
        self.sent: dict[int, int] = {}
        self.contents: dict[int, dict[str, Any]] = {}

    def age(self, message_id: int, hours: float) -> None:
        """Make a message `hours` older than it is."""
        self.sent[message_id] -= int(hours * 3600)

    def _chat(self) -> dict[str, Any]:
        return {
            "id": self.chat_id,
            "type": "channel",
            "title": "News.de",
            "username": self.chat.lstrip("@"),
        }

    def text_of(self, remote_id: str) -> str:
        content = self.contents[int(remote_id)]
        return str(content.get("text", content.get("caption", "")))

    def parent_of(self, remote_id: str) -> str | None:
        parent = self.contents[int(remote_id)].get("reply_to")
        return None if parent is None else str(parent)

    def holds(self, remote_id: str) -> bool:
        """Whether the message with this id stands in the channel."""
        return int(remote_id) in self.sent

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
            replying = params.get("reply_parameters") or {}
            replying = json.loads(replying) if isinstance(replying, str) else replying
            reply = {"reply_to": replying["message_id"]} if replying else {}
            return self._message({"text": params["text"]} | reply)
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
        if method in ("editMessageText", "editMessageCaption"):
            part = "text" if method == "editMessageText" else "caption"
            return self._edit(int(params.get("message_id") or 0), part, params.get(part, ""))
        if method == "deleteMessage":
            return self._delete(int(params.get("message_id") or 0))
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, {}

    def _edit(self, message_id: int, part: str, new: str) -> Answer:
        """A bot edits its own message's text, or a photo's caption; the same content again is
        refused as not modified."""
        content = self.contents.get(message_id)
        if content is None or message_id not in self.sent:
            return _bad_request("message to edit not found")
        if part not in content:
            return _bad_request(f"there is no {part} in the message to edit")
        if _visible_length(new) > (4096 if part == "text" else 1024):
            return _bad_request("message is too long")
        if content[part] == new:
            return _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        content[part] = new
        message = {"message_id": message_id, "date": self.sent[message_id], "chat": self._chat()}
        return 200, {"ok": True, "result": message | content | {"edit_date": int(time.time())}}, {}

    def _delete(self, message_id: int) -> Answer:
        """A bot deletes its own messages in a channel only within 48 hours of sending them."""
        sent = self.sent.get(message_id)
        if sent is None:
            return _bad_request("message to delete not found")
        if time.time() - sent > DELETABLE_FOR:
            return _bad_request("message can't be deleted")
        del self.sent[message_id]
        return 200, {"ok": True, "result": True}, {}

    def _message(self, content: dict[str, Any]) -> Answer:
        number, now = next(self.ids), int(time.time())
        self.sent[number] = now
        self.contents[number] = dict(content)
        message = {"message_id": number, "date": now, "chat": self._chat()}
        return 200, {"ok": True, "result": message | content}, {}


def _bad_request(what: str) -> Answer:
    return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {what}"}, {}


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


CONTRACTS = (
    Contract(
        "telegram",
        TelegramStandIn,
        "/sendMessage",
        lambda: {
            "rate_limited": telegram_flood(600),
            "transient": (
                503,
                {"ok": False, "error_code": 503, "description": "Service Unavailable"},
                {},
            ),
            "permanent": (
                400,
                {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: can't parse entities: unexpected end tag",
                },
                {},
            ),
            "auth": (401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, {}),
        },
        "can't parse entities",
        lambda _: {"chat_id": "@newsde"},
        {"TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN},
        remove_call=("POST", "deleteMessage"),
        edit_call=("POST", "editMessageText"),
    ),
)

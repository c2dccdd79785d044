"""Telegram's Bot API as the Telegram channel and python-telegram-bot use it: messages and photos in
HTML, chats, and Telegram's flood-wait answers."""

from __future__ import annotations

import time
from html.parser import HTMLParser
from typing import Any

from standins.base import Answer, Call, StandIn

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

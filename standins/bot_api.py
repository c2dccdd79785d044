"""Telegram's Bot API from the side of the editors' bot: updates (commands, button presses) pushed
to it, and the messages, buttons and edits it sends."""

from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any

from standins.base import Answer, Call, StandIn
from standins.telegram import TELEGRAM_TOKEN


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


def _chat(chat: int) -> dict[str, Any]:
    return {"id": chat, "type": "private" if chat > 0 else "supergroup", "title": "Desk"}


def _ok(result: Any) -> Answer:
    return 200, {"ok": True, "result": result}, {}

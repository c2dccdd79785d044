"""Telegram's Bot API from the side of the editors' bot: updates (commands, plain messages, button
presses, a channel's reaction counts) pushed to it, only of the kinds its `allowed_updates` ask
for, and the messages, buttons and edits it sends, refused as Telegram refuses them (HTML it
cannot parse, over 4,096 characters, an edit that changes nothing, a private chat with someone
who never started one with the bot)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any

from standins.base import Answer, Call, StandIn
from standins.telegram import TELEGRAM_TOKEN, MarkupError, parse_html

# The update kinds the stand-in pushes, and those a bot receives only when it names them in
# `allowed_updates` (core.telegram.org/bots/api#getupdates).
KINDS = ("message", "callback_query", "message_reaction_count")
ASKED_FOR_BY_NAME = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class BotApiStandIn(StandIn):
    """The Bot API as an editors' bot sees it: updates the test pushes come out of getUpdates
    (long polling), and what the bot sends is recorded."""

    def __init__(self) -> None:
        super().__init__()
        # Updates not yet confirmed, and every update ever pushed.
        self.updates: list[dict[str, Any]] = []
        self.pushed: list[dict[str, Any]] = []
        self.update_ids = itertools.count(1)
        self.message_ids = itertools.count(500)
        self.pending = threading.Condition()
        # What the bot sent, and each edit, as Telegram answered it, with the buttons it carried.
        self.messages: list[dict[str, Any]] = []
        # Each message as it stands now, by chat and message id.
        self.current: dict[tuple[int, int], dict[str, Any]] = {}
        # The update kinds the bot last asked for (None: Telegram's default, every kind but
        # chat_member, message_reaction and message_reaction_count).
        self.allowed: list[str] | None = None
        # Users who started a private chat with the bot: only they can be written to there.
        self.started: set[int] = set()

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

    def push_text(self, user: int, chat: int, text: str) -> None:
        """A message that is no command (an address, a new text, anything)."""
        self._push(
            {
                "message": {
                    "message_id": next(self.message_ids),
                    "date": int(time.time()),
                    "chat": _chat(chat),
                    "from": {"id": user, "is_bot": False, "first_name": "Editor"},
                    "text": text,
                }
            }
        )

    def push_media(self, user: int, chat: int, media: dict[str, Any]) -> None:
        """A message that is no text: a voice note ({"voice": …}), a photo, a sticker, a file."""
        self._push(
            {
                "message": {
                    "message_id": next(self.message_ids),
                    "date": int(time.time()),
                    "chat": _chat(chat),
                    "from": {"id": user, "is_bot": False, "first_name": "Editor"},
                    **media,
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

    def push_reaction_count(
        self, chat: int, message_id: int, counts: dict[str, int], username: str = "news_de"
    ) -> None:
        """The anonymous reactions to a channel's message changed: the counts by emoji, as
        Telegram sends them to a bot administering the channel."""
        reactions = [
            {"type": {"type": "emoji", "emoji": emoji}, "total_count": number}
            for emoji, number in counts.items()
        ]
        self._push(
            {
                "message_reaction_count": {
                    "chat": {"id": chat, "type": "channel", "title": "News", "username": username},
                    "message_id": message_id,
                    "date": int(time.time()),
                    "reactions": reactions,
                }
            }
        )

    def deliver_again(self, update: dict[str, Any]) -> None:
        """An update whose confirmation Telegram never got (the bot stopped after handling it):
        delivered again, under its own id."""
        with self.pending:
            self.updates.append(update)
            self.pending.notify_all()

    def _push(self, update: dict[str, Any]) -> None:
        chat = update.get("message", {}).get("chat", {})
        if chat.get("type") == "private":
            self.started.add(chat["id"])
        with self.pending:
            numbered = {"update_id": next(self.update_ids)} | update
            self.updates.append(numbered)
            self.pushed.append(numbered)
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
            if params.get("allowed_updates") is not None:
                asked = params["allowed_updates"]
                self.allowed = list(json.loads(asked) if isinstance(asked, str) else asked)
            with self.pending:
                # An offset confirms every update before it: Telegram forgets them.
                if offset:
                    self.updates = [u for u in self.updates if u["update_id"] >= offset]
                ready = self._ready(offset)
                if not ready and wait:
                    self.pending.wait(wait)
                    ready = self._ready(offset)
            return _ok(ready)
        if method in ("sendMessage", "editMessageText"):
            return self._message(method, params)
        if method in ("deleteWebhook", "setWebhook", "setMyCommands", "answerCallbackQuery"):
            return _ok(True)
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, {}

    def _ready(self, offset: int) -> list[dict[str, Any]]:
        """The updates from `offset` on of the kinds the bot asked for; Telegram never sends the
        others (an empty list asks for every kind but the three it must name)."""
        allowed = set(self.allowed or ()) or set(KINDS) - ASKED_FOR_BY_NAME
        return [
            u
            for u in self.updates
            if u["update_id"] >= offset and (set(u) - {"update_id"}) <= allowed
        ]

    def _message(self, method: str, params: dict[str, Any]) -> Answer:
        """A message sent or edited: kept as Telegram keeps it (plain text and entities)."""
        chat = int(params["chat_id"]) if params.get("chat_id") else -1
        try:
            text, entities = parse_html(params["text"])
        except MarkupError as exc:
            return _refused(f"can't parse entities: {exc}")
        if not text.strip():
            return _refused("message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return _refused("message is too long")
        markup = params.get("reply_markup")
        buttons = json.loads(markup) if isinstance(markup, str) else markup
        if method == "sendMessage" and chat > 0 and chat not in self.started:
            return (
                403,
                {
                    "ok": False,
                    "error_code": 403,
                    "description": "Forbidden: bot can't initiate conversation with a user",
                },
                {},
            )
        if method == "editMessageText":
            number = int(params.get("message_id") or 0)
            before = self.current.get((chat, number))
            if before is None:
                return _refused("message to edit not found")
            if before["text"] == text and before.get("buttons") == buttons:
                return _refused(
                    "message is not modified: specified new message content and reply markup "
                    "are exactly the same as a current content and reply markup of the message"
                )
        else:
            number = next(self.message_ids)
        message = {
            "message_id": number,
            "date": int(time.time()),
            "chat": _chat(chat),
            "text": text,
            "entities": entities,
        }
        self.current[(chat, number)] = message | {"buttons": buttons}
        self.messages.append(message | {"buttons": buttons, "html": params["text"]})
        return _ok(message)


def _refused(description: str) -> Answer:
    return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}, {}


def _chat(chat: int) -> dict[str, Any]:
    return {"id": chat, "type": "private" if chat > 0 else "supergroup", "title": "Desk"}


def _ok(result: Any) -> Answer:
    return 200, {"ok": True, "result": result}, {}

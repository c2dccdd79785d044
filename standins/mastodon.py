"""A Mastodon instance's client API as docs.joinmastodon.org describes it: bearer tokens,
`POST /api/v1/statuses` refusing what the server's validators refuse (length counted its own
way here: graphemes, a URL as 23, a remote mention as its local part), `Idempotency-Key`,
media processed asynchronously (`POST /api/v2/media` 202, `GET /api/v1/media/:id` 206 then
200), `GET /api/v2/instance` and `GET /api/v1/accounts/verify_credentials`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import regex

from standins.base import Answer, Call, Contract, StandIn

MASTODON_TOKEN = "mastodon-user-token-8c1d"
INVALID_TOKEN = {"error": "The access token is invalid"}
# Statuses an account may delete in 30 minutes.
DELETES_PER_WINDOW = 30
VISIBILITIES = {"public", "unlisted", "private", "direct"}


def _counted(text: str, per_url: int = 23) -> int:
    text = re.sub(r"https?://[^\s<>\"]+", "x" * per_url, text)
    text = re.sub(r"@(\w+)@[\w.-]+\w", r"@\1", text)
    return len(regex.findall(r"\X", text))


class MastodonStandIn(StandIn):
    """One account (`@news`) on one instance, with a 500-character limit."""

    def __init__(self, max_characters: int = 500, url_characters: int = 23) -> None:
        super().__init__()
        self.max_characters = max_characters
        self.url_characters = url_characters
        self.revoked = False
        self.statuses: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        self.media: dict[str, int] = {}
        # Deletions in the present 30-minute window (Mastodon allows 30).
        self.deletes = 0

    def _delete(self, status_id: str) -> Answer:
        """Mastodon lets an account delete 30 statuses in 30 minutes, and answers a deleted
        status with its source text (for "delete and redraft")."""
        self.deletes += 1
        if self.deletes > DELETES_PER_WINDOW:
            reset = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
            return 429, {"error": "Too many requests"}, {"X-RateLimit-Reset": reset}
        status = self.statuses.pop(status_id, None)
        if status is None:
            return 404, {"error": "Record not found"}, {}
        return 200, status | {"text": status.get("content", "")}, {}

    def text_of(self, remote_id: str) -> str:
        return str(self.statuses[remote_id]["content"])

    def parent_of(self, remote_id: str) -> str | None:
        return self.statuses[remote_id].get("in_reply_to_id")

    def holds(self, remote_id: str) -> bool:
        """Whether the status with this id stands on the instance."""
        return remote_id in self.statuses

    def respond(self, call: Call) -> Answer:
        if self.revoked or call.headers.get("authorization") != f"Bearer {MASTODON_TOKEN}":
            return 401, INVALID_TOKEN, {}
        if call.path == "/api/v1/statuses" and call.method == "POST":
            return self._status(call)
        if call.path == "/api/v2/media" and call.method == "POST":
            if "file" not in call.files:
                return 422, {"error": "Validation failed: File can't be blank"}, {}
            media_id = str(next(self.ids))
            self.media[media_id] = 0
            return 202, {"id": media_id, "type": "image", "url": None}, {}
        if call.path.startswith("/api/v1/media/") and call.method == "GET":
            media_id = call.path.rsplit("/", 1)[1]
            if media_id not in self.media:
                return 404, {"error": "Record not found"}, {}
            self.media[media_id] += 1
            if self.media[media_id] < 2:
                return 206, {"id": media_id, "type": "image", "url": None}, {}
            return 200, {"id": media_id, "type": "image", "url": f"{self.url}/m/{media_id}.jpg"}, {}
        if call.path.startswith("/api/v1/statuses/") and call.method == "PUT":
            return self._edit(call.path.rsplit("/", 1)[1], call.form.get("status", ""))
        if call.path.startswith("/api/v1/statuses/") and call.method == "DELETE":
            return self._delete(call.path.rsplit("/", 1)[1])
        if call.path.startswith("/api/v1/statuses/") and call.method == "GET":
            status = self.statuses.get(call.path.rsplit("/", 1)[1])
            return (200, status, {}) if status else (404, {"error": "Record not found"}, {})
        if call.path == "/api/v1/accounts/verify_credentials":
            return 200, {"id": "1", "username": "news", "acct": "news"}, {}
        if call.path == "/api/v2/instance":
            statuses = {
                "max_characters": self.max_characters,
                "characters_reserved_per_url": self.url_characters,
            }
            return 200, {"domain": "social.example", "configuration": {"statuses": statuses}}, {}
        return 404, {"error": "Record not found"}, {}

    def _too_long(self, text: str) -> Answer | None:
        if _counted(text, self.url_characters) <= self.max_characters:
            return None
        limit = self.max_characters
        return 422, {"error": f"Validation failed: Text character limit of {limit} exceeded"}, {}

    def _edit(self, status_id: str, text: str) -> Answer:
        """Mastodon edits a status's text in place and keeps the earlier version."""
        status = self.statuses.get(status_id)
        if status is None:
            return 404, {"error": "Record not found"}, {}
        refused = self._too_long(text)
        if refused is not None:
            return refused
        status["content"] = f"<p>{text}</p>"
        status["edited_at"] = datetime.now(UTC).isoformat()
        return 200, status, {}

    def _status(self, call: Call) -> Answer:
        key = call.headers.get("idempotency-key")
        if key and key in self.by_key:
            return 200, self.statuses[self.by_key[key]], {}
        text = call.form.get("status", "")
        if not text.strip() and "media_ids[]" not in call.form:
            return 422, {"error": "Validation failed: Text can't be blank"}, {}
        refused = self._too_long(text)
        if refused is not None:
            return refused
        parent = call.form.get("in_reply_to_id")
        if parent is not None and parent not in self.statuses:
            return 404, {"error": "Record not found"}, {}
        if call.form.get("visibility", "public") not in VISIBILITIES:
            return 422, {"error": "Validation failed: Visibility is not included in the list"}, {}
        media_id = call.form.get("media_ids[]")
        if media_id is not None and self.media.get(media_id, 0) < 2:
            return 422, {"error": "Cannot attach files that have not finished processing"}, {}
        status_id = str(110_000_000_000_000_000 + next(self.ids))
        status = {
            "id": status_id,
            "url": f"https://social.example/@news/{status_id}",
            "content": f"<p>{text}</p>",
            "visibility": call.form.get("visibility", "public"),
            "language": call.form.get("language"),
            "media_attachments": [{"id": media_id}] if media_id else [],
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "quotes_count": 0,
            "in_reply_to_id": parent,
        }
        self.statuses[status_id] = status
        if key:
            self.by_key[key] = status_id
        return 200, status, {}

    def react(self, status_id: str, **counts: int) -> None:
        """Readers' reactions since: `favourites_count=12`, `reblogs_count=3` …"""
        self.statuses[status_id].update(counts)

    def posted(self) -> list[dict[str, Any]]:
        """The statuses made, in order (a repeated Idempotency-Key makes none)."""
        return list(self.statuses.values())


CONTRACTS = (
    Contract(
        "mastodon",
        MastodonStandIn,
        "/api/v1/statuses",
        lambda: {
            "rate_limited": (
                429,
                {"error": "Too many requests"},
                {
                    "X-RateLimit-Reset": (datetime.now(UTC) + timedelta(minutes=10)).isoformat(
                        timespec="milliseconds"
                    )
                },
            ),
            "transient": (503, {"error": "Service Unavailable"}, {}),
            "permanent": (422, {"error": "Validation failed: Text can't be blank"}, {}),
            "auth": (401, INVALID_TOKEN, {}),
        },
        "Validation failed",
        lambda api: {"instance": api.url},
        {"MASTODON_ACCESS_TOKEN": MASTODON_TOKEN},
        after_lost_answer="sent",
        retry_safe=True,
        made=lambda api: len(api.posted()),
        audience=lambda api, status, readers: api.react(
            status,
            favourites_count=readers,
            reblogs_count=readers // 3,
            replies_count=readers // 10,
        ),
        remove_call=("DELETE", "/api/v1/statuses/"),
        edit_call=("PUT", "/api/v1/statuses/"),
    ),
)

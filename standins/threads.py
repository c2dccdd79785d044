"""The Threads API (graph.threads.net, v1.0) for text posts: a bearer token, media containers
that refuse what Threads refuses (text over 500 characters with emojis counted as UTF-8 bytes,
more than five links, a link attachment that is no web address), publishing a container once,
permalinks, the profile's posts, a post's insights, and `debug_token` with the token's
expiry."""

from __future__ import annotations

import calendar
import re
import time
from typing import Any

import regex

from standins.base import Answer, Call, Contract, StandIn
from standins.graph import EXPIRED_TOKEN, graph_error

THREADS_TOKEN = "THAAG-threads-user-token-3e9a"
USER_ID = "17841400000000001"
# Posts a profile may delete in 24 hours.
DELETES_PER_DAY = 100
# The metrics a post's insights tell (Threads API, "Media Insights").
INSIGHTS = ("views", "likes", "replies", "reposts", "quotes", "shares")
_EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}")


def _counted(text: str) -> int:
    return sum(len(c.encode()) if _EMOJI.search(c) else len(c) for c in regex.findall(r"\X", text))


class ThreadsStandIn(StandIn):
    """One profile's Threads API."""

    def __init__(self) -> None:
        super().__init__()
        self.revoked = False
        self.expires_at = int(time.time()) + 50 * 86400
        self.containers: dict[str, dict[str, str]] = {}
        self.published: dict[str, dict[str, str]] = {}
        self.counts: dict[str, dict[str, int]] = {}
        # Deletions in the present 24 hours (Threads allows 100).
        self.deletes = 0

    def react(self, media_id: str, **counts: int) -> None:
        """Readers' doings since the post went out: `views=900`, `likes=12` …"""
        self.counts[media_id].update(counts)

    def text_of(self, remote_id: str) -> str:
        return next(p["text"] for p in self.published.values() if p["id"] == remote_id)

    def parent_of(self, remote_id: str) -> str | None:
        return next(p for p in self.published.values() if p["id"] == remote_id).get("reply_to")

    def holds(self, remote_id: str) -> bool:
        """Whether the post with this media id stands on Threads."""
        return any(post["id"] == remote_id for post in self.published.values())

    def respond(self, call: Call) -> Answer:
        if not call.path.startswith("/v1.0/"):
            return 400, graph_error(2635, "unknown API version"), {}
        token = call.headers.get("authorization", "").removeprefix("Bearer ")
        if self.revoked or token != THREADS_TOKEN:
            return 400, graph_error(190, "Error validating access token", 463), {}
        path = call.path.removeprefix("/v1.0/")
        if path == f"{USER_ID}/threads" and call.method == "POST":
            return self._container(call.form)
        if path == f"{USER_ID}/threads_publish" and call.method == "POST":
            creation = call.form.get("creation_id", "")
            if creation not in self.containers:
                return 400, graph_error(24, "The requested resource does not exist", 4279009), {}
            if creation in self.published:
                return 400, graph_error(10, "The media has already been published"), {}
            media_id = str(18_000_000_000_000_000 + next(self.ids))
            made = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime())
            self.published[creation] = {
                "id": media_id,
                "timestamp": made,
                **self.containers[creation],
            }
            self.counts[media_id] = dict.fromkeys(INSIGHTS, 0)
            return 200, {"id": media_id}, {}
        if path.endswith("/insights") and call.method == "GET":
            return self._insights(path.removesuffix("/insights"), call.query.get("metric", ""))
        if path == f"{USER_ID}/threads" and call.method == "GET":
            # Newest first, since a Unix time.
            since = int(call.query.get("since", 0))
            posts = [
                {"id": p["id"], "text": p["text"], "permalink": _link(p["id"]),
                 "timestamp": p["timestamp"]}
                for p in reversed(self.published.values())
                if calendar.timegm(time.strptime(p["timestamp"], "%Y-%m-%dT%H:%M:%S+0000"))
                >= since
            ]  # fmt: skip
            return 200, {"data": posts}, {}
        if path == USER_ID:
            return 200, {"id": USER_ID, "username": "newsde"}, {}
        if path == "debug_token":
            data = {"is_valid": True, "expires_at": self.expires_at, "type": "USER"}
            return 200, {"data": data}, {}
        if call.method == "DELETE":
            return self._delete(path)
        if any(p["id"] == path for p in self.published.values()):
            return 200, {"id": path, "permalink": _link(path)}, {}
        return 400, graph_error(100, f"Unsupported request: {call.method} {path}"), {}

    def _delete(self, media_id: str) -> Answer:
        """Threads lets a profile delete 100 posts in 24 hours; a post it does not have is an
        object that does not exist (code 100/33)."""
        self.deletes += 1
        if self.deletes > DELETES_PER_DAY:
            return 400, graph_error(4, "Application request limit reached"), {}
        found = next((c for c, p in self.published.items() if p["id"] == media_id), None)
        if found is None:
            return 400, graph_error(100, "Object with ID does not exist", 33), {}
        del self.published[found]
        self.counts.pop(media_id, None)
        return 200, {"success": True, "deleted_id": media_id}, {}

    def _insights(self, media_id: str, metric: str) -> Answer:
        counts = self.counts.get(media_id)
        if counts is None:
            return 400, graph_error(100, "Object with ID does not exist", 33), {}
        asked = [name for name in metric.split(",") if name]
        unknown = [name for name in asked if name not in INSIGHTS]
        if not asked or unknown:
            return 400, graph_error(100, "(#100) metric must be one of the following values"), {}
        data = [
            {
                "name": name,
                "period": "lifetime",
                "values": [{"value": counts[name]}],
                "title": name.capitalize(),
                "description": f"The number of {name} of your post.",
                "id": f"{media_id}/insights/{name}/lifetime",
            }
            for name in asked
        ]
        return 200, {"data": data}, {}

    def _container(self, form: dict[str, str]) -> Answer:
        if form.get("media_type") != "TEXT":
            return 400, graph_error(100, "Param media_type must be one of {TEXT, IMAGE, VIDEO}"), {}
        text = form.get("text", "")
        if _counted(text) > 500:
            return 400, graph_error(100, "Param text must be at most 500 characters long."), {}
        attachment = form.get("link_attachment")
        if attachment is not None and not re.match(r"https?://", attachment):
            return 400, graph_error(100, "Param link_attachment must be a valid URL"), {}
        links = set(re.findall(r"https?://\S+", text)) | ({attachment} if attachment else set())
        if len(links) > 5:
            return 400, graph_error(100, "THREADS_API__LINK_LIMIT_EXCEEDED"), {}
        parent = form.get("reply_to_id")
        if parent is not None and not self.holds(parent):
            return 400, graph_error(100, "The requested resource does not exist", 33), {}
        container = str(17_000_000_000_000_000 + next(self.ids))
        self.containers[container] = {"text": text, "link": attachment or ""} | (
            {"reply_to": parent} if parent else {}
        )
        return 200, {"id": container}, {}

    def posted(self) -> list[dict[str, Any]]:
        return list(self.published.values())


def _link(media_id: str) -> str:
    return f"https://www.threads.net/@newsde/post/{media_id}"


CONTRACTS = (
    Contract(
        "threads",
        ThreadsStandIn,
        "/threads",
        lambda: {
            # The app's hourly limit.
            "rate_limited": (400, graph_error(4, "Application request limit reached"), {}),
            "transient": (500, graph_error(2, "Service temporarily unavailable"), {}),
            "permanent": (
                400,
                graph_error(100, "Param text must be at most 500 characters long."),
                {},
            ),
            "auth": (400, EXPIRED_TOKEN, {}),
        },
        "at most 500 characters",
        lambda _: {"user_id": USER_ID},
        {"THREADS_ACCESS_TOKEN": THREADS_TOKEN},
        lost_path="threads_publish",
        after_lost_answer="sent",
        audience=lambda api, media, readers: api.react(
            media,
            views=readers * 30,
            likes=readers,
            replies=readers // 8,
            reposts=readers // 6,
            quotes=readers // 25,
            shares=readers // 12,
        ),
        remove_call=("DELETE", "/v1.0/"),
    ),
)

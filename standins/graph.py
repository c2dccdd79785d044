"""Meta's Graph API for Facebook Pages and the WhatsApp Cloud API: page posts and photos, messages
and templates, and Graph's error payloads."""

from __future__ import annotations

import calendar
import random
import re
import threading
import time
from collections import deque
from typing import Any

from standins.base import Answer, Call, Contract, StandIn

GRAPH_TOKEN = "EAAG-graph-page-token-2d4f"
GRAPH_VERSION = "v26.0"
# A Page post's insights metrics that are not deprecated (post_impressions went in 2025).
POST_INSIGHTS = ("post_media_view", "post_clicks", "post_reactions_by_type_total")
# Objects one `GET /?ids=` reads at most.
IDS_AT_ONCE = 50


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


# What the Graph API answers a request to delete an object it does not have (code 100/33).
GONE = (
    "Unsupported delete request. Object with ID '{id}' does not exist, cannot be loaded due to "
    "missing permissions, or does not support this operation."
)
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
        # Each Page post's numbers: insights by metric, and its shares and comments.
        self.counts: dict[str, dict[str, Any]] = {}
        # Numbers that wrote within 24 hours; when set, free-form messages to others are
        # refused (131047) as the Cloud API does. None: every number may get them.
        self.open_windows: set[str] | None = None
        # The phone number's throughput (messages in any one second; None: no limit): a message
        # over it is refused with 130429, as the Cloud API refuses bursts.
        self.mps: int | None = None
        # Each message is answered after a time drawn from this range, in seconds.
        self.latency = (0.0, 0.0)
        self.throughput_refusals = 0
        # The messages taken within the throughput limit, in the order they arrived.
        self.taken: list[Call] = []
        self._accepted: deque[float] = deque()
        self._window = threading.Lock()

    def react(self, post_id: str, **counts: Any) -> None:
        """Readers' doings since the post went out: `post_clicks=40`, `shares=3`,
        `post_reactions_by_type_total={"like": 10, "love": 2}` …"""
        self.counts[post_id].update(counts)

    def _counted(self, post_id: str) -> None:
        self.counts[post_id] = {
            **dict.fromkeys(POST_INSIGHTS, 0),
            "post_reactions_by_type_total": {},
            "shares": 0,
            "comments": 0,
        }

    def _posts(self, ids: list[str], fields: str) -> Answer:
        """Several objects at once (`GET /?ids=…&fields=…`), as the Graph API reads them: at
        most 50, every one of them existing, Page posts with the insights metrics asked for in
        `insights.metric(…)` (a deprecated metric is refused), `shares` left out while there
        are none, `comments.summary(true)` counting them."""
        if len(ids) > IDS_AT_ONCE:
            return 400, graph_error(100, f"(#100) Too many IDs. Maximum: {IDS_AT_ONCE}."), {}
        missing = [i for i in ids if i not in self.counts]
        if missing:
            message = f"(#803) Some of the aliases you requested do not exist: {','.join(missing)}"
            return 404, graph_error(803, message), {}
        asked = re.search(r"insights\.metric\(([^)]*)\)", fields)
        metrics = asked.group(1).split(",") if asked else []
        if any(metric not in POST_INSIGHTS for metric in metrics):
            return 400, graph_error(100, "(#100) The value must be a valid insights metric"), {}
        found: dict[str, Any] = {}
        for post_id in ids:
            counts = self.counts[post_id]
            shown: dict[str, Any] = {"id": post_id}
            if "shares" in fields and counts["shares"]:
                shown["shares"] = {"count": counts["shares"]}
            if "comments.summary(true)" in fields:
                shown["comments"] = {
                    "data": [],
                    "summary": {"order": "ranked", "total_count": counts["comments"]},
                }
            if metrics:
                shown["insights"] = {
                    "data": [
                        {
                            "name": metric,
                            "period": "lifetime",
                            "values": [{"value": counts[metric]}],
                            "id": f"{post_id}/insights/{metric}/lifetime",
                        }
                        for metric in metrics
                    ]
                }
            found[post_id] = shown
        return 200, found, {}

    def text_of(self, remote_id: str) -> str:
        return next(str(post["message"]) for post in self.feed if post["id"] == remote_id)

    def holds(self, remote_id: str) -> bool:
        """Whether the page post with this id stands on Facebook."""
        return any(post["id"] == remote_id for post in self.feed)

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
            made = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime())
            self.feed.insert(
                0, {"id": post_id, "message": call.form.get("message", ""), "created_time": made}
            )
            self._counted(post_id)
            return 200, {"id": post_id}, {}
        if path == f"{self.page_id}/feed" and call.method == "GET":
            # Newest first, since a Unix time, the fields asked for.
            since = int(call.query.get("since", 0))
            fields = call.query.get("fields", "id,message").split(",")
            feed = [
                {k: v for k, v in post.items() if k in fields}
                for post in self.feed
                if calendar.timegm(time.strptime(post["created_time"], "%Y-%m-%dT%H:%M:%S+0000"))
                >= since
            ]
            return 200, {"data": feed[: int(call.query.get("limit", 25))]}, {}
        if call.method == "POST" and path.startswith(f"{self.page_id}_"):
            # A Page post's message updated in place.
            post = next((post for post in self.feed if post["id"] == path), None)
            if post is None:
                return (
                    400,
                    graph_error(100, GONE.format(id=path), 33, type="GraphMethodException"),
                    {},
                )
            post["message"] = call.form.get("message", post["message"])
            return 200, {"success": True}, {}
        if call.method == "DELETE" and path.startswith(f"{self.page_id}_"):
            if not any(post["id"] == path for post in self.feed):
                return (
                    400,
                    graph_error(100, GONE.format(id=path), 33, type="GraphMethodException"),
                    {},
                )
            self.feed = [post for post in self.feed if post["id"] != path]
            return 200, {"success": True}, {}
        if path == f"{self.page_id}/photos" and call.method == "POST":
            photo = str(next(self.ids))
            self._counted(f"{self.page_id}_{photo}")
            return 200, {"id": photo, "post_id": f"{self.page_id}_{photo}"}, {}
        if path == "" and call.method == "GET" and "ids" in call.query:
            return self._posts(call.query["ids"].split(","), call.query.get("fields", ""))
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
            if not self._within_throughput():
                self.throughput_refusals += 1
                return (
                    400,
                    graph_error(130429, "(#130429) Rate limit hit"),
                    {},
                )
            self.taken.append(call)
            if self.latency[1]:
                time.sleep(random.uniform(*self.latency))
            if (
                self.open_windows is not None
                and body.get("type") != "template"
                and to not in self.open_windows
            ):
                return (
                    400,
                    graph_error(
                        131047,
                        "Re-engagement message",
                        error_data={
                            "details": "Message failed to send because more than 24 hours "
                            "have passed since the customer last replied to this number."
                        },
                    ),
                    {},
                )
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

    def _within_throughput(self) -> bool:
        """Whether a message arriving now keeps to `mps` messages in the second before it (a
        sliding window, strictly: the 81st message within any one second is refused at 80)."""
        if self.mps is None:
            return True
        now = time.monotonic()
        with self._window:
            while self._accepted and self._accepted[0] <= now - 1.0:
                self._accepted.popleft()
            if len(self._accepted) >= self.mps:
                return False
            self._accepted.append(now)
            return True


# --- Telegram Bot API --------------------------------------------------------------------------


# The one reader a WhatsApp channel of the contract sends to.
READER = "+4915112345678"
PAGE_USAGE = '{"1": [{"type": "pages", "estimated_time_to_regain_access": 10}]}'

CONTRACTS = (
    Contract(
        "facebook",
        GraphStandIn,
        "/feed",
        lambda: {
            "rate_limited": (
                400,
                graph_error(32, "(#32) Page request limit reached"),
                {"X-Business-Use-Case-Usage": PAGE_USAGE},
            ),
            "transient": (500, graph_error(2, "Service temporarily unavailable"), {}),
            "permanent": (400, graph_error(506, "Duplicate status message"), {}),
            "auth": (400, EXPIRED_TOKEN, {}),
        },
        "Duplicate status message",
        lambda graph: {"page_id": graph.page_id},
        {"FACEBOOK_PAGE_TOKEN": GRAPH_TOKEN},
        after_lost_answer="sent",
        audience=lambda graph, post, readers: graph.react(
            post,
            post_media_view=readers * 35,
            post_clicks=readers * 3,
            shares=readers // 7,
            comments=readers // 9,
            post_reactions_by_type_total={"like": readers, "love": readers // 5},
        ),
        remove_call=("DELETE", "_"),
        edit_call=("POST", "_"),
    ),
    Contract(
        "whatsapp",
        GraphStandIn,
        "/messages",
        lambda: {
            # The account's hourly limit; the per-second throughput limit waits seconds.
            "rate_limited": (400, graph_error(80007, "(#80007) Rate limit issues"), {}),
            "transient": (500, graph_error(131000, "Something went wrong"), {}),
            "permanent": (400, graph_error(131026, "Message undeliverable"), {}),
            "auth": (401, EXPIRED_TOKEN, {}),
        },
        "Message undeliverable",
        lambda graph: {"phone_number_id": graph.phone_number_id, "recipients": [READER]},
        {"WHATSAPP_TOKEN": GRAPH_TOKEN},
        permalink=False,
    ),
)

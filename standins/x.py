"""X API v2 as tweepy and the X channel use it: OAuth 1.0a or OAuth 2 user context, posts, media
upload, the account's timeline, posts' metrics, and X's error and rate-limit answers."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from oauthlib.oauth1 import Client as OAuth1Client

from standins.base import Answer, Call, Contract, StandIn

X_KEYS = {
    "X_API_KEY": "xkey-consumer",
    "X_API_SECRET": "xsecret-consumer-7f3a",
    "X_ACCESS_TOKEN": "123-xaccess-token",
    "X_ACCESS_TOKEN_SECRET": "xsecret-access-91bd",
}
X_OAUTH2_TOKEN = "x-oauth2-user-token-5c1e"
# GET /2/tweets takes 1 to 100 ids; private metrics are told for posts of the last 30 days.
IDS_PER_LOOKUP = 100
# Posts a user may delete in one 15-minute window.
DELETES_PER_WINDOW = 50
PRIVATE_DAYS = 30
PUBLIC_COUNTS = (
    "retweet_count",
    "reply_count",
    "like_count",
    "quote_count",
    "bookmark_count",
    "impression_count",
)
PRIVATE_COUNTS = ("impression_count", "url_link_clicks", "user_profile_clicks")


class XStandIn(StandIn):
    """`POST /2/tweets`, `GET /2/tweets?ids=`, `POST /2/media/upload`, `GET /2/users/me`,
    OAuth signatures checked."""

    def __init__(self) -> None:
        super().__init__()
        self.revoked = False
        self.texts: set[str] = set()
        self.timeline: list[dict[str, Any]] = []
        self.counts: dict[str, dict[str, int]] = {}
        # Deletions in the present 15-minute window (X allows 50).
        self.deletes = 0

    def react(self, tweet_id: str, **counts: int) -> None:
        """Readers' doings since the post went out: `like_count=12`, `url_link_clicks=40` …"""
        self.counts[tweet_id].update(counts)

    def age(self, tweet_id: str, days: float) -> None:
        """Make a post `days` older than it is."""
        for tweet in self.timeline:
            if tweet["id"] == tweet_id:
                made = _instant(tweet["created_at"]) - timedelta(days=days)
                tweet["created_at"] = made.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def _lookup(self, call: Call) -> tuple[int, dict[str, Any]]:
        """Posts by id with the metrics `tweet.fields` asks for. As X does, a post past its 30
        days is left out of `data` when private metrics are asked for, with a field error."""
        ids = [i for i in call.query.get("ids", "").split(",") if i]
        if not 1 <= len(ids) <= IDS_PER_LOOKUP:
            return 400, {
                "errors": [
                    {
                        "parameters": {"ids": [call.query.get("ids", "")]},
                        "message": f"The number of values in the `ids` query parameter list "
                        f"[{len(ids)}] is not between 1 and {IDS_PER_LOOKUP}",
                    }
                ],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            }
        fields = set(call.query.get("tweet.fields", "").split(","))
        by_id = {tweet["id"]: tweet for tweet in self.timeline}
        data, errors = [], []
        recent = datetime.now(UTC) - timedelta(days=PRIVATE_DAYS)
        for tweet_id in ids:
            tweet = by_id.get(tweet_id)
            if tweet is None:
                errors.append(_field_error(tweet_id, "Not Found Error", "resource-not-found"))
                continue
            if "non_public_metrics" in fields and _instant(tweet["created_at"]) < recent:
                errors.append(
                    _field_error(tweet_id, "Field Authorization Error", "not-authorized-for-field")
                    | {"field": "non_public_metrics"}
                )
                continue
            counts = self.counts[tweet_id]
            shown = {k: tweet[k] for k in ("id", "text", "edit_history_tweet_ids")}
            if "public_metrics" in fields:
                shown["public_metrics"] = {k: counts[k] for k in PUBLIC_COUNTS}
            if "non_public_metrics" in fields:
                shown["non_public_metrics"] = {k: counts[k] for k in PRIVATE_COUNTS}
            data.append(shown)
        return 200, {"data": data, "errors": errors} if errors else {"data": data}

    def _delete(self, tweet_id: str, limits: dict[str, str]) -> Answer:
        """X lets a user delete 50 posts in 15 minutes; a post it does not have is not found."""
        self.deletes += 1
        if self.deletes > DELETES_PER_WINDOW:
            return 429, {"title": "Too Many Requests", "status": 429}, limits | {
                "x-rate-limit-limit": str(DELETES_PER_WINDOW), "x-rate-limit-remaining": "0",
            }  # fmt: skip
        if not any(tweet["id"] == tweet_id for tweet in self.timeline):
            missing = _field_error(tweet_id, "Not Found Error", "resource-not-found")
            problem = {k: missing[k] for k in ("title", "detail", "type")}
            return 404, {"errors": [missing], **problem}, limits
        self.timeline = [tweet for tweet in self.timeline if tweet["id"] != tweet_id]
        return 200, {"data": {"deleted": True}}, limits

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

    def text_of(self, remote_id: str) -> str:
        return next(tweet["text"] for tweet in self.timeline if tweet["id"] == remote_id)

    def parent_of(self, remote_id: str) -> str | None:
        found = next(tweet for tweet in self.timeline if tweet["id"] == remote_id)
        return found.get("in_reply_to_tweet_id")

    def holds(self, remote_id: str) -> bool:
        """Whether the post with this id stands on X."""
        return any(tweet["id"] == remote_id for tweet in self.timeline)

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
            # X shows links as t.co links in a post's text, lists the newest first, keeps to
            # start_time, and names created_at only when tweet.fields asks for it.
            start = _instant(call.query.get("start_time", "1970-01-01T00:00:00Z"))
            fields = call.query.get("tweet.fields", "").split(",")
            shown = [
                {k: v for k, v in t.items() if k != "created_at" or "created_at" in fields}
                | {"text": re.sub(r"https?://\S+", "https://t.co/abc123", t["text"])}
                for t in self.timeline
                if _instant(t["created_at"]) >= start
            ]
            return 200, {"data": shown, "meta": {"result_count": len(shown)}}, limits
        if call.method == "GET" and call.path == "/2/tweets":
            status, body = self._lookup(call)
            return status, body, limits
        if call.method == "DELETE" and call.path.startswith("/2/tweets/"):
            return self._delete(call.path.rsplit("/", 1)[1], limits)
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
            parent = (call.json.get("reply") or {}).get("in_reply_to_tweet_id")
            if parent is not None and not self.holds(str(parent)):
                return (
                    403,
                    {
                        "detail": "You attempted to reply to a Tweet that is deleted or not "
                        "visible to you.",
                        "type": "about:blank",
                        "title": "Forbidden",
                        "status": 403,
                    },
                    limits,
                )
            self.texts.add(text)
            tweet_id = str(next(self.ids))
            self.counts[tweet_id] = dict.fromkeys(PUBLIC_COUNTS + PRIVATE_COUNTS, 0)
            made = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            self.timeline.insert(
                0,
                {
                    "id": tweet_id,
                    "text": text,
                    "edit_history_tweet_ids": [tweet_id],
                    "created_at": made,
                }
                | ({"in_reply_to_tweet_id": str(parent)} if parent is not None else {}),
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


def _field_error(tweet_id: str, title: str, problem: str) -> dict[str, Any]:
    """One entry of a lookup's `errors`, as X writes them beside the posts it could show."""
    return {
        "value": tweet_id,
        "resource_id": tweet_id,
        "resource_type": "tweet",
        "section": "data",
        "title": title,
        "detail": f"{title}: {tweet_id}",
        "type": f"https://api.twitter.com/2/problems/{problem}",
    }


def _instant(value: str) -> datetime:
    """An RFC 3339 time as X writes and reads them (2026-12-02T03:00:00.000Z)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def x_rate_limited(reset_in: float) -> Answer:
    status, body, headers = X_RATE_LIMITED
    return status, body, headers | {"x-rate-limit-reset": str(int(time.time() + reset_in))}


# --- Meta Graph API: Facebook Pages and the WhatsApp Cloud API --------------------------------


CONTRACTS = (
    Contract(
        "x",
        XStandIn,
        "/2/tweets",
        lambda: {
            "rate_limited": x_rate_limited(reset_in=600),
            "transient": (503, {"title": "Service Unavailable", "status": 503}, {}),
            "permanent": (
                403,
                {
                    "title": "Forbidden",
                    "status": 403,
                    "type": "about:blank",
                    "detail": "You are not allowed to create a Tweet with duplicate content.",
                },
                {},
            ),
            "auth": (401, {"title": "Unauthorized", "status": 401, "detail": "Unauthorized"}, {}),
        },
        "not allowed to create a Tweet with duplicate content",
        env=X_KEYS,
        after_lost_answer="sent",
        # A plain 403 from X is about the post (a duplicate), not the credentials.
        quirks={403: "failed"},
        audience=lambda api, post, readers: api.react(
            post,
            impression_count=readers * 40,
            like_count=readers,
            retweet_count=readers // 5,
            reply_count=readers // 8,
            url_link_clicks=readers * 2,
        ),
        remove_call=("DELETE", "/2/tweets/"),
    ),
)

"""A Bluesky PDS's XRPC endpoints as the AT Protocol lexicons define them: sessions from an app
password (counted: creating them is rate limited), expiring access tokens and refreshSession,
createRecord refusing what the PDS refuses (text over 300 graphemes or 3,000 bytes, facets
outside the text or off UTF-8 boundaries, a record key that is no TID, a thumb not uploaded or
over 1,000,000 bytes), getRecord, uploadBlob and describeRepo."""

from __future__ import annotations

import itertools
import json
import re
import time
from typing import Any

import regex

from standins.base import Answer, Call, Contract, StandIn

HANDLE = "news.bsky.social"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
DID = "did:plc:newsroom7k2x"
_TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")


def invalid(message: str) -> Answer:
    return 400, {"error": "InvalidRequest", "message": message}, {}


class BlueskyStandIn(StandIn):
    """One account on one PDS."""

    def __init__(self) -> None:
        super().__init__()
        self.sessions = 0
        self.generation = itertools.count(1)
        # Every session made stays valid (workers each have theirs) until it expires.
        self.access: set[str] = set()
        self.refresh: set[str] = set()
        self.expired: set[str] = set()
        self.records: dict[str, dict[str, Any]] = {}
        # Readers' reactions to posts, by URI (`react`).
        self.counts: dict[str, dict[str, int]] = {}
        self.blobs: dict[str, int] = {}

    def _tokens(self) -> dict[str, str]:
        number = next(self.generation)
        self.access.add(f"access-{number}")
        self.refresh.add(f"refresh-{number}")
        tokens = {"accessJwt": f"access-{number}", "refreshJwt": f"refresh-{number}"}
        return tokens | {"did": DID, "handle": HANDLE}

    def expire(self) -> None:
        """Every access token made so far has expired (refresh tokens still work)."""
        self.expired |= self.access

    def text_of(self, remote_id: str) -> str:
        return str(self.records[remote_id.rsplit("/", 1)[-1]]["value"]["text"])

    def parent_of(self, remote_id: str) -> str | None:
        reply = self.records[remote_id.rsplit("/", 1)[-1]]["value"].get("reply")
        return None if reply is None else str(reply["parent"]["uri"])

    def holds(self, remote_id: str) -> bool:
        """Whether the post with this AT URI stands in the repo."""
        return remote_id.rsplit("/", 1)[-1] in self.records

    def respond(self, call: Call) -> Answer:
        name = call.path.removeprefix("/xrpc/")
        bearer = call.headers.get("authorization", "").removeprefix("Bearer ")
        if name == "com.atproto.server.createSession":
            body = call.json
            if body.get("identifier") != HANDLE or body.get("password") != APP_PASSWORD:
                message = "Invalid identifier or password"
                return 401, {"error": "AuthenticationRequired", "message": message}, {}
            self.sessions += 1
            return 200, self._tokens(), {}
        if name == "com.atproto.server.refreshSession":
            if bearer not in self.refresh:
                return 400, {"error": "ExpiredToken", "message": "Token has been revoked"}, {}
            self.refresh.discard(bearer)
            return 200, self._tokens(), {}
        if bearer not in self.access:
            return 401, {"error": "InvalidToken", "message": "Bad token"}, {}
        if bearer in self.expired:
            return 400, {"error": "ExpiredToken", "message": "Token has expired"}, {}
        if name == "com.atproto.repo.createRecord":
            return self._create(call.json)
        if name == "com.atproto.repo.deleteRecord":
            return self._delete(call.json)
        if name == "com.atproto.repo.getRecord":
            record = self.records.get(call.query.get("rkey", ""))
            if record is None:
                return 400, {"error": "RecordNotFound", "message": "Could not locate record"}, {}
            return 200, record, {}
        if name == "app.bsky.feed.getPosts":
            uris = call.queried.get("uris", [])
            if len(uris) > 25:
                return invalid("uris must not have more than 25 elements")
            found = [self._view(uri) for uri in uris]
            return 200, {"posts": [view for view in found if view]}, {}
        if name == "com.atproto.repo.uploadBlob":
            link = f"bafkrei{next(self.ids)}"
            self.blobs[link] = len(call.body)
            ref = {"$type": "blob", "ref": {"$link": link}, "size": len(call.body)}
            return 200, {"blob": ref | {"mimeType": call.headers.get("content-type", "")}}, {}
        if name == "com.atproto.repo.describeRepo":
            return 200, {"handle": HANDLE, "did": DID}, {}
        return 400, {"error": "MethodNotImplemented", "message": name}, {}

    def _delete(self, body: dict[str, Any]) -> Answer:
        """A PDS deletes a record of its repo, and answers a record it does not have as done
        with no commit (the lexicon's `commit` is optional)."""
        if body.get("repo") != DID or body.get("collection") != "app.bsky.feed.post":
            return invalid("Input/repo must be the authenticated account's")
        if self.records.pop(str(body.get("rkey", "")), None) is None:
            return 200, {}, {}
        return 200, {"commit": {"cid": f"bafyreic{next(self.ids)}", "rev": "3l"}}, {}

    def _create(self, body: dict[str, Any]) -> Answer:
        record = body.get("record") or {}
        rkey = str(body.get("rkey", ""))
        if body.get("repo") != DID or body.get("collection") != "app.bsky.feed.post":
            return invalid("repo or collection not allowed")
        if not _TID.fullmatch(rkey):
            return invalid("Invalid record key: not a TID")
        if rkey in self.records:
            return invalid("Record already exists")
        text = record.get("text", "")
        if record.get("$type") != "app.bsky.feed.post" or "createdAt" not in record:
            return invalid("Invalid app.bsky.feed.post record")
        if len(regex.findall(r"\X", text)) > 300 or len(text.encode()) > 3000:
            return invalid("Invalid app.bsky.feed.post record: Record/text must not be longer "
                           "than 300 graphemes")  # fmt: skip
        encoded = text.encode()
        for facet in record.get("facets") or []:
            start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
            try:
                encoded[start:end].decode()
            except UnicodeDecodeError:
                return invalid("facet splits a character")
            if not 0 <= start < end <= len(encoded):
                return invalid("facet outside the text")
        thumb = ((record.get("embed") or {}).get("external") or {}).get("thumb")
        if thumb is not None:
            size = self.blobs.get(thumb["ref"]["$link"])
            if size is None or size > 1_000_000:
                return invalid("Invalid app.bsky.embed.external thumb")
        reply = record.get("reply")
        if reply is not None and not all(
            isinstance(reply.get(end), dict) and {"uri", "cid"} <= set(reply[end])
            for end in ("root", "parent")
        ):
            return invalid("Invalid app.bsky.feed.post record: reply must have root and parent")
        uri = f"at://{DID}/app.bsky.feed.post/{rkey}"
        self.records[rkey] = {"uri": uri, "cid": f"bafyrei{rkey}", "value": record}
        return 200, {"uri": uri, "cid": f"bafyrei{rkey}"}, {}

    def _view(self, uri: str) -> dict[str, Any] | None:
        """A post as app.bsky.feed.defs#postView shows it, with its counts."""
        record = next((r for r in self.records.values() if r["uri"] == uri), None)
        if record is None:
            return None
        counts = {"likeCount": 0, "repostCount": 0, "replyCount": 0, "quoteCount": 0}
        return {
            "uri": uri,
            "cid": record["cid"],
            "author": {"did": DID, "handle": HANDLE},
            "record": record["value"],
            "indexedAt": record["value"].get("createdAt"),
            **counts,
            **self.counts.get(uri, {}),
        }

    def react(self, uri: str, **counts: int) -> None:
        """Readers' reactions since: `likeCount=12`, `repostCount=3` …"""
        self.counts.setdefault(uri, {}).update(counts)

    def posted(self) -> list[dict[str, Any]]:
        """The records made, in order."""
        return [json.loads(json.dumps(r["value"])) for r in self.records.values()]


CONTRACTS = (
    Contract(
        "bluesky",
        BlueskyStandIn,
        "createRecord",
        lambda: {
            "rate_limited": (
                429,
                {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                {"ratelimit-reset": str(int(time.time()) + 600)},
            ),
            "transient": (
                502,
                {"error": "InternalServerError", "message": "Internal Server Error"},
                {},
            ),
            "permanent": (
                400,
                {
                    "error": "InvalidRequest",
                    "message": "Invalid app.bsky.feed.post record: Record/text must not be "
                    "longer than 300 graphemes",
                },
                {},
            ),
            # At signing in: an expired token at posting only makes the channel sign in again.
            "auth": (
                401,
                {"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
                {},
            ),
        },
        "must not be longer than 300 graphemes",
        lambda _: {"handle": HANDLE},
        {"BLUESKY_APP_PASSWORD": APP_PASSWORD},
        auth_path="createSession",
        after_lost_answer="sent",
        retry_safe=True,
        audience=lambda pds, uri, readers: pds.react(
            uri,
            likeCount=readers,
            repostCount=readers // 4,
            replyCount=readers // 9,
            quoteCount=readers // 20,
        ),
        remove_call=("POST", "deleteRecord"),
    ),
)

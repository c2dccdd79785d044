"""LinkedIn's versioned REST API for organization posts: a bearer token, `LinkedIn-Version`
(YYYYMM, served for a year: older ones 426) and `X-Restli-Protocol-Version: 2.0.0` on every call,
`POST /rest/posts` refusing what LinkedIn refuses (no organization author, commentary over 3,000
characters, an article without a source, a thumbnail never uploaded) and, strictly, commentary
with unescaped little-text markup (which LinkedIn cuts or breaks); 201 with `x-restli-id`; image
uploads; the page's posts; the organization; its posts' share statistics."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from standins.base import Answer, Call, Contract, StandIn

LINKEDIN_TOKEN = "AQV-linkedin-member-token-71f0"
AUTHOR = "urn:li:organization:2414183"
STATISTICS = (
    "uniqueImpressionsCount",
    "shareCount",
    "clickCount",
    "likeCount",
    "impressionCount",
    "commentCount",
)
_UNESCAPED = re.compile(r"(?<!\\)(?:\\\\)*[|{}@\[\]()<>#*_~]")


def _problem(status: int, message: str) -> Answer:
    return status, {"status": status, "message": message}, {}


class LinkedInStandIn(StandIn):
    """One organization page."""

    def __init__(self) -> None:
        super().__init__()
        self.revoked = False
        # The shares made, in order.
        self.shares: list[dict[str, Any]] = []
        self.images: dict[str, bool] = {}
        self.counts: dict[str, dict[str, Any]] = {}

    def react(self, urn: str, **counts: int) -> None:
        """Members' doings since the post went out: `clickCount=40`, `likeCount=12` …"""
        self.counts[urn].update(counts)

    def _partial_update(self, call: Call) -> Answer:
        """A post's commentary changed by a Rest.li partial update (204, no body)."""
        if call.headers.get("x-restli-method") != "PARTIAL_UPDATE":
            return _problem(400, "X-RestLi-Method PARTIAL_UPDATE is required to update a post")
        urn = unquote(call.path.removeprefix("/rest/posts/"))
        share = next((share for share in self.shares if share["id"] == urn), None)
        if share is None:
            return _problem(404, f"Post {urn} not found")
        changes = ((call.json or {}).get("patch") or {}).get("$set") or {}
        if set(changes) - {"commentary", "contentCallToActionLabel", "contentLandingPage"}:
            return _problem(422, "Only commentary and call-to-action fields can be updated")
        share.update(changes)
        return 204, {}, {}

    def text_of(self, remote_id: str) -> str:
        return next(str(s["commentary"]) for s in self.shares if s["id"] == remote_id)

    def holds(self, remote_id: str) -> bool:
        """Whether the post with this URN stands on LinkedIn."""
        return any(share["id"] == remote_id for share in self.shares)

    def respond(self, call: Call) -> Answer:
        if self.revoked or call.headers.get("authorization") != f"Bearer {LINKEDIN_TOKEN}":
            return _problem(401, "Invalid access token")
        if call.path.startswith("/upload/"):
            self.images[call.path.removeprefix("/upload/")] = True
            return 201, {}, {}
        version = call.headers.get("linkedin-version", "")
        if not re.fullmatch(r"\d{6}", version):
            return _problem(400, "A version must be present. Please specify a version")
        now = datetime.now(UTC)
        if (now.year * 12 + now.month) - (int(version[:4]) * 12 + int(version[4:])) >= 12:
            return _problem(426, f"Requested version {version} is not active")
        if call.headers.get("x-restli-protocol-version") != "2.0.0":
            return _problem(400, "X-Restli-Protocol-Version 2.0.0 is required")
        if call.path == "/rest/posts" and call.method == "POST":
            return self._post(call.json)
        if call.path.startswith("/rest/posts/") and call.method == "POST":
            return self._partial_update(call)
        if call.path.startswith("/rest/posts/") and call.method == "DELETE":
            # The post's URN, URL-encoded as Rest.li 2.0 wants a key in a path.
            urn = unquote(call.path.removeprefix("/rest/posts/"))
            if not any(share["id"] == urn for share in self.shares):
                return _problem(404, f"Post {urn} not found")
            self.shares = [share for share in self.shares if share["id"] != urn]
            return 204, {}, {}
        if call.path == "/rest/posts" and call.method == "GET":
            return 200, {"elements": list(reversed(self.shares))}, {}
        if call.path == "/rest/images" and call.query.get("action") == "initializeUpload":
            image = f"urn:li:image:C4E{next(self.ids)}"
            self.images[image] = False
            upload = f"{self.url}/upload/{image}"
            return 200, {"value": {"uploadUrl": upload, "image": image}}, {}
        if call.path == "/rest/organizationalEntityShareStatistics":
            return self._statistics(call.query)
        if call.path.startswith("/rest/organizations/"):
            return 200, {"id": 2414183, "localizedName": "News.de"}, {}
        return _problem(404, f"No resource for {call.method} {call.path}")

    def _statistics(self, query: dict[str, str]) -> Answer:
        """Lifetime statistics of the organization's shares named in `shares=List(…)`."""
        if query.get("q") != "organizationalEntity" or query.get("organizationalEntity") != AUTHOR:
            return _problem(403, "Not enough permissions to read this organization's statistics")
        listed = re.fullmatch(r"List\((.*)\)", query.get("shares", ""))
        if listed is None:
            return _problem(400, "Invalid param: shares must be a List")
        elements = [
            {
                "share": urn,
                "organizationalEntity": AUTHOR,
                "totalShareStatistics": dict(self.counts[urn]),
            }
            for urn in listed.group(1).split(",")
            if urn in self.counts
        ]
        return 200, {"elements": elements, "paging": {"count": 10, "start": 0, "links": []}}, {}

    def _post(self, body: dict[str, Any]) -> Answer:
        if body.get("author") != AUTHOR:
            return _problem(403, "Not enough permissions to post as this author")
        commentary = str(body.get("commentary", ""))
        if len(commentary.encode("utf-16-le")) // 2 > 3000:
            return _problem(422, "/commentary :: length must be at most 3000")
        if _UNESCAPED.search(commentary):
            return _problem(422, "/commentary :: reserved characters must be escaped")
        article = (body.get("content") or {}).get("article") or {}
        if not str(article.get("source", "")).startswith(("http://", "https://")):
            return _problem(422, "/content/article/source :: must be a URL")
        thumbnail = article.get("thumbnail")
        if thumbnail is not None and not self.images.get(thumbnail):
            return _problem(422, "/content/article/thumbnail :: image not uploaded")
        urn = f"urn:li:share:{7_200_000_000_000_000_000 + next(self.ids)}"
        made = int(datetime.now(UTC).timestamp() * 1000)
        self.shares.append({"id": urn, "createdAt": made, "lastModifiedAt": made, **body})
        self.counts[urn] = dict.fromkeys(STATISTICS, 0) | {"engagement": 0.0}
        return 201, {}, {"x-restli-id": urn}


CONTRACTS = (
    Contract(
        "linkedin",
        LinkedInStandIn,
        "/rest/posts",
        lambda: {
            "rate_limited": (429, {"status": 429, "message": "Too Many Requests"}, {}),
            "transient": (503, {"status": 503, "message": "Service Unavailable"}, {}),
            "permanent": (
                422,
                {"status": 422, "message": "ERROR :: /commentary :: is too long"},
                {},
            ),
            "auth": (
                401,
                {
                    "status": 401,
                    "serviceErrorCode": 65600,
                    "code": "INVALID_ACCESS_TOKEN",
                    "message": "Invalid access token",
                },
                {},
            ),
        },
        "is too long",
        lambda _: {"author": AUTHOR},
        {"LINKEDIN_ACCESS_TOKEN": LINKEDIN_TOKEN},
        after_lost_answer="sent",
        audience=lambda api, urn, readers: api.react(
            urn,
            impressionCount=readers * 25,
            clickCount=readers * 2,
            likeCount=readers,
            commentCount=readers // 10,
            shareCount=readers // 15,
        ),
        remove_call=("DELETE", "/rest/posts/"),
        edit_call=("POST", "/rest/posts/"),
    ),
)

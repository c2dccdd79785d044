"""LinkedIn: an article share on the newsroom's organization page through the versioned Posts API,
headline and bullets as the commentary, the article as the share's content (title, description,
thumbnail).

Facts, from learn.microsoft.com/linkedin/marketing (Posts API, Images API, "little text"
format; checked 2026-11):
- `POST https://api.linkedin.com/rest/posts` with `LinkedIn-Version: YYYYMM` (a version is
  served for a year; an old one answers 426) and `X-Restli-Protocol-Version: 2.0.0`; the body
  has `author` (`urn:li:organization:…`), `commentary`, `visibility` PUBLIC, `distribution`,
  `content.article` (`source`, `title`, `description`, `thumbnail` an image URN) and
  `lifecycleState` PUBLISHED; the answer is 201 with the post's URN in `x-restli-id`.
- The commentary is "little text": `\\ | { } @ [ ] ( ) < > # * _ ~` are markup and must be
  escaped with a backslash, else a post is cut or broken. It takes 3,000 characters; they are
  counted here after escaping (the safe side: the count never falls short).
- Thumbnails: `POST /rest/images?action=initializeUpload` with the owner gives an `uploadUrl`
  and the image URN; the image is then `PUT` there.
- Errors: 401 expired or revoked token (tokens last 60 days), 403 missing permission
  (`w_organization_social`), 422/400 invalid post, 429 throttled (no Retry-After: an hour),
  426 version no longer served, 5xx.
- `GET /rest/posts?q=author&author=…` lists the page's posts: a post left unclear by a lost
  answer is looked up there by its commentary.
- Results (Community Management, "Organization Share Statistics", checked 2026-12): `GET
  /rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity=…
  &shares=List(…)` with the posts' URNs (Rest.li 2.0: the URNs encoded, the list's brackets
  and commas not), 20 a call here; each element names its `share` and has
  `totalShareStatistics` (impressionCount, clickCount, likeCount, commentCount, shareCount);
  organic activity only, within the last 12 months (an older post is left out). Needs
  `rw_organization_admin` (an administrator's token).
The token comes from LINKEDIN_ACCESS_TOKEN (or `token_env`).
"""

from __future__ import annotations

import re
from datetime import datetime
from html import escape
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from pydantic import Field

from publisher.articles import Article
from publisher.channels.base import (
    CLOCK_SKEW,
    Channel,
    ChannelError,
    Finding,
    ImageUnavailable,
    Outgoing,
    Receipt,
    Removed,
    Result,
    Teaser,
    TokenOptions,
)
from publisher.channels.http import HttpSession, by_status, retry_after
from publisher.channels.secrets import redact, secret
from publisher.channels.text import same_text, share_query, utf16_length

TOKEN_ENV = "LINKEDIN_ACCESS_TOKEN"
API = "https://api.linkedin.com"
IMAGE_LIMIT = 10 * 1024 * 1024
_RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")


def little_text(text: str) -> str:
    """`text` as LinkedIn's commentary format takes it: every reserved character escaped."""
    return _RESERVED.sub(r"\\\1", text)


def plain_text(commentary: str) -> str:
    """A commentary as readers see it (the escapes taken out)."""
    return re.sub(r"\\(.)", r"\1", commentary)


class LinkedInOptions(TokenOptions):
    author: str | None = Field(default=None, pattern=r"^urn:li:(organization|person):\w+$")
    # A version LinkedIn serves (each for a year): update it at least once a year.
    version: str = Field(default="202610", pattern=r"^\d{6}$")
    thumbnail: bool = True

    required: ClassVar[tuple[str, ...]] = ("author",)


class LinkedIn(Channel):
    """Shares articles on a LinkedIn organization page."""

    type = "linkedin"
    display_name = "LinkedIn"
    order = 60
    icon = (
        "M20.4 20.5h-3.6v-5.6c0-1.3 0-3-1.8-3s-2.1 1.4-2.1 2.9v5.7H9.3V9h3.4v1.6c.5-.9 1.6-1.8 "
        "3.4-1.8 3.6 0 4.3 2.4 4.3 5.5zM5.3 7.4a2.1 2.1 0 1 1 0-4.2 2.1 2.1 0 0 1 0 4.2zm1.8 "
        "13.1H3.5V9h3.6zM22.2 0H1.8C.8 0 0 .8 0 1.7v20.6c0 .9.8 1.7 1.8 1.7h20.4c1 0 1.8-.8 "
        "1.8-1.7V1.7C24 .8 23.2 0 22.2 0z"
    )
    preview_css = (
        ".pv-linkedin{background:#fff;border:1px solid #e0dfdc;border-radius:8px}"
        ".pv-linkedin>p{margin:0;padding:.8em;white-space:pre-wrap}.pv-linkedin .pv-card{"
        "display:flex;flex-direction:column;background:#eef3f8;padding:.5em .8em}"
        ".pv-linkedin .pv-img{display:block;width:calc(100% + 1.6em);max-height:220px;"
        "object-fit:cover;margin:-.5em -.8em .5em}.pv-linkedin small{color:#56687a}"
    )
    limit = 3000
    unit = "characters"
    can_lookup = True
    results_per_call = 20
    card_fetchers = ("linkedinbot",)
    Options = LinkedInOptions
    config: LinkedInOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.root = (self.api_base or API).rstrip("/")
        self.http = HttpSession(self.name, self.config.timeout)

    def measure(self, text: str) -> int:
        return utf16_length(little_text(text))

    def link(self, url: str, label: str) -> str:
        return ""

    def carries_link(self, text: str, link: str) -> bool:
        return True  # the article is the share's content, not part of its text

    def fields(self, article: Article, text: str, link: str) -> dict[str, Any]:
        image = str(article.image.url) if article.image and self.config.thumbnail else None
        description = article.lead or " ".join(article.bullets)
        return {"title": article.headline, "description": description[:400], "image": image}

    def share_url(self, headline: str, teaser: Teaser) -> str:
        return "https://www.linkedin.com/sharing/share-offsite/?" + share_query(url=teaser.link)

    def preview(self, text: str, article: Article) -> str:
        host = escape(urlsplit(article.url).hostname or "")
        return (
            f'<div class="pv-linkedin"><p>{escape(text)}</p><div class="pv-card">'
            f"{self.preview_image(article)}<b>{escape(article.headline)}</b>"
            f"<small>{host}</small></div></div>"
        )

    def _token(self) -> str:
        return secret(self.name, self.config.token_env or TOKEN_ENV)

    def _call(self, method: str, url: str, token: str, **kwargs: Any) -> Any:
        headers = {
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": self.config.version,
            "X-Restli-Protocol-Version": "2.0.0",
            **kwargs.pop("headers", {}),
        }
        response = self.http.request(method, url, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise classify(self.name, response)
        return response

    def remove(self, remote_id: str) -> Removed:
        """`DELETE /rest/posts/{urn}` (the URN URL-encoded); a post LinkedIn no longer has is
        gone already."""
        url = f"{self.root}/rest/posts/{quote(remote_id, safe='')}"
        try:
            self._call("DELETE", url, self._token())
        except ChannelError as exc:
            if exc.code == "404":
                return "already_gone"
            raise
        return "removed"

    def edit(self, remote_id: str, text: str) -> None:
        """`POST /rest/posts/{urn}` as a Rest.li partial update of the post's commentary (the
        Posts API lets an organization's post be edited so); LinkedIn answers 204."""
        self._call(
            "POST",
            f"{self.root}/rest/posts/{quote(remote_id, safe='')}",
            self._token(),
            json={"patch": {"$set": {"commentary": little_text(text)}}},
            headers={"X-RestLi-Method": "PARTIAL_UPDATE"},
        )

    def send(self, message: Outgoing) -> Receipt:
        token = self._token()
        article: dict[str, Any] = {
            "source": message.link,
            "title": str(message.fields.get("title") or ""),
            "description": str(message.fields.get("description") or ""),
        }
        note = None
        if message.fields.get("image"):
            try:
                article["thumbnail"] = self._thumbnail(str(message.fields["image"]), token)
            except ChannelError as exc:
                if exc.kind not in ("permanent", "transient"):
                    raise
                note = f"thumbnail left off: {exc.message}"
        body = {
            "author": self.config.author,
            "commentary": little_text(message.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "content": {"article": article},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        response = self._call("POST", f"{self.root}/rest/posts", token, json=body)
        urn = response.headers.get("x-restli-id") or ""
        return Receipt(remote_id=urn, permalink=_permalink(urn), note=note)

    def _thumbnail(self, url: str, token: str) -> str:
        if self.fetch_image is None:
            raise ChannelError("permanent", f"{self.name}: thumbnail: no way to fetch it here")
        try:
            image = self.fetch_image(url, IMAGE_LIMIT)
        except ImageUnavailable as exc:
            raise ChannelError("permanent", f"{self.name}: thumbnail: {exc}") from None
        started = self._call(
            "POST",
            f"{self.root}/rest/images?action=initializeUpload",
            token,
            json={"initializeUploadRequest": {"owner": self.config.author}},
        ).json()["value"]
        self._call(
            "PUT",
            started["uploadUrl"],
            token,
            data=image.body,
            headers={"Content-Type": image.content_type},
        )
        return str(started["image"])

    def lookup(self, message: Outgoing, since: datetime) -> list[Receipt]:
        author = quote(str(self.config.author), safe="")
        answer = self._call(
            "GET",
            f"{self.root}/rest/posts?q=author&author={author}&count=20&sortBy=LAST_MODIFIED",
            self._token(),
        ).json()
        # The finder has no time filter: posts made before the attempt (createdAt, ms) are
        # other posts, whatever their text.
        start = (since - CLOCK_SKEW).timestamp() * 1000
        found = [
            element
            for element in answer.get("elements") or []
            if isinstance(element.get("createdAt"), int | float) and element["createdAt"] >= start
            and same_text(plain_text(str(element.get("commentary") or "")), message.text)
        ]  # fmt: skip
        found.sort(key=lambda element: element["createdAt"])
        return [Receipt(remote_id=str(e["id"]), permalink=_permalink(str(e["id"]))) for e in found]

    def results(self, remote_ids: list[str]) -> dict[str, Result]:
        author = quote(str(self.config.author), safe="")
        shares = ",".join(quote(urn, safe="") for urn in remote_ids)
        answer = self._call(
            "GET",
            f"{self.root}/rest/organizationalEntityShareStatistics?q=organizationalEntity"
            f"&organizationalEntity={author}&shares=List({shares})",
            self._token(),
        ).json()
        found = {}
        for element in answer.get("elements") or []:
            urn = element.get("share") or element.get("ugcPost")
            totals = element.get("totalShareStatistics")
            if urn not in remote_ids or not isinstance(totals, dict):
                continue
            found[str(urn)] = Result.of(
                totals,
                impressions=totals.get("impressionCount"),
                platform_clicks=totals.get("clickCount"),
                likes=totals.get("likeCount"),
                replies=totals.get("commentCount"),
                shares=totals.get("shareCount"),
            )
        return found

    def check(self) -> list[Finding]:
        organization = str(self.config.author).rsplit(":", 1)[-1]
        answer = self._call(
            "GET", f"{self.root}/rest/organizations/{organization}", self._token()
        ).json()
        name = answer.get("localizedName") or answer.get("vanityName") or organization
        return [Finding("ok", f"organization {name} reachable (version {self.config.version})")]

    def close(self) -> None:
        self.http.close()


def _permalink(urn: str) -> str | None:
    return f"https://www.linkedin.com/feed/update/{urn}/" if urn else None


def classify(name: str, response: Any) -> ChannelError:
    """The engine's reading of a LinkedIn error answer."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = str(body.get("message") or f"HTTP {status}") if isinstance(body, dict) else ""
    message = redact(f"{name}: {detail} (HTTP {status})")
    if status == 426:
        return ChannelError("auth", message + ": set a newer version", code="426", fix="settings")
    wait = retry_after(response.headers.get("Retry-After"), 3600.0)
    return by_status(status, message, wait=wait)

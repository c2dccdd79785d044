"""Facebook Page: a post is a `message` plus a `link`; the link preview comes from the article
page's Open Graph tags, so the message carries headline and bullets but not the URL.

Posts go to the Graph API (`POST /{version}/{page-id}/feed`, or `/{page-id}/photos` with the
article's image when `photo = true`) with a Page access token (FACEBOOK_PAGE_TOKEN, or the
channel's `token_env`) that has pages_manage_posts and pages_read_engagement.

Results (Graph API reference: Page Insights, "Post metrics", and multiple-ID read requests;
checked 2026-12): up to 50 posts a call with `GET /?ids=…&fields=shares,comments.summary(true)
.limit(0),insights.metric(post_media_view,post_clicks,post_reactions_by_type_total)`. The
views metric replaced `post_impressions`, deprecated in 2025 (an invalid metric error since);
`post_clicks` counts clicks anywhere on the post; reactions come by type and are added up;
`shares` is left out of the answer while there are none. One id the Graph API does not know
(a deleted post) fails the whole call with code 803: the batch is then asked post by post.
The token needs `read_insights` as well.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any, ClassVar
from urllib.parse import urlsplit

from publisher.articles import Article
from publisher.channels.base import (
    CLOCK_SKEW,
    Channel,
    ChannelError,
    Finding,
    Outgoing,
    Receipt,
    Removed,
    Result,
    Teaser,
)
from publisher.channels.graph import (
    GONE,
    GraphClient,
    GraphOptions,
    insight_values,
    no_such_object,
    token_findings,
)
from publisher.channels.secrets import secret
from publisher.channels.text import same_text, share_query, utf16_length

TOKEN_ENV = "FACEBOOK_PAGE_TOKEN"
RESULT_FIELDS = (
    "shares,comments.summary(true).limit(0),"
    "insights.metric(post_media_view,post_clicks,post_reactions_by_type_total)"
)


class FacebookOptions(GraphOptions):
    page_id: str | None = None
    photo: bool = False

    required: ClassVar[tuple[str, ...]] = ("page_id",)


class Facebook(Channel):
    """Posts to a Facebook Page."""

    type = "facebook"
    display_name = "Facebook"
    order = 20
    results_per_call = 50
    card_fetchers = ("facebookexternalhit", "facebot", "meta-externalagent")
    share_rank = 2
    icon = (
        "M13.5 22v-8h2.7l.4-3.1h-3.1V8.9c0-.9.3-1.5 1.6-1.5h1.7V4.6a22 22 0 0 0-2.4-.1c-2.4 "
        "0-4 1.5-4 4.1v2.3H7.6V14h2.8v8z"
    )
    preview_css = (
        ".pv-facebook{border:1px solid #dadde1;border-radius:8px;background:#fff}"
        ".pv-facebook>p{margin:0;padding:.8em}.pv-facebook .pv-card{display:flex;"
        "flex-direction:column;background:#f0f2f5;padding:.6em .8em;"
        "border-block-start:1px solid #dadde1}"
        ".pv-facebook .pv-img{display:block;width:calc(100% + 1.6em);max-height:220px;"
        "object-fit:cover;margin:-.6em -.8em .5em}"
        ".pv-facebook small{text-transform:uppercase;color:#65676b}"
    )
    limit = 63_206
    unit = "characters"
    can_lookup = True
    Options = FacebookOptions
    config: FacebookOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = GraphClient(self.name, self.api_base, self.config)

    def measure(self, text: str) -> int:
        return utf16_length(text)

    def link(self, url: str, label: str) -> str:
        return ""

    def carries_link(self, text: str, link: str) -> bool:
        return True  # the link goes beside the message, never in it

    def fields(self, article: Article, text: str, link: str) -> dict[str, Any]:
        photo = str(article.image.url) if article.image else None
        return {"message": text, "photo": photo}

    def share_url(self, headline: str, teaser: Teaser) -> str:
        return "https://www.facebook.com/sharer/sharer.php?" + share_query(u=teaser.link)

    def preview(self, text: str, article: Article) -> str:
        """The page post with the link card Facebook makes from the article's Open Graph tags."""
        image = self.preview_image(article)
        host = urlsplit(article.url).hostname or ""
        return (
            f'<div class="pv-facebook"><p>{self.preview_html(text)}</p><div class="pv-card">'
            f"{image}<small>{escape(host)}</small><b>{escape(article.headline)}</b>"
            f"<span>{escape(article.lead or '')}</span></div></div>"
        )

    def _token(self) -> str:
        return secret(self.name, self.config.token_env or TOKEN_ENV)

    def send(self, message: Outgoing) -> Receipt:
        token = self._token()
        photo = message.fields.get("photo")
        if self.config.photo and photo:
            answer = self.client.call(
                "POST",
                f"{self.config.page_id}/photos",
                token,
                data={"url": photo, "caption": f"{message.text}\n\n{message.link}"},
            )
            post_id = str(answer.get("post_id") or answer.get("id"))
        else:
            answer = self.client.call(
                "POST",
                f"{self.config.page_id}/feed",
                token,
                data={"message": message.text, "link": message.link},
            )
            post_id = str(answer["id"])
        return Receipt(remote_id=post_id, permalink=f"https://www.facebook.com/{post_id}")

    def remove(self, remote_id: str) -> Removed:
        """`DELETE /{post-id}`; an object the Graph API no longer has (code 100, subcode 33)
        is gone already."""
        try:
            self.client.call("DELETE", remote_id, self._token())
        except ChannelError as exc:
            if exc.code == GONE:
                return "already_gone"
            raise
        return "removed"

    def edit(self, remote_id: str, text: str) -> None:
        """`POST /{page-post-id}` with the new `message` (a Page post's text can be updated
        with pages_manage_posts); the Graph API answers `{"success": true}`."""
        self.client.call("POST", remote_id, self._token(), data={"message": text})

    def lookup(self, message: Outgoing, since: datetime) -> list[Receipt]:
        start = int((since - CLOCK_SKEW).timestamp())
        answer = self.client.call(
            "GET",
            f"{self.config.page_id}/feed",
            self._token(),
            params={"fields": "id,message,created_time", "since": start, "limit": 100},
        )
        # The feed lists the newest first.
        return [
            Receipt(remote_id=str(post["id"]), permalink=f"https://www.facebook.com/{post['id']}")
            for post in reversed(answer.get("data") or [])
            if same_text(str(post.get("message") or ""), message.text)
        ]

    def results(self, remote_ids: list[str]) -> dict[str, Result]:
        try:
            return self._results(remote_ids)
        except ChannelError as exc:
            if not no_such_object(exc):
                raise
        # A post of them is gone (deleted on Facebook): the others are asked one by one.
        if len(remote_ids) == 1:
            return {}
        found: dict[str, Result] = {}
        for post_id in remote_ids:
            found |= self.results([post_id])
        return found

    def _results(self, remote_ids: list[str]) -> dict[str, Result]:
        answer = self.client.call(
            "GET",
            "",
            self._token(),
            params={"ids": ",".join(remote_ids), "fields": RESULT_FIELDS},
        )
        found = {}
        for post_id in remote_ids:
            node = answer.get(post_id)
            if not isinstance(node, dict):
                continue
            insights = insight_values(node.get("insights"))
            reactions = insights.get("post_reactions_by_type_total")
            comments = (node.get("comments") or {}).get("summary") or {}
            found[post_id] = Result.of(
                node,
                impressions=insights.get("post_media_view"),
                platform_clicks=insights.get("post_clicks"),
                likes=sum(reactions.values()) if isinstance(reactions, dict) else None,
                replies=comments.get("total_count"),
                shares=(node.get("shares") or {}).get("count", 0),
            )
        return found

    def check(self) -> list[Finding]:
        token = self._token()
        page = self.client.call(
            "GET", str(self.config.page_id), token, params={"fields": "id,name"}
        )
        found = [Finding("ok", f"page {page.get('name', '?')} ({page.get('id')}) reachable")]
        return found + token_findings(self.client, token)

    def close(self) -> None:
        self.client.close()

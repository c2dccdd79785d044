"""Threads: a text post on the newsroom's profile with the article as its link attachment (Threads
shows the link's preview card), made in two steps as the Threads API requires.

Facts, from developers.facebook.com/documentation/threads (checked 2026-11):
- `POST /{threads-user-id}/threads` with `media_type=TEXT`, `text` and `link_attachment` makes a
  media container; `POST /{threads-user-id}/threads_publish` with its `creation_id` publishes
  it; `GET /{media-id}?fields=permalink` gives the post's address (posts).
- Text posts are limited to 500 characters; emojis count as their number of UTF-8 bytes
  (posts, "Limitations"). More than 5 links fail with THREADS_API__LINK_LIMIT_EXCEEDED.
- Errors come in the Graph API's shape (`error.code`: 190 token, 4/17/32/613 throttling, 100
  invalid parameter); profiles may publish 250 posts in 24 hours.
- The long-lived token (THREADS_ACCESS_TOKEN, or `token_env`) lasts 60 days; `GET /debug_token`
  tells when it expires, and `channels check` warns as for Facebook. It needs
  `threads_basic` and `threads_content_publish`.
- `GET /{threads-user-id}/threads?fields=id,text,permalink` lists the profile's posts: a post
  left unclear by a lost answer is looked up there by its text.
- Results: `GET /{media-id}/insights?metric=views,likes,replies,reposts,quotes,shares`, one post
  a call (insights, "Media Insights"; the token needs `threads_manage_insights`), each metric as
  `{"name", "period": "lifetime", "values": [{"value"}]}`. A deleted post answers code 100.
  Threads counts no link clicks per post.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any, ClassVar
from urllib.parse import urlsplit

import regex

from publisher.articles import Article
from publisher.channels.base import (
    CLOCK_SKEW,
    REPLY_TO,
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
from publisher.channels.text import graphemes, same_text, share_query

TOKEN_ENV = "THREADS_ACCESS_TOKEN"
THREADS_API = "https://graph.threads.net"
_EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}")
# Threads' names of a post's insights, and ours.
INSIGHTS = {
    "views": "impressions",
    "likes": "likes",
    "replies": "replies",
    "reposts": "reposts",
    "quotes": "quotes",
    "shares": "shares",
}


def threads_length(text: str) -> int:
    """`text`'s length as Threads counts it: characters, an emoji as its UTF-8 bytes."""
    return sum(
        len(cluster.encode()) if _EMOJI.search(cluster) else len(cluster)
        for cluster in graphemes(text)
    )


class ThreadsOptions(GraphOptions):
    user_id: str | None = None
    api_version: str = "v1.0"

    required: ClassVar[tuple[str, ...]] = ("user_id",)


class Threads(Channel):
    """Posts to a Threads profile."""

    type = "threads"
    replies = True
    # One post a call: insights are read per post.
    results_per_call = 1
    card_fetchers = ("facebookexternalhit", "meta-externalagent")
    display_name = "Threads"
    order = 55
    icon = (
        "M16.9 11.1l-.3-.1c-.2-3.1-1.9-4.8-4.7-4.8-1.7 0-3.1.7-3.9 2l1.5 1c.6-.9 1.5-1.1 2.4-1.1 "
        "1 0 1.7.3 2.1.9.3.4.5 1 .6 1.7-.8-.1-1.7-.2-2.6-.1-2.6.1-4.3 1.7-4.2 3.8.1 1.1.6 2 1.5 "
        "2.6.8.5 1.8.8 2.9.7 1.4-.1 2.5-.6 3.3-1.6.6-.8 1-1.7 1.1-3 .7.4 1.2 1 1.4 1.6.5 1.2.5 "
        "3.1-1 4.6-1.3 1.3-2.9 1.9-5.3 1.9-2.7 0-4.7-.9-6-2.6-1.2-1.6-1.9-3.9-1.9-6.8s.6-5.2 "
        "1.9-6.8c1.3-1.7 3.3-2.5 6-2.6 2.7 0 4.8.9 6.1 2.6.7.8 1.1 1.9 1.4 3.1l1.8-.5c-.4-1.5-1-"
        "2.8-1.8-3.8C17.4 1.1 15 0 11.9 0 8.6 0 6.2 1.1 4.6 3.2 3.2 5 2.5 7.6 2.5 10.9s.7 5.9 2.1 "
        "7.7c1.6 2.1 4 3.2 7.3 3.2 2.9 0 4.9-.8 6.6-2.4 2.2-2.2 2.1-4.9 1.4-6.6-.5-1.2-1.5-2.2-"
        "3-2.7zm-5 4.6c-1.1.1-2.3-.4-2.3-1.5 0-.8.6-1.7 2.4-1.8h.6c.7 0 1.3.1 1.9.2-.2 2.5-1.4 "
        "3-2.6 3.1z"
    )
    preview_css = (
        ".pv-threads{background:#fff;border:1px solid #dbdbdb;border-radius:12px;padding:.8em}"
        ".pv-threads p{margin:0;white-space:pre-wrap}.pv-threads .pv-card{display:flex;"
        "flex-direction:column;border:1px solid #dbdbdb;border-radius:10px;overflow:hidden;"
        "margin-block-start:.6em}.pv-threads .pv-card b,.pv-threads .pv-card small{padding:0 .6em}"
        ".pv-threads .pv-card small{color:#595959;padding-block:.3em .5em}"
        ".pv-threads .pv-img{display:block;width:100%;max-height:200px;object-fit:cover}"
    )
    limit = 500
    unit = "characters"
    can_lookup = True
    Options = ThreadsOptions
    config: ThreadsOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = GraphClient(self.name, self.api_base or THREADS_API, self.config)

    def measure(self, text: str) -> int:
        return threads_length(text)

    def link(self, url: str, label: str) -> str:
        return ""

    def carries_link(self, text: str, link: str) -> bool:
        return True  # the link is the post's attachment, never in its text

    def share_url(self, headline: str, teaser: Teaser) -> str:
        return "https://www.threads.net/intent/post?" + share_query(
            text=f"{headline} {teaser.link}"
        )

    def preview(self, text: str, article: Article) -> str:
        host = escape(urlsplit(article.url).hostname or "")
        card = (
            f'<div class="pv-card">{self.preview_image(article)}<b>{escape(article.headline)}</b>'
            f"<small>{host}</small></div>"
        )
        return f'<div class="pv-threads"><p>{escape(text)}</p>{card}</div>'

    def _token(self) -> str:
        return secret(self.name, self.config.token_env or TOKEN_ENV)

    def remove(self, remote_id: str) -> Removed:
        """`DELETE /{threads-media-id}`; a post Threads no longer has (code 100, subcode 33) is
        gone already."""
        try:
            self.client.call("DELETE", remote_id, self._token())
        except ChannelError as exc:
            if exc.code == GONE:
                return "already_gone"
            raise
        return "removed"

    def send(self, message: Outgoing) -> Receipt:
        token = self._token()
        user = self.config.user_id
        data = {"media_type": "TEXT", "text": message.text}
        if message.fields.get(REPLY_TO):
            # A correction under the post it corrects (the container's reply_to_id).
            data["reply_to_id"] = str(message.fields[REPLY_TO])
        else:
            data["link_attachment"] = message.link
        container = self.client.call("POST", f"{user}/threads", token, data=data)
        published = self.client.call(
            "POST", f"{user}/threads_publish", token, data={"creation_id": container["id"]}
        )
        media_id = str(published["id"])
        try:
            permalink = self.client.call(
                "GET", media_id, token, params={"fields": "permalink"}
            ).get("permalink")
        except ChannelError:  # the post is out; its address is a nicety
            permalink = None
        return Receipt(remote_id=media_id, permalink=permalink)

    def lookup(self, message: Outgoing, since: datetime) -> list[Receipt]:
        start = int((since - CLOCK_SKEW).timestamp())
        answer = self.client.call(
            "GET",
            f"{self.config.user_id}/threads",
            self._token(),
            params={"fields": "id,text,permalink,timestamp", "since": start},
        )
        # The profile's posts are listed newest first.
        return [
            Receipt(remote_id=str(found["id"]), permalink=found.get("permalink"))
            for found in reversed(answer.get("data") or [])
            if same_text(str(found.get("text") or ""), message.text)
        ]

    def results(self, remote_ids: list[str]) -> dict[str, Result]:
        token = self._token()
        found = {}
        for media_id in remote_ids:
            try:
                answer = self.client.call(
                    "GET", f"{media_id}/insights", token, params={"metric": ",".join(INSIGHTS)}
                )
            except ChannelError as exc:
                if no_such_object(exc):
                    continue  # deleted on Threads: nothing more to measure
                raise
            values = insight_values(answer)
            found[media_id] = Result.of(
                answer, **{ours: values.get(theirs) for theirs, ours in INSIGHTS.items()}
            )
        return found

    def check(self) -> list[Finding]:
        token = self._token()
        profile = self.client.call(
            "GET", str(self.config.user_id), token, params={"fields": "id,username"}
        )
        found = [Finding("ok", f"profile @{profile.get('username', '?')} reachable")]
        return found + token_findings(self.client, token)

    def close(self) -> None:
        self.client.close()

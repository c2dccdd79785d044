"""X (Twitter): plain text, 280 weighted characters as the official twitter-text library counts them
(every URL counts 23, CJK and emoji count 2).

Posts go through `tweepy.Client` (API v2 `POST /2/tweets`) with OAuth 1.0a user context
(X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET) or an OAuth 2 user token
(`auth = "oauth2"`, X_OAUTH2_USER_TOKEN). tweepy builds its URLs on a fixed host; the client's
own requests session sends them to `api_base` instead, with timeouts tweepy does not set.
Images go through API v2 `POST /2/media/upload` on that same session: tweepy 4.17 only knows
the v1.1 upload endpoint X retired in 2025.

Results (docs.x.com/x-api/fundamentals/metrics and /x-api/posts/get-posts-by-ids): `GET
/2/tweets?ids=` takes up to 100 ids, with `tweet.fields=public_metrics` (likes, reposts,
replies, quotes, bookmarks, impressions) and `non_public_metrics` (impressions, link clicks,
profile clicks), the latter only for the account's own posts of the last 30 days and only in
user context: a post it is refused for is left out of `data` with a `not-authorized-for-field`
error, and is asked for again with its public numbers alone. X has no count of shares.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import cache
from html import escape
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from twitter_text import parse_tweet
from twitter_text.regexp.invalid_chars import invalid_chars

from publisher.articles import Article
from publisher.channels.base import (
    CLOCK_SKEW,
    REPLY_TO,
    Channel,
    ChannelError,
    ComposeOptions,
    Finding,
    ImageUnavailable,
    NetworkOptions,
    Outgoing,
    Problem,
    Receipt,
    Removed,
    Result,
    Teaser,
)
from publisher.channels.http import network_error
from publisher.channels.secrets import secret
from publisher.channels.text import same_text, share_query, truncate, urls_in
from publisher.channels.x_errors import classify, http_exception
from publisher.channels.x_length import RULES, weighted_length

if TYPE_CHECKING:
    import requests
    import tweepy

X_API_BASE = "https://api.x.com"
TWEEPY_HOST = "https://api.twitter.com"
OAUTH1_ENV = {
    "api_key_env": "X_API_KEY",
    "api_secret_env": "X_API_SECRET",
    "access_token_env": "X_ACCESS_TOKEN",
    "access_token_secret_env": "X_ACCESS_TOKEN_SECRET",
}
OAUTH2_ENV = "X_OAUTH2_USER_TOKEN"
IMAGE_LIMIT = 5_000_000
# What a post's results are asked with: all its numbers, or (past 30 days) its public ones.
PUBLIC_METRICS = ("public_metrics",)
ALL_METRICS = ("public_metrics", "non_public_metrics")
# Characters of a link's address X shows before "…" (its t.co links display this way).
DISPLAY_LENGTH = 23


class XOptions(NetworkOptions):
    auth: Literal["oauth1", "oauth2"] = "oauth1"
    api_key_env: str = OAUTH1_ENV["api_key_env"]
    api_secret_env: str = OAUTH1_ENV["api_secret_env"]
    access_token_env: str = OAUTH1_ENV["access_token_env"]
    access_token_secret_env: str = OAUTH1_ENV["access_token_secret_env"]
    token_env: str = OAUTH2_ENV
    thread: bool = False
    image: bool = True


@cache
def _api_base_session() -> Callable[[str, float], requests.Session]:
    """tweepy's session class, sending what tweepy addresses to api.twitter.com to `api_base`
    (made on first use: requests is only imported by channels that send)."""
    import requests

    class ApiBaseSession(requests.Session):
        """The URL is rewritten before the request is prepared, so an OAuth 1.0a signature
        covers the address the request really goes to."""

        def __init__(self, api_base: str, timeout: float) -> None:
            super().__init__()
            self.api_base = api_base.rstrip("/")
            self.timeout = timeout

        def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
            if isinstance(url, str) and url.startswith(TWEEPY_HOST):
                url = self.api_base + url[len(TWEEPY_HOST) :]
            kwargs.setdefault("timeout", (min(self.timeout, 5.0), self.timeout))
            return super().request(method, url, *args, **kwargs)

    return ApiBaseSession


def display_url(url: str) -> str:
    """How X shows a link in a post: without scheme and "www.", cut after 23 characters."""
    shown = re.sub(r"^https?://(www\.)?", "", url, flags=re.IGNORECASE)
    return shown if len(shown) <= DISPLAY_LENGTH else shown[:DISPLAY_LENGTH] + "…"


class X(Channel):
    """Posts to an X account."""

    type = "x"
    replies = True
    display_name = "X"
    order = 10
    share_rank = 3
    icon = (
        "M17.8 3h3.1l-6.8 7.7L22 21h-6.2l-4.9-6.4L5.3 21H2.2l7.2-8.3L1.8 3h6.4l4.4 5.8zm-1.1 "
        "16.2h1.7L7.4 4.7H5.5z"
    )
    preview_css = (
        ".pv-x{display:flex;gap:.6em;border:1px solid #cfd9de;border-radius:12px;padding:.8em;"
        "background:#fff}.pv-x .pv-avatar{width:40px;height:40px;border-radius:50%;"
        "background:#1d9bf0;flex:none}.pv-x .pv-handle{color:#536471}.pv-x p{margin:.3em 0 0}"
        ".pv-x .pv-link{color:#1a73b8}.pv-x .pv-card{margin-block-start:.6em;border:1px solid "
        "#cfd9de;border-radius:12px;overflow:hidden;display:flex;flex-direction:column}"
        ".pv-x .pv-card small,.pv-x .pv-card span{padding:0 .7em}"
        ".pv-x .pv-card small{color:#536471;padding-block-start:.4em}"
        ".pv-x .pv-card span{padding-block-end:.5em}"
        ".pv-x .pv-img{display:block;width:100%;max-height:220px;object-fit:cover}"
    )
    limit = RULES["max_weighted_tweet_length"]
    unit = "weighted characters"
    can_lookup = True
    results_per_call = 100
    card_fetchers = ("twitterbot",)
    Options = XOptions
    config: XOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client: tweepy.Client | None = None

    def measure(self, text: str) -> int:
        return weighted_length(text)

    def compose(self, article: Article, options: ComposeOptions) -> Teaser:
        if not (self.config.thread and article.bullets):
            return super().compose(article, options)
        # Thread mode: headline and link first, the bullets as replies (see `fields`).
        teaser = super().compose(article.model_copy(update={"bullets": []}), options)
        return replace(teaser, fields=self.fields(article, teaser.text, teaser.link))

    def fields(self, article: Article, text: str, link: str) -> dict[str, Any]:
        found: dict[str, Any] = {"image": str(article.image.url) if article.image else None}
        if self.config.thread and article.bullets:
            # Thread mode: the bullets follow as replies, each fitted to a post of its own.
            found["thread"] = [
                truncate(bullet, lambda cut: weighted_length(cut) <= self.limit)
                for bullet in article.bullets
            ]
        return found

    def share_url(self, headline: str, teaser: Teaser) -> str:
        return "https://x.com/intent/post?" + share_query(text=teaser.text)

    def preview_html(self, text: str) -> str:
        """The text as X shows it: every link as its short display form (X wraps links in
        t.co and shows the address without scheme, cut at 23 characters)."""
        parts, position = [], 0
        for found in urls_in(text):
            start, end = found["indices"]
            parts.append(escape(text[position:start]))
            parts.append(f'<span class="pv-link">{escape(display_url(found["url"]))}</span>')
            position = end
        parts.append(escape(text[position:]))
        return "".join(parts).replace("\n", "<br>")

    def preview(self, text: str, article: Article) -> str:
        """The post, and the card X makes from the article page's Twitter card tags."""
        host = escape(urlsplit(article.url).hostname or "")
        card = (
            f'<div class="pv-card">{self.preview_image(article)}<small>{host}</small>'
            f"<span>{escape(article.headline)}</span></div>"
        )
        # The account as X shows it, once a check or a start learned it; else the channel.
        shown = str(self.facts.get("account_name") or self.name)
        handle = str(self.facts.get("account") or self.name)
        return (
            '<div class="pv-x"><span class="pv-avatar"></span><div><b>'
            f'{escape(shown)}</b> <span class="pv-handle">@{escape(handle)}</span>'
            f"<p>{self.preview_html(text)}</p>{card}</div></div>"
        )

    def client(self) -> tweepy.Client:
        """The tweepy client with this channel's credentials, addressed to `api_base`."""
        import tweepy

        if self._client is None:
            if self.config.auth == "oauth2":
                client = tweepy.Client(bearer_token=secret(self.name, self.config.token_env))
            else:
                client = tweepy.Client(
                    consumer_key=secret(self.name, self.config.api_key_env),
                    consumer_secret=secret(self.name, self.config.api_secret_env),
                    access_token=secret(self.name, self.config.access_token_env),
                    access_token_secret=secret(self.name, self.config.access_token_secret_env),
                )
            client.session = _api_base_session()(self.api_base or X_API_BASE, self.config.timeout)
            self._client = client
        return self._client

    @property
    def _user_auth(self) -> bool:
        return self.config.auth == "oauth1"

    def _auth(self, client: tweepy.Client) -> dict[str, Any]:
        """Request arguments that authenticate a call tweepy does not make itself."""
        from requests_oauthlib import OAuth1

        if self._user_auth:
            return {
                "auth": OAuth1(
                    client.consumer_key,
                    client_secret=client.consumer_secret,
                    resource_owner_key=client.access_token,
                    resource_owner_secret=client.access_token_secret,
                )
            }
        return {"headers": {"Authorization": f"Bearer {client.bearer_token}"}}

    def _tweet(self, client: tweepy.Client, **arguments: Any) -> str:
        import requests
        import tweepy

        try:
            answer = client.create_tweet(user_auth=self._user_auth, **arguments)
        except tweepy.HTTPException as exc:
            raise classify(self.name, exc) from None
        except requests.RequestException as exc:
            raise network_error(self.name, exc) from None
        return str(answer.data["id"])

    def send(self, message: Outgoing) -> Receipt:
        client = self.client()
        notes: list[str] = []
        media_ids = None
        image = message.fields.get("image")
        if image and self.config.image:
            try:
                media_ids = [self._upload(client, image)]
            except ChannelError as exc:
                if exc.kind in ("auth", "rate_limited"):
                    raise
                notes.append(f"posted without the image ({exc.message})")
        reply_to = message.fields.get(REPLY_TO)
        if reply_to:
            # A correction under the post it corrects.
            post_id = self._tweet(client, text=message.text, in_reply_to_tweet_id=reply_to)
        else:
            post_id = self._tweet(client, text=message.text, media_ids=media_ids)
        parent = post_id
        replies = message.fields.get("thread") or []
        for number, reply in enumerate(replies, start=1):
            try:
                parent = self._tweet(client, text=reply, in_reply_to_tweet_id=parent)
            except ChannelError as exc:
                notes.append(f"thread stopped at reply {number} of {len(replies)}: {exc.message}")
                break
        return Receipt(
            remote_id=post_id,
            permalink=f"https://x.com/i/status/{post_id}",
            note="; ".join(notes) or None,
        )

    def _upload(self, client: tweepy.Client, url: str) -> str:
        import requests

        if self.fetch_image is None:
            raise ChannelError("permanent", f"{self.name}: image: no way to fetch it here")
        try:
            image = self.fetch_image(url, IMAGE_LIMIT)
        except ImageUnavailable as exc:
            raise ChannelError("permanent", f"{self.name}: image: {exc}") from None
        media_type = image.content_type
        try:
            response = client.session.post(
                f"{TWEEPY_HOST}/2/media/upload",
                files={"media": ("image", image.body, media_type)},
                data={"media_category": "tweet_image"},
                **self._auth(client),
            )
        except requests.RequestException as exc:
            raise network_error(self.name, exc) from None
        if response.status_code >= 400:
            error = http_exception(response)
            raise classify(self.name, error)
        data = response.json().get("data") or {}
        media_id = data.get("id") or data.get("media_id")
        if not media_id:
            raise ChannelError("permanent", f"{self.name}: the upload answer has no media id")
        return str(media_id)

    def lookup(self, message: Outgoing, since: datetime) -> list[Receipt]:
        import requests
        import tweepy

        client = self.client()
        try:
            me = client.get_me(user_auth=self._user_auth)
            recent = client.get_users_tweets(
                me.data.id,
                user_auth=self._user_auth,
                start_time=since - CLOCK_SKEW,
                max_results=100,
            )
        except tweepy.HTTPException as exc:
            raise classify(self.name, exc) from None
        except requests.RequestException as exc:
            raise network_error(self.name, exc) from None
        # X lists the newest first; start_time keeps to the attempt's minutes.
        return [
            Receipt(str(tweet.id), f"https://x.com/i/status/{tweet.id}")
            for tweet in reversed(recent.data or [])
            if same_text(tweet.text, message.text)
        ]

    def results(self, remote_ids: list[str]) -> dict[str, Result]:
        found, refused = self._metrics(remote_ids, ALL_METRICS)
        if refused:
            found |= self._metrics(refused, PUBLIC_METRICS)[0]
        return found

    def _metrics(
        self, remote_ids: list[str], fields: tuple[str, ...]
    ) -> tuple[dict[str, Result], list[str]]:
        """The posts' numbers X tells with `fields`, and the ids it refused those fields for."""
        import requests
        import tweepy

        try:
            answer = self.client().get_tweets(
                remote_ids, tweet_fields=list(fields), user_auth=self._user_auth
            )
        except tweepy.HTTPException as exc:
            raise classify(self.name, exc) from None
        except requests.RequestException as exc:
            raise network_error(self.name, exc) from None
        found = {}
        for tweet in answer.data or []:
            public = tweet.data.get("public_metrics") or {}
            private = tweet.data.get("non_public_metrics") or {}
            found[str(tweet.id)] = Result.of(
                {key: tweet.data[key] for key in fields if key in tweet.data},
                impressions=private.get("impression_count", public.get("impression_count")),
                likes=public.get("like_count"),
                reposts=public.get("retweet_count"),
                replies=public.get("reply_count"),
                quotes=public.get("quote_count"),
                platform_clicks=private.get("url_link_clicks"),
            )
        refused = [
            str(error.get("resource_id"))
            for error in answer.errors or []
            if str(error.get("type", "")).endswith("/not-authorized-for-field")
        ]
        return found, refused

    def remove(self, remote_id: str) -> Removed:
        """`DELETE /2/tweets/:id`; a post X no longer has is gone already."""
        import requests
        import tweepy

        try:
            answer = self.client().delete_tweet(remote_id, user_auth=self._user_auth)
        except tweepy.NotFound:
            return "already_gone"
        except tweepy.HTTPException as exc:
            raise classify(self.name, exc) from None
        except requests.RequestException as exc:
            raise network_error(self.name, exc) from None
        return "removed" if answer.data and answer.data.get("deleted") else "already_gone"

    def learn(self) -> dict[str, Any]:
        """The account the credentials post as (its handle and name), for previews."""
        import requests
        import tweepy

        try:
            me = self.client().get_me(user_auth=self._user_auth)
        except tweepy.HTTPException as exc:
            raise classify(self.name, exc) from None
        except requests.RequestException as exc:
            raise network_error(self.name, exc) from None
        return {"account": me.data.username, "account_name": me.data.name}

    def check(self) -> list[Finding]:
        import requests
        import tweepy

        client = self.client()
        try:
            me = client.get_me(user_auth=self._user_auth)
        except tweepy.HTTPException as exc:
            raise classify(self.name, exc) from None
        except requests.RequestException as exc:
            raise network_error(self.name, exc) from None
        return [Finding("ok", f"signed in as @{me.data.username}")]

    def close(self) -> None:
        if self._client is not None:
            self._client.session.close()

    def validate(self, text: str, article: Article | None = None) -> list[str]:
        problems = super().validate(text, article)
        if invalid_chars.search(text):
            problems.append(
                Problem(
                    "contains characters X refuses (U+FFFE, U+FEFF or U+FFFF)",
                    "characters_refused",
                    platform=self.display_name,
                )
            )
        if not problems and not parse_tweet(text).valid:
            problems.append(
                Problem(
                    "X's own counter refuses this text",
                    "counter_refuses",
                    platform=self.display_name,
                )
            )
        return problems

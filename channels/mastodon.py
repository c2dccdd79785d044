"""Mastodon: a status on the newsroom's account at its instance, the article link in the text (the
instance makes the link card from the page's tags), the article image attached.

Facts, from docs.joinmastodon.org and the server's source (checked 2026-11):
- `POST /api/v1/statuses` with `status`, `visibility`, `language` (the article's) and
  `media_ids[]`; an
  `Idempotency-Key` header makes the instance answer a repeated request (for an hour) with the
  status it already made, so a retry after a lost answer never posts twice (methods/statuses).
- Length (app/validators/status_length_validator.rb, counted in mastodon_length.py as the
  server counts it): grapheme clusters; each link the server links counts as
  `characters_reserved_per_url` (23), a mention `@user@domain` as `@user`. The limit is the
  instance's `configuration.statuses.max_characters` (500 on most) from `GET /api/v2/instance`:
  `learn` asks for both, the engine stores them (when `run` starts, by `channels check`, and
  after a 422 saying the text is too long), and composing anywhere counts with them; the
  channel's `max_characters` and `url_characters`, when set, override (500 and 23 until learned).
- Media: `POST /api/v2/media` (`file`, `description`) answers 200 when processed, 202 with
  `url: null` while processing; `GET /api/v1/media/:id` answers 206 until it is done. Images up
  to 16 MB (methods/media).
- Errors: 401 invalid or revoked token, 403 (account suspended or disabled), 422 validation
  (`{"error": "Validation failed: Text character limit of 500 exceeded"}`), 429 rate limits with
  `X-RateLimit-Reset` as an ISO 8601 time (300 statuses in 3 hours, api/rate-limits), 5xx.
- Results: `GET /api/v1/statuses/:id`, one status a call, counts `favourites_count`,
  `reblogs_count`, `replies_count` and (4.5 and later, quote posts) `quotes_count`; a deleted
  status answers 404 (entities/Status). Mastodon counts no views or clicks.
- The access token (MASTODON_ACCESS_TOKEN, or `token_env`) needs `write:statuses`,
  `write:media` and, for `channels check` and results, `read:accounts` and `read:statuses`.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from html import escape
from typing import Any, ClassVar, Literal

from pydantic import Field

from publisher.articles import Article
from publisher.channels.base import (
    REPLY_TO,
    TEXT_TOO_LONG,
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
from publisher.channels.http import RATE_LIMIT_WAIT, HttpSession, by_status
from publisher.channels.mastodon_length import mastodon_length
from publisher.channels.secrets import redact, secret
from publisher.channels.text import share_query

TOKEN_ENV = "MASTODON_ACCESS_TOKEN"
IMAGE_LIMIT = 16 * 1024 * 1024
# Mastodon's own: what most instances allow, and what a link counts for.
DEFAULT_LIMIT = 500
DEFAULT_URL = 23
# How long an image may take to be processed before the status goes out without it.
MEDIA_WAIT = 20.0
# A status's counts, kept as the instance gave them beside the normalised results.
_COUNTS = ("favourites_count", "reblogs_count", "replies_count", "quotes_count")


class MastodonOptions(TokenOptions):
    instance: str | None = None
    visibility: Literal["public", "unlisted", "private"] = "public"
    image: bool = True
    # Set only to override what the instance says (learned); 500 and 23 until learned.
    max_characters: int | None = Field(default=None, gt=0)
    url_characters: int | None = Field(default=None, gt=0)

    required: ClassVar[tuple[str, ...]] = ("instance",)


class Mastodon(Channel):
    """Posts statuses to a Mastodon account."""

    type = "mastodon"
    replies = True
    display_name = "Mastodon"
    order = 50
    # One status a call: the API reads one by its id.
    results_per_call = 1
    card_fetchers = ("mastodon",)
    icon = (
        "M21.3 13.9c-.3 1.5-2.6 3.1-5.3 3.4-1.4.2-2.8.3-4.2.3-2.4-.1-4.3-.6-4.3-.6v.7c.3 2.4 2.4 "
        "2.6 4.3 2.6 2 .1 3.7-.5 3.7-.5l.1 1.8s-1.4.8-3.8.9c-1.4.1-3.1 0-5-.5C2.6 21 1.9 16.6 1.8 "
        "12.2V8.6c0-4.6 3-5.9 3-5.9C6.3 2 8.9 1.7 11.6 1.7h.1c2.7 0 5.3.3 6.8 1 0 0 3 1.3 3 5.9 "
        "0 0 0 3.4-.2 5.3zm-3.1-5.4c0-1.1-.3-2-.9-2.7-.6-.6-1.4-1-2.3-1-1.1 0-1.9.4-2.5 1.3L12 7"
        "l-.5-.9c-.6-.9-1.4-1.3-2.5-1.3-.9 0-1.7.3-2.3 1-.6.7-.9 1.6-.9 2.7v5.3h2.1V8.7"
        "c0-1.1.5-1.6 1.4-1.6 1 0 1.5.6 1.5 1.9v2.8h2.1V9c0-1.3.5-1.9 1.5-1.9.9 0 1.4.5 1.4 1.6"
        "v5.1h2.1z"
    )
    preview_css = (
        ".pv-mastodon{background:#fff;border:1px solid #c0cdd9;border-radius:8px;padding:.8em}"
        ".pv-mastodon p{margin:0;white-space:pre-wrap}.pv-mastodon .pv-link{color:#3a3bb5}"
        ".pv-mastodon .pv-img{display:block;width:100%;max-height:220px;object-fit:cover;"
        "border-radius:6px;margin-block-start:.5em}"
    )
    limit = 500
    unit = "characters"
    Options = MastodonOptions
    config: MastodonOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        base = self.api_base or self.config.instance or ""
        self.root = base.rstrip("/")
        self.http = HttpSession(self.name, self.config.timeout)
        # The configuration's value, else the instance's as learned, else Mastodon's defaults.
        self.max_characters = int(
            self.config.max_characters or self.facts.get("max_characters") or DEFAULT_LIMIT
        )
        self.url_characters = int(
            self.config.url_characters or self.facts.get("url_characters") or DEFAULT_URL
        )

    def measure(self, text: str) -> int:
        return mastodon_length(text, self.url_characters)

    def limit_for(self, article: Article | None = None) -> int:
        return self.max_characters

    def fields(self, article: Article, text: str, link: str) -> dict[str, Any]:
        image = str(article.image.url) if article.image and self.config.image else None
        alt = article.image.alt if article.image else None
        # The status's language is the article's (readers filter their timelines by it).
        return {"image": image, "alt": alt, "language": article.language}

    def share_url(self, headline: str, teaser: Teaser) -> str | None:
        # Mastodon has no single site: the share page of the newsroom's own instance (none
        # without one: the widget leaves the button out).
        if not self.root:
            return None
        return f"{self.root}/share?" + share_query(text=f"{headline} {teaser.link}")

    def preview(self, text: str, article: Article) -> str:
        html = escape(text)
        html = re.sub(r"https?://\S+", lambda m: f'<span class="pv-link">{m.group(0)}</span>', html)
        return f'<div class="pv-mastodon"><p>{html}</p>{self.preview_image(article)}</div>'

    def _token(self) -> str:
        return secret(self.name, self.config.token_env or TOKEN_ENV)

    def _call(self, method: str, path: str, token: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        response = self.http.request(method, f"{self.root}{path}", headers=headers, **kwargs)
        if response.status_code >= 400:
            raise classify(self.name, response)
        return response

    def remove(self, remote_id: str) -> Removed:
        """`DELETE /api/v1/statuses/:id`; a status the instance no longer has is gone
        already."""
        token = self._token()
        try:
            self._call("DELETE", f"/api/v1/statuses/{remote_id}", token)
        except ChannelError as exc:
            if exc.code == "404":
                return "already_gone"
            raise
        return "removed"

    def edit(self, remote_id: str, text: str) -> None:
        """`PUT /api/v1/statuses/:id` with the new text (Mastodon 3.5 and later); the instance
        keeps the earlier version in the status's history."""
        self._call("PUT", f"/api/v1/statuses/{remote_id}", self._token(), data={"status": text})

    def send(self, message: Outgoing) -> Receipt:
        token = self._token()
        media_ids, note = [], None
        if message.fields.get("image"):
            try:
                media_ids = [self._upload(message, token)]
            except ChannelError as exc:
                if exc.kind not in ("permanent", "transient"):
                    raise
                note = f"image left off: {exc.message}"
        data: dict[str, Any] = {"status": message.text, "visibility": self.config.visibility}
        if message.fields.get(REPLY_TO):
            # A correction under the status it corrects.
            data["in_reply_to_id"] = message.fields[REPLY_TO]
        if message.fields.get("language"):
            data["language"] = message.fields["language"]
        if media_ids:
            data["media_ids[]"] = media_ids
        # One key per post: a retry of the same post gets the status already made.
        key = f"publisher-{message.key or message.post_id}"
        try:
            status = self._call(
                "POST", "/api/v1/statuses", token, data=data, headers={"Idempotency-Key": key}
            ).json()
        except ChannelError as exc:
            if exc.kind == "uncertain":
                # The instance keeps the key for an hour, and the first retry comes within
                # minutes. (A worker killed mid-call leaves the post unclear all the same: it
                # may be found again only after the hour.)
                raise ChannelError("transient", exc.message) from None
            raise
        return Receipt(remote_id=str(status["id"]), permalink=status.get("url"), note=note)

    def _upload(self, message: Outgoing, token: str) -> str:
        if self.fetch_image is None:
            raise ChannelError("permanent", f"{self.name}: image: no way to fetch it here")
        try:
            image = self.fetch_image(str(message.fields["image"]), IMAGE_LIMIT)
        except ImageUnavailable as exc:
            raise ChannelError("permanent", f"{self.name}: image: {exc}") from None
        media = self._call(
            "POST",
            "/api/v2/media",
            token,
            files={"file": ("image", image.body, image.content_type)},
            data={"description": message.fields.get("alt") or ""},
        ).json()
        deadline = time.monotonic() + MEDIA_WAIT
        while media.get("url") is None and time.monotonic() < deadline:
            time.sleep(0.5)
            media = self._call("GET", f"/api/v1/media/{media['id']}", token).json()
        if media.get("url") is None:
            raise ChannelError("transient", f"{self.name}: the image was still being processed")
        return str(media["id"])

    def _instance_limits(self, token: str) -> dict[str, Any]:
        instance = self._call("GET", "/api/v2/instance", token).json()
        statuses = (instance.get("configuration") or {}).get("statuses") or {}
        facts = {
            "max_characters": statuses.get("max_characters"),
            "url_characters": statuses.get("characters_reserved_per_url"),
        }
        return {key: value for key, value in facts.items() if isinstance(value, int) and value > 0}

    def results(self, remote_ids: list[str]) -> dict[str, Result]:
        token = self._token()
        found = {}
        for status_id in remote_ids:
            response = self.http.request(
                "GET",
                f"{self.root}/api/v1/statuses/{status_id}",
                headers={"Authorization": f"Bearer {token}"},
            )
            if response.status_code == 404:
                continue
            if response.status_code >= 400:
                raise classify(self.name, response)
            status = response.json()
            raw = {key: status[key] for key in _COUNTS if key in status}
            found[status_id] = Result.of(
                raw,
                likes=status.get("favourites_count"),
                reposts=status.get("reblogs_count"),
                replies=status.get("replies_count"),
                quotes=status.get("quotes_count"),
            )
        return found

    def learn(self) -> dict[str, Any]:
        return self._instance_limits(self._token())

    def check(self) -> list[Finding]:
        token = self._token()
        account = self._call("GET", "/api/v1/accounts/verify_credentials", token).json()
        found = [Finding("ok", f"account @{account.get('acct', '?')} at {self.root} reachable")]
        limits = self._instance_limits(token)
        for key, words in (("max_characters", "characters a status"), ("url_characters",
                           "characters a link")):  # fmt: skip
            instance, configured = limits.get(key), getattr(self.config, key)
            if instance and configured and configured != instance:
                found.append(
                    Finding(
                        "warning",
                        f"the instance allows {instance} {words}; {key} = {configured} in the "
                        "configuration overrides it (leave it out to count as the instance does)",
                    )
                )
            elif instance:
                found.append(Finding("ok", f"the instance allows {instance} {words}"))
        return found

    def close(self) -> None:
        self.http.close()


def classify(name: str, response: Any) -> ChannelError:
    """The engine's reading of a Mastodon error answer."""
    status = response.status_code
    try:
        detail = str(response.json().get("error") or f"HTTP {status}")
    except ValueError:
        detail = f"HTTP {status}"
    message = redact(f"{name}: {detail} (HTTP {status})")
    if status == 422 and "character limit" in detail.lower():
        return ChannelError("permanent", message, code=TEXT_TOO_LONG)
    wait = _reset_in(response) if status == 429 else RATE_LIMIT_WAIT
    # The Idempotency-Key makes a repeated status the one already made: trying again is safe.
    return by_status(status, message, wait=wait, retry_safe=True)


def _reset_in(response: Any) -> float:
    """Seconds until `X-RateLimit-Reset` (an ISO 8601 time), else five minutes."""
    value = response.headers.get("X-RateLimit-Reset")
    try:
        reset = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return 300.0
    return max(1.0, (reset - datetime.now(UTC)).total_seconds())

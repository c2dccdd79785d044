"""Bluesky: a post on the newsroom's account at its PDS (`api_base`, default https://bsky.social),
its link shortened in the text as Bluesky's app shows links and made a link facet, and a link card
with the article's title, description and image.

Facts, from the AT Protocol lexicons and docs.bsky.app (checked 2026-11):
- `app.bsky.feed.post`: `text` at most 300 graphemes and 3,000 UTF-8 bytes, `createdAt`,
  `langs`, `facets` (`app.bsky.richtext.facet`: `index.byteStart`/`byteEnd` in UTF-8 bytes,
  feature `#link` with `uri`), `embed` `app.bsky.embed.external` (`uri`, `title`,
  `description`, `thumb`: a blob of at most 1,000,000 bytes).
- Records go in with `com.atproto.repo.createRecord` (`repo`, `collection`, `rkey`, `record`);
  the record key here is a TID made from the post's own key before the first call, and
  `com.atproto.repo.getRecord` finds a post under it: a retry first looks, so a post whose answer
  was lost is found, not posted again, and never stays unclear.
- Sessions: `com.atproto.server.createSession` (identifier, app password) is tightly rate
  limited (30 in 5 minutes, 300 a day), so one session is made per channel and renewed with
  `refreshSession` when the access token expires (`ExpiredToken`).
- Images: `com.atproto.repo.uploadBlob` with the image as the body.
- Errors: 400 `InvalidRequest` (a record the PDS refuses), 400 `ExpiredToken`, 401
  `AuthenticationRequired`/`InvalidToken`, 429 `RateLimitExceeded` with `ratelimit-reset` (epoch
  seconds).
- Results: `app.bsky.feed.getPosts` (`uris`, at most 25 a call; the PDS passes it on to the
  AppView) answers each post's view with `likeCount`, `repostCount`, `replyCount` and
  `quoteCount`; a deleted post is left out. Bluesky counts no views or clicks.
The app password comes from BLUESKY_APP_PASSWORD (or `password_env`), never the account's own.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from html import escape
from typing import Any, ClassVar
from urllib.parse import urlsplit

from publisher.articles import Article
from publisher.channels.base import (
    REPLY_TO,
    Channel,
    ChannelError,
    Finding,
    ImageUnavailable,
    NetworkOptions,
    Outgoing,
    Receipt,
    Removed,
    Result,
    Teaser,
)
from publisher.channels.bluesky_richtext import facets, shown_link
from publisher.channels.http import HttpSession, by_status
from publisher.channels.secrets import redact, secret
from publisher.channels.text import graphemes, share_query

PASSWORD_ENV = "BLUESKY_APP_PASSWORD"
PDS = "https://bsky.social"
POST = "app.bsky.feed.post"
THUMB_LIMIT = 1_000_000
MAX_BYTES = 3000
_B32 = "234567abcdefghijklmnopqrstuvwxyz"


# A post view's counts, kept as the AppView gave them beside the normalised results.
_COUNTS = ("likeCount", "repostCount", "replyCount", "quoteCount")


def bluesky_length(text: str) -> int:
    """`text`'s length as Bluesky counts it: graphemes."""
    return len(graphemes(text))


def tid(micros: int, clock: int) -> str:
    """A record key in the TID form: 53 bits of microseconds and 10 of clock, base32-sortable."""
    value = ((micros & ((1 << 53) - 1)) << 10) | (clock & 0x3FF)
    return "".join(_B32[(value >> (5 * shift)) & 31] for shift in reversed(range(13)))


class BlueskyOptions(NetworkOptions):
    handle: str | None = None
    password_env: str | None = None
    card: bool = True

    required: ClassVar[tuple[str, ...]] = ("handle",)


class Bluesky(Channel):
    """Posts to a Bluesky account."""

    type = "bluesky"
    replies = True
    display_name = "Bluesky"
    order = 45
    results_per_call = 25
    card_fetchers = ("cardyb", "bluesky")
    icon = (
        "M5.2 3.4C7.6 5.2 10.2 8.9 11.1 10.9c.9-2 3.5-5.7 5.9-7.5 1.7-1.3 4.5-2.3 4.5.9 0 .6-.4 "
        "5.3-.6 6.1-.7 2.7-3.5 3.4-6 3 4.4.8 5.5 3.2 3.1 5.7-4.6 4.7-6.6-1.2-7.1-2.7l-.1-.3"
        "-.1.3c-.5 1.5-2.5 7.4-7.1 2.7-2.4-2.5-1.3-4.9 3.1-5.7-2.5.4-5.3-.3-6-3C1.4 9.6 1 4.9 1 "
        "4.3c0-3.2 2.8-2.2 4.5-.9z"
    )
    preview_css = (
        ".pv-bluesky{background:#fff;border:1px solid #d4dbe2;border-radius:10px;padding:.8em}"
        ".pv-bluesky p{margin:0;white-space:pre-wrap}.pv-bluesky .pv-link{color:#0a61c9}"
        ".pv-bluesky .pv-card{display:flex;flex-direction:column;border:1px solid #d4dbe2;"
        "border-radius:8px;margin-block-start:.6em;overflow:hidden}.pv-bluesky .pv-card b,"
        ".pv-bluesky .pv-card small{padding:0 .6em}.pv-bluesky .pv-card small{color:#42576c;"
        "padding-block:.3em .5em}.pv-bluesky .pv-img{display:block;width:100%;max-height:200px;"
        "object-fit:cover}"
    )
    limit = 300
    retry_is_safe = True
    unit = "characters"
    Options = BlueskyOptions
    config: BlueskyOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.root = (self.api_base or PDS).rstrip("/")
        self.http = HttpSession(self.name, self.config.timeout)
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()

    def measure(self, text: str) -> int:
        return bluesky_length(text)

    def link(self, url: str, label: str) -> str:
        return shown_link(url)

    def carries_link(self, text: str, link: str) -> bool:
        return shown_link(link) in text or link in text

    def fields(self, article: Article, text: str, link: str) -> dict[str, Any]:
        image = str(article.image.url) if article.image and self.config.card else None
        return {
            "link": link,
            "title": article.headline,
            "description": article.lead or " ".join(article.bullets),
            "image": image,
            "language": article.language,
        }

    def validate(self, text: str, article: Article | None = None) -> list[str]:
        problems = super().validate(text, article)
        if len(text.encode()) > MAX_BYTES:
            problems.append(f"{len(text.encode())} bytes, over Bluesky's {MAX_BYTES}")
        return problems

    def share_url(self, headline: str, teaser: Teaser) -> str:
        return "https://bsky.app/intent/compose?" + share_query(text=f"{headline} {teaser.link}")

    def preview(self, text: str, article: Article) -> str:
        html = escape(text)
        shown = escape(shown_link(article.url))
        html = html.replace(shown, f'<span class="pv-link">{shown}</span>')
        host = escape(urlsplit(article.url).hostname or "")
        card = (
            f'<div class="pv-card">{self.preview_image(article)}<b>{escape(article.headline)}</b>'
            f"<small>{host}</small></div>"
        )
        return f'<div class="pv-bluesky"><p>{html}</p>{card}</div>'

    # --- the XRPC calls ----------------------------------------------------------------------

    def _xrpc(
        self, method: str, name: str, token: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = self.http.request(method, f"{self.root}/xrpc/{name}", headers=headers, **kwargs)
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code >= 400:
            raise classify(self.name, response.status_code, answer, response.headers)
        return answer if isinstance(answer, dict) else {}

    def _access(self, fresh: bool = False) -> tuple[str, str]:
        """The session's access token and DID: made once, refreshed when it expired."""
        with self._lock:
            if self._tokens and not fresh:
                return self._tokens["access"], self._tokens["did"]
            answer = None
            if self._tokens:
                try:
                    answer = self._xrpc(
                        "POST", "com.atproto.server.refreshSession", self._tokens["refresh"]
                    )
                except ChannelError:
                    answer = None
            if answer is None:
                password = secret(self.name, self.config.password_env or PASSWORD_ENV)
                answer = self._xrpc(
                    "POST",
                    "com.atproto.server.createSession",
                    json={"identifier": self.config.handle, "password": password},
                )
            self._tokens = {
                "access": str(answer["accessJwt"]),
                "refresh": str(answer["refreshJwt"]),
                "did": str(answer["did"]),
            }
            return self._tokens["access"], self._tokens["did"]

    def _authed(self, method: str, name: str, **kwargs: Any) -> dict[str, Any]:
        token, _ = self._access()
        try:
            return self._xrpc(method, name, token, **kwargs)
        except ChannelError as exc:
            if exc.code != "ExpiredToken":
                raise
        token, _ = self._access(fresh=True)
        return self._xrpc(method, name, token, **kwargs)

    def send(self, message: Outgoing) -> Receipt:
        _, did = self._access()
        rkey = _record_key(message)
        found = self._find(did, rkey)
        if found is not None:
            return found
        record: dict[str, Any] = {
            "$type": POST,
            "text": message.text,
            "createdAt": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "facets": facets(message.text, str(message.fields.get("link") or message.link)),
        }
        if message.fields.get("language"):
            record["langs"] = [message.fields["language"]]
        note = None
        parent = message.fields.get(REPLY_TO)
        if parent:
            # A correction under the post it corrects: a reply names its thread's first post
            # and its parent by URI and CID (app.bsky.feed.post#replyRef).
            record["reply"] = self._reply_ref(did, str(parent))
        elif self.config.card:
            record["embed"], note = self._card(message)
        try:
            answer = self._authed(
                "POST",
                "com.atproto.repo.createRecord",
                json={"repo": did, "collection": POST, "rkey": rkey, "record": record},
            )
        except ChannelError as exc:
            if exc.kind == "uncertain":
                # Looking under the record key first makes asking again safe.
                raise ChannelError("transient", exc.message) from None
            raise
        return self._receipt(str(answer["uri"]), note)

    def remove(self, remote_id: str) -> Removed:
        """`com.atproto.repo.deleteRecord` for the post's record (`at://did/collection/rkey`);
        the PDS answers a record it no longer has with no commit: gone already."""
        _, did = self._access()
        answer = self._authed(
            "POST",
            "com.atproto.repo.deleteRecord",
            json={"repo": did, "collection": POST, "rkey": remote_id.rsplit("/", 1)[-1]},
        )
        return "removed" if answer.get("commit") else "already_gone"

    def _reply_ref(self, did: str, parent: str) -> dict[str, Any]:
        """The reply reference for an answer under `parent` (an AT URI of this repo): its
        record's CID, and the root of the thread it is in (itself when it starts one)."""
        answer = self._authed(
            "GET",
            "com.atproto.repo.getRecord",
            params={"repo": did, "collection": POST, "rkey": parent.rsplit("/", 1)[-1]},
        )
        own = {"uri": str(answer["uri"]), "cid": str(answer["cid"])}
        root = ((answer.get("value") or {}).get("reply") or {}).get("root") or own
        return {"root": root, "parent": own}

    def _find(self, did: str, rkey: str) -> Receipt | None:
        try:
            answer = self._authed(
                "GET",
                "com.atproto.repo.getRecord",
                params={"repo": did, "collection": POST, "rkey": rkey},
            )
        except ChannelError as exc:
            if exc.code == "RecordNotFound":
                return None
            raise
        return self._receipt(str(answer["uri"]))

    def _receipt(self, uri: str, note: str | None = None) -> Receipt:
        # at://did/app.bsky.feed.post/rkey is shown at bsky.app/profile/<handle>/post/<rkey>
        rkey = uri.rsplit("/", 1)[-1]
        permalink = f"https://bsky.app/profile/{self.config.handle}/post/{rkey}"
        return Receipt(remote_id=uri, permalink=permalink, note=note)

    def _card(self, message: Outgoing) -> tuple[dict[str, Any], str | None]:
        external: dict[str, Any] = {
            "uri": str(message.fields.get("link") or message.link),
            "title": str(message.fields.get("title") or ""),
            "description": str(message.fields.get("description") or "")[:300],
        }
        note = None
        image = message.fields.get("image")
        if image and self.fetch_image is not None:
            try:
                fetched = self.fetch_image(str(image), THUMB_LIMIT)
                blob = self._authed(
                    "POST",
                    "com.atproto.repo.uploadBlob",
                    data=fetched.body,
                    headers={"Content-Type": fetched.content_type},
                )
                external["thumb"] = blob["blob"]
            except ImageUnavailable as exc:
                note = f"card without image: {exc}"
            except ChannelError as exc:
                if exc.kind not in ("permanent", "transient"):
                    raise
                note = f"card without image: {exc.message}"
        return {"$type": "app.bsky.embed.external", "external": external}, note

    def results(self, remote_ids: list[str]) -> dict[str, Result]:
        answer = self._authed("GET", "app.bsky.feed.getPosts", params={"uris": remote_ids})
        found = {}
        for view in answer.get("posts") or []:
            if not isinstance(view, dict) or view.get("uri") not in remote_ids:
                continue
            raw = {key: view[key] for key in _COUNTS if key in view}
            found[str(view["uri"])] = Result.of(
                raw,
                likes=view.get("likeCount"),
                reposts=view.get("repostCount"),
                replies=view.get("replyCount"),
                quotes=view.get("quoteCount"),
            )
        return found

    def check(self) -> list[Finding]:
        _, did = self._access()
        profile = self._authed("GET", "com.atproto.repo.describeRepo", params={"repo": did})
        return [Finding("ok", f"account {profile.get('handle', self.config.handle)} ({did})")]

    def close(self) -> None:
        self.http.close()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _record_key(message: Outgoing) -> str:
    """The post's record key, the same on every attempt."""
    post_id, _, micros = (message.key or f"{message.post_id}-{int(time.time() * 1e6)}").partition(
        "-"
    )
    return tid(int(micros or 0), int(post_id or 0))


def classify(name: str, status: int, answer: dict[str, Any], headers: Any) -> ChannelError:
    """The engine's reading of an XRPC error answer."""
    error = str(answer.get("error") or f"HTTP {status}")
    message = redact(f"{name}: {answer.get('message') or error} ({error})")
    if error in ("ExpiredToken", "InvalidToken", "AuthenticationRequired"):
        return ChannelError("auth", message, code=error, fix="credentials")
    reset = headers.get("ratelimit-reset")
    wait = max(1.0, float(reset) - time.time()) if reset and reset.isdigit() else 300.0
    # A post's record key is fixed before the first call and looked for before another:
    # trying again is safe.
    return by_status(status, message, code=error, wait=wait, retry_safe=True)

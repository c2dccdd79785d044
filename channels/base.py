"""The interface every channel implements, and the fitting every channel's text rules share.

A channel says how its platform renders a teaser's pieces (headline, bullets, lead, link) and how
the platform counts length; `Channel.compose` fits as many bullets as the limit allows, cuts the
headline at a word boundary with "…" when even it does not fit, and never touches the link.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any, ClassVar, Literal
from urllib.parse import quote, urlencode

import regex
from pydantic import BaseModel, ConfigDict

from publisher.articles import Article
from publisher.errors import EditorError

ELLIPSIS = "…"
_GRAPHEME = regex.compile(r"\X")
# Graphemes a cut headline should not end on before the ellipsis.
_DANGLING = frozenset(" ,;:-–—/|(")


class ComposeError(EditorError, ValueError):
    """A teaser cannot be made for this channel; the message is meant for an editor."""


ErrorKind = Literal["transient", "rate_limited", "permanent", "auth", "uncertain"]
# What an editor must put right when a channel cannot post at all (auth errors): the
# credentials (renew a token), the channel's settings (a wrong chat or page), or the account's
# permissions (grant them on the platform).
Fix = Literal["credentials", "settings", "permissions"]


class ChannelError(EditorError):
    """A platform refused or failed a call, classified for the engine.

    `kind`: transient (retry with backoff), rate_limited (retry after `retry_after` seconds),
    permanent (give up with the platform's reason), auth (pause the channel), uncertain (the call
    may have reached the platform, e.g. a timeout after sending: never retried blindly).
    `never_sent` says the request provably never reached the platform (connection refused).
    `backoff`: `retry_after` is the first wait of a short limit (per second) that the engine
    doubles while it keeps being hit. `recipient_only`: the limit concerns this recipient of a
    fan-out (a pair rate), not the channel: the others go on. `fix` says, for an auth error,
    what an editor must put right. Messages never contain credentials.
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        retry_after: float | None = None,
        never_sent: bool = False,
        code: str | None = None,
        backoff: bool = False,
        recipient_only: bool = False,
        fix: Fix = "credentials",
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.retry_after = retry_after
        self.never_sent = never_sent
        self.code = code
        self.backoff = backoff
        self.recipient_only = recipient_only
        self.fix: Fix = fix


@dataclass(frozen=True)
class Outgoing:
    """One post as a channel sends it; `recipient` is set for channels that fan out."""

    post_id: int
    text: str
    link: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    recipient: str | None = None


@dataclass(frozen=True)
class Receipt:
    """What the platform answered for a sent post. `note` tells an editor about a part that did
    not work although the post is out (an image left off, a thread reply refused)."""

    remote_id: str | None = None
    permalink: str | None = None
    note: str | None = None


FindingLevel = Literal["ok", "warning", "error"]


@dataclass(frozen=True)
class Finding:
    """One result of checking a channel's connection: what was checked and what was found."""

    level: FindingLevel
    message: str


_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def secret(name: str, variable: str) -> str:
    """The credential in environment variable `variable`; remembered so that `redact` keeps it
    out of logs, delivery records and error messages. Raises an auth ChannelError if unset."""
    value = os.environ.get(variable, "").strip()
    if not value:
        raise ChannelError("auth", f"{name}: environment variable {variable} is not set")
    with _secrets_lock:
        _secrets.add(value)
    return value


def same_text(posted: str, sent: str) -> bool:
    """Whether a platform's copy of a post is the text that was sent: links may come back
    shortened or expanded and whitespace folded, so both are compared without them."""
    return _comparable(posted) == _comparable(sent)


_LINK = regex.compile(r"https?://\S+")


def _comparable(text: str) -> str:
    return " ".join(_LINK.sub("", text).split())


def masked(recipient: str) -> str:
    """A recipient (a subscriber's phone number) as editors and logs see it: enough to tell
    numbers apart, not enough to call one ("+4915••••••678")."""
    if len(recipient) <= 7:
        return "•" * len(recipient)
    return recipient[:5] + "•" * (len(recipient) - 8) + recipient[-3:]


def share_query(**params: str) -> str:
    """Query parameters of a share link, percent-encoded (spaces as %20, which every app reads)."""
    return urlencode(params, quote_via=quote)


def redact(text: str) -> str:
    """`text` with every credential a channel has read replaced by "***"."""
    for value in sorted(_secrets, key=len, reverse=True):
        if value in text:
            text = text.replace(value, "***")
    return text


@dataclass(frozen=True)
class ComposeOptions:
    """What the newsroom decides about a teaser beyond the article itself."""

    link: str
    read_more: str = "Read more"
    bullet: str = "•"
    kicker: str = ""
    max_bullets: int | None = None


@dataclass(frozen=True)
class Teaser:
    """One channel's post for one article: `text` is exactly what would be posted."""

    channel: str
    type: str
    text: str
    link: str
    length: int
    limit: int
    unit: str
    bullets: int
    truncated: bool
    fields: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "type": self.type,
            "text": self.text,
            "link": self.link,
            "length": self.length,
            "limit": self.limit,
            "unit": self.unit,
            "bullets": self.bullets,
            "truncated": self.truncated,
            **self.fields,
        }


def graphemes(text: str) -> list[str]:
    """User-perceived characters: emoji sequences, flags and combining marks stay whole."""
    return _GRAPHEME.findall(text)


def truncate(text: str, fits: Callable[[str], bool]) -> str:
    """The longest cut of `text` ending in "…" that `fits`, preferring word boundaries and never
    splitting a grapheme. Returns "" when not even one grapheme and the ellipsis fit."""
    if fits(text):
        return text
    units = graphemes(text)
    word_ends = [i for i in range(1, len(units)) if units[i].isspace()]
    grapheme_ends = range(1, len(units))

    def cut(end: int) -> str:
        kept = units[:end]
        while kept and kept[-1] in _DANGLING:
            kept.pop()
        return "".join(kept) + ELLIPSIS if kept else ""

    for ends in (word_ends, grapheme_ends):
        best = _last_fitting(ends, lambda end: bool(cut(end)) and fits(cut(end)))
        if best is not None:
            return cut(best)
    return ""


def _last_fitting(ends: list[int] | range, ok: Callable[[int], bool]) -> int | None:
    """Binary search for the largest end that is ok, assuming longer cuts only grow."""
    low, high, found = 0, len(ends) - 1, None
    while low <= high:
        middle = (low + high) // 2
        if ok(ends[middle]):
            found, low = ends[middle], middle + 1
        else:
            high = middle - 1
    return found


class PlatformOptions(BaseModel):
    """A channel's platform keys in the configuration (page_id, chat_id, …); subclasses add theirs.
    Keys a platform cannot do without are checked when the configuration loads."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    required: ClassVar[tuple[str, ...]] = ()
    # Copied from the [fetch] section: whether images may come from private addresses.
    allow_private_networks: bool = False


class Channel(ABC):
    """A platform's text rules (and, for real platforms, delivery). Subclasses set `type`,
    `limit` and `unit`, and say how they measure and mark up text."""

    type: ClassVar[str]
    limit: ClassVar[int]
    unit: ClassVar[str]
    # Posts of one channel in flight at once unless the newsroom configures otherwise.
    concurrency: ClassVar[int] = 1
    # Whether `lookup` can find a post on the platform (its API lists what the account posted).
    can_lookup: ClassVar[bool] = False
    Options: ClassVar[type[PlatformOptions]] = PlatformOptions

    def __init__(self, name: str | None = None, options: Mapping[str, Any] | None = None) -> None:
        self.name = name or self.type
        self.options: Mapping[str, Any] = options or {}
        self.config = self.Options.model_validate(dict(self.options))

    def targets(self) -> tuple[str, ...]:
        """Recipients one post fans out to, each with its own delivery record; empty for a
        channel that makes one post."""
        return ()

    def carries_link(self, text: str, link: str) -> bool:
        """Whether posted `text` still holds the article's link (edits can drop it)."""
        return link in text or escape(link) in text

    def share_url(self, headline: str, teaser: Teaser) -> str | None:
        """The platform's share link a reader clicks on the article page; None if it has none."""
        return None

    def preview_html(self, text: str) -> str:
        """Posted text as the platform shows it, as safe HTML (for the web desk's previews)."""
        return escape(text).replace("\n", "<br>")

    def lookup(self, message: Outgoing, since: datetime) -> Receipt | None:
        """Find `message` among the account's posts made since `since` (a post whose worker
        vanished mid-call); None when it is not found or the platform cannot tell."""
        return None

    def check(self) -> list[Finding]:
        """Verify the credentials and the account with a harmless call."""
        return [Finding("ok", "nothing to check for this type of channel")]

    def close(self) -> None:  # noqa: B027 - a no-op by design: most channels hold nothing
        """Release connections; the channel is not used again."""

    @abstractmethod
    def measure(self, text: str) -> int:
        """Length of posted text as the platform counts it."""

    def limit_for(self, article: Article) -> int:
        """The limit a teaser for this article must respect."""
        return self.limit

    def headline(self, text: str) -> str:
        return text

    def bullet(self, marker: str, text: str) -> str:
        return f"{marker} {text}" if marker else text

    def paragraph(self, text: str) -> str:
        return text

    def link(self, url: str, label: str) -> str:
        return url

    def fields(self, article: Article, text: str, link: str) -> dict[str, Any]:
        """Platform fields a sender needs besides text and link (e.g. a photo for a caption)."""
        return {}

    @abstractmethod
    def send(self, message: Outgoing) -> Receipt:
        """Post `message`; raises ChannelError classified for the engine."""

    def validate(self, text: str, article: Article | None = None) -> list[str]:
        """Problems an edited text would have on this platform; empty when it can be posted."""
        problems = []
        if not text.strip():
            problems.append("the text is empty")
        limit = self.limit_for(article) if article else self.limit
        length = self.measure(text)
        if length > limit:
            problems.append(f"{length} {self.unit}, over the limit of {limit}")
        return problems

    def compose(self, article: Article, options: ComposeOptions) -> Teaser:
        """The teaser: headline, as many bullets as fit (else the lead, if it fits), link."""
        limit = self.limit_for(article)
        link_part = self.link(options.link, options.read_more)
        kicker = options.kicker.format(kicker=article.kicker) if article.kicker else ""
        bullets = list(article.bullets[: options.max_bullets])
        body_candidates = [self.bullet(options.bullet, b) for b in bullets]
        if not bullets and article.lead:
            body_candidates = [self.paragraph(article.lead)]

        def assemble(head: str, body: list[str]) -> str:
            blocks = [head, "\n".join(body), link_part]
            return "\n\n".join(b for b in blocks if b)

        # Pieces are measured once and added up (text is joined by newlines, which no platform
        # counts across); the assembled text is verified once with the full count.
        newline = self.measure("\n")
        link_cost = self.measure(link_part) + 2 * newline if link_part else 0
        title = kicker + article.headline
        truncated = self.measure(self.headline(title)) + link_cost > limit
        if truncated:
            title = truncate(
                title, lambda cut: self.measure(self.headline(cut)) + link_cost <= limit
            )
        used = self.measure(self.headline(title)) + link_cost if title else limit + 1

        body: list[str] = []
        for part in body_candidates:
            cost = self.measure(part) + (newline if body else 2 * newline)
            if used + cost > limit:
                break
            body.append(part)
            used += cost
        text = assemble(self.headline(title), body)
        length = self.measure(text)
        while length > limit and body:
            body.pop()
            text = assemble(self.headline(title), body)
            length = self.measure(text)
        if length > limit:
            title = truncate(
                title, lambda cut: self.measure(assemble(self.headline(cut), [])) <= limit
            )
            truncated = True
            text = assemble(self.headline(title), [])
            length = self.measure(text)
        if not title:
            raise ComposeError(f"{self.name}: the link alone exceeds the limit of {limit}")

        return Teaser(
            channel=self.name,
            type=self.type,
            text=text,
            link=options.link,
            length=length,
            limit=limit,
            unit=self.unit,
            bullets=len(body) if bullets else 0,
            truncated=truncated,
            fields=self.fields(article, text, options.link),
        )

"""The interface every channel implements, and the fitting every channels text rules share.

A channel says how its platform renders a teasers pieces (headline, bullets, lead, link) and how
the platform counts length; `Channel.compose` fits as many bullets as the limit allows, cuts the
headline at a word boundary with "…" when even it does not fit, and never touches the link.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from publisher.articles import Article
from publisher.channels.text import truncate
from publisher.errors import EditorError

if TYPE_CHECKING:
    import aiohttp


class ComposeError(EditorError, ValueError):
    """A teaser cannot be made for this channel; the message is meant for an editor."""


class Problem(str):
    """Why a text cannot be posted: English words (the command line prints them as they are),
    with a `key` and `values` that the desk and the bot tell in the editor's language (catalogue
    entry `problem_<key>`; a problem with no entry there is shown in English)."""

    key: str
    values: dict[str, object]

    def __new__(cls, text: str, key: str, **values: object) -> Problem:
        made = super().__new__(cls, text)
        made.key = key
        made.values = values
        return made


ErrorKind = Literal["transient", "rate_limited", "permanent", "auth", "uncertain"]
# The code of a refusal saying a text is longer than the platform allows: what the channel
# learned about its limits may be out of date, and is asked for again.
TEXT_TOO_LONG = "text_too_long"

# How far a platform's clock may be from ours: a post looked up as made since an attempt began
# is looked for this much earlier too.
CLOCK_SKEW = timedelta(minutes=1)

# What an editor must put right when a channel cannot post at all (auth errors): the
# credentials (renew a token), the channels settings (a wrong chat or page), or the accounts
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
        # A platform's words may hold what no text can (a lone surrogate from a JSON escape);
        # they are written to the database and logs, so only text is kept.
        message = message.encode("utf-8", "replace").decode("utf-8")
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
    # False when the recipient may only get the platform's approved template (WhatsApp: they
    # have not written within 24 hours).
    free_form: bool = True
    # Unique to the post and the same on every attempt (its id and when it was made): what a
    # platform's idempotency key or record key is made of, so that a retry is recognised.
    key: str = ""


@dataclass(frozen=True)
class Receipt:
    """What the platform answered for a sent post. `note` tells an editor about a part that did
    not work although the post is out (an image left off, a thread reply refused)."""

    remote_id: str | None = None
    permalink: str | None = None
    note: str | None = None


# What a post achieved, under the same names on every network (`Channel.results`); a number a
# network does not offer is None, never 0. First-party clicks are counted by publisher itself.
METRICS = (
    "impressions",
    "likes",
    "reposts",
    "replies",
    "quotes",
    "shares",
    "platform_clicks",
    "reads",
)


@dataclass(frozen=True)
class Result:
    """A network's numbers for one post at one moment: `metrics` by the names of METRICS (a
    name the network does not offer is None), `raw` its own answer for the post."""

    metrics: dict[str, int | None]
    raw: dict[str, Any]

    @classmethod
    def of(cls, raw: dict[str, Any], **offered: Any) -> Result:
        """The numbers a network offers (anything not a whole number counts as not offered);
        every other name None."""
        values = {
            name: int(offered[name]) if isinstance(offered.get(name), int) else None
            for name in METRICS
        }
        return cls(values, raw)


@dataclass(frozen=True)
class Heard:
    """Numbers a platform pushed for one of its posts (rather than answered when asked): the
    post's id there, when the platform counted them, and the numbers."""

    remote_id: str
    at: datetime
    result: Result


# The field of a post that is a notice to the readers of an earlier one (a withdrawal's, a
# correction's; its value: the earlier post's number).
NOTICE = "notice_of"
# The field of a post that goes out as a reply under another (a correction under the post it
# corrects; its value: that post's id on the platform).
REPLY_TO = "reply_to"
FindingLevel = Literal["ok", "warning", "error"]
# What taking a post down did: removed now, or gone already (deleted by hand, or by an earlier
# attempt whose answer was lost), which a takedown counts as done.
Removed = Literal["removed", "already_gone"]


@dataclass(frozen=True)
class Finding:
    """One result of checking a channels connection: what was checked and what was found."""

    level: FindingLevel
    message: str


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
    """One channels post for one article: `text` is exactly what would be posted."""

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


class PlatformOptions(BaseModel):
    """A channels platform keys in the configuration (page_id, chat_id, …); subclasses add theirs.
    Keys a platform cannot do without are checked when the configuration loads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    required: ClassVar[tuple[str, ...]] = ()


class NetworkOptions(PlatformOptions):
    """The keys of a platform reached over the network."""

    # Seconds a call to the platform may take (to connect, and between bytes of the answer).
    timeout: float = 20.0


class TokenOptions(NetworkOptions):
    """The keys of a platform reached with one token from the environment: `token_env` names
    the variable when it is not the platform's usual one."""

    token_env: str | None = None


# Spelled outside `Channel`, whose `type` attribute hides the builtin in its body.
OptionsClass = type[PlatformOptions]


class ImageUnavailable(Exception):
    """An article image could not be fetched for upload; the message says why."""


@dataclass(frozen=True)
class FetchedImage:
    """An article image, fetched for upload."""

    body: bytes
    content_type: str


# How a channel gets an article image: the URL and the most bytes it takes; raises
# ImageUnavailable. Handed in by whoever builds the channel (the fetch limits are the newsrooms).
ImageFetch = Callable[[str, int], FetchedImage]


class Channel(ABC):
    """A platform: its text rules, how it shows a post, how to send one, and the words, icon and
    share link the desk and the article page use for it. Subclasses set the class attributes and
    say how they measure and mark up text; everything about a platform lives in its module."""

    type: ClassVar[str]
    # The platforms name as readers and editors know it.
    display_name: ClassVar[str]
    limit: ClassVar[int]
    unit: ClassVar[str]
    # A social network editors post to: composed by default and offered in the share bar.
    platform: ClassVar[bool] = True
    # Where the platform stands in lists (share bar, previews, default compose).
    order: ClassVar[int] = 100
    # Where its button stands in the share bar of a newsroom that chose none (None: there only
    # when chosen).
    share_rank: ClassVar[int | None] = None
    # The platforms logo: SVG path data in a 24 x 24 box (empty: no logo).
    icon: ClassVar[str] = ""
    # The desks styles for this platforms preview frame (classes start with "pv-<type>").
    preview_css: ClassVar[str] = ""
    # Posts of one channel in flight at once unless the newsroom configures otherwise.
    concurrency: ClassVar[int] = 1
    # Whether the platform lets a post be taken down through its API: a channel that says how
    # (`remove`) can; set for each class from that, never written by hand.
    removable: ClassVar[bool] = False
    # Whether the platform lets a post's text be changed in place through its API (`edit`);
    # set for each class from that, never written by hand.
    editable_posts: ClassVar[bool] = False
    # Whether a post can go out as a reply under another of the account's (a correction
    # under the post it corrects): the channel reads `REPLY_TO` in a post's fields.
    replies: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.removable = cls.remove is not Channel.remove
        cls.editable_posts = cls.edit is not Channel.edit

    # Whether the channel sends to readers who subscribed (`publisher subscribers`).
    subscribable: ClassVar[bool] = False
    # Posts whose results one call to the platform asks for (0: it tells none; `results`).
    results_per_call: ClassVar[int] = 0
    # What the platform's link-preview fetcher says in its User-Agent (lower case): its visits
    # to a redirect link make the post's card, they are no reader's click.
    card_fetchers: ClassVar[tuple[str, ...]] = ()
    # Whether a post's results are the statuses the platform reported of each message sent for
    # it (sent, delivered, read), as the engine recorded them, rather than numbers asked for.
    results_from_statuses: ClassVar[bool] = False
    # Whether a post's results are numbers the platform pushes as they change (`heard`), kept
    # as they come, rather than asked for.
    results_pushed: ClassVar[bool] = False
    # Whether sending a post again after a lost answer cannot post it twice (the platform
    # recognises the post's key): such a post goes back to the queue when its worker stopped,
    # instead of becoming unclear.
    retry_is_safe: ClassVar[bool] = False
    # Whether `lookup` can find a post on the platform (its API lists what the account posted).
    can_lookup: ClassVar[bool] = False
    # Whether an editor may type bold (**so**) and links ([text](https://…)) for the platform
    # (`from_editable` turns them into its markup); elsewhere such marks are posted as typed.
    formatted: ClassVar[bool] = False
    Options: ClassVar[OptionsClass] = PlatformOptions

    def __init__(
        self,
        name: str | None = None,
        options: PlatformOptions | Mapping[str, Any] | None = None,
        *,
        api_base: str | None = None,
        fetch_image: ImageFetch | None = None,
        facts: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name or self.type
        # What the channel learned from its platform before (`learn`), stored by the engine.
        self.facts = dict(facts or {})
        self.config = (
            options
            if isinstance(options, self.Options)
            else self.Options.model_validate(dict(options or {}))
        )
        self.api_base = api_base.rstrip("/") if api_base else None
        self.fetch_image = fetch_image

    def targets(self) -> tuple[str, ...]:
        """Recipients one post fans out to, each with its own delivery record; empty for a
        channel that makes one post."""
        return ()

    def carries_link(self, text: str, link: str) -> bool:
        """Whether posted `text` still holds the articles link (edits can drop it)."""
        return link in text or escape(link) in text

    def share_url(self, headline: str, teaser: Teaser) -> str | None:
        """The platforms share link a reader clicks on the article page; None if it has none."""
        return None

    def messages_per_second(self) -> float | None:
        """How many messages a second a fan-out channel may send (None: no pace of its own)."""
        return None

    def editable(self, text: str) -> str:
        """A post's text as an editor edits it (the same text, unless the platform's own form
        is not for typing, such as Telegram's HTML)."""
        return text

    def from_editable(self, text: str) -> str:
        """What an editor typed, as the post's text (the reverse of `editable`)."""
        return text

    def bot_preview(self, text: str) -> str:
        """The post's text as the editors' Telegram bot shows it, in Telegram's HTML: plain
        text escaped (a platform whose text is Telegram's HTML shows it as it will look)."""
        return escape(text)

    def preview_html(self, text: str) -> str:
        """Posted text as the platform shows it, as safe HTML (for the web desks previews)."""
        return escape(text).replace("\n", "<br>")

    def preview(self, text: str, article: Article) -> str:
        """The post inside the platform's frame as the desk shows it, as safe HTML: by default
        the text alone; platforms draw their own frame (styled by `preview_css`)."""
        return f'<p class="pv-plain">{self.preview_html(text)}</p>'

    def template_preview(self, text: str, article: Article) -> str | None:
        """For a channel that sends readers outside a conversation an approved template in
        place of the text (WhatsApp), that message as the desk previews it, as safe HTML; None
        for the others."""
        return None

    @staticmethod
    def preview_image(article: Article) -> str:
        """The article's image as a preview shows it (empty without one), as safe HTML; its
        address is a web address, or a path of the desk's own (which loads it for the editor)."""
        if article.image is None:
            return ""
        url = str(article.image.url)
        own = url.startswith("/") and not url.startswith(("//", "/\\"))
        if not (own or url.startswith(("https://", "http://"))):
            return ""
        alt = escape(article.image.alt or "", quote=True)
        return f'<img class="pv-img" src="{escape(url, quote=True)}" alt="{alt}">'

    def lookup(self, message: Outgoing, since: datetime) -> list[Receipt]:
        """The account's posts made since `since` that carry `message`'s text, oldest first
        (for a post whose worker vanished mid-call: the engine takes the first that is no other
        post's); empty when there is none or the platform cannot tell."""
        return []

    def results(self, remote_ids: list[str]) -> dict[str, Result]:
        """What each post (by its id on the platform) has achieved so far, as the platform
        counts it; a post it no longer has is left out. At most `results_per_call` ids at once;
        refusals raise ChannelError as sending does (a rate limit is waited out, an auth error
        stops measuring the channel, never its posting). Empty: the platform tells nothing."""
        return {}

    @classmethod
    def heard(cls, options: PlatformOptions, update: Mapping[str, Any]) -> Heard | None:
        """What an update the platform pushed says of a post of the channel with these
        `options` (`results_pushed`); None when it is about none of them."""
        return None

    @classmethod
    def nothing_heard(cls) -> Result:
        """The numbers of a post nothing was pushed for while its channel was being heard."""
        return Result.of({})

    def learn(self) -> dict[str, Any]:
        """What the platform says about this account's rules (an instance's limits), for the
        engine to store and hand back as `facts`; empty where there is nothing to learn."""
        return {}

    def check(self) -> list[Finding]:
        """Verify the credentials and the account with a harmless call."""
        return [Finding("ok", "nothing to check for this type of channel")]

    def remove(self, remote_id: str) -> Removed:
        """Take down the post the platform knows as `remote_id` (a takedown); raises
        ChannelError classified as `send` does. A platform that lets no post be removed
        through its API says so, for good."""
        raise ChannelError(
            "permanent", f"{self.name}: {self.display_name} lets no post be removed through its API"
        )

    def edit(self, remote_id: str, text: str) -> None:
        """Give the post the platform knows as `remote_id` this text in place of its own (a
        correction); raises ChannelError classified as `send` does. A platform that lets no
        post be edited through its API says so, for good."""
        raise ChannelError(
            "permanent", f"{self.name}: {self.display_name} lets no post be edited through its API"
        )

    def notices_withdrawal(self) -> bool:
        """Whether the readers a post reached are sent a notice when its article is withdrawn:
        for a platform that cannot take a message back (the notice's post carries `NOTICE`)."""
        return False

    def close(self) -> None:  # noqa: B027 - a no-op by design: most channels hold nothing
        """Release connections; the channel is not used again."""

    @abstractmethod
    def measure(self, text: str) -> int:
        """Length of posted text as the platform counts it."""

    def limit_for(self, article: Article | None = None) -> int:
        """The limit a teaser for this article (or any text, without one) must respect."""
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

    async def send_async(self, message: Outgoing, session: aiohttp.ClientSession) -> Receipt:
        """`send` for a fan-out, which has hundreds of messages in flight on one event loop: a
        channel that fans out makes its call on `session`; any other is sent in a thread."""
        return await asyncio.to_thread(self.send, message)

    def validate(self, text: str, article: Article | None = None) -> list[str]:
        """Problems an edited text would have on this platform; empty when it can be posted."""
        problems: list[str] = []
        if not text.strip():
            problems.append(Problem("the text is empty", "empty"))
        limit = self.limit_for(article)
        length = self.measure(text)
        if length > limit:
            problems.append(
                Problem(
                    f"{length} {self.unit}, over the limit of {limit}",
                    "over_limit",
                    length=length,
                    unit=self.unit,
                    limit=limit,
                    platform=self.display_name,
                )
            )
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

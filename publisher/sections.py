"""The configuration's sections for the HTTP side, feeds, release rules, the widget, the editors'
bot and the web desk (`publisher.config` assembles them with the channels and the engine)."""

from __future__ import annotations

import logging
from datetime import time
from ipaddress import ip_network
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from publisher.articles import Article, check_http_url
from publisher.channels import channel_class, channel_types, default_share_types, share_types

logger = logging.getLogger(__name__)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _networks(value: tuple[str, ...]) -> tuple[str, ...]:
    for network in value:
        try:
            ip_network(network, strict=False)
        except ValueError:
            raise ValueError(f"{network!r} is not an address or network") from None
    return value


Networks = Annotated[tuple[str, ...], AfterValidator(_networks)]


class ServeSettings(_Strict):
    """The HTTP side (`publisher serve`, or inside `publisher run` when `enabled`)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_body: int = Field(default=1_000_000, gt=0, description="bytes of a webhook body")
    replay_window: int = Field(default=300, gt=0, description="seconds a signature stays valid")
    trusted_proxies: Networks = Field(
        default=(),
        description="reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed",
    )


class FeedSettings(_Strict):
    """One RSS/Atom feed the watcher polls."""

    url: str
    every: float = Field(default=60.0, ge=1, description="seconds between polls")
    backfill: int = Field(default=0, ge=0, description="newest items released on the first poll")
    max_items: int = Field(
        default=20,
        ge=1,
        description="most items one poll releases (the newest); the rest is only remembered",
    )
    fetch_pages: bool = Field(default=True, description="fetch each item's page for the teaser")
    language: str | None = None
    max_backoff: float = Field(default=3600.0, gt=0, description="longest wait after failures")


# Networks an outlet may have a profile on without posting there through publisher; the
# platforms it posts to are named by their channel modules.
OTHER_NETWORKS = {
    "pinterest": "Pinterest",
    "youtube": "YouTube",
    "instagram": "Instagram",
    "tiktok": "TikTok",
}


class Profile(_Strict):
    """One of the outlet's own profiles in the "follow us" box: an http(s) URL and the network's
    name (known for channel platforms and common networks, else required)."""

    url: str
    name: str

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        return check_http_url(value)


class WidgetSettings(_Strict):
    """The article page's share bar, follow box and link-preview tags."""

    outlet: str = Field(default="", description='the site\'s name, e.g. "News.de"')
    language: Literal["de", "en"] | None = Field(default=None, description="default: language")
    platforms: tuple[str, ...] = Field(
        default_factory=lambda: (*default_share_types(), "email"),
        description="share buttons in this order: platforms with a share link, and email",
    )
    follow: dict[str, Profile] = Field(
        default_factory=dict,
        description='network = "URL", or network = { url = "…", name = "…" } for other networks',
    )
    cache_seconds: int = Field(default=300, ge=0, description="Cache-Control max-age when served")

    @field_validator("platforms")
    @classmethod
    def _shareable(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = [*share_types(), "email"]
        for platform in value:
            if platform not in known:
                raise ValueError(
                    f"{platform!r} has no share link (share buttons: {', '.join(known)})"
                )
        return tuple(dict.fromkeys(value))

    @field_validator("follow", mode="before")
    @classmethod
    def _profiles(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        profiles = {}
        for network, given in value.items():
            profile = {"url": given} if isinstance(given, str) else given
            if isinstance(profile, dict) and not profile.get("name"):
                profile = {**profile, "name": _network_name(network)}
            profiles[network] = profile
        return profiles


def _network_name(network: str) -> str:
    if network in channel_types():
        return channel_class(network).display_name
    if network in OTHER_NETWORKS:
        return OTHER_NETWORKS[network]
    raise ValueError(f'{network}: give the network\'s name (name = "…")')


class BotSettings(_Strict):
    """The editors' Telegram bot (`publisher bot`, or inside `publisher run` when `enabled`)."""

    enabled: bool = False
    token_env: str = "TELEGRAM_BOT_TOKEN"
    api_base: str = "https://api.telegram.org"
    allowed_users: tuple[int, ...] = Field(
        default=(), description="Telegram user ids of editors: they queue, edit, cancel and retry"
    )
    approvers: tuple[int, ...] = Field(
        default=(),
        description="Telegram user ids of approvers: also approve, pause and resume channels",
    )
    allowed_chats: tuple[int, ...] = Field(
        default=(), description="group chats the bot answers in (private chats always)"
    )
    editors_chat_id: int | None = Field(default=None, description="where notifications go")
    language: Literal["de", "en"] | None = Field(default=None, description="default: language")
    notify_every: float = Field(default=15.0, gt=0, description="seconds between checks")
    digest_at: time | None = Field(
        default=None,
        description="newsroom time of the day's digest in the editors' chat (what is planned "
        "today, what waits for approval); none: no digest",
    )
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = Field(default=None, description="public HTTPS URL, webhook mode")
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=0, le=65535)
    secret_token_env: str = Field(
        default="TELEGRAM_WEBHOOK_SECRET",
        description="Telegram's secret token header, webhook mode",
    )


class DeskSettings(_Strict):
    """The web desk at `/` of `publisher serve`: sign-in, sessions and language."""

    language: Literal["de", "en"] | None = Field(default=None, description="default: language")
    session_secret_env: str = Field(
        default="PUBLISHER_SESSION_SECRET", description="signs session cookies"
    )
    session_hours: float = Field(default=12.0, gt=0)
    secure_cookies: bool | Literal["auto"] = Field(
        default="auto",
        description='"auto": cookies only over HTTPS when the request came over HTTPS; true: '
        "only ever over HTTPS; false: never marked so (plain-HTTP testing)",
    )
    trusted_user_header: str | None = Field(
        default=None, description="trust this sign-in header from the reverse proxy"
    )
    trusted_proxies: Networks = Field(
        default=("127.0.0.1/32", "::1/128"),
        description="addresses (networks) whose trusted_user_header is believed",
    )


class Match(_Strict):
    """What an article must have for a rule to apply; every given key must match (case-insensitive),
    a list matches when the article has any of its values. An empty match takes every article."""

    sections: tuple[str, ...] = Field(default=(), description="the section or kicker")
    tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    sources: tuple[str, ...] = Field(default=(), description='"webhook" or a feed\'s name')
    breaking: bool | None = None

    def accepts(self, article: Article, source: str) -> bool:
        def anyof(wanted: tuple[str, ...], have: list[str]) -> bool:
            return not wanted or bool({w.casefold() for w in wanted} & {h.casefold() for h in have})

        section = [v for v in (article.section, article.kicker) if v]
        return (
            anyof(self.sections, section)
            and anyof(self.tags, list(article.tags))
            and anyof(self.languages, [article.language] if article.language else [])
            and anyof(self.sources, [source])
            and (self.breaking is None or self.breaking == article.breaking)
        )


# Keys a `[[resurface]]` rule once took beside `match`, as release rules take them inside it.
_MATCHED_BESIDE = ("sections", "tags")


class Resurface(_Strict):
    """A rule that gives archive articles another turn (`[[resurface]]`): which articles (`match`
    as release rules match, the CMS's evergreen flag, and age), on which channels, how often."""

    name: str
    channels: tuple[str, ...]
    match: Match = Field(default_factory=Match)
    evergreen_only: bool = Field(default=False, description="only articles the CMS marks evergreen")
    min_age_days: int = Field(default=30, ge=1)
    max_age_days: int = Field(default=365, ge=1)
    cooldown_days: int = Field(default=30, ge=1, description="days between turns of an article")
    most_times: int = Field(default=3, ge=1, description="turns an article gets at most")
    per_day: int = Field(
        default=1, ge=1, le=24, description="resurfaced posts a channel gets a day"
    )

    @model_validator(mode="before")
    @classmethod
    def _sections_beside_match(cls, data: Any) -> Any:
        """The spelling before `match` (`sections = [...]` on the rule itself) still works, with
        a line saying how it is written now."""
        if not isinstance(data, dict) or not set(_MATCHED_BESIDE) & data.keys():
            return data
        if "match" in data:
            raise ValueError("sections and tags go inside match = { … }, not beside it")
        old = {key: data[key] for key in _MATCHED_BESIDE if key in data}
        written = ", ".join(f"{key} = {list(value)}" for key, value in old.items())
        logger.warning(
            "[[resurface]] %s: write match = { %s }; %s beside match is the old spelling",
            data.get("name", "?"),
            written.replace("'", '"'),
            " and ".join(old),
        )
        return {k: v for k, v in data.items() if k not in old} | {"match": old}

    @field_validator("match")
    @classmethod
    def _stored_articles_only(cls, match: Match) -> Match:
        if match.sources:
            raise ValueError("archive articles keep no source: leave sources out of match")
        return match

    def accepts(self, article: Article) -> bool:
        """Whether the article is of the rule's kind (its age aside), matched as rules match."""
        if self.evergreen_only and not article.evergreen:
            return False
        return self.match.accepts(article, "")


class Rule(_Strict):
    """One routing rule. Rules are read in order and every matching one adds its channels; for a
    channel named by several matching rules the first decides timing and approval. A matching
    rule with `stop` ends the reading: later rules then apply only to articles it did not match
    (an "everything else" rule goes last, after rules with `stop`)."""

    name: str
    match: Match = Field(default_factory=Match)
    channels: tuple[str, ...]
    stop: bool = Field(default=False, description="later rules skip articles this rule matched")
    timing: Literal["now", "next_slot", "delay", "best"] = "now"
    delay: int = Field(default=0, ge=0, description="minutes, with timing = delay")
    approval: bool | None = Field(default=None, description="default: the channel's own setting")
    repost_updates: bool = Field(
        default=False, description="an article that arrives again is posted again where sent"
    )
    ignore_quiet_hours: bool = Field(default=False, description="e.g. for breaking news")
    max_wait: float = Field(
        default=24.0,
        gt=0,
        description="hours a post may wait after the article is out; later, it is not queued",
    )

"""Load the newsroom's TOML configuration: `--config PATH`, else `$PUBLISHER_CONFIG`, else
`./publisher.toml`, else the built-in defaults. `config/publisher.example.toml` documents every key.

Secrets never live here: channels name environment variables, and only those hold credentials.
"""

from __future__ import annotations

import os
import tomllib
from datetime import time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from publisher.channels import channel_class, channel_types
from publisher.channels.base import PlatformOptions
from publisher.errors import EditorError
from publisher.links import LINK_SECRET_ENV
from publisher.sections import (
    BotSettings,
    DeskSettings,
    FeedSettings,
    Match,
    Profile,
    Resurface,
    Rule,
    ServeSettings,
    WidgetSettings,
)

__all__ = [
    "BotSettings",
    "ChannelSettings",
    "ConfigError",
    "DeskSettings",
    "EngineSettings",
    "FeedSettings",
    "FetchSettings",
    "Match",
    "Profile",
    "Rule",
    "ServeSettings",
    "Settings",
    "Template",
    "Tracking",
    "WidgetSettings",
    "load_settings",
]

CONFIG_ENV = "PUBLISHER_CONFIG"
DEFAULT_CONFIG_FILE = Path("publisher.toml")


class ConfigError(EditorError):
    """The configuration cannot be used; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Template(_Strict):
    """How teasers read in one language: bullet marker, link label, optional kicker prefix."""

    bullet: str = "•"
    read_more: str = "Read more"
    kicker: str = Field(default="", description='e.g. "{kicker} | " puts the kicker first')

    @field_validator("kicker")
    @classmethod
    def _kicker_placeholder(cls, value: str) -> str:
        if value and "{kicker}" not in value:
            raise ValueError('must contain "{kicker}" or be empty')
        try:
            value.format(kicker="")
        except (KeyError, IndexError, ValueError):
            raise ValueError('may use no placeholder but "{kicker}"') from None
        return value


DEFAULT_TEMPLATES = {
    "de": Template(read_more="Weiterlesen"),
    "en": Template(read_more="Read more"),
}


# Characters the redirect codes' secret has at least.
MIN_SECRET = 32


class Tracking(_Strict):
    """Query parameters added to every posted link (`{channel}` and `{type}` are filled in),
    and the newsroom's own redirect that counts clicks (`redirect_base`; its codes are made
    with the secret in PUBLISHER_LINK_SECRET)."""

    enabled: bool = True
    params: dict[str, str] = Field(
        default_factory=lambda: {
            "utm_source": "{type}",
            "utm_medium": "social",
            "utm_campaign": "publisher",
        }
    )
    redirect_base: str | None = Field(
        default=None,
        pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$",
        description="e.g. https://go.example-news.de",
    )

    @model_validator(mode="after")
    def _secret_for_codes(self) -> Tracking:
        if self.redirect_base and len(os.environ.get(LINK_SECRET_ENV, "")) < MIN_SECRET:
            raise ValueError(
                f"redirect_base needs {LINK_SECRET_ENV} in the environment: a random string of "
                f"at least {MIN_SECRET} characters, kept (links already posted work whatever "
                "it is; new links are made with it)"
            )
        return self


class FetchSettings(_Strict):
    """Limits for fetching pasted URLs and feeds."""

    allow_private_networks: bool = False
    timeout: float = Field(default=10.0, gt=0, le=120)
    max_bytes: int = Field(default=5_000_000, gt=0)


class ChannelSettings(BaseModel):
    """One named channel: the newsroom's choices (timing, approval, limits) and the platform's
    own keys (page_id, chat_id, …), which its channel class parses into `platform`."""

    model_config = ConfigDict(extra="allow", frozen=True)
    _platform: PlatformOptions = PrivateAttr()

    type: str
    label: str | None = Field(
        default=None,
        description="the channel's name as editors read it (default: its platform's name, or "
        "the channel's own when two channels share a platform)",
    )
    api_base: str | None = None
    language: str | None = Field(default=None, description="template language for this channel")
    max_bullets: int | None = Field(default=None, ge=0)
    tracking: dict[str, str] = Field(default_factory=dict)
    timezone: str | None = None
    slots: tuple[time, ...] = ()
    min_gap: int = Field(default=0, ge=0, description="minutes between two posts of a slot plan")
    approval: bool = False
    dry_run: bool = False
    rate_limit: int | None = Field(default=None, gt=0)
    rate_period: float = Field(default=60.0, gt=0)
    concurrency: int | None = Field(default=None, gt=0, description="default: the platform's")
    max_attempts: int = Field(default=5, gt=0)
    retry_base: float = Field(default=30.0, gt=0)
    retry_max: float = Field(default=3600.0, gt=0)
    on_withdraw: Literal["delete", "keep"] = Field(
        default="delete",
        description="what a withdrawal does to posts already out: take them down where the "
        "platform lets us, or leave them standing",
    )
    on_correct: Literal["edit", "reply", "none"] | None = Field(
        default=None,
        description="what a correction does to posts already out: edit them in place, reply "
        "under them (WhatsApp: a follow-up to the same readers), or nothing (default: edit "
        "where the platform lets a post be edited, else reply)",
    )
    quiet_hours: tuple[time, time] | None = Field(
        default=None, description='["23:00", "06:00"]: released posts wait for the end'
    )

    @field_validator("timezone")
    @classmethod
    def _channel_zone(cls, value: str | None) -> str | None:
        return None if value is None else _known_zone(value)

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _quiet_times(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            return value
        try:
            return tuple(time.fromisoformat(v) if isinstance(v, str) else v for v in value)
        except ValueError:
            raise ValueError(f"{value!r} is not a pair of times like 23:00") from None

    @field_validator("slots", mode="before")
    @classmethod
    def _slot_times(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            return value
        parsed = []
        for slot in value:
            try:
                parsed.append(time.fromisoformat(slot) if isinstance(slot, str) else slot)
            except ValueError:
                raise ValueError(f"slot {slot!r} is not a time like 07:30") from None
        return tuple(sorted(parsed))

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        known = channel_types()
        if value not in known:
            raise ValueError(f"unknown channel type {value!r} (known: {', '.join(sorted(known))})")
        return value

    @model_validator(mode="after")
    def _platform_keys(self) -> ChannelSettings:
        """The platform's own keys: known, well-typed, and present where the platform needs them."""
        options = channel_class(self.type).Options
        extra = dict(self.model_extra or {})
        unknown = sorted(set(extra) - set(options.model_fields))
        if unknown:
            raise ValueError(f"{unknown[0]}: not a key of {self.type} channels")
        parsed = options.model_validate(extra)
        missing = [key for key in options.required if not getattr(parsed, key)]
        # A dry run sends nothing, so it can be tried before the account is set up.
        if missing and not self.dry_run:
            raise ValueError(f"{missing[0]}: required for {self.type} channels")
        self._platform = parsed
        return self

    @property
    def platform(self) -> PlatformOptions:
        """The platform's keys, typed by the channel class."""
        return self._platform


class EngineSettings(_Strict):
    """How `publisher run` works: leases, batch sizes, threads, metrics and logs."""

    lease: float = Field(default=120.0, gt=0, description="seconds a claimed post may stay sending")
    batch: int = Field(default=200, gt=0)
    threads: int = Field(default=8, gt=0)
    watch_interval: float = Field(default=0.2, gt=0)
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    log_format: Literal["text", "json"] = "text"


class TimingSettings(_Strict):
    """How the timing `best` chooses a post's time (README, "Timing that learns")."""

    horizon: float = Field(
        default=24.0, gt=0, le=24 * 14, description="hours ahead among which the best time is found"
    )


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


class Settings(_Strict):
    """The whole configuration, with the built-in defaults for everything left out."""

    database_url: str = "sqlite:///publisher.db"
    timezone: str = "Europe/Berlin"
    language: str = "de"
    channels: dict[str, ChannelSettings] = Field(default_factory=dict)
    templates: dict[str, Template] = Field(default_factory=lambda: dict(DEFAULT_TEMPLATES))
    tracking: Tracking = Field(default_factory=Tracking)
    fetch: FetchSettings = Field(default_factory=FetchSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    timing: TimingSettings = Field(default_factory=TimingSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    bot: BotSettings = Field(default_factory=BotSettings)
    widget: WidgetSettings = Field(default_factory=WidgetSettings)
    desk: DeskSettings = Field(default_factory=DeskSettings)
    feeds: dict[str, FeedSettings] = Field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    resurface: tuple[Resurface, ...] = ()
    source: str = Field(default="built-in defaults", exclude=True)
    # What channels learned from their platforms (publisher.engine.delivery.facts), by channel name.
    learned: dict[str, dict[str, Any]] = Field(default_factory=dict, exclude=True)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return _known_zone(value)

    @field_validator("templates", mode="before")
    @classmethod
    def _over_defaults(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        merged: dict[str, Any] = {k: t.model_dump() for k, t in DEFAULT_TEMPLATES.items()}
        for language, template in value.items():
            base = merged.get(language, {})
            merged[language] = {**base, **template} if isinstance(template, dict) else template
        return merged

    @model_validator(mode="after")
    def _log_channel(self) -> Settings:
        if "log" not in self.channels:
            self.channels["log"] = ChannelSettings(type="log")
        return self

    def unnamed_channels(self) -> list[str]:
        """Where a post goes when nobody names a channel: every configured channel but the log,
        which the newsroom did not configure; the log alone when nothing else is."""
        return [name for name in self.channels if name != "log"] or ["log"]

    @model_validator(mode="after")
    def _rule_channels(self) -> Settings:
        for number, rule in enumerate(self.rules):
            unknown = [name for name in rule.channels if name not in self.channels]
            if unknown:
                raise ValueError(f"rules[{number}] ({rule.name}): unknown channel {unknown[0]!r}")
            if rule.timing == "next_slot":
                slotless = [name for name in rule.channels if not self.channels[name].slots]
                if slotless:
                    raise ValueError(
                        f"rules[{number}] ({rule.name}): channel {slotless[0]!r} has no slots "
                        'for timing = "next_slot"; give it slots or choose another timing'
                    )
        for number, again in enumerate(self.resurface):
            unknown = [name for name in again.channels if name not in self.channels]
            if unknown:
                raise ValueError(
                    f"resurface[{number}] ({again.name}): unknown channel {unknown[0]!r}"
                )
            if again.min_age_days > again.max_age_days:
                raise ValueError(
                    f"resurface[{number}] ({again.name}): min_age_days is past max_age_days"
                )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def channel_tz(self, name: str) -> ZoneInfo:
        """The zone a channel's times are planned and shown in."""
        channel = self.channels.get(name)
        return ZoneInfo(channel.timezone) if channel and channel.timezone else self.tz

    def channel_named(self, word: str) -> str | None:
        """The channel an editor means by `word`: its name, or its label as they read it ("X"
        for x_main), in any case; None when no channel is called so."""
        if word in self.channels:
            return word
        wanted = word.casefold()
        for name in self.channels:
            if wanted in (name.casefold(), self.label(name).casefold()):
                return name
        return None

    def label(self, name: str) -> str:
        """A channel's name as editors read it: its `label`, else its platform's name ("X"),
        else, when another channel shares its platform, its own name ("x_sport")."""
        channel = self.channels.get(name)
        if channel is None:
            return name
        if channel.label:
            return channel.label
        sharing = sum(1 for other in self.channels.values() if other.type == channel.type)
        return name if sharing > 1 else channel_class(channel.type).display_name

    def template(self, language: str | None) -> Template:
        """The template for a language, falling back to the configured one, then English."""
        for candidate in (language, self.language, "en"):
            if candidate and candidate in self.templates:
                return self.templates[candidate]
        return Template()


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{where}: {message}" if where else message


def load_settings(path: str | Path | None = None) -> Settings:
    """Settings from `path`, `$PUBLISHER_CONFIG`, `./publisher.toml`, or the defaults."""
    explicit = path or os.environ.get(CONFIG_ENV)
    if explicit:
        chosen = Path(explicit)
        if not chosen.is_file():
            raise ConfigError(f"config file {chosen}: not found")
    elif DEFAULT_CONFIG_FILE.is_file():
        chosen = DEFAULT_CONFIG_FILE
    else:
        return Settings()
    try:
        data = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {chosen}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {chosen}: cannot read ({exc})") from None
    try:
        return Settings.model_validate({**data, "source": str(chosen)})
    except ValidationError as exc:
        raise ConfigError(f"config file {chosen}: {_describe(exc)}") from None

"""Turn one Article into one teaser per channel: pick the channels, build each one's options
(tracked link, language template, bullet cap) and let the channel's text rules fit the text."""

from __future__ import annotations

from collections.abc import Sequence

from publisher.articles import Article
from publisher.channels import (
    PLATFORMS,
    Channel,
    ComposeError,
    ComposeOptions,
    Teaser,
    channel_class,
)
from publisher.channels import channel_types as known_types
from publisher.config import ChannelSettings, Settings
from publisher.links import with_tracking


def make_channel(name: str, channel: ChannelSettings, settings: Settings) -> Channel:
    """The channel object for a configured channel."""
    options = channel.model_dump()
    options.setdefault("allow_private_networks", settings.fetch.allow_private_networks)
    return channel_class(channel.type)(name, options)


def resolve_channels(
    settings: Settings, requested: Sequence[str] | None = None
) -> dict[str, Channel]:
    """Channels keyed as asked: configured names, or platform types (the newsroom's first channel
    of that type, else the type's defaults). Nothing asked: the four platforms."""
    wanted = list(requested) if requested else list(PLATFORMS)
    resolved: dict[str, Channel] = {}
    for key in wanted:
        if key in settings.channels:
            resolved[key] = make_channel(key, settings.channels[key], settings)
            continue
        if key not in known_types():
            names = ", ".join(sorted({*settings.channels, *PLATFORMS}))
            raise ComposeError(f"unknown channel {key!r} (configured or known: {names})")
        configured = next((n for n, c in settings.channels.items() if c.type == key), None)
        resolved[key] = (
            make_channel(configured, settings.channels[configured], settings)
            if configured
            else make_channel(key, ChannelSettings.model_construct(type=key), settings)
        )
    return resolved


def compose_options(article: Article, channel: Channel, settings: Settings) -> ComposeOptions:
    """The newsroom's choices for this article on this channel."""
    template = settings.template(channel.options.get("language") or article.language)
    link = article.url
    if settings.tracking.enabled:
        params = {**settings.tracking.params, **channel.options.get("tracking", {})}
        filled = {
            key: value.replace("{channel}", channel.name).replace("{type}", channel.type)
            for key, value in params.items()
        }
        link = with_tracking(article.url, filled)
    return ComposeOptions(
        link=link,
        read_more=template.read_more,
        bullet=template.bullet,
        kicker=template.kicker,
        max_bullets=channel.options.get("max_bullets"),
    )


def compose(
    article: Article, channels: dict[str, Channel], settings: Settings
) -> dict[str, Teaser]:
    """One teaser per channel, keyed like `channels`."""
    return {
        key: channel.compose(article, compose_options(article, channel, settings))
        for key, channel in channels.items()
    }


def compose_json(article: Article, teasers: dict[str, Teaser]) -> dict:
    """The `publisher compose --json` contract of DESIGN.md."""
    return {
        "article": article.to_json(),
        "teasers": {key: teaser.to_json() for key, teaser in teasers.items()},
    }

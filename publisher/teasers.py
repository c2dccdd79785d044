"""Turn one Article into one teaser per channel: build each channel's options (tracked link,
language template, bullet cap) and let the channel's text rules fit the text."""

from __future__ import annotations

from publisher.articles import Article
from publisher.channels import Channel, ComposeOptions, Teaser
from publisher.config import Settings
from publisher.links import with_tracking


def compose_options(article: Article, channel: Channel, settings: Settings) -> ComposeOptions:
    """The newsroom's choices for this article on this channel."""
    own = settings.channels.get(channel.name)
    template = settings.template((own and own.language) or article.language)
    link = article.url
    if settings.tracking.enabled:
        params = {**settings.tracking.params, **(own.tracking if own else {})}
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
        max_bullets=own.max_bullets if own else None,
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

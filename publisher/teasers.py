"""Turn one Article into one teaser per channel: build each channel's options (tracked link,
language template, bullet cap) and let the channel's text rules fit the text."""

from __future__ import annotations

import os

from publisher.articles import Article
from publisher.channels import Channel, ComposeOptions, Teaser
from publisher.config import Settings
from publisher.links import LINK_SECRET_ENV, redirect_code, redirect_link, with_tracking


def tracked_url(url: str, name: str, type_: str, settings: Settings) -> str:
    """The article's address with the tracking parameters of channel `name` (of `type_`)."""
    if not settings.tracking.enabled:
        return url
    own = settings.channels.get(name)
    params = {**settings.tracking.params, **(own.tracking if own else {})}
    filled = {
        key: value.replace("{channel}", name).replace("{type}", type_)
        for key, value in params.items()
    }
    return with_tracking(url, filled)


def posted_link(article: Article, channel: Channel, settings: Settings) -> str:
    """The link a post carries: the newsroom's redirect for this article and channel where
    one is set (it leads to the tracked address), else the tracked address itself."""
    base = settings.tracking.redirect_base
    if base:
        secret = os.environ.get(LINK_SECRET_ENV, "")
        return redirect_link(base, redirect_code(secret, article.id or article.url, channel.name))
    return tracked_url(article.url, channel.name, channel.type, settings)


def compose_options(article: Article, channel: Channel, settings: Settings) -> ComposeOptions:
    """The newsroom's choices for this article on this channel."""
    own = settings.channels.get(channel.name)
    template = settings.template((own and own.language) or article.language)
    return ComposeOptions(
        link=posted_link(article, channel, settings),
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
    """The `publisher compose --json` contract (README, "Composing teasers")."""
    return {
        "article": article.to_json(),
        "teasers": {key: teaser.to_json() for key, teaser in teasers.items()},
    }

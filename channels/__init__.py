"""Channel adapters, one module per platform, found here by their `type`.

Every module in this package that defines a `Channel` subclass with a `type` is registered:
adding a platform means adding its module (and its tests), nothing else. The rest of the house
asks the registry and names no platform for posting, composing or measuring. Two features exist
for one platform only and name it: WhatsApp's subscribers (their events, read in
publisher.engine.audiences.inbox and the hook at publisher.web.whatsapp_hook) and the editors'
bot, which is a Telegram bot (publisher.bot.talk).
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from publisher.channels.base import (
    METRICS,
    Channel,
    ChannelError,
    ComposeError,
    ComposeOptions,
    Heard,
    Outgoing,
    Receipt,
    Result,
    Teaser,
)

__all__ = [
    "METRICS",
    "Channel",
    "ChannelError",
    "ComposeError",
    "ComposeOptions",
    "Heard",
    "Outgoing",
    "Receipt",
    "Result",
    "Teaser",
    "channel_class",
    "channel_classes",
    "channel_types",
    "default_share_types",
    "platform_types",
    "share_types",
]


@cache
def _registry() -> dict[str, type[Channel]]:
    found: dict[str, type[Channel]] = {}
    for module in pkgutil.iter_modules(__path__):
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        for value in vars(loaded).values():
            if (
                isinstance(value, type)
                and issubclass(value, Channel)
                and value.__module__ == loaded.__name__
                and getattr(value, "type", None)
            ):
                found[value.type] = value
    return dict(sorted(found.items(), key=lambda item: (item[1].order, item[0])))


def forget_registry() -> None:
    """Look for channel modules again at the next question (after the package path changed)."""
    _registry.cache_clear()


def channel_classes() -> list[type[Channel]]:
    """Every channel class, in the order platforms are listed."""
    return list(_registry().values())


def channel_types() -> frozenset[str]:
    """The platform types this installation knows."""
    return frozenset(_registry())


def platform_types() -> list[str]:
    """The social networks editors post to, in order (composed by default, offered to share)."""
    return [kind for kind, cls in _registry().items() if cls.platform]


def share_types() -> list[str]:
    """The platforms a reader can share an article to from the article page, in order."""
    return [kind for kind, cls in _registry().items() if cls.share_url is not Channel.share_url]


def default_share_types() -> list[str]:
    """The share buttons of an article page whose newsroom chose none, in their order."""
    ranked = [(cls.share_rank, kind) for kind, cls in _registry().items() if cls.share_rank]
    return [kind for _, kind in sorted(ranked)]


def channel_class(kind: str) -> type[Channel]:
    """The channel class for a type such as "x" or "telegram"."""
    try:
        return _registry()[kind]
    except KeyError:
        raise ComposeError(f"unknown channel type {kind!r}") from None

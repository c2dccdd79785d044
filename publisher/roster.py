"""The newsroom's channels as objects: the one place a configured channel becomes its platform's
class (with the platform keys, the API address and the image fetcher), a dry run becomes the log
channel, and names or platform types asked for become channels."""

from __future__ import annotations

from collections.abc import Sequence

from publisher.channels import Channel, ComposeError, channel_class, platform_types
from publisher.channels.base import FetchedImage, ImageFetch, ImageUnavailable
from publisher.channels.log import Log
from publisher.config import Settings
from publisher.errors import EditorError


class UnknownChannel(EditorError):
    """A channel asked for by name is not configured; the message lists those that are."""


def image_fetcher(settings: Settings) -> ImageFetch:
    """How channels fetch an article image for upload: the newsroom's fetch rules (time limit,
    no private networks), at most the platform's byte limit, and only images."""

    def fetch_image(url: str, max_bytes: int) -> FetchedImage:
        from publisher.intake.fetch import FetchError, FetchLimits, fetch

        limits = FetchLimits(
            timeout=settings.fetch.timeout,
            max_bytes=max_bytes,
            allow_private_networks=settings.fetch.allow_private_networks,
        )
        try:
            fetched = fetch(url, limits)
        except FetchError as exc:
            raise ImageUnavailable(str(exc)) from None
        media_type = (fetched.content_type or "application/octet-stream").split(";")[0].strip()
        if fetched.status >= 400 or not media_type.startswith("image/"):
            raise ImageUnavailable(f"{url} answered {fetched.status} {media_type}")
        return FetchedImage(fetched.body, media_type)

    return fetch_image


def configured(settings: Settings, name: str) -> Channel:
    """A configured channel as its platform's class: for composing, validating and checking."""
    channel = settings.channels[name]
    return channel_class(channel.type)(
        name,
        channel.platform,
        api_base=channel.api_base,
        fetch_image=image_fetcher(settings),
        facts=settings.learned.get(name),
    )


def learns(settings: Settings, channels: dict[str, Channel]) -> bool:
    """Whether any of these channels is a configured one whose platform tells it its own rules
    (a Mastodon instance's limits): only then does composing need what was learned."""
    return any(
        channel.name in settings.channels and type(channel).learn is not Channel.learn
        for channel in channels.values()
    )


def sender(settings: Settings, name: str) -> Channel:
    """The channel that delivers a configured channel's posts: a dry run goes to the log."""
    if settings.channels[name].dry_run:
        return Log(name)
    return configured(settings, name)


def removable(settings: Settings, name: str) -> bool:
    """Whether a configured channel's posts can be taken down through its platform's API (a dry
    run says what its platform would allow, and only logs the takedown)."""
    return channel_class(settings.channels[name].type).removable


def chosen(settings: Settings, names: Sequence[str] | None) -> dict[str, Channel]:
    """Configured channels by name; without names, every configured channel but the implicit log
    (or the log channel alone when nothing else is configured)."""
    if names:
        unknown = [n for n in names if n not in settings.channels]
        if unknown:
            known = ", ".join(sorted(settings.channels))
            raise UnknownChannel(
                f"unknown channel {unknown[0]!r} (configured: {known})",
                key="unknown_channel",
                channel=unknown[0],
                known=known,
            )
        picked = list(dict.fromkeys(names))
    else:
        picked = settings.unnamed_channels()
    return {name: configured(settings, name) for name in picked}


def resolve(settings: Settings, requested: Sequence[str] | None = None) -> dict[str, Channel]:
    """Channels keyed as asked: configured names, or platform types (the newsroom's first channel
    of that type, else the type's defaults). Nothing asked: every platform."""
    wanted = list(requested) if requested else platform_types()
    resolved: dict[str, Channel] = {}
    for key in wanted:
        if key in settings.channels:
            resolved[key] = configured(settings, key)
            continue
        try:
            cls = channel_class(key)
        except ComposeError:
            names = ", ".join(sorted({*settings.channels, *platform_types()}))
            raise ComposeError(
                f"unknown channel {key!r} (configured or known: {names})",
                key="unknown_channel",
                channel=key,
                known=names,
            ) from None
        first = next((n for n, c in settings.channels.items() if c.type == key), None)
        resolved[key] = configured(settings, first) if first else cls(key)
    return resolved

"""Configured channels become their platform's classes, and names asked for become channels."""

from __future__ import annotations

import pytest

from publisher import roster
from publisher.channels import ComposeError
from publisher.channels.log import Log
from publisher.channels.telegram import Telegram
from tests.engine_helpers import make_settings


def test_unknown_channel_is_refused_with_the_configured_names() -> None:
    with pytest.raises(
        roster.UnknownChannel, match=r"unknown channel 'myspace' \(configured: log, x\)"
    ):
        roster.chosen(make_settings("sqlite://", x={"type": "x"}), ["myspace"])


def test_without_configured_channels_posts_go_to_the_log_channel() -> None:
    assert list(roster.chosen(make_settings("sqlite://"), None)) == ["log"]


def test_a_dry_run_channel_delivers_through_the_log() -> None:
    settings = make_settings("sqlite://", x={"type": "x", "dry_run": True})
    assert isinstance(roster.sender(settings, "x"), Log)
    assert roster.configured(settings, "x").type == "x"


def test_a_configured_channel_gets_its_platform_keys_typed() -> None:
    settings = make_settings("sqlite://", tg={"type": "telegram", "chat_id": "@news"})
    config = roster.configured(settings, "tg").config
    assert isinstance(config, Telegram.Options) and config.chat_id == "@news"


def test_a_platform_type_without_a_configured_channel_gets_the_platform_defaults() -> None:
    channels = roster.resolve(make_settings("sqlite://"), ["telegram"])
    assert channels["telegram"].name == "telegram"


def test_a_platform_type_takes_the_newsrooms_first_channel_of_that_type() -> None:
    settings = make_settings("sqlite://", tg={"type": "telegram", "chat_id": "@news"})
    assert roster.resolve(settings, ["telegram"])["telegram"].name == "tg"


def test_an_unknown_name_or_type_is_refused_when_composing() -> None:
    with pytest.raises(ComposeError, match="unknown channel 'myspace'"):
        roster.resolve(make_settings("sqlite://"), ["myspace"])


def test_every_platform_but_whatsapp_lets_a_post_be_taken_down() -> None:
    from publisher.channels import channel_class, platform_types

    removable = {name for name in platform_types() if channel_class(name).removable}
    assert removable == {"x", "facebook", "bluesky", "mastodon", "threads", "linkedin", "telegram"}


def test_a_platform_without_a_way_to_take_a_post_down_says_so_for_good() -> None:
    from publisher.channels import ChannelError
    from publisher.channels.whatsapp import WhatsApp

    with pytest.raises(ChannelError) as refused:
        WhatsApp("wa", {"phone_number_id": "1"}).remove("wamid.1")
    assert refused.value.kind == "permanent" and "lets no post be removed" in refused.value.message

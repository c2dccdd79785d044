"""Telegram's reaction counts: pushed to the editors' bot as `message_reaction_count` updates (it
asks for them by name, as Telegram wants), kept for the post they belong to (newer counts replace
older ones), and measured at each point as likes; views stay unknown, and a channel nothing was
ever heard of gets no made-up zeros."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select, update

from publisher import roster
from publisher.channels.telegram_reactions import reaction_counts, same_chat
from publisher.config import BotSettings, ChannelSettings, Settings
from publisher.engine.learning.pushed import keep_heard
from publisher.engine.learning.results import Measurer
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.storage.schema import measurements, posts, pushed_results
from standins.bot_api import BotApiStandIn
from standins.telegram import TELEGRAM_TOKEN
from tests.conftest import wait_for
from tests.engine_helpers import article
from tests.test_bot import EDITOR, bot_running

CHANNEL_ID = -1001234567890
SENT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def counted(
    counts: dict[str, int], message_id: int = 501, chat: int = CHANNEL_ID, at: datetime = SENT
) -> dict[str, Any]:
    """A `message_reaction_count` update as the Bot API sends it."""
    return {
        "update_id": 1,
        "message_reaction_count": {
            "chat": {"id": chat, "type": "channel", "title": "News", "username": "news_de"},
            "message_id": message_id,
            "date": int(at.timestamp()),
            "reactions": [
                {"type": {"type": "emoji", "emoji": emoji}, "total_count": number}
                for emoji, number in counts.items()
            ],
        },
    }


@given(st.dictionaries(st.sampled_from("👍❤🔥🎉😢"), st.integers(0, 10**6), max_size=5))
def test_every_reaction_counts_as_a_like(counts: dict[str, int]) -> None:
    heard = reaction_counts(CHANNEL_ID, counted(counts))
    assert heard is not None and heard.result.metrics["likes"] == sum(counts.values())
    assert heard.result.metrics["impressions"] is None


@pytest.mark.parametrize("configured", ["@news_de", "@News_DE", str(CHANNEL_ID), CHANNEL_ID])
def test_a_channel_is_known_by_its_id_or_its_public_name(configured: str | int) -> None:
    assert same_chat(configured, {"id": CHANNEL_ID, "username": "news_de"})


def test_counts_of_another_chat_are_none_of_the_channels() -> None:
    assert reaction_counts("@andere_zeitung", counted({"👍": 3})) is None


def test_an_update_of_another_kind_says_nothing_of_reactions() -> None:
    assert reaction_counts(CHANNEL_ID, {"update_id": 1, "message": {"text": "hi"}}) is None


@pytest.fixture
def settings(database_url: str) -> Settings:
    channel = ChannelSettings(type="telegram", chat_id="@news_de", dry_run=False)
    return Settings(database_url=database_url, channels={"tg": channel})


def sent_post(engine: Engine, settings: Settings, message_id: int = 501, number: int = 1) -> int:
    """A post that went out as message `message_id` of the channel."""
    (post_id,) = queue.add(
        engine, settings, article(number), roster.chosen(settings, ["tg"]), When(),
        queued_by="test",
    )  # fmt: skip
    with engine.begin() as connection:
        connection.execute(
            update(posts)
            .where(posts.c.id == post_id)
            .values(state="sent", remote_id=str(message_id), sent_at=SENT)
        )
    return post_id


def likes_kept(engine: Engine) -> dict[int, int | None]:
    with engine.connect() as connection:
        rows = connection.execute(select(pushed_results.c.post_id, pushed_results.c.metrics))
        return {row.post_id: row.metrics["likes"] for row in rows}


def test_counts_heard_are_kept_for_the_post_they_belong_to(engine, settings) -> None:
    post_id = sent_post(engine, settings)
    assert keep_heard(engine, settings, counted({"👍": 4, "🔥": 2})) == 1
    assert likes_kept(engine) == {post_id: 6}


def test_counts_that_arrive_after_newer_ones_change_nothing(engine, settings) -> None:
    post_id = sent_post(engine, settings)
    keep_heard(engine, settings, counted({"👍": 9}, at=SENT + timedelta(minutes=10)))
    keep_heard(engine, settings, counted({"👍": 2}, at=SENT + timedelta(minutes=5)))
    assert likes_kept(engine) == {post_id: 9}


def test_counts_of_a_message_that_is_no_post_are_not_kept(engine, settings) -> None:
    sent_post(engine, settings)
    assert keep_heard(engine, settings, counted({"👍": 1}, message_id=999)) == 0
    assert likes_kept(engine) == {}


def test_a_post_is_measured_with_the_likes_last_heard(engine, settings) -> None:
    sent_post(engine, settings)
    keep_heard(engine, settings, counted({"👍": 5}))
    done = Measurer(engine, settings).run(now=SENT + timedelta(hours=1))
    with engine.connect() as connection:
        (row,) = connection.execute(select(measurements)).all()
    assert done.measured == {"tg": 1}
    assert (row.point, row.metrics["likes"], row.metrics["impressions"]) == ("1h", 5, None)


def test_a_post_nobody_reacted_to_has_no_likes_once_the_channel_is_heard(engine, settings) -> None:
    sent_post(engine, settings, message_id=501, number=1)
    quiet = sent_post(engine, settings, message_id=502, number=2)
    keep_heard(engine, settings, counted({"👍": 5}, message_id=501))
    Measurer(engine, settings).run(now=SENT + timedelta(hours=1))
    with engine.connect() as connection:
        likes = connection.execute(
            select(measurements.c.metrics).where(measurements.c.post_id == quiet)
        ).scalar_one()["likes"]
    assert likes == 0


def test_a_channel_never_heard_of_has_unknown_likes_not_zero(engine, settings) -> None:
    sent_post(engine, settings)
    Measurer(engine, settings).run(now=SENT + timedelta(hours=1))
    with engine.connect() as connection:
        (row,) = connection.execute(select(measurements)).all()
    assert row.metrics["likes"] is None


@pytest.fixture
def bot_api() -> Iterator[BotApiStandIn]:
    stand_in = BotApiStandIn()
    yield stand_in
    stand_in.close()


def test_a_bot_that_does_not_ask_for_reaction_counts_is_sent_none(bot_api) -> None:
    import requests

    bot_api.push_reaction_count(CHANNEL_ID, 501, {"👍": 1})
    url = f"{bot_api.url}/bot{TELEGRAM_TOKEN}/getUpdates"
    plain = requests.post(url, json={"offset": 0}, timeout=10).json()["result"]
    asked = requests.post(
        url, json={"offset": 0, "allowed_updates": ["message_reaction_count"]}, timeout=10
    ).json()["result"]
    assert plain == [] and [u["message_reaction_count"]["message_id"] for u in asked] == [501]


@pytest.mark.one_database
def test_the_editors_bot_keeps_the_counts_telegram_pushes(
    engine, settings, bot_api, monkeypatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    post_id = sent_post(engine, settings)
    with_bot = settings.model_copy(
        update={"bot": BotSettings(api_base=bot_api.url, allowed_users=(EDITOR,))}
    )
    with bot_running(engine, with_bot, bot_api):
        bot_api.push_reaction_count(CHANNEL_ID, 501, {"👍": 7, "❤": 1})
        wait_for(lambda: likes_kept(engine))
    assert likes_kept(engine) == {post_id: 8}
    # The count comes from no user: nobody is told off as a stranger for it.
    assert bot_api.sent("sendMessage") == []

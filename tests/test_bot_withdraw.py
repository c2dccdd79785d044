"""Withdrawing and correcting an article from the bot (approvers only): `/withdraw` and `/correct`
ask first, listing what becomes of each post and changing nothing; "Yes, withdraw it" withdraws
it and the worker takes its post down, "Yes, correct it" corrects it and the worker edits the
post; the other buttons leave the posts out standing, or leave the article as it is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select

from publisher import roster
from publisher.config import ChannelSettings, Settings
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.releases.release import stored_article
from publisher.engine.storage.schema import posts
from standins.bot_api import BotApiStandIn
from standins.telegram import TELEGRAM_TOKEN
from tests.conftest import wait_for
from tests.desk_helpers import state
from tests.test_bot import ARTICLE, JUNIOR, bot_running, bot_settings, press, reply_after


@pytest.fixture
def desk_settings(database_url: str, bot_api: BotApiStandIn) -> Settings:
    return Settings(
        database_url=database_url,
        channels={"telegram": ChannelSettings(type="telegram", dry_run=True)},
        bot=bot_settings(bot_api, "en"),
    )


@pytest.fixture
def sent_post(engine: Engine, desk_settings: Settings) -> Iterator[tuple[int, Dispatcher]]:
    """ARTICLE out on Telegram, and the worker that sent it."""
    channels = roster.chosen(desk_settings, ["telegram"])
    (post_id,) = queue.add(engine, desk_settings, ARTICLE, channels, When(), queued_by="test")
    dispatcher = Dispatcher(engine, desk_settings)
    dispatcher.run_once()
    yield post_id, dispatcher
    dispatcher.close()


@pytest.fixture
def running(engine: Engine, desk_settings, bot_api: BotApiStandIn, monkeypatch) -> Iterator[Any]:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    with bot_running(engine, desk_settings, bot_api) as api:
        yield api


def post_text(engine: Engine, post_id: int) -> str:
    with engine.connect() as connection:
        return connection.execute(select(posts.c.text).where(posts.c.id == post_id)).scalar_one()


def edited(api: BotApiStandIn) -> str:
    return wait_for(lambda: api.sent("editMessageText"))[-1]["text"]


def test_withdraw_asks_first_and_changes_nothing(running, engine, sent_post) -> None:
    post_id, _ = sent_post
    answer = reply_after(running, f"/withdraw {ARTICLE.id} Zahlen falsch")
    assert f"Telegram: post {post_id} is taken down from the platform." in answer
    assert "Reason: Zahlen falsch" in answer
    assert not stored_article(engine, ARTICLE.id).withdrawn


def test_yes_withdraws_and_the_worker_takes_the_post_down(running, engine, sent_post) -> None:
    post_id, dispatcher = sent_post
    reply_after(running, f"/withdraw {ARTICLE.id} Zahlen falsch")
    press(running, "Yes, withdraw it")
    assert f"Being taken down from their platforms: #{post_id}" in edited(running)
    assert stored_article(engine, ARTICLE.id).withdrawn
    dispatcher.run_once()
    assert state(engine, post_id) == "taken_down"


def test_withdrawing_and_leaving_the_posts_out_standing(running, engine, sent_post) -> None:
    post_id, dispatcher = sent_post
    reply_after(running, f"/withdraw {ARTICLE.id}")
    press(running, "Withdraw, leave the posts out standing")
    assert f"Left standing: #{post_id}" in edited(running)
    dispatcher.run_once()
    assert state(engine, post_id) == "sent"


def test_leaving_it_withdraws_nothing(running, engine, sent_post) -> None:
    reply_after(running, f"/withdraw {ARTICLE.id}")
    press(running, "Do not withdraw")
    assert "Not withdrawn." in edited(running)
    assert not stored_article(engine, ARTICLE.id).withdrawn


def test_an_editor_who_is_no_approver_cannot_withdraw(running, engine, sent_post) -> None:
    assert "Only approvers" in reply_after(running, f"/withdraw {ARTICLE.id}", user=JUNIOR)
    assert not stored_article(engine, ARTICLE.id).withdrawn


def test_an_unknown_article_is_said_to_be_unknown(running) -> None:
    assert "no stored article" in reply_after(running, "/withdraw cms-nope").lower()


def test_correct_asks_first_with_the_line_it_adds(running, engine, sent_post) -> None:
    post_id, _ = sent_post
    answer = reply_after(running, f"/correct {ARTICLE.id} Die Zahl war 12.")
    assert f"Telegram: post {post_id} gains the correction line, in place." in answer
    assert "The correction: “Die Zahl war 12.”" in answer


def test_yes_corrects_and_the_worker_edits_the_post(running, engine, sent_post) -> None:
    post_id, dispatcher = sent_post
    reply_after(running, f"/correct {ARTICLE.id} Die Zahl war 12.")
    press(running, "Yes, correct it")
    assert f"Being corrected in place: #{post_id}" in edited(running)
    dispatcher.run_once()
    assert post_text(engine, post_id).endswith(": Die Zahl war 12.")


def test_correct_without_a_note_says_how_it_is_given(running) -> None:
    assert "Usage: /correct &lt;article&gt;" in reply_after(running, f"/correct {ARTICLE.id}")


def test_an_editor_who_is_no_approver_cannot_correct(running, engine, sent_post) -> None:
    assert "Only approvers" in reply_after(running, f"/correct {ARTICLE.id} x", user=JUNIOR)

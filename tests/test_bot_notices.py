"""The bot's notices always arrive: a refused private chat neither blocks the others nor is tried
for ever (it is said once in the editors' chat), a post failing again is told again, and an
author hears when their post is online. Posts go through the worker to the X stand-in, which
refuses as X does; notices through the Bot API stand-in, which refuses a private chat nobody
started, as Telegram does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from publisher import actions, roster
from publisher.actions import Someone
from publisher.config import ChannelSettings, Settings
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue, verbs
from standins.bot_api import BotApiStandIn
from standins.telegram import TELEGRAM_TOKEN
from standins.x import XStandIn
from tests.conftest import wait_for
from tests.test_bot import (
    ARTICLE,
    EDITOR,
    EDITORS_CHAT,
    JUNIOR,
    bot_running,
    bot_settings,
    press,
    reply_after,
)

DUPLICATE = {
    "detail": "You are not allowed to create a Tweet with duplicate content.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'newsroom.db'}"


@pytest.fixture
def newsroom(database_url: str, bot_api: BotApiStandIn, x_api: XStandIn, credentials) -> Settings:
    return Settings(
        database_url=database_url,
        language="de",
        channels={"x": ChannelSettings(type="x", api_base=x_api.url, image=False)},
        bot=bot_settings(bot_api, "de"),
    )


@pytest.fixture
def bot(engine: Engine, newsroom: Settings, bot_api: BotApiStandIn, monkeypatch) -> Iterator[Any]:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    with bot_running(engine, newsroom, bot_api) as api:
        yield api


def queued_from_the_bot(engine: Engine, settings: Settings, by: int, *, held: bool = False) -> int:
    channels = roster.chosen(settings, ["x"])
    (post_id,) = queue.add(
        engine, settings, ARTICLE, channels, When(), force=True, queued_by=f"telegram:{by}",
        approval=True if held else None,
    )  # fmt: skip
    return post_id


def deliver(engine: Engine, settings: Settings) -> None:
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    dispatcher.close()


def said(api: BotApiStandIn, chat: int, words: str) -> list[str]:
    return [m["text"] for m in api.messages if m["chat"]["id"] == chat and words in m["text"]]


def tries_to(api: BotApiStandIn, chat: int) -> int:
    return sum(1 for m in api.sent("sendMessage") if int(m["chat_id"]) == chat)


def test_an_editor_the_bot_cannot_write_to_privately_is_told_once_in_the_editors_chat(
    bot, engine, newsroom, x_api
) -> None:
    bot.started.discard(JUNIOR)
    x_api.fail_next("/2/tweets", 403, DUPLICATE)
    post_id = queued_from_the_bot(engine, newsroom, JUNIOR)
    deliver(engine, newsroom)
    wait_for(lambda: said(bot, EDITORS_CHAT, "privat schreiben"))
    wait_for(lambda: said(bot, EDITORS_CHAT, f"Post {post_id} auf X ist gescheitert"))
    # Rounds of the notifier later, the private chat was tried once.
    held = queued_from_the_bot(engine, newsroom, EDITOR, held=True)
    wait_for(lambda: said(bot, EDITORS_CHAT, f"Post {held}"))
    assert tries_to(bot, JUNIOR) == 1
    assert len(said(bot, EDITORS_CHAT, "privat schreiben")) == 1


def test_a_refused_private_chat_does_not_hold_back_the_notices_after_it(
    bot, engine, newsroom, x_api
) -> None:
    bot.started.discard(JUNIOR)
    x_api.fail_next("/2/tweets", 403, DUPLICATE)
    queued_from_the_bot(engine, newsroom, JUNIOR)
    deliver(engine, newsroom)
    held = queued_from_the_bot(engine, newsroom, EDITOR, held=True)
    assert wait_for(lambda: said(bot, EDITORS_CHAT, f"Post {held}"))


def test_an_editor_who_writes_to_the_bot_gets_their_notices_privately_again(
    bot, engine, newsroom, x_api
) -> None:
    bot.started.discard(JUNIOR)
    x_api.fail_next("/2/tweets", 403, DUPLICATE, times=2)
    queued_from_the_bot(engine, newsroom, JUNIOR)
    deliver(engine, newsroom)
    wait_for(lambda: said(bot, EDITORS_CHAT, "privat schreiben"))
    bot.push_command(JUNIOR, JUNIOR, "/help")
    wait_for(lambda: said(bot, JUNIOR, "/queue"))
    second = queued_from_the_bot(engine, newsroom, JUNIOR)
    deliver(engine, newsroom)
    assert wait_for(lambda: said(bot, JUNIOR, f"Post {second} auf X ist gescheitert"))


def test_a_post_that_fails_again_after_a_retry_is_told_again_to_its_author_and_the_editors(
    bot, engine, newsroom, x_api
) -> None:
    x_api.fail_next("/2/tweets", 403, DUPLICATE, times=2)
    post_id = queued_from_the_bot(engine, newsroom, JUNIOR)
    deliver(engine, newsroom)
    failure = f"Post {post_id} auf X ist gescheitert"
    wait_for(lambda: said(bot, JUNIOR, failure))
    verbs.retry(engine, post_id, by="telegram:4242")
    deliver(engine, newsroom)
    wait_for(lambda: len(said(bot, JUNIOR, failure)) == 2)
    assert len(said(bot, EDITORS_CHAT, failure)) == 2


def test_the_author_hears_when_their_post_is_online_with_its_link(bot, engine, newsroom) -> None:
    post_id = queued_from_the_bot(engine, newsroom, JUNIOR)
    deliver(engine, newsroom)
    heard = wait_for(lambda: said(bot, JUNIOR, "ist online"))[-1]
    assert f"Ihr Post {post_id} auf X ist online: https://x.com/" in heard
    assert ARTICLE.headline in heard


def test_a_channel_paused_by_a_refused_token_tells_the_authors_of_the_posts_it_holds(
    bot, engine, newsroom, x_api
) -> None:
    tomorrow = When("at", datetime.now(UTC) + timedelta(days=1))
    channels = roster.chosen(newsroom, ["x"])
    (later,) = queue.add(
        engine, newsroom, ARTICLE, channels, tomorrow, force=True, queued_by=f"telegram:{JUNIOR}"
    )
    x_api.revoked = True
    queued_from_the_bot(engine, newsroom, EDITOR)
    deliver(engine, newsroom)
    heard = wait_for(lambda: said(bot, JUNIOR, "Kanal X ist pausiert"))[-1]
    assert f"Ihre Posts #{later} gehen erst hinaus, wenn er wieder läuft" in heard


def test_a_post_queued_on_a_paused_channel_says_it_is_held_when_queued(
    bot, engine, newsroom
) -> None:
    actions.apply_to_channel(engine, newsroom, "pause", "x", Someone("telegram:4242", True), "")
    preview = reply_after(bot, f"/queue {ARTICLE.id} x morgen 8 Uhr")
    assert "angehalten, solange der Kanal pausiert ist" in preview
    press(bot, "Einplanen")
    done = wait_for(lambda: [e["text"] for e in bot.sent("editMessageText") if "#1" in e["text"]])
    assert "#1 X" in done[-1] and "angehalten, bis jemand den Kanal fortsetzt" in done[-1]


def test_resuming_a_channel_names_the_posts_that_go_out_at_once(bot, engine, newsroom) -> None:
    actions.apply_to_channel(engine, newsroom, "pause", "x", Someone("telegram:4242", True), "")
    post_id = queued_from_the_bot(engine, newsroom, JUNIOR)
    answer = reply_after(bot, "/resume x")
    assert "Kanal X läuft wieder" in answer and f"Geht jetzt hinaus: #{post_id}" in answer


def test_a_refused_token_is_told_in_the_editors_words_with_the_platforms_after_them(
    bot, engine, newsroom, x_api
) -> None:
    x_api.revoked = True
    queued_from_the_bot(engine, newsroom, EDITOR)
    deliver(engine, newsroom)
    notice = wait_for(lambda: said(bot, EDITORS_CHAT, "Kanal X ist pausiert"))[-1]
    assert "Kanal X ist pausiert: die Plattform hat die Zugangsdaten abgelehnt" in notice
    assert "Die Plattform sagte:" in notice


def test_a_takedown_x_refuses_is_told_in_the_editors_chat(engine, newsroom, bot, x_api) -> None:
    queued_from_the_bot(engine, newsroom, EDITOR)
    deliver(engine, newsroom)
    x_api.fail_next("/2/tweets/", 403, DUPLICATE, method="DELETE")
    actions.withdraw_article(engine, newsroom, ARTICLE.id, Someone("chefin", approver=True))
    deliver(engine, newsroom)
    told = wait_for(lambda: said(bot, EDITORS_CHAT, "konnte nicht gelöscht werden"))
    assert "Bitte von Hand auf der Plattform löschen" in told[0]

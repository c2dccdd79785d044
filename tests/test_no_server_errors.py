"""Every server error an attack found is a refusal in words now: numbers written in other
scripts' digits ("²"), numbers past any row, and NUL characters (which PostgreSQL cannot take)
in addresses and forms, at the desk, the widget and the bot."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from standins.bot_api import BotApiStandIn
from standins.telegram import TELEGRAM_TOKEN
from tests.conftest import wait_for
from tests.desk_helpers import queued_post, signed_in, token
from tests.test_bot import EDITOR, bot_running, one_channel, replies, reply_after

QUERIES = [
    "/queue?page=²",
    "/log?page=²",
    "/queue?page=99999999999999999999",
    "/queue?q=%00",
    "/widget?url=%00",
    "/widget/%00",
    "/widget/meta?url=a%00b",
]


@pytest.mark.parametrize("address", QUERIES)
def test_an_odd_address_is_answered_without_a_server_error(desk, address) -> None:
    session, _ = signed_in(desk, "anna")
    assert session.get(address).status_code < 500


@pytest.mark.parametrize("address", ["/queue?q=%00", "/widget/%00", "/widget/meta?url=a%00b"])
def test_a_nul_character_in_an_address_is_refused_in_words(desk, address) -> None:
    answer = desk.get(address)
    assert answer.status_code == 400 and "NUL" in answer.json()["error"]


@pytest.mark.parametrize(
    "form", [{"post": "²"}, {"ids": "2147483648", "confirm": "1"}, {"ids": "²,³", "confirm": "1"}]
)
def test_odd_post_numbers_in_a_bulk_action_are_no_server_error(desk, engine, database_url, form):
    queued_post(engine, database_url)
    session, csrf = signed_in(desk, "anna")
    answer = session.post("/queue/bulk", data={"csrf": csrf, "action": "cancel"} | form)
    assert answer.status_code < 500


def test_a_superscript_article_number_is_measured_without_one(desk) -> None:
    session, csrf = signed_in(desk, "ed")
    answer = session.post(
        "/api/measure",
        json={"channel": "x", "text": "Hallo", "article_id": "²"},
        headers={"X-CSRF-Token": csrf},
    )
    assert answer.status_code == 200 and "preview" not in answer.json()


def test_a_nul_character_in_a_sign_in_name_is_refused(desk) -> None:
    page = desk.get("/signin").text
    answer = desk.post("/signin", data={"name": "ed\x00", "password": "x", "csrf": token(page)})
    assert answer.status_code == 400


@pytest.fixture
def running(
    engine: Engine, database_url: str, bot_api: BotApiStandIn, monkeypatch
) -> Iterator[Any]:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    with bot_running(engine, one_channel(database_url, bot_api, "en"), bot_api) as api:
        yield api


@pytest.mark.parametrize("command", ["/show ²", "/edit ² x Text", "/cancel ²"])
def test_the_bot_reads_a_superscript_number_as_no_number(running, command) -> None:
    answer = reply_after(running, command)
    assert "went wrong" not in answer


def test_a_button_with_a_superscript_number_is_stale_not_an_error(running) -> None:
    running.push_button(EDITOR, EDITOR, "p:²:cancel", {"message_id": 1, "date": 0})
    answered = wait_for(lambda: running.sent("answerCallbackQuery"))
    assert "went wrong" not in str(answered) and not any(
        "went wrong" in text for text in replies(running)
    )

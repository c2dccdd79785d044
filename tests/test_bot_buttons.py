"""The bot's buttons: each kind reads back as what it was made as, within Telegram's 64 bytes,
and whatever else a client sends reads as no button (a stale one), never an error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from publisher.bot import buttons
from publisher.bot.buttons import Button, Kind

MADE = [
    buttons.draft("a1b2c3d4", "queue"),
    buttons.draft("a1b2c3d4", "edit12"),
    buttons.post(42, "approve", "0123456789"),
    buttons.post(42, "retry"),
    buttons.resume("x_main"),
    buttons.resume("c" * 55),
    buttons.edit_without_link("a1b2c3d4"),
    buttons.help_answer("log"),
]


@pytest.mark.parametrize("button", MADE, ids=lambda b: b.data)
def test_a_button_reads_back_as_it_was_made(button: Button) -> None:
    assert buttons.read(button.data) == button


@pytest.mark.parametrize("button", MADE, ids=lambda b: b.data)
def test_a_buttons_data_fits_telegrams_64_bytes(button: Button) -> None:
    assert len(button.data.encode()) <= 64


@pytest.mark.parametrize(
    "data",
    [
        "p:42:publish",  # no such action on a post
        "p:0:approve",  # no post has number 0
        "p:99999999999999999999:cancel",  # past any row
        "d:a1b2:drop_table",
        "c:x_main:pause",  # a channel's button only resumes
        "h:0:queue",
        "d:a1b2:queue:0123456789",  # a version on a button that takes none
        "z:1:approve",
        "",
    ],
)
def test_data_the_bot_never_made_is_no_button(data: str) -> None:
    assert buttons.read(data) is None


@given(st.text(max_size=80))
def test_whatever_a_client_sends_reads_as_a_button_of_a_known_kind_or_none(data: str) -> None:
    pressed = buttons.read(data)
    assert pressed is None or (pressed.kind in Kind and pressed.data == data)

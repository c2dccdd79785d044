"""The message catalogue: every text in German and English with the same placeholders, and
refusals told in the editor's words."""

from __future__ import annotations

import re
import string

import pytest
from publisher.channels.base import Problem

from publisher import roster
from publisher.catalogue import de, describe, en, problem
from publisher.config import ChannelSettings, Settings
from publisher.engine.lifecycle import Outcome, State
from publisher.engine.queue import QueueError
from tests.conftest import ROOT

TABLES = ["WORDS", "DESK", "BOT"]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("name", TABLES)
def test_german_and_english_have_the_same_texts(name: str) -> None:
    assert set(getattr(de, name)) == set(getattr(en, name))


@pytest.mark.parametrize("name", TABLES)
def test_german_and_english_texts_take_the_same_values(name: str) -> None:
    german, english = getattr(de, name), getattr(en, name)
    assert {k: placeholders(v) for k, v in german.items()} == {
        k: placeholders(v) for k, v in english.items()
    }


def test_every_state_and_outcome_has_its_words() -> None:
    for module in (de, en):
        assert {f"state_{s.value}" for s in State} <= set(module.WORDS)
        assert {f"outcome_{o.value}" for o in Outcome} <= set(module.WORDS)


def test_a_refusal_with_a_key_is_told_in_the_editors_words() -> None:
    refusal = QueueError(
        "post 5 is sent; …", key="verb_refused", post=5, state="sent", verb="retry",
        allowed=["failed", "uncertain"],
    )  # fmt: skip
    assert describe(refusal, "de") == (
        "Post 5 ist gesendet: nur Posts, die fehlgeschlagen oder unklar sind, können "
        "neu eingeplant werden."
    )


def test_no_text_of_a_page_or_the_bot_names_a_command_line_flag() -> None:
    for module in (de, en):
        for name in TABLES:
            assert [k for k, v in getattr(module, name).items() if " --" in v] == []


def test_a_text_over_its_limit_is_told_in_german_with_a_word_for_the_unit() -> None:
    x = roster.configured(Settings(channels={"x": ChannelSettings(type="x")}), "x")
    (found,) = x.validate("a" * 300)
    assert problem(found, "de") == "300 Zeichen (wie X zählt), mehr als die erlaubten 280"


def test_every_problem_key_the_channels_raise_has_its_words() -> None:
    sources = "\n".join(path.read_text() for path in (ROOT / "channels").glob("*.py"))
    keys = set(re.findall(r'Problem\(\s*(?:f?"[^"]*"|\w+),\s*"(\w+)"', sources))
    assert len(keys) >= 10
    for module in (de, en):
        assert {f"problem_{key}" for key in keys} <= set(module.WORDS)


def test_an_edit_refused_for_its_text_names_the_problems_in_the_editors_words() -> None:
    refusal = QueueError(
        "post 3 on x: the text is empty", key="text_refused", post=3, channel="x",
        problems=[Problem("the text is empty", "empty")],
    )  # fmt: skip
    assert describe(refusal, "de") == "Post 3 auf x kann so nicht erscheinen: der Text ist leer."

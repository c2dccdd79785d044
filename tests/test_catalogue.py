"""The message catalogue: every text in German and English with the same placeholders, and
refusals told in the editor's words."""

from __future__ import annotations

import re
import string
from collections.abc import Callable

import pytest

from publisher import roster
from publisher.articles import article_from_json_text, check_http_url, read_text_bytes
from publisher.catalogue import de, describe, en, problem
from publisher.channels.base import Problem
from publisher.config import ChannelSettings, FetchSettings, Settings
from publisher.engine.lifecycle import Outcome, State
from publisher.engine.posts.queue import QueueError
from publisher.engine.storage.store import make_engine, translate_errors
from publisher.errors import EditorError
from publisher.intake.htmlpage import article_from_html
from publisher.intake.sources import load_article
from publisher.intake.textdump import article_from_text
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
        "Post 5 kann nicht neu eingeplant werden; sein Stand: gesendet. Das geht nur bei Posts "
        "mit dem Stand fehlgeschlagen oder unklar."
    )


def test_a_refusal_of_a_post_waiting_for_approval_reads_as_german() -> None:
    refusal = QueueError(
        "…", key="verb_refused", post=4, state="awaiting_approval", verb="retry",
        allowed=["failed", "uncertain"],
    )  # fmt: skip
    assert "sein Stand: wartet auf Freigabe." in describe(refusal, "de")


def test_an_unknown_channel_is_told_with_the_names_there_are() -> None:
    settings = Settings(channels={"x_main": ChannelSettings(type="x")})
    with pytest.raises(EditorError) as refused:
        roster.chosen(settings, ["twitter"])
    assert describe(refused.value, "de").endswith("Die Kanäle heißen: log, x_main.")


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


def test_every_refusal_key_raised_has_its_words() -> None:
    sources = "\n".join(
        path.read_text()
        for folder in ("publisher", "channels")
        for path in (ROOT / folder).rglob("*.py")
    )
    found = re.findall(r'\bkey="(\w+)"(?: if [^"\n]* else "(\w+)")?', sources)
    keys = {key for pair in found for key in pair if key}
    assert len(keys) >= 30
    for module in (de, en):
        assert {f"error_{key}" for key in keys} <= set(module.WORDS)


def _refusal(action: Callable[[], object]) -> EditorError:
    with pytest.raises(EditorError) as refused:
        action()
    return refused.value


@pytest.mark.parametrize(
    ("action", "german"),
    [
        (lambda: check_http_url("ftp://e.de/a"), "„ftp://e.de/a“ ist keine Webadresse"),
        (lambda: read_text_bytes(b"\xff\xfe Kopf", "a.txt"), "a.txt ist nicht als UTF-8-Text"),
        (lambda: read_text_bytes(b"\x00\x01", "a.bin"), "a.bin ist keine Textdatei."),
        (lambda: article_from_json_text('{"url": ', "a.json"), "a.json ist kein lesbares JSON"),
        (lambda: article_from_json_text("[1]", "a.json"), "Das JSON ist kein Artikel"),
        (
            lambda: article_from_json_text('{"url": "https://e.de/a"}', "a.json"),
            "Dem Artikel fehlt „headline“.",
        ),
        (
            lambda: article_from_json_text('{"url": "https://e.de/a", "headline": 5}', "a.json"),
            "„headline“ des Artikels ist nicht verwendbar.",
        ),
        (
            lambda: article_from_text("- eins\n- zwei\n", source="a.md"),
            "Der Text beginnt mit einer Liste",
        ),
        (lambda: article_from_text("\n\n", source="a.md"), "a.md enthält keinen Artikeltext."),
        (lambda: roster.chosen(Settings(), ["myspace"]), "Es gibt keinen Kanal „myspace“."),
    ],
)
def test_a_refusal_while_taking_in_an_article_is_told_in_german(action, german: str) -> None:
    assert describe(_refusal(action), "de").startswith(german)


def test_an_empty_file_is_told_in_german(tmp_path) -> None:
    empty = tmp_path / "a.txt"
    empty.write_text(" \n")
    refusal = _refusal(lambda: load_article(str(empty), Settings()))
    assert describe(refusal, "de") == "Die Datei ist leer."


def test_a_page_the_site_refuses_is_told_in_german(server) -> None:
    server.answer("/weg", 404, b"not here")
    settings = Settings(fetch=FetchSettings(allow_private_networks=True))
    refusal = _refusal(lambda: load_article(server.base + "/weg", settings))
    assert describe(refusal, "de") == (
        f"Die Website hat {server.base}/weg mit Fehler 404 beantwortet."
    )


def test_a_page_without_a_headline_is_told_in_german() -> None:
    refusal = _refusal(
        lambda: article_from_html("<html><body><p>x</p></body></html>", source="a.html")
    )
    assert describe(refusal, "de") == "a.html zeigt keine Schlagzeile, die sich übernehmen lässt."


def test_a_database_that_cannot_be_reached_is_told_in_german() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:1/test")

    def connect() -> None:
        with translate_errors(engine), engine.connect():
            pass

    assert describe(_refusal(connect), "de").startswith("Die Datenbank ist belegt")

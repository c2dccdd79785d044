"""The bot's texts as Telegram takes them: long replies cut to Telegram's limit where Telegram's
HTML stays whole, and addresses as editors paste them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from publisher.articles import pasted_address
from publisher.bot.drafts import Drafts
from publisher.bot.talk import MESSAGE_LIMIT, Talk, fit
from publisher.config import ChannelSettings, Settings
from publisher.engine.posts import queue
from publisher.engine.posts.bot_drafts import MOST_DRAFTS
from standins.telegram import parse_html
from tests.test_bot import ARTICLE

words = st.text(alphabet=st.sampled_from("aäb &<>\"'ß😀"), min_size=1, max_size=120)
lines = st.tuples(st.sampled_from(["b", "i", "pre", "blockquote", ""]), words).map(
    lambda part: f"<{part[0]}>{escape(part[1])}</{part[0]}>" if part[0] else escape(part[1])
)


@given(st.lists(lines, min_size=1, max_size=120))
def test_a_long_reply_is_cut_where_telegram_can_still_read_it(parts: list[str]) -> None:
    text, _ = parse_html(fit("\n".join(parts)))
    assert len(text.encode("utf-16-le")) // 2 <= MESSAGE_LIMIT


def test_a_reply_of_emoji_is_cut_at_telegrams_count_of_them() -> None:
    # 3,000 emoji are 6,000 UTF-16 units, which is what Telegram counts.
    cut = fit("\n".join("😀" * 10 for _ in range(300)))
    assert len(cut.encode("utf-16-le")) // 2 <= MESSAGE_LIMIT


def test_a_long_quote_cut_short_is_closed() -> None:
    quoted = "<blockquote>" + "\n".join("Zeile &amp; mehr" for _ in range(600)) + "</blockquote>"
    assert fit(quoted).endswith("</blockquote>\n…")


def test_an_address_pasted_without_its_scheme_is_https() -> None:
    assert pasted_address("www.news.de/politik/77/") == "https://www.news.de/politik/77/"


def test_an_article_id_is_left_as_it_is() -> None:
    assert pasted_address("cms-77") == "cms-77"


def test_a_bot_keeps_a_bounded_number_of_drafts_the_oldest_going_first(engine) -> None:
    settings = Settings(database_url="sqlite://", channels={"x": ChannelSettings(type="x")})
    with engine.begin() as connection:
        queue.upsert_article(connection, ARTICLE, datetime.now(UTC), "cms")
    drafts = Drafts(Talk(engine, settings))
    first = drafts.start(ARTICLE.id, [], owner=1)[1].inline_keyboard[0][0].callback_data
    for _ in range(MOST_DRAFTS):
        drafts.start(ARTICLE.id, [], owner=1)
    key = str(first).split(":")[1]
    assert drafts.get(key) is None
    assert drafts.press(key, "queue", "telegram:1", (1, 1))[0] == drafts.talk.say("expired")


@pytest.mark.parametrize("language", ["en", "de"])
def test_help_names_every_command_telegram_lists_and_nothing_else(language: str) -> None:
    from publisher.bot.menu import help_text, menu
    from publisher.catalogue import translator

    say = translator(language, "bot")
    said = re.findall(r"^/(\w+)", help_text(say), re.M)
    assert said == [name for name, _ in menu(say)]

"""The bot's texts as Telegram takes them: long replies cut to Telegram's limit where Telegram's
HTML stays whole, and addresses as editors paste them."""

from __future__ import annotations

from html import escape

from hypothesis import given
from hypothesis import strategies as st

from publisher.bot.drafts import pasted_address
from publisher.bot.talk import MESSAGE_LIMIT, fit
from standins.telegram import parse_html

words = st.text(alphabet=st.sampled_from("aäb &<>\"'ß😀"), min_size=1, max_size=120)
lines = st.tuples(st.sampled_from(["b", "i", "pre", "blockquote", ""]), words).map(
    lambda part: f"<{part[0]}>{escape(part[1])}</{part[0]}>" if part[0] else escape(part[1])
)


@given(st.lists(lines, min_size=1, max_size=120))
def test_a_long_reply_is_cut_where_telegram_can_still_read_it(parts: list[str]) -> None:
    text, _ = parse_html(fit("\n".join(parts)))
    assert len(text.encode("utf-16-le")) // 2 <= MESSAGE_LIMIT


def test_a_long_quote_cut_short_is_closed() -> None:
    quoted = "<blockquote>" + "\n".join("Zeile &amp; mehr" for _ in range(600)) + "</blockquote>"
    assert fit(quoted).endswith("</blockquote>\n…")


def test_an_address_pasted_without_its_scheme_is_https() -> None:
    assert pasted_address("www.news.de/politik/77/") == "https://www.news.de/politik/77/"


def test_an_article_id_is_left_as_it_is() -> None:
    assert pasted_address("cms-77") == "cms-77"

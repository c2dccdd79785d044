"""Each platform's markup and limits on the sample article."""

from __future__ import annotations

import pytest

from publisher.articles import Article
from publisher.channels import ComposeOptions, channel_class, channel_types
from publisher.channels.telegram import Telegram
from publisher.channels.telegram_html import parse_entities

OPTIONS = ComposeOptions(link="https://e.de/a?x=1&utm_source=t", read_more="Weiterlesen")
ARTICLE = Article(url="https://e.de/a", headline="Tom & Jerry <live>", bullets=["eins", "zwei"])


def test_registry_finds_every_channel_module() -> None:
    assert {"x", "facebook", "whatsapp", "telegram", "log"} <= channel_types()


def test_facebook_message_leaves_the_link_to_the_link_field() -> None:
    teaser = channel_class("facebook")().compose(ARTICLE, OPTIONS)
    assert teaser.fields["message"] == teaser.text == "Tom & Jerry <live>\n\n• eins\n• zwei"
    assert teaser.link == OPTIONS.link


def test_whatsapp_bolds_the_headline_and_labels_the_link() -> None:
    teaser = channel_class("whatsapp")().compose(ARTICLE, OPTIONS)
    assert teaser.text == f"*Tom & Jerry <live>*\n\n• eins\n• zwei\n\nWeiterlesen: {OPTIONS.link}"


def test_whatsapp_leaves_a_headline_with_an_asterisk_plain() -> None:
    article = Article(url="https://e.de/a", headline="5*-Hotel")
    assert channel_class("whatsapp")().compose(article, OPTIONS).text.startswith("5*-Hotel\n")


def test_telegram_escapes_text_and_links_with_html() -> None:
    teaser = channel_class("telegram")().compose(ARTICLE, OPTIONS)
    assert teaser.text == (
        "<b>Tom &amp; Jerry &lt;live&gt;</b>\n\n• eins\n• zwei\n\n"
        '<a href="https://e.de/a?x=1&amp;utm_source=t">Weiterlesen</a>'
    )
    assert teaser.fields == {"parse_mode": "HTML", "photo": None}


def test_telegram_counts_visible_text_in_utf16_units() -> None:
    assert Telegram().measure('<b>a&amp;b</b> <a href="https://e.de/very/long">😀</a>') == 6


def test_telegram_uses_the_caption_limit_when_the_article_has_an_image() -> None:
    article = Article.model_validate(
        {**ARTICLE.model_dump(), "image": {"url": "https://e.de/i.jpg"}}
    )
    teaser = channel_class("telegram")().compose(article, OPTIONS)
    assert (teaser.limit, teaser.fields["photo"]) == (1024, "https://e.de/i.jpg")


def test_telegram_caption_fits_1024_with_long_bullets() -> None:
    article = Article(
        url="https://e.de/a", headline="H", bullets=["x" * 500] * 3, image={"url": "https://e.de/i"}
    )
    teaser = channel_class("telegram")().compose(article, OPTIONS)
    assert teaser.bullets == 1
    assert teaser.length <= 1024


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a < b", "must be escaped"),
        ("<div>x</div>", "does not support the <div> tag"),
        ("<b>x", "never closed"),
        ("x &nbsp; y", "not an entity Telegram knows"),
    ],
)
def test_telegram_validate_names_what_telegram_would_refuse(text: str, problem: str) -> None:
    assert any(problem in p for p in Telegram().validate(text))


def test_telegram_validate_accepts_a_time_each_reader_sees_in_their_zone() -> None:
    # As Telegram's HTML style and python-telegram-bot's Message.text_html write it.
    text = 'Anpfiff <tg-time unix="1765130400" format="t">20:00</tg-time> https://e.de/a'
    assert Telegram().validate(text) == []


def test_telegram_validate_accepts_its_own_teaser() -> None:
    text = channel_class("telegram")().compose(ARTICLE, OPTIONS).text
    assert Telegram().validate(text) == []
    assert parse_entities(text)[1] == []


def test_validate_flags_empty_text() -> None:
    assert channel_class("whatsapp")().validate("  ") == ["the text is empty"]


def test_whatsapp_validate_flags_text_over_4096() -> None:
    assert channel_class("whatsapp")().validate("ü" * 4097) == [
        "4097 characters, over the limit of 4096"
    ]


def test_max_bullets_caps_the_bullets() -> None:
    options = ComposeOptions(link="https://e.de/a", max_bullets=1)
    assert channel_class("facebook")().compose(ARTICLE, options).bullets == 1


def test_kicker_template_puts_the_kicker_first() -> None:
    article = ARTICLE.model_copy(update={"kicker": "Politik"})
    options = ComposeOptions(link="https://e.de/a", kicker="{kicker} | ")
    assert channel_class("x")().compose(article, options).text.startswith("Politik | Tom")

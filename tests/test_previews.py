"""Every platform's desk preview is safe HTML whatever the text and the article say: only the
frame's own markup, every piece of text escaped."""

from __future__ import annotations

import lxml.html
import pytest
from hypothesis import given
from hypothesis import strategies as st

from publisher.articles import Article
from publisher.channels import Channel, channel_classes

FRAME_TAGS = {"div", "p", "span", "b", "strong", "em", "u", "s", "code", "blockquote", "br"}
FRAME_TAGS |= {"small", "img"}
HOSTILE = st.sampled_from(
    ['<img src=x onerror="alert(1)">', "</div><script>alert(1)</script>", "*<b>*", "_<i>_", "&amp;"]
)
PRINTABLE = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=20)
TEXT = st.lists(st.one_of(HOSTILE, PRINTABLE), max_size=6).map("".join)


def tags_and_attributes(html: str) -> tuple[set[str], set[str]]:
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    tags = {element.tag for element in root.iter() if isinstance(element.tag, str)}
    attributes = {name for element in root.iter() for name in element.attrib}
    # An image may only come from the web, never from a script.
    assert all(img.get("src", "").startswith("https://") for img in root.iter("img"))
    return tags, attributes


@pytest.mark.parametrize("cls", channel_classes(), ids=lambda cls: cls.type)
@given(text=TEXT, headline=TEXT, lead=TEXT)
def test_a_preview_holds_only_the_frames_markup(
    cls: type[Channel], text: str, headline: str, lead: str
) -> None:
    # A visible letter first: a headline of only invisible characters (a soft hyphen) is no
    # headline, and the Article refuses it.
    article = Article(
        url="https://www.news.de/a", headline=f"x{headline}", lead=lead or None,
        image={"url": "https://img.news.de/1.jpg"},
    )  # fmt: skip
    tags, attributes = tags_and_attributes(cls("preview").preview(text, article))
    assert tags <= FRAME_TAGS
    assert attributes <= {"class", "src", "alt"}


def test_x_shows_a_link_as_its_short_display_form() -> None:
    from publisher.channels.x import X

    text = "Kopf https://www.news.de/politik/857/baschar-al-assad/?utm_source=x"
    assert "news.de/politik/857/bas…</span>" in X("x").preview_html(text)


def test_telegram_shows_its_formatting_not_its_markup() -> None:
    from publisher.channels.telegram import Telegram

    shown = Telegram("t").preview_html('<b>Kopf</b> <a href="https://e.de">Weiterlesen</a>')
    assert shown == '<strong>Kopf</strong> <span class="pv-link">Weiterlesen</span>'


def test_a_preview_shows_the_articles_image() -> None:
    from publisher.channels.facebook import Facebook

    article = Article(
        url="https://www.news.de/a", headline="Kopf", image={"url": "https://img.news.de/1.jpg"}
    )
    assert '<img class="pv-img" src="https://img.news.de/1.jpg"' in Facebook("f").preview(
        "Text", article
    )


@given(text=TEXT, headline=TEXT, body=TEXT)
def test_a_template_preview_holds_only_the_frames_markup(text: str, headline: str, body: str):
    from publisher.channels.whatsapp import WhatsApp

    # A visible word: a headline of only invisible characters is no article's.
    article = Article(url="https://www.news.de/a", headline=f"{headline} Kopf")
    for template in ({"name": "news", "body": body + " {{1}} {{2}}"}, {"name": body or "n"}):
        channel = WhatsApp("wa", {"phone_number_id": "1", "template": template})
        tags, attributes = tags_and_attributes(channel.template_preview(text, article))
        assert tags <= FRAME_TAGS and attributes <= {"class"}


def test_the_template_readers_get_is_previewed_with_the_headline_and_link() -> None:
    from publisher.channels.whatsapp import WhatsApp

    template = {"name": "news_teaser", "body": "Neu bei News.de: *{{1}}* {{2}}"}
    channel = WhatsApp("wa", {"phone_number_id": "1", "template": template})
    article = Article(url="https://www.news.de/a", headline="Sturm im Norden")
    shown = channel.template_preview("Text https://www.news.de/a?utm_source=whatsapp", article)
    assert "Neu bei News.de: <strong>Sturm im Norden</strong>" in shown
    assert "https://www.news.de/a?utm_source=whatsapp" in shown

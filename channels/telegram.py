"""Telegram: HTML parse mode with only the tags Telegram knows, `<`, `>` and `&` escaped; 4096
characters for a message, 1024 for a photo caption, counted in UTF-16 units after entity parsing."""

from __future__ import annotations

from html import escape, unescape
from html.parser import HTMLParser
from typing import Any

from channels.base import Channel
from channels.text import utf16_length
from publisher.articles import Article

# https://core.telegram.org/bots/api#html-style
ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler"}
    | {"a", "tg-emoji", "code", "pre", "blockquote"}
)
ALLOWED_NAMED_ENTITIES = frozenset({"lt", "gt", "amp", "quot"})
CAPTION_LIMIT = 1024


class _EntityParser(HTMLParser):
    """Reads Telegram HTML the way the Bot API does: visible text, and what it would refuse."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.visible: list[str] = []
        self.problems: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"Telegram does not support the <{tag}> tag")
        elif tag == "a" and not dict(attrs).get("href"):
            self.problems.append("a link (<a>) without href")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> does not close the last open tag")
        else:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            self.problems.append("a '<' or '>' that is not part of a tag must be escaped")
        if "&" in data:
            self.problems.append("a '&' that is not part of an entity must be escaped as &amp;")
        self.visible.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in ALLOWED_NAMED_ENTITIES:
            self.problems.append(f"&{name}; is not an entity Telegram knows (use &amp;{name};)")
        self.visible.append(unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.visible.append(unescape(f"&#{name};"))


def parse_entities(text: str) -> tuple[str, list[str]]:
    """The visible text Telegram would show for HTML `text`, and the problems it would refuse."""
    parser = _EntityParser()
    parser.feed(text)
    parser.close()
    if parser.open:
        parser.problems.append(f"<{parser.open[-1]}> is never closed")
    return "".join(parser.visible), parser.problems


class Telegram(Channel):
    """Posts to a Telegram channel or group through a bot."""

    type = "telegram"
    limit = 4096
    unit = "UTF-16 units"

    def measure(self, text: str) -> int:
        return utf16_length(parse_entities(text)[0])

    def limit_for(self, article: Article) -> int:
        return CAPTION_LIMIT if article.image else self.limit

    def headline(self, text: str) -> str:
        return f"<b>{escape(text, quote=False)}</b>"

    def bullet(self, marker: str, text: str) -> str:
        return super().bullet(escape(marker, quote=False), escape(text, quote=False))

    def paragraph(self, text: str) -> str:
        return escape(text, quote=False)

    def link(self, url: str, label: str) -> str:
        return f'<a href="{escape(url)}">{escape(label or url, quote=False)}</a>'

    def fields(self, article: Article, text: str, link: str) -> dict[str, Any]:
        photo = article.image.url if article.image else None
        return {"parse_mode": "HTML", "photo": photo}

    def validate(self, text: str, article: Article | None = None) -> list[str]:
        return parse_entities(text)[1] + super().validate(text, article)

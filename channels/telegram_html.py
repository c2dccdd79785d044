"""Telegram's HTML parse mode as the Bot API reads it: the text a message shows and what it
would refuse in its markup (`parse_entities`: only the tags and named entities Telegram knows,
tags that close in order, `<`, `>` and `&` escaped), and the desk's preview of such a text.
https://core.telegram.org/bots/api#html-style"""

from __future__ import annotations

from html import escape, unescape
from html.parser import HTMLParser
from typing import ClassVar

from publisher.channels.base import Problem

# The platform as editors know it (the channel's display name; the markup checks name it too).
NAME = "Telegram"
ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler"}
    | {"a", "tg-emoji", "code", "pre", "blockquote"}
    # A date and time each reader sees in their own zone (Bot API 9.x; python-telegram-bot
    # writes it in `Message.text_html`).
    | {"tg-time"}
)
ALLOWED_NAMED_ENTITIES = frozenset({"lt", "gt", "amp", "quot"})


class _EntityParser(HTMLParser):
    """Reads Telegram HTML the way the Bot API does: visible text, and what it would refuse."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.visible: list[str] = []
        self.problems: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(
                Problem(f"Telegram does not support the <{tag}> tag", "tag", tag=tag, platform=NAME)
            )
        elif tag == "a" and not dict(attrs).get("href"):
            self.problems.append(Problem("a link (<a>) without href", "link_without_address"))
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problems.append(
                Problem(f"</{tag}> does not close the last open tag", "tags_crossed", tag=tag)
            )
        else:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            self.problems.append(
                Problem("a '<' or '>' that is not part of a tag must be escaped", "bare_angle")
            )
        if "&" in data:
            self.problems.append(
                Problem("a '&' that is not part of an entity must be escaped as &amp;", "bare_amp")
            )
        self.visible.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in ALLOWED_NAMED_ENTITIES:
            self.problems.append(
                Problem(
                    f"&{name}; is not an entity Telegram knows (use &amp;{name};)",
                    "entity",
                    name=name,
                    platform=NAME,
                )
            )
        self.visible.append(unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.visible.append(unescape(f"&#{name};"))


class PreviewRenderer(HTMLParser):
    """Telegram HTML as the desk shows it: bold, italic, underline, strike-through, code and
    quotes kept, links shown as link text, everything else as escaped text."""

    TAGS: ClassVar[dict[str, str]] = {
        "b": "strong", "strong": "strong", "i": "em", "em": "em", "u": "u", "ins": "u",
        "s": "s", "strike": "s", "del": "s", "code": "code", "pre": "code",
        "blockquote": "blockquote",
    }  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        shown = "span" if tag == "a" else self.TAGS.get(tag)
        if shown is not None:
            self.out.append('<span class="pv-link">' if tag == "a" else f"<{shown}>")
            self.open.append(shown)

    def handle_endtag(self, tag: str) -> None:
        shown = "span" if tag == "a" else self.TAGS.get(tag)
        if shown is not None and shown in self.open:
            while self.open:
                last = self.open.pop()
                self.out.append(f"</{last}>")
                if last == shown:
                    break

    def handle_data(self, data: str) -> None:
        self.out.append(escape(data).replace("\n", "<br>"))

    def html(self) -> str:
        return "".join(self.out) + "".join(f"</{tag}>" for tag in reversed(self.open))


def parse_entities(text: str) -> tuple[str, list[str]]:
    """The visible text Telegram would show for HTML `text`, and the problems it would refuse."""
    parser = _EntityParser()
    parser.feed(text)
    parser.close()
    if parser.open:
        parser.problems.append(
            Problem(f"<{parser.open[-1]}> is never closed", "tag_open", tag=parser.open[-1])
        )
    return "".join(parser.visible), parser.problems

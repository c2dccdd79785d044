"""Telegram texts as editors type them: **bold**, __italic__ and [link text](https://…) in place
of the HTML the Bot API is sent. `to_markup` turns a stored post into that form for editing,
`to_html` turns an editor's text back; a `\\` before `*`, `_`, `[`, `]` or `\\` keeps it as it is.
Other Telegram tags (underline, spoiler, code) are not offered: their text is kept, their
formatting is not."""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

# A link's address as written bare (parentheses only in pairs); any other goes in <…>.
_URL = r"https?://(?:[^\s()\"<>]|\([^\s()\"<>]*\))+"
# An escaped character, a link, bold, italic: tried in this order at each position. A link's
# text holds no unescaped bracket: each "[" is then tried up to the next one only, never to the
# end of the text (30,000 unmatched brackets took 25 s).
_TOKEN = re.compile(
    r"\\(?P<escaped>[\\*_\[\]])"
    rf"|\[(?P<label>(?:\\.|[^\[\]\\\n])+)\]\((?:(?P<url>{_URL})|<(?P<angled>https?://[^<>]+)>)\)"
    r"|\*\*(?P<bold>(?:\\.|(?!\*\*).)+?)\*\*"
    r"|__(?P<italic>(?:\\.|(?!__).)+?)__",
    re.DOTALL,
)
_SPECIAL = re.compile(r"[\\\[\]*]|__+|^_|_$")


def _literal(text: str) -> str:
    """Plain text as markup that reads back as the same text: a backslash before each `\\`,
    `[`, `]` and `*`, and before underscores that could open or close italics."""
    return _SPECIAL.sub(lambda m: "".join("\\" + c for c in m.group(0)), text)


_MARKS = {"b": "**", "strong": "**", "i": "__", "em": "__"}


class _ToMarkup(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _MARKS:
            self.parts.append(_MARKS[tag])
        elif tag == "a":
            self.links.append(dict(attrs).get("href") or "")
            self.parts.append("[")

    def handle_endtag(self, tag: str) -> None:
        if tag in _MARKS:
            self.parts.append(_MARKS[tag])
        elif tag == "a" and self.links:
            url = self.links.pop()
            self.parts.append(f"]({url})" if re.fullmatch(_URL, url) else f"](<{url}>)")

    def handle_data(self, data: str) -> None:
        self.parts.append(_literal(data))


def to_markup(html: str) -> str:
    """A post's Telegram HTML as an editor edits it."""
    parser = _ToMarkup()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def to_html(markup: str) -> str:
    """An editor's text as Telegram HTML: everything escaped but the marks it knows."""
    out: list[str] = []
    position = 0
    for match in _TOKEN.finditer(markup):
        out.append(escape(markup[position : match.start()], quote=False))
        position = match.end()
        if match["escaped"]:
            out.append(escape(match["escaped"], quote=False))
        elif match["label"]:
            url = match["url"] or match["angled"]
            out.append(f'<a href="{escape(url)}">{to_html(match["label"])}</a>')
        elif match["bold"]:
            out.append(f"<b>{to_html(match['bold'])}</b>")
        else:
            out.append(f"<i>{to_html(match['italic'])}</i>")
    out.append(escape(markup[position:], quote=False))
    return "".join(out)

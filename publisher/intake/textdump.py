"""Read text and Markdown article dumps (kicker, headline, lead, bullets, body) into an Article.

The shape is the one CMS exports and copy-pastes have (see shared/samples/newsde-assad-putin.txt):
an optional short kicker line, the headline, the lead, a bullet list introduced by a share label
("Artikel teilen:"), then the body. Only that first list holds teaser bullets; later lists are
quotes or related links. A `---` front-matter block or a `URL:` line may carry the link and more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from publisher.articles import Article, ArticleError, article_from_mapping

_BULLET = re.compile(r"^\s*(?:[•·▪▸►‣◦*+\-–]|\d{1,2}[.)])\s+(?P<item>.*)$")
_SHARE_LABEL = re.compile(
    r"^(artikel teilen|beitrag teilen|teilen|share( this)?( article| story)?|partager)\s*:?$",
    re.IGNORECASE,
)
_FIELD_LINE = re.compile(
    r"^(?P<key>url|link|canonical|id|kicker|language|lang|published_at|image|tags)\s*:\s*(?P<value>.+)$",
    re.IGNORECASE,
)
_BARE_URL = re.compile(r"^<?(https?://\S+?)>?$", re.IGNORECASE)
# A photo credit at the lead's end ("Bild: dpa"); the space before it is stripped after.
_PHOTO_CREDIT = re.compile(r"\b(?:Bild|Foto|Fotos|Photo|Image|Picture)\s*:\s*[^.!?]*$")
_QUOTE_START = tuple("\"'„“”‚‘’«»‹›")
# Every pattern here is run over untrusted text, so each must take time linear in it: a class
# that stops at the next opening character bounds every attempt by the distance to the next
# one ("[" * 40,000 once took 14 s), and no two runs of one class follow each other.
_MD_LINK = re.compile(r"\[([^\[\]\n]*)\]\([^()\s]*(?:\s+\"[^\"\n]*\")?\)")
_MD_EMPHASIS = re.compile(r"\*\*([^*\n]+?)\*\*|__([^_\n]+?)__")
# *word* and _word_, but not bullets ("* item"), arithmetic or snake_case_names.
_MD_STAR = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_MD_UNDERSCORE = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_HEADING = re.compile(r"\s*#{1,6}\s+(\S.*)")
_WHOLLY_EMPHASISED = re.compile(r"^\s*(\*\*|\*|__|_)(?=\S)[^*_\n]+(?<=\S)\1\s*$")
_SENTENCE_END = tuple(".!?:;")
# A short line introducing a list ("Das Wichtigste in Kürze:") is no paragraph of the body.
_LABEL_WORDS = 10
_KEY_ALIASES = {"link": "url", "canonical": "url", "lang": "language"}


@dataclass
class _Block:
    """A run of non-empty lines: a paragraph, or a list when every line is a bullet item, or a
    Markdown heading."""

    lines: list[str] = field(default_factory=list)
    heading: bool = False
    # A line that was emphasised whole (`*Unwetter*`): set off as a label, not prose.
    emphasised: bool = False

    @property
    def items(self) -> list[str] | None:
        matches = [_BULLET.match(line) for line in self.lines]
        if all(matches):
            return [m.group("item").strip() for m in matches if m]
        return None

    @property
    def text(self) -> str:
        return " ".join(line.strip() for line in self.lines)

    @property
    def is_label(self) -> bool:
        """A heading or a short line ending in a colon, introducing what follows."""
        text = self.text
        return self.heading or (
            len(self.lines) == 1 and text.endswith(":") and len(text.split()) <= _LABEL_WORDS
        )


def _plain_markdown(line: str) -> str:
    line = _MD_LINK.sub(r"\1", line)
    line = _MD_EMPHASIS.sub(lambda found: found.group(1) or found.group(2), line)
    line = _MD_STAR.sub(r"\1", line)
    return _MD_UNDERSCORE.sub(r"\1", line)


def _heading_text(text: str) -> str:
    """A heading's text without its closing #s (`## Title ##`), which a space sets off."""
    text = text.rstrip()
    bare = text.rstrip("#")
    if bare != text and (not bare or bare[-1] in " \t"):
        text = bare.rstrip()
    return text


def _split_front_matter(text: str) -> tuple[dict[str, str], str]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            fields = {}
            for entry in lines[1:end]:
                key, sep, value = entry.partition(":")
                if sep:
                    fields[key.strip().lower()] = value.strip().strip("\"'")
            return fields, "\n".join(lines[end + 1 :])
    return {}, text


def _blocks(text: str) -> list[_Block]:
    blocks: list[_Block] = []
    current = _Block()
    for raw in text.splitlines():
        line = _plain_markdown(raw.rstrip())
        if not line.strip():
            if current.lines:
                blocks.append(current)
                current = _Block()
            continue
        if not current.lines and _WHOLLY_EMPHASISED.match(raw):
            current.emphasised = True
        heading = _HEADING.fullmatch(line)
        if heading:
            # A Markdown heading is a block of its own even without blank lines around it.
            if current.lines:
                blocks.append(current)
            blocks.append(_Block([_heading_text(heading.group(1))], heading=True))
            current = _Block()
            continue
        current.lines.append(line)
    if current.lines:
        blocks.append(current)
    return [part for block in blocks for part in _split_trailing_list(block)]


def _split_trailing_list(block: _Block) -> list[_Block]:
    """A paragraph followed by a list without a blank line between them ("Lead.\n- one\n- two")
    is two blocks."""
    bullets = [bool(_BULLET.match(line)) for line in block.lines]
    if block.heading or all(bullets) or not bullets[-1]:
        return [block]
    start = len(bullets)
    while start > 0 and bullets[start - 1]:
        start -= 1
    return [_Block(block.lines[:start]), _Block(block.lines[start:])]


def _short_line(block: _Block) -> bool:
    text = block.text
    return (
        not block.heading
        and len(block.lines) == 1
        and len(text) <= 40
        and len(text.split()) <= 4
        and not text.endswith(_SENTENCE_END)
        and block.items is None
    )


def _prose(block: _Block) -> bool:
    """A paragraph of the article: no list, no label, no short line."""
    return block.items is None and not block.is_label and not _short_line(block)


def _headline_like(block: _Block) -> bool:
    return block.heading or (
        len(block.lines) == 1 and block.items is None and not block.text.endswith(".")
    )


def _starts_with_kicker(blocks: list[_Block]) -> bool:
    """A short first line is the kicker only when a headline follows it: a Markdown heading, or
    a headline-like line with more text after it. A line then a paragraph is headline and lead."""
    if len(blocks) < 2 or not _short_line(blocks[0]):
        return False
    return blocks[1].heading or (len(blocks) > 2 and _headline_like(blocks[1]))


def _teaser_bullets(blocks: list[_Block]) -> list[str]:
    """The items of the list under the share label, or of the first list after the lead that
    only a heading or a short label ("Das Wichtigste:") stands before."""
    lists = [b.items for b in blocks if b.items is not None]
    chosen = next((items for items in lists if any(_SHARE_LABEL.match(x) for x in items)), None)
    if chosen is None:
        for block in blocks:
            if block.items is not None:
                chosen = block.items
                break
            if not block.is_label:
                break
    return [
        item
        for item in chosen or []
        if item and not _SHARE_LABEL.match(item) and not item.startswith(_QUOTE_START)
    ]


def _pull_fields(blocks: list[_Block], fields: dict[str, Any]) -> list[_Block]:
    """Take `URL:`-style lines and bare URL lines out of the text into fields."""
    kept: list[_Block] = []
    for block in blocks:
        lines = []
        for line in block.lines:
            stripped = line.strip()
            field_line = _FIELD_LINE.match(stripped)
            bare = _BARE_URL.match(stripped)
            if field_line:
                key = field_line.group("key").lower()
                fields.setdefault(_KEY_ALIASES.get(key, key), field_line.group("value").strip())
            elif bare:
                fields.setdefault("url", bare.group(1))
            else:
                lines.append(line)
        if lines:
            kept.append(_Block(lines, heading=block.heading, emphasised=block.emphasised))
    return kept


def article_from_text(
    text: str, *, source: str, url: str | None = None, default_tz: tzinfo | None = None
) -> Article:
    """Parse a text or Markdown dump; `url` is used when the dump itself names no link."""
    front, body = _split_front_matter(text)
    fields: dict[str, Any] = {_KEY_ALIASES.get(k, k): v for k, v in front.items()}
    blocks = _pull_fields(_blocks(body), fields)
    if not blocks:
        raise ArticleError(f"{source}: no article text found", key="no_article_text", source=source)

    if "kicker" not in fields and _starts_with_kicker(blocks):
        fields["kicker"] = blocks.pop(0).text
    headline_block = blocks.pop(0)
    if headline_block.items is not None:
        raise ArticleError(
            f"{source}: the text starts with a list, not a headline", key="starts_with_list"
        )
    fields.setdefault("headline", headline_block.text)

    # Short lines between the headline and a paragraph (a kicker set below the headline, a
    # byline, a date) are not the lead; an emphasised one is the kicker when there is none.
    while len(blocks) > 1 and _short_line(blocks[0]) and _prose(blocks[1]):
        short = blocks.pop(0)
        if short.emphasised and "kicker" not in fields:
            fields["kicker"] = short.text
    if blocks and blocks[0].items is None and not blocks[0].is_label:
        lead = _PHOTO_CREDIT.sub("", blocks.pop(0).text).strip()
        fields.setdefault("lead", lead)
    fields["bullets"] = _teaser_bullets(blocks)
    if isinstance(fields.get("tags"), str):
        fields["tags"] = [t.strip() for t in fields["tags"].split(",")]

    if url is not None:
        fields["url"] = url
    if not fields.get("url"):
        raise ArticleError(f"{source}: the text names no link; pass --url", key="no_link_in_text")
    try:
        return article_from_mapping(fields, default_tz=default_tz)
    except ArticleError as exc:
        raise exc.within(source) from None

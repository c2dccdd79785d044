"""What the platforms' text rules share: counting in UTF-16 units, user-perceived characters,
cutting a text at a word with "…", comparing a platform's copy of a post with what was sent, and
share-link and recipient formatting."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict
from urllib.parse import quote, urlencode

import regex

from publisher.channels.url_scan import X_LINKS

ELLIPSIS = "…"
_GRAPHEME = regex.compile(r"\X")
# Graphemes a cut headline should not end on before the ellipsis.
_DANGLING = frozenset(" ,;:-–—/|(")


class FoundUrl(TypedDict):
    """A link in a text: its address and where it stands (start, end)."""

    url: str
    indices: list[int]


def urls_in(text: str, *, without_protocol: bool = True) -> list[FoundUrl]:
    """The links twitter-text finds in `text` (as `extract_urls_with_indices`), in time linear
    in the text (publisher.channels.url_scan)."""
    return [
        FoundUrl(url=text[start:end], indices=[start, end])
        for start, end in X_LINKS.spans(text, without_protocol=without_protocol)
    ]


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, as Telegram, WhatsApp and JavaScript-based limits count."""
    return len(text.encode("utf-16-le")) // 2


def same_text(posted: str, sent: str) -> bool:
    """Whether a platform's copy of a post is the text that was sent: links may come back
    shortened or expanded and whitespace folded, so both are compared without them."""
    return _comparable(posted) == _comparable(sent)


_LINK = regex.compile(r"https?://\S+")


def _comparable(text: str) -> str:
    return " ".join(_LINK.sub("", text).split())


def masked(recipient: str) -> str:
    """A recipient (a subscriber's phone number) as editors and logs see it: enough to tell
    numbers apart, not enough to call one ("+4915••••••678")."""
    if len(recipient) <= 7:
        return "•" * len(recipient)
    return recipient[:5] + "•" * (len(recipient) - 8) + recipient[-3:]


def share_query(**params: str) -> str:
    """Query parameters of a share link, percent-encoded (spaces as %20, which every app reads)."""
    return urlencode(params, quote_via=quote)


# The most code points a grapheme a reader sees holds (a family emoji joins about a dozen).
LONGEST_GRAPHEME = 32


def graphemes(text: str) -> list[str]:
    """User-perceived characters: emoji sequences, flags and combining marks stay whole."""
    return list(_GRAPHEME.findall(text))


def truncate(text: str, fits: Callable[[str], bool]) -> str:
    """The longest cut of `text` ending in "…" that `fits`, preferring word boundaries and never
    splitting a grapheme. Returns "" when not even one grapheme and the ellipsis fit."""
    if fits(text):
        return text
    units = graphemes(text)
    word_ends = [i for i in range(1, len(units)) if units[i].isspace()]
    grapheme_ends = range(1, len(units))

    def cut(end: int) -> str:
        kept = units[:end]
        while kept and kept[-1] in _DANGLING:
            kept.pop()
        return "".join(kept) + ELLIPSIS if kept else ""

    for ends in (word_ends, grapheme_ends):
        best = _last_fitting(ends, lambda end: bool(cut(end)) and fits(cut(end)))
        if best is not None:
            return cut(best)
    if units and len(units[0]) > LONGEST_GRAPHEME:
        # A "character" of hundreds of combining marks is none a reader sees: it is cut to
        # what a real one holds, rather than leaving the post without its headline.
        return truncate(units[0][:LONGEST_GRAPHEME] + "".join(units[1:]), fits)
    return ""


def _last_fitting(ends: list[int] | range, ok: Callable[[int], bool]) -> int | None:
    """Binary search for the largest end that is ok, assuming longer cuts only grow."""
    low, high, found = 0, len(ends) - 1, None
    while low <= high:
        middle = (low + high) // 2
        if ok(ends[middle]):
            found, low = ends[middle], middle + 1
        else:
            high = middle - 1
    return found

"""X's weighted length as the official twitter-text library counts it (every URL 23, CJK and
emoji 2), computed like `parse_tweet` but scanning for emoji only where one can stand: the scan
is what makes `parse_tweet` slow, and compose measures many candidate texts."""

from __future__ import annotations

import re
import unicodedata

from twitter_text.config import config as twitter_text_config
from twitter_text.regexp.emoji import emoji as emoji_pattern

from publisher.channels.text import urls_in

RULES = twitter_text_config["defaults"]
_SCALE = int(RULES["scale"])
_URL_WEIGHT = RULES["transformed_url_length"] * _SCALE
_EMOJI_WEIGHT = RULES["default_weight"]
# Characters outside the light ranges weigh double (default_weight is twice the range weight).
_HEAVY = re.compile(
    "[^" + "".join(f"\\U{r['start']:08x}-\\U{r['end']:08x}" for r in RULES["ranges"]) + "]"
)


def _pattern_code_points() -> frozenset[str]:
    """Every code point twitter-text's emoji pattern is made of.

    The pattern is nothing but literal code points and ranges (no wildcards, no lookaround), so an
    emoji it matches is a run of these, and scanning only such runs finds exactly what scanning
    the whole text finds. The scan is what makes parse_tweet slow. tests/test_x.py checks this.
    """
    ranges = re.findall(r"\\U([0-9a-fA-F]{8})(?:-\\U([0-9a-fA-F]{8}))?", emoji_pattern.pattern)
    return frozenset(
        chr(code)
        for start, end in ranges
        for code in range(int(start, 16), int(end or start, 16) + 1)
    )


EMOJI_RUN_CHARS = _pattern_code_points()
# Keycaps start with an ASCII digit, # or *, but every emoji also holds a non-ASCII code point.
EMOJI_CODE_POINTS = frozenset(c for c in EMOJI_RUN_CHARS if ord(c) >= 0x80)


def emoji_spans(text: str) -> list[tuple[int, int]]:
    """Start and end of every emoji twitter-text finds in `text`, scanning only candidate runs."""
    if EMOJI_CODE_POINTS.isdisjoint(text):
        return []
    spans: list[tuple[int, int]] = []
    index, length = 0, len(text)
    while index < length:
        if text[index] not in EMOJI_RUN_CHARS:
            index += 1
            continue
        end = index
        while end < length and text[end] in EMOJI_RUN_CHARS:
            end += 1
        if not EMOJI_CODE_POINTS.isdisjoint(text[index:end]):
            spans += [m.span() for m in emoji_pattern.finditer(text, index, end)]
        index = end
    return spans


def _plain_weight(text: str) -> int:
    light = int(RULES["ranges"][0]["weight"])
    return (len(text) + len(_HEAVY.findall(text))) * light


def weighted_length(text: str) -> int:
    """parse_tweet's weightedLength, with the emoji pattern run only where it can match."""
    text = re.sub(r"\r\n|\r", "\n", unicodedata.normalize("NFC", text))
    spans = {u["indices"][0]: (u["indices"][1], _URL_WEIGHT) for u in urls_in(text)}
    for start, end in emoji_spans(text):
        spans.setdefault(start, (end, _EMOJI_WEIGHT))
    total, position = 0, 0
    for start in sorted(spans):
        if start < position:
            continue
        end, weight = spans[start]
        total += _plain_weight(text[position:start]) + weight
        position = end
    total += _plain_weight(text[position:])
    return total // _SCALE

"""What changed in a post's text, word by word, for an approver to read: the words that went and
the words that came, the rest as it was."""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Literal

Piece = tuple[Literal["same", "gone", "new"], str]

# Words and the space between them, each a piece a change can take or leave.
_WORDS = re.compile(r"\s+|\S+")
# Beyond this many word pairs to weigh, the two texts are shown whole, the old gone and the new
# come: a comparison of two long texts would take longer than a page may.
MOST_PAIRS = 2_000_000


def word_changes(old: str, new: str) -> list[Piece]:
    """The pieces of `new` as it differs from `old`, in order."""
    before, after = _WORDS.findall(old), _WORDS.findall(new)
    if len(before) * len(after) > MOST_PAIRS:
        return [("gone", old), ("new", new)]
    pieces: list[Piece] = []
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(("same", "".join(after[j1:j2])))
            continue
        if i2 > i1:
            pieces.append(("gone", "".join(before[i1:i2])))
        if j2 > j1:
            pieces.append(("new", "".join(after[j1:j2])))
    return pieces

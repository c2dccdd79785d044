"""Row ids as the tables hold them (32-bit on both databases): whether a number someone typed
or sent can name a row at all, checked before it is ever asked for."""

from __future__ import annotations

MAX_ROW_ID = 2**31 - 1


def is_row_id(value: int) -> bool:
    """Whether `value` can be the id of a row."""
    return 0 < value <= MAX_ROW_ID

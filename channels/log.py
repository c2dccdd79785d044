"""The dry-run channel: plain text with the link, no length limit worth the name; it exists in every
configuration so everything runs without credentials."""

from __future__ import annotations

from channels.base import Channel


class Log(Channel):
    """Records what would have been sent instead of sending it."""

    type = "log"
    limit = 1_000_000
    unit = "characters"

    def measure(self, text: str) -> int:
        return len(text)

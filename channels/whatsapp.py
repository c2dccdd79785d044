"""WhatsApp (Cloud API text messages): `*bold*` headline, bullets, the link on its own line so
WhatsApp shows its preview; 4096 characters, counted conservatively in UTF-16 units."""

from __future__ import annotations

from channels.base import Channel
from channels.text import utf16_length


class WhatsApp(Channel):
    """Sends to opted-in WhatsApp numbers."""

    type = "whatsapp"
    limit = 4096
    unit = "characters"

    def measure(self, text: str) -> int:
        return utf16_length(text)

    def headline(self, text: str) -> str:
        # An asterisk inside would end the bold early, so such headlines stay plain.
        return text if "*" in text else f"*{text}*"

    def link(self, url: str, label: str) -> str:
        return f"{label}: {url}" if label else url

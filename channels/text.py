"""Counting helpers the platforms' length rules share."""


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, as Telegram, WhatsApp and JavaScript-based limits count."""
    return len(text.encode("utf-16-le")) // 2

"""Facebook Page: a post is a `message` plus a `link`; the link preview comes from the article
page's Open Graph tags, so the message carries headline and bullets but not the URL."""

from __future__ import annotations

from typing import Any

from channels.base import Channel
from channels.text import utf16_length
from publisher.articles import Article


class Facebook(Channel):
    """Posts to a Facebook Page."""

    type = "facebook"
    limit = 63_206
    unit = "characters"

    def measure(self, text: str) -> int:
        return utf16_length(text)

    def link(self, url: str, label: str) -> str:
        return ""

    def fields(self, article: Article, text: str, link: str) -> dict[str, Any]:
        return {"message": text}

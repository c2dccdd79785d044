"""One draft of the editors' bot: an article on its way to the queue (its channels, timing,
texts changed in it, who started it, what became of it), and its form as the database keeps
it (`publisher.engine.posts.bot_drafts`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from publisher.articles import Article
from publisher.engine.planning.slots import When

# Who is asked for a text: an editor (Telegram user id) in a chat.
Asker = tuple[int, int]


@dataclass
class Draft:
    """A previewed article: its channels, the timing chosen, the texts changed in the draft,
    who started it, and once a button has queued or dropped it, what was said then."""

    article: Article
    channels: tuple[str, ...]
    when: When
    owner: int
    texts: dict[str, str] = field(default_factory=dict)
    done: str | None = None

    def as_data(self) -> dict[str, Any]:
        """The draft as JSON, as the database keeps it."""
        return {
            "article": self.article.to_json(),
            "channels": list(self.channels),
            "when": {
                "mode": self.when.mode,
                "at": self.when.at.isoformat() if self.when.at else None,
            },
            "owner": self.owner,
            "texts": self.texts,
            "done": self.done,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Draft:
        when = data["when"]
        at = datetime.fromisoformat(when["at"]) if when.get("at") else None
        return cls(
            Article.model_validate(data["article"]),
            tuple(data["channels"]),
            When(when["mode"], at),
            int(data["owner"]),
            dict(data.get("texts") or {}),
            data.get("done"),
        )

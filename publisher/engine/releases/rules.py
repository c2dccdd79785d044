"""The social desk's release rules: which channels a released article goes to (by section or
kicker, tags, language, source and the breaking-news flag), when (now, next slot, after a
delay), whether an editor approves first, and the quiet hours and embargo every release keeps.
Pure functions: `route` decides, `publisher.engine.releases.release` queues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from publisher.articles import Article

if TYPE_CHECKING:
    from publisher.config import Settings


@dataclass(frozen=True)
class Routing:
    """What the rules decided for one channel."""

    channel: str
    rule: str
    timing: Literal["now", "next_slot", "delay", "best"] = "now"
    delay: int = 0
    approval: bool | None = None
    repost_updates: bool = False
    ignore_quiet_hours: bool = False
    max_wait: float = 24.0


def route(article: Article, source: str, settings: Settings) -> list[Routing]:
    """The channels a released article goes to. Without rules: every configured channel at once
    (the implicit log channel only when nothing else is configured)."""
    if not settings.rules:
        return [Routing(channel=name, rule="default") for name in settings.unnamed_channels()]
    decided: dict[str, Routing] = {}
    for rule in settings.rules:
        if not rule.match.accepts(article, source):
            continue
        for name in rule.channels:
            decided.setdefault(
                name,
                Routing(
                    channel=name,
                    rule=rule.name,
                    timing=rule.timing,
                    delay=rule.delay,
                    approval=rule.approval,
                    repost_updates=rule.repost_updates,
                    ignore_quiet_hours=rule.ignore_quiet_hours,
                    max_wait=rule.max_wait,
                ),
            )
        if rule.stop:
            break
    return list(decided.values())


def not_before_embargo(due: datetime, article: Article) -> datetime:
    """An article published in the future goes out no earlier than its publication time."""
    if article.published_at is None:
        return due
    return max(due, article.published_at)

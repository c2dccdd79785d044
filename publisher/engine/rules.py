"""The social desk's release rules: which channels a released article goes to (by section or
kicker, tags, language, source and the breaking-news flag), when (now, next slot, after a
delay), whether an editor approves first, and the quiet hours and embargo every release keeps.
Pure functions: `route` decides, `publisher.engine.release` queues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from publisher.articles import Article

if TYPE_CHECKING:
    from publisher.config import Settings


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Match(_Strict):
    """What an article must have for a rule to apply; every given key must match (case-insensitive),
    a list matches when the article has any of its values. An empty match takes every article."""

    sections: tuple[str, ...] = Field(default=(), description="the section or kicker")
    tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    sources: tuple[str, ...] = Field(default=(), description='"webhook" or a feed\'s name')
    breaking: bool | None = None

    def accepts(self, article: Article, source: str) -> bool:
        def anyof(wanted: tuple[str, ...], have: list[str]) -> bool:
            return not wanted or bool({w.casefold() for w in wanted} & {h.casefold() for h in have})

        section = [v for v in (article.section, article.kicker) if v]
        return (
            anyof(self.sections, section)
            and anyof(self.tags, list(article.tags))
            and anyof(self.languages, [article.language] if article.language else [])
            and anyof(self.sources, [source])
            and (self.breaking is None or self.breaking == article.breaking)
        )


class Rule(_Strict):
    """One routing rule. Rules are read in order; for a channel named by several matching rules
    the first decides timing and approval."""

    name: str
    match: Match = Field(default_factory=Match)
    channels: tuple[str, ...]
    timing: Literal["now", "next_slot", "delay"] = "now"
    delay: int = Field(default=0, ge=0, description="minutes, with timing = delay")
    approval: bool | None = Field(default=None, description="default: the channel's own setting")
    repost_updates: bool = Field(
        default=False, description="an article that arrives again is posted again where sent"
    )
    ignore_quiet_hours: bool = Field(default=False, description="e.g. for breaking news")


@dataclass(frozen=True)
class Routing:
    """What the rules decided for one channel."""

    channel: str
    rule: str
    timing: Literal["now", "next_slot", "delay"] = "now"
    delay: int = 0
    approval: bool | None = None
    repost_updates: bool = False
    ignore_quiet_hours: bool = False


def route(article: Article, source: str, settings: Settings) -> list[Routing]:
    """The channels a released article goes to. Without rules: every configured channel at once
    (the implicit log channel only when nothing else is configured)."""
    if not settings.rules:
        names = [n for n in settings.channels if n != "log"] or ["log"]
        return [Routing(channel=name, rule="default") for name in names]
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
                ),
            )
    return list(decided.values())


def after_quiet_hours(due: datetime, quiet: tuple[time, time] | None, zone: ZoneInfo) -> datetime:
    """`due`, or the end of the channel's quiet hours when it falls inside them (the window may
    span midnight: 23:00–06:00)."""
    if quiet is None:
        return due
    start, end = quiet
    local = due.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    inside = start <= clock < end if start <= end else clock >= start or clock < end
    if not inside:
        return due
    end_day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(due.tzinfo)


def not_before_embargo(due: datetime, article: Article) -> datetime:
    """An article published in the future goes out no earlier than its publication time."""
    if article.published_at is None:
        return due
    return max(due, article.published_at)

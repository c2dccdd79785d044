"""What an editor asks for, the same from the CLI, the bot and the desk: when posts go out (their
words read one way, in the newsroom's zone) and queueing an article on channels, all or nothing.
The editors' verbs on single posts (approve, cancel, retry, …) are `publisher.engine.queue`'s,
their table `publisher.engine.lifecycle`'s; the CLI, the bot and the desk only parse and render."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine

from publisher import roster
from publisher.articles import Article
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine import queue, subscribers, verbs
from publisher.engine.slots import TimeError, When
from publisher.engine.subscribers import Reach


def when(text: str | None, settings: Settings) -> When:
    """An editor's words for a time ("now", "next", "+15m", "09:30", ISO 8601), read in the
    newsroom's zone; nothing given means now."""
    return When.parse(text, settings.tz, utcnow()) if text and text.strip() else When("now")


def move(engine: Engine, settings: Settings, post_id: int, text: str, *, by: str) -> datetime:
    """Move a post to the time an editor wrote (a slot's ISO time, a date and time, "09:30");
    refused, changing nothing, when it is no time, in the past, or closer than its channel's
    `min_gap` to another post of that channel."""
    moved = when(text or "?", settings)
    if moved.at is None:
        raise TimeError("choose a date and time", key="no_time_given")
    gaps = {name: timedelta(minutes=c.min_gap) for name, c in settings.channels.items()}
    verbs.reschedule(engine, post_id, moved.at, by, gaps)
    return moved.at


def queue_article(
    engine: Engine,
    settings: Settings,
    article: Article,
    channels: Sequence[str] | None,
    at: When,
    *,
    by: str,
    texts: Mapping[str, str] | None = None,
    without_link: frozenset[str] = frozenset(),
    held: bool = False,
    force: bool = False,
) -> list[int]:
    """Queue `article` on the named channels (none named: every configured one) in one
    transaction, with the texts an editor wrote in place of the composed ones; `held` waits for
    an approver whatever the channels say. A refusal (an unknown channel, a text over its limit,
    a channel without slots asked for its next slot, a post already there) queues nothing."""
    return queue.add(
        engine,
        settings,
        article,
        roster.chosen(settings, channels),
        at,
        force=force,
        queued_by=by,
        approval=True if held else None,
        texts=texts,
        without_link=without_link,
    )


def reach(engine: Engine, settings: Settings, names: Iterable[str]) -> dict[str, Reach]:
    """For each of the channels `names` that sends to subscribers, whom a post would reach now
    and in which form (free-form or the approved template)."""
    found = {}
    for name in dict.fromkeys(names):
        if name in settings.channels and roster.configured(settings, name).subscribable:
            configured = getattr(settings.channels[name].platform, "recipients", ())
            found[name] = subscribers.reach(engine, name, configured)
    return found

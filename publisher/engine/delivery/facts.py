"""What channels learn from their platforms about their own rules (a Mastodon instance's limits):
asked for when `publisher run` starts, by `publisher channels check`, and when a platform refuses
a text as too long; kept in the database; and handed to every channel built from the settings
(`Settings.learned`), where what the configuration sets still wins."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, select

from publisher import roster
from publisher.channels import ChannelError
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.storage.schema import channel_facts, upsert

logger = logging.getLogger(__name__)


def stored(engine: Engine) -> dict[str, dict[str, Any]]:
    """What each channel learned, as last stored."""
    with engine.connect() as connection:
        return {row.channel: dict(row.facts) for row in connection.execute(select(channel_facts))}


def with_learned(settings: Settings, engine: Engine) -> Settings:
    """The settings with what the channels learned (stored in `engine`)."""
    return settings.model_copy(update={"learned": stored(engine)})


def ask(settings: Settings, names: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """What each of the channels `names` (default: all, dry runs left out) learns from its
    platform about its rules now; a channel that cannot ask now is logged and left out."""
    learned: dict[str, dict[str, Any]] = {}
    for name in names if names is not None else settings.channels:
        if name not in settings.channels or settings.channels[name].dry_run:
            continue
        channel = roster.configured(settings, name)
        try:
            facts = channel.learn()
        except ChannelError as exc:
            logger.warning("channel %s: its platform's rules could not be asked: %s", name, exc)
            continue
        finally:
            channel.close()
        if facts:
            learned[name] = facts
    return learned


def learn(
    engine: Engine, settings: Settings, names: Iterable[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Ask the channels `names` (as `ask`) and keep what they learned; a channel that cannot
    ask now keeps what it learned before. Returns what was learned, by channel."""
    learned = ask(settings, names)
    keep(engine, learned)
    return learned


def relearn(engine: Engine, settings: Settings, name: str) -> Settings:
    """Ask channel `name` again (its platform refused a text as too long) and give the
    settings with what every channel has learned."""
    learn(engine, settings, [name])
    return with_learned(settings, engine)


def keep(engine: Engine, learned: dict[str, dict[str, Any]]) -> None:
    """Store what the channels learned, replacing what each learned before."""
    if not learned:
        return
    now = utcnow()
    with engine.begin() as connection:
        for name, facts in learned.items():
            statement = upsert(connection, channel_facts).values(
                channel=name, facts=facts, learned_at=now
            )
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["channel"], set_={"facts": facts, "learned_at": now}
                )
            )

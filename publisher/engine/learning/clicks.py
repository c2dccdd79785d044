"""The newsroom's redirect links: where each code leads (kept when a post carrying it is
queued), and the clicks on them, added up per code and hour. Nothing about a reader is kept."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, select

from publisher.channels import Teaser
from publisher.config import Settings
from publisher.engine.storage.schema import articles, link_clicks, links, upsert
from publisher.links import code_in
from publisher.teasers import tracked_url


def keep_links(
    connection: Connection,
    settings: Settings,
    article_id: int,
    article_url: str,
    teasers: Mapping[str, Teaser],
    now: datetime,
) -> None:
    """Note where the redirect link of each teaser leads (the article's tracked address for its
    channel), in the caller's transaction; a code already kept keeps its target."""
    base = settings.tracking.redirect_base
    if not base:
        return
    rows = [
        {
            "code": code,
            "article_id": article_id,
            "channel": name,
            "target": tracked_url(article_url, name, teaser.type, settings),
            "created_at": now,
        }
        for name, teaser in teasers.items()
        if (code := code_in(base, teaser.link)) is not None
    ]
    if rows:
        connection.execute(
            upsert(connection, links).on_conflict_do_nothing(index_elements=["code"]), rows
        )


# A link's code, channel and stored target, with its article's address as it is now.
_TARGETS = select(links.c.code, links.c.channel, links.c.target, articles.c.url).join(
    articles, articles.c.id == links.c.article_id
)


def target_of(engine: Engine, settings: Settings, code: str) -> str | None:
    """Where the redirect link with `code` leads (None for a code never made): its article's
    address as it is now, tracked for the link's channel. A link follows its article: a
    corrected address, or the CMS's article taking over an identity someone brought first; a
    channel no longer configured keeps the target it was made with."""
    with engine.connect() as connection:
        found = connection.execute(_TARGETS.where(links.c.code == code)).first()
    return None if found is None else _target(found, settings)


def targets_since(engine: Engine, settings: Settings, since: datetime, most: int) -> dict[str, str]:
    """Where the links made since `since` lead, as `target_of` answers each: the newest `most`,
    oldest first."""
    with engine.connect() as connection:
        rows = connection.execute(
            _TARGETS.where(links.c.created_at >= since)
            .order_by(links.c.created_at.desc(), links.c.code)
            .limit(most)
        ).all()
    return {row.code: _target(row, settings) for row in reversed(rows)}


def _target(found: Row[Any, Any, Any, Any], settings: Settings) -> str:
    channel = settings.channels.get(found.channel)
    if channel is None:
        return str(found.target)
    return tracked_url(found.url, found.channel, channel.type, settings)


def add_clicks(engine: Engine, counted: Mapping[tuple[str, datetime], int]) -> None:
    """Add clicks per (code, hour) to those already counted."""
    if not counted:
        return
    with engine.begin() as connection:
        statement = upsert(connection, link_clicks)
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["code", "hour"],
                set_={"clicks": link_clicks.c.clicks + statement.excluded.clicks},
            ),
            [
                {"code": code, "hour": hour, "clicks": number}
                for (code, hour), number in sorted(counted.items())
            ],
        )


def clicks_of(
    connection: Connection, codes: Iterable[str]
) -> dict[str, list[tuple[datetime, int]]]:
    """Each code's clicks per hour, earliest first."""
    wanted = sorted(set(codes))
    found: dict[str, list[tuple[datetime, int]]] = {code: [] for code in wanted}
    for start in range(0, len(wanted), 500):
        rows = connection.execute(
            select(link_clicks.c.code, link_clicks.c.hour, link_clicks.c.clicks)
            .where(link_clicks.c.code.in_(wanted[start : start + 500]))
            .order_by(link_clicks.c.hour)
        )
        for code, hour, number in rows:
            found[code].append((hour, number))
    return found

"""Numbers a platform pushes instead of answering when asked (reaction counts sent to
the bot that administers the channel): each sent post's latest, as heard (`pushed_results`),
and the results a measuring round takes from them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, select

from publisher.channels import Heard, Result, channel_class
from publisher.config import Settings
from publisher.engine.lifecycle import State
from publisher.engine.storage.schema import posts, pushed_results, upsert


def about(settings: Settings, update: Mapping[str, Any]) -> list[tuple[str, Heard]]:
    """The configured channels an update a platform pushed speaks of, with what it says."""
    found = []
    for name, configured in settings.channels.items():
        kind = channel_class(configured.type)
        heard = kind.heard(configured.platform, update) if kind.results_pushed else None
        if heard is not None:
            found.append((name, heard))
    return found


def keep_heard(engine: Engine, settings: Settings, update: Mapping[str, Any]) -> int:
    """Keep what an update says of sent posts of configured channels: newer numbers replace a
    post's older ones, an update that arrives after a newer one changes nothing. How many
    posts it spoke of (none: a message that is no post of ours)."""
    kept = 0
    with engine.begin() as connection:
        for name, heard in about(settings, update):
            post_id = connection.execute(
                select(posts.c.id).where(
                    posts.c.channel == name,
                    posts.c.remote_id == heard.remote_id,
                    posts.c.state == State.SENT,
                )
            ).scalar()
            if post_id is None:
                continue
            insert = upsert(connection, pushed_results).values(
                post_id=post_id,
                metrics=heard.result.metrics,
                raw=heard.result.raw,
                heard_at=heard.at,
            )
            connection.execute(
                insert.on_conflict_do_update(
                    index_elements=["post_id"],
                    set_={c: insert.excluded[c] for c in ("metrics", "raw", "heard_at")},
                    where=pushed_results.c.heard_at < insert.excluded.heard_at,
                )
            )
            kept += 1
    return kept


def heard_results(
    engine: Engine, settings: Settings, channel: str, remote_ids: Mapping[int, str]
) -> dict[str, Result]:
    """The numbers last heard of each post (`remote_ids`: post → its id on the platform), by
    its id there. A post nothing was heard of has the numbers of a post nobody reacted to once
    anything of the channel has been heard; before that, nobody may be listening (the bot is
    no administrator there), and its numbers are unknown (null), never made-up zeros."""
    ids = list(remote_ids)
    heard: dict[int, Result] = {}
    with engine.connect() as connection:
        for start in range(0, len(ids), 500):
            for row in connection.execute(
                select(
                    pushed_results.c.post_id, pushed_results.c.metrics, pushed_results.c.raw
                ).where(pushed_results.c.post_id.in_(ids[start : start + 500]))
            ):
                heard[row.post_id] = Result(dict(row.metrics), dict(row.raw))
        listening = (
            bool(heard)
            or connection.execute(
                select(pushed_results.c.post_id)
                .join(posts, posts.c.id == pushed_results.c.post_id)
                .where(posts.c.channel == channel)
                .limit(1)
            ).first()
            is not None
        )
    silent = (
        channel_class(settings.channels[channel].type).nothing_heard()
        if listening
        else Result.of({})
    )
    return {remote: heard.get(post_id, silent) for post_id, remote in remote_ids.items()}

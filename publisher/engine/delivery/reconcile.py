"""Reconcile uncertain posts against the platforms: a post whose worker vanished mid-call is
looked up on the account (where the platform's API can tell: X, Facebook Pages, Threads,
LinkedIn) among the posts made since its attempt began, by its text, leaving out what is known
to be another post; found, it is recorded as sent with its remote id. Not found proves nothing
(the post may still appear), so it stays uncertain for an editor, as do posts on platforms that
cannot be asked (reported as not asked). Nothing is ever re-sent here."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from publisher import roster
from publisher.channels import Channel, ChannelError, Outgoing
from publisher.config import Settings
from publisher.engine.delivery.claimed import post_key
from publisher.engine.lifecycle import Outcome, State
from publisher.engine.posts.confirmed import found_online
from publisher.engine.storage.schema import deliveries, posts

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reconciled:
    """What looking one uncertain post up came to."""

    post_id: int
    channel: str
    found: bool
    # False: the platform offers no way to list what was posted; only an editor can tell.
    asked: bool = True
    remote_id: str | None = None
    permalink: str | None = None
    error: str | None = None


def _known_remote_ids(engine: Engine, channel: str, post_id: int) -> set[str]:
    """What the platform called the other posts of `channel`: never this post's, whatever
    their text."""
    with engine.connect() as connection:
        return set(
            connection.execute(
                select(posts.c.remote_id).where(
                    posts.c.channel == channel,
                    posts.c.id != post_id,
                    posts.c.remote_id.is_not(None),
                )
            ).scalars()
        )


def reconcile(engine: Engine, settings: Settings) -> list[Reconciled]:
    """Look up every uncertain post of a channel that can tell; mark those found as sent."""
    tried = (
        select(deliveries.c.post_id, func.min(deliveries.c.started_at).label("tried_at"))
        .where(deliveries.c.outcome == Outcome.UNCERTAIN)
        .group_by(deliveries.c.post_id)
        .subquery()
    )
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                posts.c.id,
                posts.c.channel,
                posts.c.text,
                posts.c.link,
                posts.c.fields,
                posts.c.created_at,
                tried.c.tried_at,
            )
            .join(tried, tried.c.post_id == posts.c.id)
            .where(posts.c.state == State.UNCERTAIN)
            .order_by(posts.c.id)
        ).all()
    results: list[Reconciled] = []
    adapters: dict[str, Channel] = {}
    for row in rows:
        configured = settings.channels.get(row.channel)
        if configured is None or configured.dry_run:
            continue
        adapter = adapters.get(row.channel) or roster.configured(settings, row.channel)
        adapters[row.channel] = adapter
        if adapter.targets() or not adapter.can_lookup:
            # Fan-out posts, and platforms that cannot list what was posted, need an editor.
            results.append(Reconciled(row.id, row.channel, False, asked=False))
            continue
        message = Outgoing(row.id, row.text, row.link, row.fields, key=post_key(row))
        try:
            candidates = adapter.lookup(message, row.tried_at)
        except ChannelError as exc:
            results.append(Reconciled(row.id, row.channel, False, error=exc.message))
            continue
        # A text alone does not tell posts apart (a post queued again on purpose, a platform
        # refusing a duplicate): what another post of the channel is known to be is not this one.
        others = _known_remote_ids(engine, row.channel, row.id)
        receipt = next((c for c in candidates if c.remote_id not in others), None)
        if receipt is None:
            results.append(Reconciled(row.id, row.channel, False))
            continue
        found_online(engine, row.id, receipt.remote_id, receipt.permalink)
        logger.info(
            "post %s was online on %s after all (remote id %s)",
            row.id,
            row.channel,
            receipt.remote_id,
        )
        results.append(
            Reconciled(
                row.id, row.channel, True, remote_id=receipt.remote_id, permalink=receipt.permalink
            )
        )
    for adapter in adapters.values():
        adapter.close()
    return results

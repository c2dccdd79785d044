"""`publisher demo`: the whole path with no configuration and no credentials. The bundled sample
article is queued on a demo channel for every platform, each composed by its platform's rules,
and delivered at once by the real channel adapters to the platforms' local stand-ins (HTTP
servers on 127.0.0.1 that speak each platform's wire format; a platform without one is a dry
run). Then readers react on the stand-ins, and the posts are measured as `publisher run` would
measure them, so the demo ends with what each post achieved."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from publisher import roster
from publisher.channels import Teaser, platform_types
from publisher.config import ChannelSettings, Settings
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.learning import scorecard
from publisher.engine.learning.results import Measurer
from publisher.engine.planning.slots import When
from publisher.engine.posts.listings import DeliveryListing, list_deliveries
from publisher.engine.posts.queue import add
from publisher.engine.storage.schema import posts
from publisher.intake.textdump import article_from_text
from publisher.teasers import compose
from standins import contracts
from standins.base import Contract, StandIn

SAMPLE = Path(__file__).parent / "samples" / "newsde-assad-putin.txt"
# How many readers react to the demo's post on each platform, for numbers that differ.
READERS = 120


@dataclass(frozen=True)
class DemoRun:
    """What the demo did: the teasers it queued, the deliveries that followed, and what each
    post achieved as measured afterwards."""

    post_ids: list[int]
    teasers: dict[str, Teaser]
    deliveries: list[DeliveryListing]
    results: list[dict[str, Any]]


@dataclass(frozen=True)
class Platform:
    """A platform's stand-in running for the demo, and its contract row."""

    contract: Contract
    stand_in: StandIn


@contextmanager
def stand_ins() -> Iterator[dict[str, Platform]]:
    """Every platform's stand-in running on 127.0.0.1, by channel type, with the credentials
    it takes in this process's environment until the block ends."""
    saved = dict(os.environ)
    with ExitStack() as running:
        found = {}
        for contract in contracts():
            stand_in = contract.stand_in()
            running.callback(stand_in.close)
            os.environ.update(contract.env)
            found[contract.type] = Platform(contract, stand_in)
        try:
            yield found
        finally:
            os.environ.clear()
            os.environ.update(saved)


def demo_settings(settings: Settings, platforms: dict[str, Platform]) -> Settings:
    """The newsroom's settings with only demo channels, one per platform, each pointed at its
    stand-in (a dry run where there is none). Their names are their own, so the demo never
    touches a real channel's posts."""
    channels = {}
    for kind in platform_types():
        platform = platforms.get(kind)
        if platform is None:
            channels[f"demo_{kind}"] = ChannelSettings(type=kind, dry_run=True)
            continue
        options = platform.contract.options(platform.stand_in)
        channels[f"demo_{kind}"] = ChannelSettings(
            type=kind, api_base=platform.stand_in.url, **options
        )
    return settings.model_copy(update={"channels": channels})


def run_demo(engine: Engine, settings: Settings) -> DemoRun:
    """Queue the sample on the demo channels, deliver it, let readers react, measure it."""
    with stand_ins() as platforms:
        demo = demo_settings(settings, platforms)
        article = article_from_text(
            SAMPLE.read_text(encoding="utf-8"), source=SAMPLE.name, default_tz=demo.tz
        )
        channels = roster.chosen(demo, list(demo.channels))
        teasers = compose(article, channels, demo)
        ids = add(engine, demo, article, channels, When("now"), force=True, queued_by="demo")
        dispatcher = Dispatcher(engine, demo)
        try:
            dispatcher.run_once()
        finally:
            dispatcher.close()
        for number, (kind, remote_id) in enumerate(_sent(engine, demo, ids)):
            audience = platforms[kind].contract.audience if kind in platforms else None
            if audience is not None:
                audience(platforms[kind].stand_in, remote_id, READERS + 37 * number)
        Measurer(engine, demo).run(every_unmeasured=True)
    results = [item for item in scorecard.by_post(engine) if item["post"] in ids]
    return DemoRun(ids, teasers, list_deliveries(engine, post_ids=ids), results)


def _sent(engine: Engine, settings: Settings, ids: list[int]) -> list[tuple[str, str]]:
    """The platform and the id there of each of the posts `ids` that went out."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(posts.c.channel, posts.c.remote_id)
            .where(posts.c.id.in_(ids), posts.c.remote_id.is_not(None))
            .order_by(posts.c.id)
        ).all()
    return [(settings.channels[row.channel].type, str(row.remote_id)) for row in rows]

"""`publisher demo`: the whole path with no configuration and no credentials. The bundled sample
article is queued on a dry-run channel for every platform (each composed by its platform's rules,
delivered through the log channel) and delivered at once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from publisher import roster
from publisher.channels import Teaser, platform_types
from publisher.config import ChannelSettings, Settings
from publisher.engine.dispatch import Dispatcher
from publisher.engine.listings import list_deliveries
from publisher.engine.queue import add
from publisher.engine.slots import When
from publisher.intake.textdump import article_from_text
from publisher.teasers import compose

SAMPLE = Path(__file__).parent / "samples" / "newsde-assad-putin.txt"


@dataclass(frozen=True)
class DemoRun:
    """What the demo did: the teasers it queued and the deliveries that followed."""

    post_ids: list[int]
    teasers: dict[str, Teaser]
    deliveries: list[dict[str, Any]]


def demo_settings(settings: Settings) -> Settings:
    """The newsroom's settings with only dry-run demo channels, one per platform. Their names
    are their own, so the demo never touches a real channel's posts."""
    channels = {
        f"demo_{kind}": ChannelSettings(type=kind, dry_run=True) for kind in platform_types()
    }
    return settings.model_copy(update={"channels": channels})


def run_demo(engine: Engine, settings: Settings) -> DemoRun:
    """Queue the sample on the demo channels and deliver it."""
    demo = demo_settings(settings)
    article = article_from_text(
        SAMPLE.read_text(encoding="utf-8"), source=SAMPLE.name, default_tz=demo.tz
    )
    channels = roster.chosen(demo, list(demo.channels))
    teasers = compose(article, channels, demo)
    ids = add(engine, demo, article, channels, When("now"), force=True, queued_by="demo")
    Dispatcher(engine, demo).run_once()
    return DemoRun(ids, teasers, list_deliveries(engine, post_ids=ids))

"""Helpers for engine tests: settings with test channels, articles, and reading rows back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from publisher.articles import Article
from publisher.config import ChannelSettings, Settings
from publisher.engine.schema import deliveries, posts


def make_settings(database_url: str, **channels: dict[str, Any]) -> Settings:
    return Settings(
        database_url=database_url,
        channels={name: ChannelSettings(**options) for name, options in channels.items()},
    )


def article(number: int = 1, **extra: Any) -> Article:
    return Article(
        url=f"https://e.de/artikel/{number}",
        headline=f"Schlagzeile Nummer {number}",
        bullets=["Erster Punkt", "Zweiter Punkt"],
        **extra,
    )


def post(engine: Engine, post_id: int) -> Any:
    with engine.connect() as connection:
        return connection.execute(select(posts).where(posts.c.id == post_id)).one()


def delivery_rows(engine: Engine, post_id: int) -> list[Any]:
    with engine.connect() as connection:
        return connection.execute(
            select(deliveries).where(deliveries.c.post_id == post_id).order_by(deliveries.c.id)
        ).all()

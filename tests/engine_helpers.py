"""Helpers for engine tests: settings with test channels, articles, and reading rows back."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine, select

from publisher.articles import Article
from publisher.config import ChannelSettings, Settings
from publisher.engine.storage.schema import deliveries, posts


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


def at_once(work: Callable[[], object], times: int) -> list[BaseException]:
    """Run `work` in `times` threads started together; what any of them raised."""
    start = threading.Barrier(times)
    errors: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            work()
        except BaseException as exc:  # surfaced to the test
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def post(engine: Engine, post_id: int) -> Any:
    with engine.connect() as connection:
        return connection.execute(select(posts).where(posts.c.id == post_id)).one()


def delivery_rows(engine: Engine, post_id: int) -> Sequence[Any]:
    with engine.connect() as connection:
        return connection.execute(
            select(deliveries).where(deliveries.c.post_id == post_id).order_by(deliveries.c.id)
        ).all()


def approve_as_read(engine: Engine, post_id: int, by: str) -> None:
    """Approve a post's text as it stands, as an approver who read it does."""
    from publisher.engine.posts import verbs

    verbs.approve(engine, post_id, by, seen=verbs.text_version(post(engine, post_id).text))

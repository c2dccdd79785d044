"""A post out on one platform's stand-in, for tests of what is done to posts after they went
out (takedowns, corrections): `sent(platform, **channel options)` queues an article on a
channel of the platform pointed at a fresh stand-in and sends it with a worker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from publisher import roster
from publisher.config import Settings
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from standins.base import Contract, StandIn
from tests.engine_helpers import article, make_settings, post


class Sent:
    """One article's post, out on one platform's stand-in, and the worker that sent it."""

    def __init__(
        self, settings: Settings, post_id: int, dispatcher: Dispatcher, stand_in: StandIn
    ) -> None:
        self.settings = settings
        self.post_id = post_id
        self.dispatcher = dispatcher
        self.stand_in = stand_in


@pytest.fixture
def sent(
    engine: Engine, database_url: str, credentials, monkeypatch
) -> Iterator[Callable[..., Sent]]:
    opened: list[tuple[Dispatcher, StandIn]] = []

    def send(platform: Contract, **options: Any) -> Sent:
        stand_in = platform.stand_in()
        for name, value in platform.env.items():
            monkeypatch.setenv(name, value)
        settings = make_settings(
            database_url,
            social={"type": platform.type, "api_base": stand_in.url}
            | platform.options(stand_in)
            | options,
        )
        channels = roster.chosen(settings, ["social"])
        (post_id,) = queue.add(engine, settings, article(), channels, When(), queued_by="test")
        dispatcher = Dispatcher(engine, settings)
        opened.append((dispatcher, stand_in))
        dispatcher.run_once()
        assert post(engine, post_id).state == "sent"
        return Sent(settings, post_id, dispatcher, stand_in)

    yield send
    for dispatcher, stand_in in opened:
        dispatcher.close()
        stand_in.close()

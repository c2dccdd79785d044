"""`publisher demo` without configuration or accounts: the sample goes out through the real
adapters to every platform's stand-in, readers react there, and each post is measured."""

from __future__ import annotations

import os

from sqlalchemy import Engine

from publisher.config import Settings
from publisher.demo import run_demo
from standins import contracts


def test_the_demo_measures_what_readers_did_on_every_platform_that_is_asked(
    engine: Engine, database_url: str
) -> None:
    run = run_demo(engine, Settings(database_url=database_url))
    likes = {item["type"]: item["metrics"]["likes"] for item in run.results}
    asked = {c.type for c in contracts() if c.audience is not None}
    assert {kind for kind, number in likes.items() if number} == asked
    # Telegram's counts reach only the editors' bot, which the demo does not run: unknown.
    assert likes["telegram"] is None


def test_the_demo_leaves_no_stand_in_credential_in_the_environment(
    engine: Engine, database_url: str
) -> None:
    before = dict(os.environ)
    run_demo(engine, Settings(database_url=database_url))
    assert dict(os.environ) == before

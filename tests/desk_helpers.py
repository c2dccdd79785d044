"""What the desk's HTTP tests share: settings, a served app, signed-in sessions and queued posts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
from sqlalchemy import Engine, select, update

from publisher import roster
from publisher.articles import Article
from publisher.config import ChannelSettings, DeskSettings, Settings
from publisher.engine import queue
from publisher.engine.schema import posts
from publisher.engine.slots import When
from publisher.web.app import ServerThread, create_app
from publisher.web.users import add_user

PASSWORD = "correct horse battery"
ARTICLE = Article(id="cms-9", url="https://e.de/artikel/9", headline="Schlagzeile", bullets=["A"])


def desk_settings(database_url: str, **desk) -> Settings:
    return Settings(
        database_url=database_url,
        language="en",
        channels={k: ChannelSettings(type=k, dry_run=True) for k in ("x", "telegram")},
        desk=DeskSettings(**{"secure_cookies": False} | desk),
    )


@contextmanager
def serving(engine: Engine, settings: Settings) -> Iterator[str]:
    """The app with these settings, served by uvicorn on a free port: its base URL."""
    server = ServerThread(create_app(engine, settings), "127.0.0.1", 0)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


@pytest.fixture
def desk(engine: Engine, database_url: str, monkeypatch) -> Iterator[str]:
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    add_user(engine, "anna", PASSWORD, "approver")
    add_user(engine, "ed", PASSWORD, "editor")
    with serving(engine, desk_settings(database_url)) as base:
        yield base


def token(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def signed_in(base: str, name: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    page = session.get(f"{base}/signin", timeout=30).text
    answer = session.post(
        f"{base}/signin",
        data={"name": name, "password": PASSWORD, "csrf": token(page)},
        timeout=30,
    )
    assert answer.url == f"{base}/", answer.text
    return session, token(answer.text)


def queued_post(engine: Engine, database_url: str, state: str = "queued") -> int:
    settings = desk_settings(database_url)
    (post_id,) = queue.add(
        engine,
        settings,
        ARTICLE,
        roster.chosen(settings, ["x"]),
        When(),
        force=True,
        # As `publisher queue add` records it.
        queued_by="cli",
    )
    with engine.begin() as connection:
        connection.execute(update(posts).where(posts.c.id == post_id).values(state=state))
    return post_id


def state(engine: Engine, post_id: int) -> str:
    with engine.connect() as connection:
        return connection.execute(select(posts.c.state).where(posts.c.id == post_id)).scalar()

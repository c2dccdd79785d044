"""What the desk's HTTP tests share: settings, the app under Starlette's TestClient (the real ASGI
app and its lifespan, in-process; one smoke test in test_desk.py serves it with uvicorn),
signed-in sessions and queued posts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from publisher import roster
from publisher.articles import Article
from publisher.config import ChannelSettings, DeskSettings, Settings
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.posts.users import add_user
from publisher.engine.storage.schema import posts
from publisher.web.app import create_app
from publisher.web.serving import ServerThread

PASSWORD = "correct horse battery"
ARTICLE = Article(id="cms-9", url="https://e.de/artikel/9", headline="Schlagzeile", bullets=["A"])


def desk_settings(database_url: str, **desk) -> Settings:
    return Settings(
        database_url=database_url,
        language="en",
        channels={k: ChannelSettings(type=k, dry_run=True) for k in ("x", "telegram")},
        desk=DeskSettings(**{"secure_cookies": False} | desk),
    )


# Where requests seem to come from: this machine, as through uvicorn on 127.0.0.1.
PEER = ("127.0.0.1", 50000)


def fresh(client: TestClient) -> TestClient:
    """Another browser on the same app: no cookies, its lifespan already running."""
    return TestClient(client.app, client=PEER)


@contextmanager
def serving(engine: Engine, settings: Settings) -> Iterator[TestClient]:
    """The app with these settings, its lifespan running: a client without a session."""
    with TestClient(create_app(engine, settings), client=PEER) as client:
        yield client


@contextmanager
def served(engine: Engine, settings: Settings) -> Iterator[str]:
    """The app served by uvicorn on a free port, for what only a server shows (a body that
    never ends, requests taking turns): its base URL."""
    server = ServerThread(create_app(engine, settings), "127.0.0.1", 0)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


@pytest.fixture
def desk(engine: Engine, database_url: str, monkeypatch) -> Iterator[TestClient]:
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    add_user(engine, "anna", PASSWORD, "approver")
    add_user(engine, "ed", PASSWORD, "editor")
    with serving(engine, desk_settings(database_url)) as client:
        yield client


@pytest.fixture
def german_newsroom(database_url: str) -> Settings:
    """A German newsroom's desk: X under its own label, Facebook, and WhatsApp with its
    approved template, all dry runs."""
    return Settings(
        database_url=database_url,
        language="de",
        channels={
            "x_main": ChannelSettings(type="x", dry_run=True, label="X Hauptkonto"),
            "facebook": ChannelSettings(type="facebook", dry_run=True),
            "wa": ChannelSettings(
                type="whatsapp",
                dry_run=True,
                phone_number_id="1098",
                template={"name": "news_teaser", "body": "Neu bei News.de: *{{1}}* {{2}}"},
            ),
        },
        desk=DeskSettings(secure_cookies=False),
    )


@pytest.fixture
def german_desk(engine: Engine, german_newsroom: Settings, monkeypatch) -> Iterator[TestClient]:
    """The German newsroom's desk, with anna an approver and ed an editor."""
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    add_user(engine, "anna", PASSWORD, "approver")
    add_user(engine, "ed", PASSWORD, "editor")
    with serving(engine, german_newsroom) as client:
        yield client


def token(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def signed_in(desk: TestClient, name: str) -> tuple[TestClient, str]:
    """A browser of its own, signed in as `name`, and its form token."""
    session = fresh(desk)
    page = session.get("/signin").text
    answer = session.post("/signin", data={"name": name, "password": PASSWORD, "csrf": token(page)})
    assert answer.url.path == "/", answer.text
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


def shown_version(session: TestClient, post_id: int) -> str:
    """The text version a post's page shows an approver, as its approve form carries it."""
    page = session.get(f"/posts/{post_id}").text
    return re.search(r'name="seen" value="([0-9a-f]{10})"', page).group(1)

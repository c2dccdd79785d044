"""The database goes away under a running server (PostgreSQL behind a relay whose connections a
test cuts, as a restart does): the webhooks answer 503 with JSON for the CMS to retry, an
editor reads a page saying so in the desk's words, a reader's link answers "in a moment" (a
link followed before keeps leading to its article), nothing is a 500; and once the database
answers again, so does everything."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests
from fastapi import FastAPI
from sqlalchemy import Engine

from publisher import roster
from publisher.config import ChannelSettings, DeskSettings, Settings, Tracking
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.posts.post_detail import show_post
from publisher.engine.posts.users import add_user
from publisher.engine.storage.store import open_engine
from publisher.links import LINK_SECRET_ENV
from publisher.web.app import create_app
from publisher.web.serving import ServerThread
from tests.desk_helpers import PASSWORD, token
from tests.engine_helpers import article
from tests.outage_helpers import Relay
from tests.test_webhook import ARTICLE, SECRET, URL, signed


@dataclass
class Newsroom:
    base: str
    relay: Relay
    engine: Engine
    settings: Settings
    app: FastAPI


@pytest.fixture
def newsroom(engine: Engine, database_url: str, monkeypatch) -> Iterator[Newsroom]:
    if engine.dialect.name != "postgresql":
        pytest.skip("a database server's restart is PostgreSQL's")
    monkeypatch.setenv("PUBLISHER_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv(LINK_SECRET_ENV, LINK_SECRET)
    target = urlsplit(database_url)
    relay = Relay(target.hostname or "127.0.0.1", target.port or 5432)
    relayed = open_engine(relay.url(database_url))
    settings = Settings(
        database_url=relay.url(database_url),
        language="de",
        channels={"x_main": ChannelSettings(type="x", dry_run=True)},
        desk=DeskSettings(secure_cookies=False),
        tracking=Tracking(redirect_base="https://go.news.de"),
    )
    app = create_app(relayed, settings)
    server = ServerThread(app, "127.0.0.1", 0)
    server.start()
    try:
        yield Newsroom(f"http://127.0.0.1:{server.port}", relay, relayed, settings, app)
    finally:
        server.stop()
        relay.close()
        relayed.dispose()


LINK_SECRET = "a-secret-of-more-than-thirty-two-characters"


def release(base: str, number: int) -> requests.Response:
    body = json.dumps(ARTICLE | {"id": f"cms-{number}"}).encode()
    return requests.post(base + URL, data=body, headers=signed(body), timeout=30)


def test_the_webhook_answers_503_with_json_while_the_database_is_away(newsroom) -> None:
    newsroom.relay.cut()
    answer = release(newsroom.base, 1)
    assert answer.status_code == 503
    assert "database" in answer.json()["error"]
    assert answer.headers["Retry-After"]


def test_the_webhook_takes_the_release_again_once_the_database_answers(newsroom) -> None:
    newsroom.relay.cut()
    release(newsroom.base, 1)
    newsroom.relay.restore()
    assert release(newsroom.base, 1).status_code == 202


def test_a_desk_page_while_the_database_is_away_says_so_in_the_desks_words(newsroom) -> None:
    add_user(newsroom.engine, "ed", PASSWORD, "editor")
    browser = requests.Session()
    form = token(browser.get(newsroom.base + "/signin", timeout=30).text)
    browser.post(
        newsroom.base + "/signin",
        data={"name": "ed", "password": PASSWORD, "csrf": form},
        timeout=30,
    )
    newsroom.relay.cut()
    answer = browser.get(newsroom.base + "/queue", timeout=30, allow_redirects=False)
    assert answer.status_code == 503
    assert "Die Datenbank antwortet gerade nicht" in answer.text


def test_a_readers_link_answers_in_a_moment_rather_than_with_a_server_error(newsroom) -> None:
    newsroom.relay.cut()
    answer = requests.get(newsroom.base + "/r/" + "a" * 24, timeout=30, allow_redirects=False)
    assert answer.status_code == 503
    assert "gleich wieder erreichbar" in answer.text


def test_a_posts_link_never_followed_here_leads_to_its_article_while_the_database_is_away(
    newsroom,
) -> None:
    channels = roster.chosen(newsroom.settings, ["x_main"])
    (post_id,) = queue.add(
        newsroom.engine, newsroom.settings, article(), channels, When(), queued_by="t"
    )
    link = show_post(newsroom.engine, newsroom.settings, post_id)["link"]
    # What the server does every minute: mirror the links made since it last looked.
    newsroom.app.state.link_targets.mirror()
    newsroom.relay.cut()
    answer = requests.get(link.replace("https://go.news.de", newsroom.base), timeout=30,
                          allow_redirects=False)  # fmt: skip
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(article().url)

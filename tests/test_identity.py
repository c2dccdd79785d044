"""One article, one identity, whatever the source: a feed item at a CMS article's address is
that article (and neither creates a second one nor posts it again), a feed never replaces what
an editor brought, an editor's other article under a used address is said and kept apart, and a
short link follows its article."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, Table, func, select

from publisher import roster
from publisher.articles import Article
from publisher.channels import Channel
from publisher.clock import utcnow
from publisher.config import (
    ChannelSettings,
    DeskSettings,
    FeedSettings,
    FetchSettings,
    Settings,
    Tracking,
)
from publisher.engine.learning.clicks import target_of
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue, verbs
from publisher.engine.posts.users import add_user
from publisher.engine.releases.feedwatch import FeedWatcher
from publisher.engine.releases.release import release
from publisher.engine.storage.schema import articles, posts
from publisher.links import LINK_SECRET_ENV, code_at_end
from tests.conftest import LocalServer
from tests.desk_helpers import PASSWORD, serving, signed_in
from tests.test_feedwatch import Feed

ADDRESS = "https://e.de/artikel/1"
CMS = Article(id="5000", url=ADDRESS, headline="Bayern gewinnt 4:0", bullets=["Tore"])


def newsroom(database_url: str, feed: Feed | None = None, **extra: object) -> Settings:
    return Settings(
        database_url=database_url,
        channels={
            "x_main": ChannelSettings(type="x", dry_run=True),
            "wa": ChannelSettings(type="whatsapp", dry_run=True, phone_number_id="1"),
        },
        feeds={"news": FeedSettings(url=feed.url, fetch_pages=False)} if feed else {},
        fetch=FetchSettings(allow_private_networks=True, timeout=30),
        **extra,
    )


def count(engine: Engine, table: Table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def headline(engine: Engine) -> str:
    with engine.connect() as connection:
        return connection.execute(select(articles.c.headline)).scalar_one()


def polled_with(engine: Engine, settings: Settings, feed: Feed, link: str) -> None:
    """The feed's first poll remembers its backlog; the item at `link` comes after it."""
    watcher = FeedWatcher(engine, settings)
    watcher.poll("news")
    feed.add(1, link)
    watcher.poll("news")


@pytest.fixture
def feed(server: LocalServer) -> Feed:
    return Feed(server)


def test_a_feed_item_at_a_cms_articles_address_is_that_article(engine, database_url, feed):
    settings = newsroom(database_url, feed)
    release(engine, settings, CMS, "webhook")
    polled_with(engine, settings, feed, ADDRESS)
    assert count(engine, articles) == 1 and count(engine, posts) == 2
    assert headline(engine) == "Bayern gewinnt 4:0"


def test_a_feed_item_at_an_editors_article_neither_replaces_nor_reposts_it(
    engine, database_url, feed
) -> None:
    settings = newsroom(database_url, feed)
    mine = Article(url=ADDRESS, headline="Unsere Recherche", bullets=["Punkt"])
    (post_id,) = queue.add(engine, settings, mine, {"x_main": _x(settings)}, When(), queued_by="ed")
    polled_with(engine, settings, feed, ADDRESS)
    with engine.connect() as connection:
        text = connection.execute(select(posts.c.text).where(posts.c.id == post_id)).scalar()
    assert headline(engine) == "Unsere Recherche" and "Meldung" not in text
    assert count(engine, posts) == 1


def _x(settings: Settings) -> Channel:
    return roster.chosen(settings, ["x_main"])["x_main"]


@pytest.fixture
def desk(engine: Engine, database_url: str, monkeypatch) -> Iterator[TestClient]:
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    add_user(engine, "ed", PASSWORD, "editor")
    settings = newsroom(database_url, desk=DeskSettings(secure_cookies=False), language="en")
    with serving(engine, settings) as client:
        yield client


def upload(session: TestClient, csrf: str, address: str, headline: str):
    body = f"# {headline}\n\nWorum es geht, in einem Satz.\n".encode()
    return session.post(
        "/intake", data={"csrf": csrf, "url": address}, files={"file": ("a.md", body)}
    )


def test_a_file_beside_the_address_of_a_posted_article_is_said_and_replaces_nothing(
    desk, engine
) -> None:
    session, csrf = signed_in(desk, "ed")
    first = upload(session, csrf, ADDRESS, "Bayern gewinnt 4:0")
    article_id = int(first.url.path.rsplit("/", 1)[1])
    settings = newsroom("sqlite://")
    queue.add(engine, settings, CMS.model_copy(update={"id": None}), {"x_main": _x(settings)},
              When(), queued_by="ed")  # fmt: skip
    other = upload(session, csrf, ADDRESS, "Wetter: Schnee am Wochenende")
    assert "Another article is already stored under this address" in other.text
    assert headline(engine) == "Bayern gewinnt 4:0" and count(engine, articles) == 1
    assert f"/articles/{article_id}" in str(other.url)


@pytest.fixture
def link_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LINK_SECRET_ENV, "a-link-secret-of-thirty-two-chars-0123")


@pytest.mark.usefixtures("link_secret")
def test_a_short_link_follows_the_cms_article_over_one_uploaded_first(engine, database_url):
    settings = newsroom(database_url, tracking=Tracking(redirect_base="https://n.de"))
    forged = Article(id="5000", url="https://evil.example/5000", headline="Falle", bullets=["x"])
    (post_id,) = queue.add(engine, settings, forged, {"x_main": _x(settings)}, When(),
                           queued_by="ed")  # fmt: skip
    verbs.cancel(engine, post_id, "ed")
    release(engine, settings, CMS, "webhook")
    with engine.connect() as connection:
        link = connection.execute(select(posts.c.link).where(posts.c.id == post_id)).scalar()
    target = target_of(engine, settings, code_at_end(link))
    assert target.startswith(ADDRESS) and "evil" not in target


@pytest.mark.usefixtures("link_secret")
def test_a_short_link_follows_an_address_the_cms_corrected(engine, database_url) -> None:
    settings = newsroom(database_url, tracking=Tracking(redirect_base="https://n.de"))
    result = release(engine, settings, CMS, "webhook")
    corrected = CMS.model_copy(update={"url": "https://e.de/artikel/1-korrigiert"})
    release(engine, settings, corrected, "webhook")
    with engine.connect() as connection:
        link = connection.execute(
            select(posts.c.link).where(posts.c.id == result.queued[0])
        ).scalar()
    assert target_of(engine, settings, code_at_end(link)).startswith(corrected.url)


def test_every_source_names_the_same_stored_article(engine) -> None:
    with engine.begin() as connection:
        by_cms = queue.upsert_article(connection, CMS, utcnow(), "cms")
        by_feed = queue.upsert_article(
            connection, CMS.model_copy(update={"id": None}), utcnow(), "feed"
        )
        by_editor = queue.upsert_article(
            connection, CMS.model_copy(update={"id": None}), utcnow(), "editor"
        )
    assert by_cms.id == by_feed.id == by_editor.id and by_feed.kept and by_editor.kept

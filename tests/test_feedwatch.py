"""The feed watcher against a real local HTTP server whose feed changes between polls: new items
are released once, across restarts too; the backlog does not flood the channels; conditional GET;
a failing or broken feed backs off and is reported while the others carry on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler

import pytest
from sqlalchemy import Engine, select

from publisher.clock import utcnow
from publisher.config import ChannelSettings, FeedSettings, FetchSettings, Match, Rule, Settings
from publisher.engine.releases.feedwatch import FeedWatcher, feed_states
from publisher.engine.storage.schema import posts
from tests.conftest import LocalServer
from tests.engine_helpers import at_once


class Feed:
    """An RSS feed served with an ETag and Last-Modified; items are added by the test."""

    def __init__(self, server: LocalServer, path: str = "/rss") -> None:
        self.items: list[tuple[str, str]] = []
        self.category: str | None = None
        self.requests: list[dict[str, str]] = []
        self.body_override: bytes | None = None
        self.url = server.base + path
        server.routes[path] = self._serve

    def add(self, number: int, link: str | None = None) -> None:
        self.items.insert(0, (f"guid-{number}", link or f"https://e.de/artikel/{number}"))

    def document(self) -> bytes:
        if self.body_override is not None:
            return self.body_override
        category = f"<category>{self.category}</category>" if self.category else ""
        entries = "".join(
            f"<item><guid>{guid}</guid><title>Meldung {guid}</title><link>{link}</link>"
            f"<description>Worum es geht: {guid}.</description>{category}</item>"
            for guid, link in self.items
        )
        return (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
            f"<link>https://e.de/</link><language>de</language>{entries}</channel></rss>"
        ).encode()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        self.requests.append(dict(handler.headers))
        body = self.document()
        etag = f'"{len(self.items)}-{len(body)}"'
        if handler.headers.get("If-None-Match") == etag:
            handler.send_response(304)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.send_header("ETag", etag)
        handler.send_header("Last-Modified", formatdate(usegmt=True))
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


@pytest.fixture
def feed(server: LocalServer) -> Feed:
    return Feed(server)


def desk(database_url: str, feeds: dict[str, FeedSettings]) -> Settings:
    return Settings(
        database_url=database_url,
        channels={"x_main": ChannelSettings(type="x", dry_run=True)},
        feeds=feeds,
        fetch=FetchSettings(allow_private_networks=True, timeout=30),
    )


@pytest.fixture
def watch(engine: Engine, database_url: str, feed: Feed) -> Iterator:
    def make(**options) -> FeedWatcher:
        feed_options = {"url": feed.url, "fetch_pages": False} | options
        return FeedWatcher(engine, desk(database_url, {"news": FeedSettings(**feed_options)}))

    yield make


def headlines(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [
            r.text.split("\n")[0]
            for r in connection.execute(select(posts.c.text).order_by(posts.c.id))
        ]


def test_first_poll_remembers_the_backlog_without_posting_it(watch, feed, engine) -> None:
    for number in range(1, 6):
        feed.add(number)
    result = watch().poll("news")
    assert (result.status, result.released, result.remembered) == ("new items", 0, 5)
    assert headlines(engine) == []


def test_backfill_releases_the_newest_items_of_the_first_poll(watch, feed, engine) -> None:
    for number in range(1, 6):
        feed.add(number)
    watch(backfill=2).poll("news")
    assert headlines(engine) == ["Meldung guid-4", "Meldung guid-5"]


def test_a_new_item_is_released_once(watch, feed, engine) -> None:
    feed.add(1)
    watcher = watch()
    watcher.poll("news")
    feed.add(2)
    assert watcher.poll("news").released == 1
    watcher.poll("news")
    assert headlines(engine) == ["Meldung guid-2"]


def test_items_seen_before_a_restart_are_not_released_again(watch, feed, engine) -> None:
    feed.add(1)
    watch().poll("news")
    feed.add(2)
    watch().poll("news")
    feed.add(3)
    assert watch().poll("news").released == 1
    assert headlines(engine) == ["Meldung guid-2", "Meldung guid-3"]


def test_unchanged_feed_is_asked_conditionally_and_answers_304(watch, feed) -> None:
    feed.add(1)
    watcher = watch()
    watcher.poll("news")
    assert watcher.poll("news").status == "not modified"
    assert feed.requests[-1]["If-None-Match"].startswith('"1-')
    assert "If-Modified-Since" in feed.requests[-1]


def test_item_page_gives_the_full_teaser(watch, feed, server: LocalServer, engine) -> None:
    page = {
        "url": server.base + "/artikel/2",
        "headline": "Die ganze Geschichte",
        "bullets": ["Punkt eins", "Punkt zwei"],
    }
    link = server.serve("/artikel/2", json.dumps(page).encode(), "application/json")
    feed.add(1)
    watcher = watch(fetch_pages=True)
    watcher.poll("news")
    feed.add(2, link)
    watcher.poll("news")
    with engine.connect() as connection:
        (text,) = connection.execute(select(posts.c.text)).scalars()
    assert text.startswith("Die ganze Geschichte") and "• Punkt zwei" in text


def test_unreachable_page_falls_back_to_the_entry(watch, feed, server, engine) -> None:
    feed.add(1)
    watcher = watch(fetch_pages=True)
    watcher.poll("news")
    feed.add(2, server.base + "/gibt-es-nicht")
    watcher.poll("news")
    with engine.connect() as connection:
        (text,) = connection.execute(select(posts.c.text)).scalars()
    assert text.startswith("Meldung guid-2") and "Worum es geht" in text


@pytest.mark.parametrize(
    "document",
    [
        b"<html><body><h1>Wartungsarbeiten</h1></body></html>",
        b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>kaputt',
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">'.encode()
            if i > 1
            else b'<!ENTITY lol1 "' + b"&lol;" * 10 + b'">'
            for i in range(1, 9)
        )
        + b']><rss version="2.0"><channel><title>&lol8;</title><item><title>&lol8;</title>'
        b"<link>https://e.de/x</link></item></channel></rss>",
    ],
    ids=["html", "truncated", "entity-expansion"],
)
def test_broken_feed_fails_is_reported_and_queues_nothing(
    watch, feed, engine, document: bytes
) -> None:
    feed.body_override = document
    result = watch().poll("news")
    assert result.status == "failed" and result.error
    assert headlines(engine) == []


def test_huge_feed_is_refused_by_the_size_limit(watch, feed, engine, database_url) -> None:
    feed.body_override = b"<rss>" + b" " * 6_000_000
    assert watch().poll("news").status == "failed"
    assert headlines(engine) == []


def test_failing_feed_backs_off_and_the_others_carry_on(
    engine, database_url, feed: Feed, server: LocalServer
) -> None:
    feed.add(1)
    settings = desk(
        database_url,
        {
            "broken": FeedSettings(url=server.base + "/weg", every=60),
            "news": FeedSettings(url=feed.url, fetch_pages=False),
        },
    )
    watcher = FeedWatcher(engine, settings)
    now = utcnow()
    assert watcher.poll("broken", now).status == "failed"
    assert watcher.poll("broken", now + timedelta(seconds=60)).status == "failed"
    assert watcher.poll("broken", now + timedelta(seconds=61)).status == "backing off"
    assert watcher.poll("news").status == "new items"
    states = {s["feed"]: s for s in feed_states(engine, settings)}
    assert states["broken"]["failures"] == 2 and "404" in states["broken"]["last_error"]
    assert states["news"]["failures"] == 0


def test_a_first_poll_that_fails_does_not_make_the_next_one_release_the_backlog(
    watch, feed, engine
) -> None:
    for number in range(1, 6):
        feed.add(number)
    feed.body_override = b"<rss>" + b" " * 6_000_000
    watcher = watch(every=1)
    assert watcher.poll("news").status == "failed"
    feed.body_override = None
    result = watcher.poll("news")
    assert (result.status, result.released, result.remembered) == ("new items", 0, 5)
    assert headlines(engine) == []


def test_one_poll_releases_at_most_max_items_and_remembers_the_rest(watch, feed, engine) -> None:
    feed.add(1)
    watcher = watch(max_items=3)
    watcher.poll("news")
    for number in range(2, 12):
        feed.add(number)
    result = watcher.poll("news")
    assert (result.released, result.remembered) == (3, 10)
    assert headlines(engine) == ["Meldung guid-9", "Meldung guid-10", "Meldung guid-11"]
    assert watcher.poll("news").released == 0


def test_an_items_category_stays_its_section_when_its_page_is_fetched(
    engine, database_url, feed: Feed, server: LocalServer
) -> None:
    page = {"url": server.base + "/artikel/2", "headline": "Aus dem Bundestag"}
    link = server.serve("/artikel/2", json.dumps(page).encode(), "application/json")
    feed.add(1)
    politics = Rule(name="politik", match=Match(sections=("Politik",)), channels=("x_main",))
    rest = Rule(name="sport", match=Match(sections=("Sport",)), channels=("telegram",))
    settings = desk(database_url, {"news": FeedSettings(url=feed.url)}).model_copy(
        update={
            "rules": (politics, rest),
            "channels": {
                "x_main": ChannelSettings(type="x", dry_run=True),
                "telegram": ChannelSettings(type="telegram", dry_run=True),
            },
        }
    )
    watcher = FeedWatcher(engine, settings)
    watcher.poll("news")
    feed.items.insert(0, ("guid-2", link))
    feed.category = "Politik"
    watcher.poll("news")
    with engine.connect() as connection:
        assert list(connection.execute(select(posts.c.channel)).scalars()) == ["x_main"]


def test_polling_a_feed_by_hand_polls_it_while_it_backs_off(
    engine, database_url, server: LocalServer
) -> None:
    settings = desk(database_url, {"broken": FeedSettings(url=server.base + "/weg", every=60)})
    watcher = FeedWatcher(engine, settings)
    now = utcnow()
    watcher.poll("broken", now)
    watcher.poll("broken", now + timedelta(seconds=60))
    assert watcher.poll("broken", now + timedelta(seconds=61)).status == "backing off"
    asked = watcher.poll("broken", now + timedelta(seconds=62), asked=True)
    assert asked.status == "failed" and "404" in asked.error


def test_workers_starting_together_on_a_new_feed_make_its_state_once(
    engine, database_url, feed: Feed
) -> None:
    feed.add(1)
    settings = desk(database_url, {"news": FeedSettings(url=feed.url, fetch_pages=False)})
    watcher = FeedWatcher(engine, settings)
    assert at_once(lambda: watcher._state("news", settings.feeds["news"]), 8) == []


HOSTILE = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
    b"<item><guid>g-bad</guid><title>Kaputt</title><link>http://[::1</link>"
    b"<pubDate>0001-01-01T00:00:00+14:00</pubDate></item>"
    b"<item><guid>g-good</guid><title>Meldung gut</title><link>https://e.de/artikel/9</link>"
    b"</item></channel></rss>"
)


def test_a_hostile_item_is_left_out_and_the_feeds_good_items_are_released(
    watch, feed, engine
) -> None:
    watcher = watch()
    watcher.poll("news")
    feed.body_override = HOSTILE
    result = watcher.poll("news")
    assert result.status == "new items" and headlines(engine) == ["Meldung gut"]


def test_a_hostile_item_is_shown_as_the_feeds_error_without_a_failure(
    watch, feed, engine, database_url
) -> None:
    watcher = watch()
    watcher.poll("news")
    feed.body_override = HOSTILE
    watcher.poll("news")
    settings = desk(database_url, {"news": FeedSettings(url=feed.url)})
    (state,) = feed_states(engine, settings)
    assert state["failures"] == 0 and "item g-bad" in state["last_error"]

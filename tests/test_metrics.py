"""What `publisher run` exports to Prometheus, read as a scrape reads it: posts by state, and
what a monitor alerts on (paused channels, failing feeds)."""

from __future__ import annotations

from prometheus_client import generate_latest
from sqlalchemy import Engine, insert

from publisher import roster
from publisher.clock import utcnow
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.posts.pauses import pause_channel
from publisher.engine.storage.schema import feeds
from publisher.metrics import Metrics
from tests.engine_helpers import article, make_settings


def scraped(engine: Engine) -> str:
    return generate_latest(Metrics(engine).registry).decode()


def test_posts_are_counted_by_channel_and_state(engine: Engine, database_url: str) -> None:
    settings = make_settings(database_url)
    queue.add(
        engine, settings, article(), roster.chosen(settings, ["log"]), When(), queued_by="test"
    )
    assert 'publisher_posts{channel="log",state="queued"} 1.0' in scraped(engine)


def test_a_paused_channel_is_there_to_alert_on_with_its_cause(engine: Engine) -> None:
    with engine.begin() as connection:
        pause_channel(connection, "x_main", "token expired", "credentials", utcnow())
    assert 'publisher_channel_paused{cause="credentials",channel="x_main"} 1.0' in scraped(engine)


def test_a_failing_feed_is_there_to_alert_on(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(insert(feeds).values(name="news", url="https://e.de/rss", failures=4))
    assert 'publisher_feed_failures{feed="news"} 4.0' in scraped(engine)

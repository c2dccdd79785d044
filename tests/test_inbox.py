"""What readers and Meta tell a WhatsApp channel, taken in the order it happened: a keyword sent
earlier never undoes a later one (a retried or replayed webhook), times ahead of ours are ours,
keywords are read whatever their width and case, and statuses count only for the number that
sent the message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select

from publisher.channels.whatsapp_events import ReaderMessage, StatusUpdate
from publisher.clock import utcnow
from publisher.engine.audiences.inbox import take_message, take_status
from publisher.engine.audiences.subscribers import WINDOW
from publisher.engine.storage.schema import deliveries, posts, subscribers
from tests.engine_helpers import make_settings

NUMBER_ID = "1098765"
READER = "4917612345678"


@pytest.fixture
def settings(database_url: str):
    return make_settings(
        database_url, wa={"type": "whatsapp", "phone_number_id": NUMBER_ID, "dry_run": True}
    )


def write(engine: Engine, settings, text: str, at: datetime) -> None:
    take_message(engine, settings, ReaderMessage(NUMBER_ID, READER, text, at))


def reader(engine: Engine):
    with engine.connect() as connection:
        return connection.execute(select(subscribers)).one()


def test_a_start_replayed_after_a_later_stop_leaves_the_reader_unsubscribed(
    engine: Engine, settings
) -> None:
    started = utcnow() - timedelta(minutes=10)
    write(engine, settings, "START", started)
    write(engine, settings, "STOP", started + timedelta(minutes=5))
    write(engine, settings, "START", started)
    assert reader(engine).state == "unsubscribed"


def test_a_stop_sent_before_a_later_start_arriving_late_changes_nothing(
    engine: Engine, settings
) -> None:
    now = utcnow()
    write(engine, settings, "START", now - timedelta(minutes=1))
    write(engine, settings, "STOP", now - timedelta(minutes=5))
    assert reader(engine).state == "subscribed"


def test_a_stop_sent_in_the_same_second_as_a_start_wins(engine: Engine, settings) -> None:
    at = utcnow() - timedelta(seconds=30)
    write(engine, settings, "STOP", at)
    write(engine, settings, "START", at)
    assert reader(engine).state == "unsubscribed"


def test_a_message_dated_in_2100_does_not_hold_the_window_open(engine: Engine, settings) -> None:
    write(engine, settings, "START", datetime(2100, 1, 1, tzinfo=UTC))
    assert reader(engine).last_message_at <= utcnow()
    assert reader(engine).last_message_at > utcnow() - timedelta(minutes=1)


def test_an_older_message_arriving_late_never_moves_the_window_back(
    engine: Engine, settings
) -> None:
    write(engine, settings, "START", utcnow())
    write(engine, settings, "Danke!", utcnow() - WINDOW)
    assert reader(engine).last_message_at > utcnow() - timedelta(minutes=1)


@pytest.mark.parametrize("word", ["ＳＴＯＰ", " stop ", "Stop", "ｓｔｏｐ"])
def test_stop_is_read_whatever_its_width_and_case(engine: Engine, settings, word: str) -> None:
    write(engine, settings, "START", utcnow() - timedelta(minutes=1))
    write(engine, settings, word, utcnow())
    assert reader(engine).state == "unsubscribed"


def sent_message(engine: Engine, remote_id: str) -> None:
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            insert(posts).values(
                id=1, article_id=1, channel="wa", channel_type="whatsapp", text="t", link="l",
                fields={}, state="sent", due_at=now, attempts=1, retries=0, queued_by="t",
                edited=False, created_at=now, updated_at=now,
            )
        )  # fmt: skip
        connection.execute(
            insert(deliveries).values(
                post_id=1, channel="wa", attempt=1, worker="w", started_at=now, outcome="sent",
                remote_id=remote_id, payload={}, recipient="+" + READER,
            )
        )  # fmt: skip


def test_a_status_from_another_business_number_changes_no_delivery(
    engine: Engine, settings
) -> None:
    from publisher.articles import Article
    from publisher.engine.posts.queue import upsert_article

    with engine.begin() as connection:
        upsert_article(connection, Article(url="https://e.de/1", headline="H"), utcnow(), "cms")
    sent_message(engine, "wamid.1")
    update = StatusUpdate("999999", "wamid.1", "read", READER, utcnow())
    assert take_status(engine, settings, update) is False
    with engine.connect() as connection:
        assert connection.execute(select(deliveries.c.status)).scalar() is None

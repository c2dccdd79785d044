"""Moving many posts at once: a shift keeps their distances, a spread gives each its own free
slot, and every post left as it was says why."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import count

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, update

from publisher import bulk, roster
from publisher.articles import Article
from publisher.clock import utcnow
from publisher.config import ChannelSettings, Settings
from publisher.engine.planning import planner
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue, verbs
from publisher.engine.posts.queue import QueueError
from publisher.engine.storage.schema import posts
from tests.engine_helpers import post

NUMBERS = count(1)


def newsroom(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        channels={
            "x": ChannelSettings(
                type="x", dry_run=True, slots=["09:00", "12:00", "18:00"], min_gap=60
            ),
            "telegram": ChannelSettings(type="telegram", dry_run=True),
        },
    )


def tomorrow_at(settings: Settings, hour: int, minute: int = 0) -> datetime:
    day = utcnow().astimezone(settings.tz).date() + timedelta(days=1)
    return datetime.combine(day, time(hour, minute), settings.tz)


def queued_at(engine: Engine, settings: Settings, at: datetime, channel: str = "x") -> int:
    """A post due `at`, put there directly: several may stand at one time, as releases leave
    them."""
    number = next(NUMBERS)
    article = Article(id=f"bulk-{number}", url=f"https://e.de/{number}", headline=f"Rat {number}")
    apart = When("at", utcnow() + timedelta(days=60, hours=2 * number))
    (post_id,) = queue.add(
        engine, settings, article, roster.chosen(settings, [channel]), apart, queued_by="test"
    )
    with engine.begin() as connection:
        connection.execute(update(posts).where(posts.c.id == post_id).values(due_at=at))
    return post_id


def due(engine: Engine, post_id: int, settings: Settings) -> datetime:
    return post(engine, post_id).due_at.replace(tzinfo=UTC).astimezone(settings.tz)


def test_a_shift_later_moves_posts_an_hour_apart_without_refusing_one(engine, database_url):
    settings = newsroom(database_url)
    ids = [queued_at(engine, settings, tomorrow_at(settings, h)) for h in (9, 10, 11)]
    refused = bulk.shift(engine, settings, ids, timedelta(hours=1), by="ed")
    assert refused == []
    assert [due(engine, i, settings).hour for i in ids] == [10, 11, 12]


def test_a_shift_earlier_moves_the_earliest_first(engine, database_url) -> None:
    settings = newsroom(database_url)
    ids = [queued_at(engine, settings, tomorrow_at(settings, h)) for h in (10, 11, 12)]
    assert bulk.shift(engine, settings, ids, -timedelta(hours=1), by="ed") == []
    assert [due(engine, i, settings).hour for i in ids] == [9, 10, 11]


def test_a_shift_onto_a_post_not_chosen_leaves_that_one_post_and_names_why(engine, database_url):
    settings = newsroom(database_url)
    moved, blocked = (queued_at(engine, settings, tomorrow_at(settings, h)) for h in (9, 14))
    other = queued_at(engine, settings, tomorrow_at(settings, 16))
    refused = bulk.shift(engine, settings, [moved, blocked], timedelta(hours=2), by="ed")
    assert [(r.post_id, r.reason.key, r.reason.values["post"]) for r in refused] == [
        (blocked, "too_close", other)
    ]
    assert due(engine, moved, settings).hour == 11 and due(engine, blocked, settings).hour == 14


def test_a_shift_into_the_past_is_refused(engine, database_url) -> None:
    settings = newsroom(database_url)
    post_id = queued_at(engine, settings, tomorrow_at(settings, 9))
    (refused,) = bulk.shift(engine, settings, [post_id], -timedelta(days=3), by="ed")
    assert refused.reason.key == "in_past"


def test_a_spread_gives_posts_due_at_one_time_a_free_slot_each(engine, database_url) -> None:
    settings = newsroom(database_url)
    ids = [queued_at(engine, settings, tomorrow_at(settings, 9)) for _ in range(3)]
    taken = queued_at(engine, settings, tomorrow_at(settings, 12))
    refused = bulk.spread(engine, settings, ids, tomorrow_at(settings, 0), by="ed")
    assert refused == []
    times = [due(engine, i, settings) for i in ids]
    # The first keeps 09:00; noon is another post's; the day's 18:00, then the next morning.
    assert [(t.day - times[0].day, t.hour) for t in times] == [(0, 9), (0, 18), (1, 9)]
    assert due(engine, taken, settings).hour == 12


def test_a_spread_on_a_channel_without_slots_leaves_its_posts_and_says_so(engine, database_url):
    settings = newsroom(database_url)
    post_id = queued_at(engine, settings, tomorrow_at(settings, 9), "telegram")
    (refused,) = bulk.spread(engine, settings, [post_id], utcnow(), by="ed")
    assert refused.reason.key == "no_slots_to_spread"
    assert due(engine, post_id, settings).hour == 9


def test_a_spread_past_the_coming_month_leaves_the_rest_where_they_are(engine, database_url):
    settings = newsroom(database_url)
    daily = settings.channels["x"].model_copy(update={"slots": (time(9),)})
    settings = settings.model_copy(update={"channels": settings.channels | {"x": daily}})
    start = tomorrow_at(settings, 0)
    ids = [queued_at(engine, settings, tomorrow_at(settings, 9, m)) for m in range(33)]
    refused = bulk.spread(engine, settings, ids, start, by="ed")
    assert [r.post_id for r in refused] == ids[31:]
    assert {r.reason.key for r in refused} == {"no_free_slot"}


def test_a_spread_moves_a_failed_post_and_tries_it_again(engine, database_url) -> None:
    settings = newsroom(database_url)
    post_id = queued_at(engine, settings, tomorrow_at(settings, 10))
    with engine.begin() as connection:
        connection.execute(update(posts).where(posts.c.id == post_id).values(state="failed"))
    assert bulk.spread(engine, settings, [post_id], tomorrow_at(settings, 0), by="ed") == []
    assert post(engine, post_id).state == "queued" and due(engine, post_id, settings).hour == 9


def test_sent_and_unknown_posts_are_named_and_left_alone(engine, database_url) -> None:
    settings = newsroom(database_url)
    sent = queued_at(engine, settings, tomorrow_at(settings, 9))
    with engine.begin() as connection:
        connection.execute(update(posts).where(posts.c.id == sent).values(state="sent"))
    refused = bulk.shift(engine, settings, [sent, 99_999], timedelta(hours=1), by="ed")
    assert [(r.post_id, r.reason.key) for r in refused] == [
        (sent, "verb_refused"),
        (99_999, "no_post"),
    ]


def test_each_restores_the_cancelled_posts_and_names_the_others(engine, database_url) -> None:
    settings = newsroom(database_url)
    cancelled, queued = (queued_at(engine, settings, tomorrow_at(settings, h)) for h in (9, 12))
    verbs.cancel(engine, cancelled, by="ed")
    refused = bulk.each([cancelled, queued], lambda i: verbs.restore(engine, i, by="ed"))
    assert post(engine, cancelled).state == "queued"
    assert [r.post_id for r in refused] == [queued]


@given(st.integers(min_value=-744 * 4, max_value=744 * 4).filter(bool), st.sampled_from(".,"))
def test_hours_typed_with_a_point_or_a_comma_shift_by_that_many_quarter_hours(quarters, mark):
    whole, part = divmod(abs(quarters), 4)
    text = f"{'-' if quarters < 0 else ''}{whole}{mark}{part * 25:02d}"
    assert bulk.shift_of(text) == timedelta(minutes=15 * quarters)


@pytest.mark.parametrize("text", ["", "0", "0,0", "745", "-745", "1.234", "zwei", "2h", "1e3"])
def test_hours_that_are_none_too_many_or_no_number_are_refused(text) -> None:
    with pytest.raises(QueueError) as refused:
        bulk.shift_of(text)
    assert refused.value.key == "shift_not_read"


def test_a_failed_post_shifted_to_a_time_still_past_is_refused(engine, database_url) -> None:
    settings = newsroom(database_url)
    post_id = queued_at(engine, settings, utcnow() - timedelta(hours=5))
    with engine.begin() as connection:
        connection.execute(update(posts).where(posts.c.id == post_id).values(state="failed"))
    (refused,) = bulk.shift(engine, settings, [post_id], timedelta(hours=1), by="ed")
    assert refused.reason.key == "in_past" and post(engine, post_id).state == "failed"


def test_a_spread_takes_the_free_slots_a_posts_page_offers(engine, database_url) -> None:
    settings = newsroom(database_url)
    queued_at(engine, settings, tomorrow_at(settings, 9))
    queued_at(engine, settings, tomorrow_at(settings, 12, 30))
    moved = [queued_at(engine, settings, tomorrow_at(settings, 23)) for _ in range(2)]
    start = tomorrow_at(settings, 0)
    offered = planner.open_slots(engine, settings, "x", start.astimezone(UTC), days=3)
    assert bulk.spread(engine, settings, moved, start, by="ed") == []
    assert [due(engine, post_id, settings) for post_id in moved] == offered[:2]

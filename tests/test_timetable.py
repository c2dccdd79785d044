"""The calendar's reading of a stretch of time: each cell's first posts and count, the same
whether the cells are asked one by one or placed from one reading, and the taken times near a
channel's slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import Engine, update

from publisher import roster
from publisher.articles import Article
from publisher.config import ChannelSettings, Settings
from publisher.engine.planning import timetable
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.storage.schema import posts

START = datetime(2031, 3, 3, tzinfo=UTC)
NUMBERS = count(1)


def newsroom(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        channels={name: ChannelSettings(type=name, dry_run=True) for name in ("x", "telegram")},
    )


def put(engine: Engine, settings: Settings, channel: str, at: datetime, state: str = "queued"):
    number = next(NUMBERS)
    article = Article(id=f"tt-{number}", url=f"https://e.de/{number}", headline=f"Rat {number}")
    apart = When("at", START + timedelta(days=400, hours=number))
    (post_id,) = queue.add(
        engine, settings, article, roster.chosen(settings, [channel]), apart, queued_by="test"
    )
    with engine.begin() as connection:
        connection.execute(
            update(posts).where(posts.c.id == post_id).values(due_at=at, state=state)
        )
    return post_id


def summary(found: list[timetable.CellPosts]) -> list[tuple[list[int], int]]:
    return [([row.id for row in cell.first], cell.count) for cell in found]


ONE_DAYS_POSTS = (
    st.lists(st.integers(min_value=0, max_value=6 * 60 - 1), max_size=25),
    st.sampled_from([None, "x"]),
)
examples_of_a_day = examples(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def a_day_of_posts(engine: Engine, database_url: str, minutes: list[int]) -> list[datetime]:
    """Posts at these minutes of a day of their own (those of earlier examples stay where they
    are), on two channels by turns; the bounds of the day's first six hours."""
    settings = newsroom(database_url)
    day = START + timedelta(days=next(NUMBERS))
    for n, minute in enumerate(minutes):
        put(engine, settings, ("x", "telegram")[n % 2], day + timedelta(minutes=minute))
    return [day + timedelta(hours=h) for h in range(7)]


@examples_of_a_day
@given(*ONE_DAYS_POSTS)
def test_cells_asked_one_by_one_hold_what_one_reading_places(engine, database_url, minutes, only):
    bounds = a_day_of_posts(engine, database_url, minutes)
    with engine.connect() as connection:
        asked = timetable._cell_by_cell(connection, bounds, 3, only)
        placed = timetable._placed_here(connection, bounds, 3, only)
    assert summary(asked) == summary(placed)


@examples_of_a_day
@given(*ONE_DAYS_POSTS)
def test_cells_asked_beside_each_other_hold_what_one_reading_places(
    engine, database_url, minutes, only
):
    if engine.dialect.name != "postgresql":
        pytest.skip("a lateral join is how PostgreSQL is asked")
    bounds = a_day_of_posts(engine, database_url, minutes)
    with engine.connect() as connection:
        beside = timetable._beside_each_cell(connection, bounds, 3, only)
        placed = timetable._placed_here(connection, bounds, 3, only)
    assert summary(beside) == summary(placed)


def test_a_cell_shows_its_first_posts_and_counts_them_all(engine, database_url) -> None:
    settings = newsroom(database_url)
    ids = [put(engine, settings, "x", START + timedelta(minutes=m)) for m in (50, 10, 30, 40)]
    put(engine, settings, "x", START + timedelta(minutes=20), "cancelled")
    (cell,) = timetable.cells(engine, [START, START + timedelta(hours=1)], 2)
    assert [row.id for row in cell.first] == [ids[1], ids[2]] and cell.count == 4
    assert cell.first[0].headline.startswith("Rat ")


def test_taken_times_near_slots_are_those_of_the_channel_taking_time(engine, database_url):
    settings = newsroom(database_url)
    slot = START + timedelta(hours=9)
    near = put(engine, settings, "x", slot + timedelta(minutes=20))
    put(engine, settings, "x", slot + timedelta(hours=2))
    put(engine, settings, "telegram", slot)
    put(engine, settings, "x", slot, "cancelled")
    window = (slot - timedelta(hours=1), slot + timedelta(hours=1))
    taken = timetable.taken_near(engine, ["x"], [window])
    assert taken == {"x": [slot + timedelta(minutes=20)]} and near

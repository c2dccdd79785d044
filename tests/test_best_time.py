"""The timing `best`: with enough history, a post goes out at a free time in the hours the
channel's audience answers most, keeping its quiet hours and `min_gap`; with too little it
keeps to the channel's slots and says so; breaking news never waits for it."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from publisher import actions, roster
from publisher.config import ChannelSettings, Settings
from publisher.engine.learning.history import import_history
from publisher.engine.planning import besttime
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.releases.release import release
from publisher.sections import Rule
from tests.engine_helpers import article, post

BERLIN = ZoneInfo("Europe/Berlin")
# Thursday 3 December 2026, 07:00 in Berlin.
NOW = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def nothing_learned_yet() -> Iterator[None]:
    besttime._learned.clear()
    yield
    besttime._learned.clear()


def settings_for(database_url: str, **channel: object) -> Settings:
    options = {"type": "x", "dry_run": True, "timezone": "Europe/Berlin", "slots": ["09:00"]}
    return Settings(
        database_url=database_url, channels={"x_main": ChannelSettings(**(options | channel))}
    )


def evening_audience(engine: Engine, posts: int = 600) -> None:
    """Months of history: readers click most around 20:00, little in the morning."""
    rng = random.Random(3)
    rows = []
    for number in range(posts):
        at = NOW - timedelta(days=90) + timedelta(hours=rng.randrange(0, 90 * 24))
        hour = at.astimezone(BERLIN).hour
        clicks = 20 + 400 * math.exp(-((hour - 20) ** 2) / 6)
        value = round(clicks * rng.lognormvariate(0, 0.2))
        rows.append(
            {"channel": "x_main", "sent_at": at + timedelta(seconds=number), "clicks": value,
             "engagement": None}
        )  # fmt: skip
    import_history(engine, rows)


def queued_best(engine: Engine, settings: Settings, number: int = 1, **extra: object) -> datetime:
    channels = roster.chosen(settings, ["x_main"])
    (post_id,) = queue.add(
        engine, settings, article(number, **extra), channels, When("best"), queued_by="test",
        now=NOW,
    )  # fmt: skip
    return post(engine, post_id).due_at


def test_with_history_a_post_goes_out_when_its_audience_answers_most(engine, database_url) -> None:
    settings = settings_for(database_url)
    evening_audience(engine)
    due = queued_best(engine, settings)
    assert NOW <= due <= NOW + timedelta(hours=24)
    assert due.astimezone(BERLIN).hour in (19, 20, 21)


def test_without_history_a_post_keeps_to_the_channels_slot(engine, database_url) -> None:
    settings = settings_for(database_url)
    due = queued_best(engine, settings)
    assert due.astimezone(BERLIN).strftime("%H:%M") == "09:00"


def test_a_short_history_is_said_with_what_happens_instead(engine, database_url) -> None:
    settings = settings_for(database_url)
    (why,) = actions.short_histories(engine, settings, ["x_main"]).values()
    assert "0 measured posts are too few" in why and "its next slot instead" in why


def test_breaking_news_never_waits_for_a_best_time(engine, database_url) -> None:
    settings = settings_for(database_url)
    evening_audience(engine)
    assert queued_best(engine, settings, breaking=True) == NOW


def test_the_best_time_keeps_min_gap_from_the_channels_other_posts(engine, database_url) -> None:
    settings = settings_for(database_url, min_gap=120)
    evening_audience(engine)
    first = queued_best(engine, settings, 1)
    second = queued_best(engine, settings, 2)
    assert abs(second - first) >= timedelta(minutes=120)


def test_the_best_time_keeps_out_of_quiet_hours(engine, database_url) -> None:
    settings = settings_for(database_url, quiet_hours=["19:00", "23:00"])
    evening_audience(engine)
    hour = queued_best(engine, settings).astimezone(BERLIN).hour
    assert not 19 <= hour < 23


def test_a_rule_with_timing_best_releases_at_the_learned_hour(engine, database_url) -> None:
    settings = settings_for(database_url).model_copy(
        update={"rules": (Rule(name="evening", channels=("x_main",), timing="best"),)}
    )
    evening_audience(engine)
    (post_id,) = release(engine, settings, article(9), "webhook", now=NOW).queued
    assert post(engine, post_id).due_at.astimezone(BERLIN).hour in (19, 20, 21)


def test_planning_the_best_time_without_history_says_it_takes_the_next_slot(
    engine, database_url
) -> None:
    settings = settings_for(database_url)
    planned = actions.plan(engine, settings, article(5), ["x_main"], When("best"))
    assert planned["x_main"].rule == "planned_slot"


def test_planning_the_best_time_with_history_says_so(engine, database_url, monkeypatch) -> None:
    # Planned in the morning, as the module's other tests are: near the evening peak a draw
    # may choose the very moment, which is "now".
    monkeypatch.setattr(actions, "utcnow", lambda: NOW)
    settings = settings_for(database_url)
    evening_audience(engine)
    planned = actions.plan(engine, settings, article(5), ["x_main"], When("best"))
    assert planned["x_main"].rule == "planned_best"

"""The desk's calendar over HTTP: week and month grids, free slots that respect `min_gap`, moves
by drag and drop (its API) that say why when refused, and the change stamp live pages poll."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import Engine

from publisher import roster
from publisher.clock import utcnow
from publisher.config import ChannelSettings, Settings
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.posts.users import add_user
from tests.desk_helpers import ARTICLE, desk_settings, serving, signed_in
from tests.engine_helpers import post


@pytest.fixture
def settings(database_url: str) -> Settings:
    channels = {
        "x": ChannelSettings(type="x", dry_run=True, slots=["12:00", "18:00"], min_gap=60),
        "telegram": ChannelSettings(type="telegram", dry_run=True),
    }
    return desk_settings(database_url).model_copy(update={"channels": channels})


@pytest.fixture
def calendar(engine: Engine, settings: Settings, monkeypatch):
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    add_user(engine, "ed", "correct horse battery", "editor")
    with serving(engine, settings) as base:
        yield base


def next_monday(settings: Settings) -> date:
    today = utcnow().astimezone(settings.tz).date()
    return today + timedelta(days=7 - today.weekday())


def queued_at(engine: Engine, settings: Settings, moment: datetime, channel: str = "x") -> int:
    chosen = roster.chosen(settings, [channel])
    (post_id,) = queue.add(
        engine, settings, ARTICLE, chosen, When("at", moment), force=True, queued_by="test"
    )
    return post_id


def local(settings: Settings, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), settings.tz)


def test_the_week_shows_each_post_in_its_hour_and_day(calendar, engine, settings) -> None:
    monday = next_monday(settings)
    post_id = queued_at(engine, settings, local(settings, monday, 9, 15))
    session, _ = signed_in(calendar, "ed")
    page = session.get(f"/plan?start={monday.isoformat()}").text
    hour = page.split(f'data-day="{monday.isoformat()}" data-hour="9"')[1].split("</div>")[0]
    assert f'data-post="{post_id}"' in hour and "09:15" in hour


def test_a_slot_near_another_post_of_the_channel_is_not_free(calendar, engine, settings) -> None:
    monday = next_monday(settings)
    queued_at(engine, settings, local(settings, monday, 12, 30))
    session, _ = signed_in(calendar, "ed")
    page = session.get(f"/plan?start={monday.isoformat()}").text
    taken = local(settings, monday, 12).isoformat(timespec="minutes")
    free = local(settings, monday, 18).isoformat(timespec="minutes")
    assert f'data-at="{taken}"' not in page and f'data-at="{free}"' in page


def test_the_month_shows_the_posts_of_each_day(calendar, engine, settings) -> None:
    day = next_monday(settings) + timedelta(days=2)
    post_id = queued_at(engine, settings, local(settings, day, 20), "telegram")
    session, _ = signed_in(calendar, "ed")
    page = session.get(f"/plan?view=month&start={day.isoformat()}").text
    cell = page.split(f'data-day="{day.isoformat()}"')[1].split("</section>")[0]
    assert f'data-post="{post_id}"' in cell


def move(session, csrf: str, post_id: int, at: str):
    return session.post(
        f"/api/posts/{post_id}/move",
        json={"at": at},
        headers={"X-CSRF-Token": csrf},
    )


def test_a_post_dropped_on_another_hour_moves_there(calendar, engine, settings) -> None:
    monday = next_monday(settings)
    post_id = queued_at(engine, settings, local(settings, monday, 9))
    session, csrf = signed_in(calendar, "ed")
    answer = move(session, csrf, post_id, f"{monday.isoformat()}T15:00")
    assert answer.status_code == 200 and "Moved to" in answer.json()["message"]
    assert post(engine, post_id).due_at == local(settings, monday, 15)


def test_a_move_too_close_to_another_post_is_refused_with_the_reason(
    calendar, engine, settings
) -> None:
    monday = next_monday(settings)
    other = queued_at(engine, settings, local(settings, monday, 12))
    post_id = queued_at(engine, settings, local(settings, monday, 18))
    session, csrf = signed_in(calendar, "ed")
    answer = move(session, csrf, post_id, f"{monday.isoformat()}T12:30")
    assert answer.status_code == 422
    assert f"post {other} on x is due within 60 minutes" in answer.json()["error"].lower()
    assert post(engine, post_id).due_at == local(settings, monday, 18)


def test_a_move_into_the_past_is_refused(calendar, engine, settings) -> None:
    post_id = queued_at(engine, settings, local(settings, next_monday(settings), 9))
    session, csrf = signed_in(calendar, "ed")
    answer = move(session, csrf, post_id, "2001-01-01T09:00")
    assert answer.status_code == 422 and "in the past" in answer.json()["error"]


def test_a_move_without_the_csrf_header_is_refused(calendar, engine, settings) -> None:
    post_id = queued_at(engine, settings, local(settings, next_monday(settings), 9))
    session, _ = signed_in(calendar, "ed")
    answer = session.post(f"/api/posts/{post_id}/move", json={"at": "+1h"})
    assert answer.status_code == 403


def test_the_post_page_offers_the_channels_free_slots(calendar, engine, settings) -> None:
    post_id = queued_at(engine, settings, utcnow() + timedelta(hours=30))
    session, _ = signed_in(calendar, "ed")
    page = session.get(f"/posts/{post_id}").text
    assert f'action="/posts/{post_id}/reschedule"' in page and 'name="slot"' in page


def test_the_change_stamp_moves_when_a_post_changes(calendar, engine, settings) -> None:
    session, _ = signed_in(calendar, "ed")
    before = session.get("/api/changes").json()["version"]
    queued_at(engine, settings, utcnow() + timedelta(hours=3))
    after = session.get("/api/changes").json()["version"]
    assert before != after

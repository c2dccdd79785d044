"""Changing many posts at once in the queue, walked in Chromium at desktop and phone size as an
editor does it: posts a release left at one time are spread over free slots, every post the
filter finds is shifted after one question, cancelled posts come back, and each post left as
it was is named with its reason."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from itertools import count

import pytest
from sqlalchemy import Engine, select, update

from publisher import roster
from publisher.articles import Article
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.storage.schema import posts
from tests.browser_helpers import NO_CHROMIUM, SIZES, fits, open_desk, serious_violations, shot

pytestmark = NO_CHROMIUM
NUMBERS = count(400)


def planned_day(settings: Settings, weeks: int, size: str) -> date:
    """A day of its own for each test and size, weeks ahead: nothing else stands there."""
    return utcnow().astimezone(settings.tz).date() + timedelta(weeks=weeks, days=len(size) % 7)


def released_at(engine: Engine, settings: Settings, channel: str, at: datetime) -> int:
    """A post put at `at` directly, as a release may leave several at one time: its number."""
    number = next(NUMBERS)
    article = Article(
        id=f"bulk-{number}", url=f"https://e.de/bulk/{number}", headline=f"Hochwasser {number}"
    )
    apart = When("at", utcnow() + timedelta(days=300, hours=2 * number))
    (post_id,) = queue.add(
        engine, settings, article, roster.chosen(settings, [channel]), apart, queued_by="test"
    )
    with engine.begin() as connection:
        connection.execute(update(posts).where(posts.c.id == post_id).values(due_at=at))
    return post_id


def local_times(engine: Engine, settings: Settings, ids: list[int]) -> list[str]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(posts.c.due_at).where(posts.c.id.in_(ids)).order_by(posts.c.due_at)
        ).scalars()
        return [f"{r.replace(tzinfo=UTC).astimezone(settings.tz):%H:%M}" for r in rows]


def states(engine: Engine, ids: list[int]) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(select(posts.c.state).where(posts.c.id.in_(ids))).scalars())


@pytest.mark.parametrize("size", SIZES)
def test_posts_released_at_one_time_are_spread_over_free_slots(newsroom, browser, size) -> None:
    from playwright.sync_api import expect

    base, engine, settings = newsroom
    day = planned_day(settings, 6, size)
    nine = datetime.combine(day, time(9), settings.tz)
    ids = [released_at(engine, settings, "x", nine) for _ in range(3)]
    slotless = released_at(engine, settings, "telegram", nine)
    page = open_desk(browser, base, size)
    page.goto(f"{base}/queue?day={day.isoformat()}")
    page.get_by_label("Select all on this page").check()
    page.get_by_label("With the selected posts").select_option("spread")
    page.get_by_label(re.compile("^Time")).fill(f"{day.isoformat()}T08:00")
    page.get_by_role("button", name="Do it").click()
    # Each X post's slot is shown first; Telegram, without slots, is named with its reason.
    asked = page.get_by_role("alertdialog", name="Move these 3 posts?")
    left = asked.locator(".left-alone li")
    expect(left).to_have_count(1)
    expect(left).to_contain_text(f"#{slotless} Telegram, „Hochwasser")
    expect(left).to_contain_text("Telegram has no posting slots to spread over")
    assert serious_violations(page) == []
    shot(page, f"37-bulk-spread-asked-{size}")
    page.get_by_role("button", name="Yes, do it").click()
    done = page.get_by_role("status")
    expect(done).to_contain_text("Done for 3 of 3 posts.")
    # Each post moved is named with its new time.
    moved = done.locator(".moved li")
    expect(moved).to_have_count(3)
    for number, hour in zip(ids, ("09:00", "12:00", "18:00"), strict=True):
        expect(moved.filter(has_text=f"#{number} ")).to_contain_text(hour)
    assert local_times(engine, settings, ids) == ["09:00", "12:00", "18:00"]
    assert serious_violations(page) == []
    assert fits(page)
    shot(page, f"37-bulk-spread-{size}")


@pytest.mark.parametrize("size", SIZES)
def test_every_post_the_filter_finds_is_shifted_after_one_question(newsroom, browser, size):
    from playwright.sync_api import expect

    base, engine, settings = newsroom
    day = planned_day(settings, 8, size)
    ids = [
        released_at(engine, settings, "x", datetime.combine(day, time(hour), settings.tz))
        for hour in (9, 12, 18)
    ]
    page = open_desk(browser, base, size)
    page.goto(f"{base}/queue?channel=x&day={day.isoformat()}")
    page.get_by_label("all 3 posts the filter finds, on every page").check()
    page.get_by_label("With the selected posts").select_option("shift")
    page.get_by_label("Hours to shift by (minus for earlier)").fill("2")
    page.get_by_role("button", name="Do it").click()
    expect(page.get_by_role("heading", name="Move these 3 posts?")).to_be_visible()
    expect(page.locator(".confirm")).to_contain_text("Each moves by 2 hours.")
    expect(page.locator(".confirm")).to_contain_text("on all pages")
    # Each post's new time is shown before anything moves.
    new_times = page.locator("table.moves tbody td strong").all_inner_texts()
    assert [shown.split(", ")[1][:5] for shown in new_times] == ["11:00", "14:00", "20:00"]
    assert local_times(engine, settings, ids) == ["09:00", "12:00", "18:00"]
    shot(page, f"38-bulk-shift-asked-{size}")
    page.get_by_role("button", name="Yes, do it").click()
    expect(page.get_by_role("status")).to_contain_text("Done for 3 of 3 posts.")
    assert local_times(engine, settings, ids) == ["11:00", "14:00", "20:00"]
    # Reloading the answer sends the form again: the posts are not shifted twice.
    page.reload()
    expect(page.get_by_role("alert")).to_contain_text("this was already done")
    assert local_times(engine, settings, ids) == ["11:00", "14:00", "20:00"]
    # Back on the same filtered queue.
    expect(page.locator("select[name=channel]")).to_have_value("x")


@pytest.mark.parametrize("size", SIZES)
def test_cancelled_posts_are_restored_together(newsroom, browser, size) -> None:
    from playwright.sync_api import expect

    base, engine, settings = newsroom
    day = planned_day(settings, 10, size)
    ids = [
        released_at(engine, settings, "x", datetime.combine(day, time(hour), settings.tz))
        for hour in (9, 12)
    ]
    page = open_desk(browser, base, size)
    page.goto(f"{base}/queue?channel=x&day={day.isoformat()}")
    page.get_by_label("Select all on this page").check()
    page.get_by_label("With the selected posts").select_option("cancel")
    page.get_by_role("button", name="Do it").click()
    page.get_by_role("button", name="Yes, cancel them").click()
    expect(page.get_by_role("status")).to_contain_text("Done for 2 of 2 posts.")
    assert states(engine, ids) == {"cancelled"}
    page.goto(f"{base}/queue?channel=x&state=cancelled&day={day.isoformat()}")
    page.get_by_label("Select all on this page").check()
    page.get_by_label("With the selected posts").select_option("restore")
    page.get_by_role("button", name="Do it").click()
    expect(page.get_by_role("status")).to_contain_text("Done for 2 of 2 posts.")
    # X asks for approval: restored, they wait for it again.
    assert states(engine, ids) == {"awaiting_approval"}
    shot(page, f"39-bulk-restored-{size}")
    # A restore, as a cancel, is undone with one button.
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("status")).to_contain_text("Done for 2 of 2 posts.")
    assert states(engine, ids) == {"cancelled"}


@pytest.mark.parametrize("size", SIZES)
def test_posts_moved_together_are_put_back_with_one_button(newsroom, browser, size) -> None:
    from playwright.sync_api import expect

    base, engine, settings = newsroom
    day = planned_day(settings, 12, size)
    ids = [
        released_at(engine, settings, "x", datetime.combine(day, time(hour), settings.tz))
        for hour in (9, 12)
    ]
    page = open_desk(browser, base, size)
    page.goto(f"{base}/queue?channel=x&day={day.isoformat()}")
    for number in ids:
        page.locator(f"#pick-{number}").check()
    page.get_by_label("With the selected posts").select_option("shift")
    page.get_by_label("Hours to shift by (minus for earlier)").fill("-1")
    page.get_by_role("button", name="Do it").click()
    page.get_by_role("button", name="Yes, do it").click()
    expect(page.get_by_role("status")).to_contain_text("Done for 2 of 2 posts.")
    assert local_times(engine, settings, ids) == ["08:00", "11:00"]
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("status")).to_contain_text("Undone: 2 of 2 posts are back")
    assert local_times(engine, settings, ids) == ["09:00", "12:00"]
    assert serious_violations(page) == [] and fits(page)
    shot(page, f"39-bulk-move-undone-{size}")

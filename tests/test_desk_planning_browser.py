"""Queueing an article at the desk is safe by default, walked in Chromium at desktop and phone
size as an editor does it: a typed time is the time posts go out, nothing goes out at once on
several channels or to readers' phones without a confirmation that shows what goes where, when
and to how many, a channel that cannot take the article is named while the others are queued,
and an approver stops and restarts a channel from the desk."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from publisher.clock import utcnow
from publisher.engine.posts.pauses import active_pauses
from tests.browser_helpers import (
    BROWSER_PASSWORD,
    NO_CHROMIUM,
    SIZES,
    fits,
    open_desk,
    serious_violations,
    shot,
)
from tests.newsroom_helpers import (
    LABELS,
    article_page,
    only,
    open_german,
    posts_of,
)

pytestmark = NO_CHROMIUM


@pytest.mark.parametrize("size", SIZES)
def test_a_typed_time_is_the_time_posts_go_out(newsroom, browser, size) -> None:
    from playwright.sync_api import expect

    base, engine, settings = newsroom
    page = open_desk(browser, base, size)
    number = 10 + len(size)
    article_page(page, base, number)
    only(page, "telegram")
    at = (utcnow() + timedelta(days=2)).astimezone(settings.tz).replace(second=0, microsecond=0)
    at = at.replace(hour=7, minute=45)
    # The editor types a time and leaves the timing as it was.
    page.get_by_label("Date and time").fill(at.strftime("%Y-%m-%dT%H:%M"))
    expect(page.get_by_label("At", exact=True)).to_be_checked()
    shot(page, f"20-typed-time-{size}")
    page.get_by_role("button", name="Queue", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Queued")
    expect(page.locator(".plan-rows")).to_contain_text("07:45")
    shot(page, f"21-queued-at-the-typed-time-{size}")
    assert [(r.channel, r.due_at) for r in posts_of(engine, number)] == [("telegram", at)]


@pytest.mark.parametrize("size", SIZES)
def test_one_click_never_sends_to_every_channel_unasked(newsroom, browser, size) -> None:
    from playwright.sync_api import expect

    base, engine, _ = newsroom
    page = open_desk(browser, base, size)
    number = 20 + len(size)
    article_page(page, base, number)
    expect(page.get_by_label("Next free slot")).to_be_checked()
    page.get_by_role("button", name="Queue", exact=True).click()
    # X waits for its slot: the question names what goes out at once.
    dialog = page.get_by_role("alertdialog", name=re.compile(r"^Post now on .*Telegram"))
    expect(dialog).to_be_visible()
    # What goes where, when, to how many, and whether an approver lets it go.
    expect(dialog).to_contain_text("reaches 1,200 readers")
    x_row = dialog.locator("tr", has=page.get_by_role("rowheader", name="x (X)", exact=True))
    expect(x_row).to_contain_text("next free slot")
    expect(x_row).to_contain_text("waits for an approver")
    expect(dialog.locator("tr", has_text="Telegram")).to_contain_text("now")
    assert serious_violations(page) == []
    assert fits(page)
    shot(page, f"22-asked-before-posting-now-{size}")
    assert posts_of(engine, number) == []
    page.get_by_role("button", name="Yes, queue as shown").click()
    expect(page.get_by_role("status")).to_contain_text("Queued")
    queued_on = [r.channel for r in posts_of(engine, number)]
    assert queued_on == ["telegram", "whatsapp", "x", "x_sport"]


@pytest.mark.parametrize("size", SIZES)
def test_now_on_whatsapp_alone_is_asked_for_with_its_readers(newsroom, browser, size) -> None:
    from playwright.sync_api import expect

    base, engine, _ = newsroom
    page = open_desk(browser, base, size)
    number = 30 + len(size)
    article_page(page, base, number)
    only(page, "whatsapp")
    page.get_by_label("Now", exact=True).check()
    page.get_by_role("button", name="Queue", exact=True).click()
    expect(page.get_by_role("alertdialog", name="Post now?")).to_contain_text(
        "1,200 readers: 0 with this text, 1,200 with the approved template"
    )
    page.get_by_role("link", name="No, change it").click()
    assert posts_of(engine, number) == []


def test_a_form_changed_after_the_question_is_asked_again(newsroom, browser) -> None:
    from playwright.sync_api import expect

    base, engine, _ = newsroom
    page = open_desk(browser, base)
    article_page(page, base, 40)
    only(page, "telegram", "whatsapp")
    page.get_by_role("button", name="Queue", exact=True).click()
    expect(page.get_by_role("alertdialog")).to_be_visible()
    page.get_by_label("Post on x_sport", exact=True).check()  # more than the editor confirmed
    page.get_by_role("button", name="Queue", exact=True).click()
    expect(page.get_by_role("alertdialog")).to_contain_text("x_sport (X)")
    assert posts_of(engine, 40) == []


@pytest.mark.parametrize("size", SIZES)
def test_a_channel_without_a_free_slot_is_named_and_the_others_are_queued(
    newsroom, browser, size
) -> None:
    from playwright.sync_api import expect

    base, engine, _ = newsroom
    page = open_desk(browser, base, size)
    number = 50 + len(size)
    article_page(page, base, number)
    only(page, "x", "facebook")
    page.get_by_role("button", name="Queue", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Queued")
    refused = page.locator("tr.refused", has_text="Facebook")
    expect(refused).to_contain_text("not queued: No free posting time in the next 31 days.")
    shot(page, f"23-one-channel-refused-{size}")
    assert [r.channel for r in posts_of(engine, number)] == ["x"]


def test_a_german_desk_names_a_refused_channel_in_german(german, browser) -> None:
    from playwright.sync_api import expect

    page = open_german(browser, german, "phone")
    body = b'{"id": "plan-de", "url": "https://e.de/plan/de", "headline": "Haushalt DE"}'
    page.get_by_label("Artikeldatei (JSON, Text oder HTML)").set_input_files(
        {"name": "a.json", "mimeType": "application/json", "buffer": body}
    )
    page.get_by_role("button", name="Aufnehmen").click()
    for name in ("x", "telegram", "x_sport", "whatsapp"):
        page.get_by_label(f"Auf {LABELS[name]} posten", exact=True).uncheck()
    page.get_by_role("button", name="Einplanen").click()
    expect(page.get_by_role("alert")).to_contain_text("Nicht eingeplant")
    expect(page.locator("tr.refused")).to_contain_text(
        "In den nächsten 31 Tagen ist keine Sendezeit frei."
    )
    shot(page, "24-refused-channel-german-phone")


@pytest.mark.parametrize("size", SIZES)
def test_an_approver_stops_a_channel_and_starts_it_again(newsroom, browser, size) -> None:
    from playwright.sync_api import expect

    base, engine, _ = newsroom
    page = open_desk(browser, base, size)
    page.get_by_role("link", name="Channels").click()
    row = page.locator("tr", has_text="Telegram")
    row.get_by_role("button", name="Pause Telegram").click()
    expect(page.locator("tr", has_text="Telegram")).to_contain_text("paused")
    assert serious_violations(page) == []
    shot(page, f"25-channel-paused-{size}")
    with engine.connect() as connection:
        assert "telegram" in active_pauses(connection, utcnow())
    page.locator("tr", has_text="Telegram").get_by_role("button", name="Resume Telegram").click()
    expect(page.locator("tr", has_text="Telegram")).to_contain_text("active")
    with engine.connect() as connection:
        assert "telegram" not in active_pauses(connection, utcnow())


def test_an_editor_sees_the_channels_but_cannot_stop_them(newsroom, browser) -> None:
    from playwright.sync_api import expect

    base, _, _ = newsroom
    page = open_desk(browser, base, name="ed")
    page.get_by_role("link", name="Channels").click()
    expect(page.locator("tr", has_text="Telegram")).to_contain_text("active")
    expect(page.get_by_role("button", name="Pause Telegram")).to_have_count(0)


@pytest.mark.parametrize("size", SIZES)
def test_the_best_time_is_the_hour_the_channels_readers_answer_most(
    newsroom, browser, size
) -> None:
    from playwright.sync_api import expect

    base, engine, settings = newsroom
    evening_history(engine, settings)
    page = open_desk(browser, base, size)
    number = 70 + len(size)
    article_page(page, base, number)
    only(page, "telegram")
    page.get_by_label("Best time").check()
    shot(page, f"27-best-time-{size}")
    page.get_by_role("button", name="Queue", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Queued")
    assert serious_violations(page) == []
    shot(page, f"28-queued-at-the-best-time-{size}")
    ((channel, due, _),) = posts_of(engine, number)
    assert channel == "telegram" and due.astimezone(settings.tz).hour == 20
    assert due - utcnow() <= timedelta(hours=24)


def evening_history(engine, settings) -> None:
    """Two months of Telegram history: its readers answer most at 20:00."""
    from publisher.engine.learning.history import import_history
    from publisher.engine.planning import besttime

    start = (utcnow() - timedelta(days=60)).replace(minute=0, second=0, microsecond=0)
    rows = []
    for hour in range(60 * 24):
        at = start + timedelta(hours=hour)
        local = at.astimezone(settings.tz).hour
        rows.append({"channel": "telegram", "sent_at": at, "engagement": None,
                     "clicks": 400 if local == 20 else 30 + local})  # fmt: skip
    import_history(engine, rows)
    besttime._learned.clear()


@pytest.mark.parametrize("size", SIZES)
def test_the_calendar_shades_the_hours_a_channels_readers_answer_and_suggests_one(
    newsroom, browser, size
) -> None:
    from playwright.sync_api import expect

    base, engine, settings = newsroom
    evening_history(engine, settings)
    page = open_desk(browser, base, size)
    # Next week: every hour of it still ahead.
    today = utcnow().astimezone(settings.tz).date()
    monday = today + timedelta(days=7 - today.weekday())
    page.goto(f"{base}/plan?channel=telegram&start={monday.isoformat()}")
    expect(page.locator(".shaded-hint")).to_contain_text("learned from 1,440 posts")
    evening = page.locator('.cell[data-hour="20"]')
    expect(evening.first).to_have_class(re.compile(r"shade-3"))
    expect(page.locator(".suggest", has_text="Suggested: 20:00").first).to_be_visible()
    assert serious_violations(page) == []
    assert fits(page)
    shot(page, f"29-calendar-shaded-{size}")


@pytest.mark.parametrize("size", SIZES)
def test_the_question_names_the_one_channel_that_goes_out_at_once(newsroom, browser, size):
    from playwright.sync_api import expect

    base, engine, _ = newsroom
    page = open_desk(browser, base, size)
    number = 140 + len(size)
    article_page(page, base, number)
    only(page, "x", "whatsapp")
    page.get_by_label("Next free slot", exact=True).check()
    page.get_by_role("button", name="Queue", exact=True).click()
    asked = page.get_by_role("alertdialog", name="Post now on WhatsApp?")
    expect(asked).to_contain_text("on the other channels at the times below")
    shot(page, f"34-asked-for-whatsapp-alone-{size}")
    assert posts_of(engine, number) == []


@pytest.mark.parametrize("size", SIZES)
def test_a_text_too_long_is_refused_before_anything_is_asked(newsroom, browser, size) -> None:
    from playwright.sync_api import expect

    base, engine, _ = newsroom
    page = open_desk(browser, base, size)
    number = 150 + len(size)
    article_page(page, base, number)
    only(page, "x", "whatsapp")
    page.get_by_label("Next free slot", exact=True).check()
    if size == "phone":
        page.locator("#card-x summary").click()
    page.locator("#text-x").fill("Zu lang. " * 36)
    page.get_by_role("button", name="Queue", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Not queued: x:")
    expect(page.get_by_role("alertdialog")).to_have_count(0)
    assert posts_of(engine, number) == []


def test_on_a_phone_the_header_and_the_timing_bar_leave_the_screen_to_the_text(
    newsroom, browser
) -> None:
    from playwright.sync_api import expect

    base, _, _ = newsroom
    page = open_desk(browser, base, "phone")
    article_page(page, base, 160)
    height = SIZES["phone"]["height"]
    assert page.locator("header.top").bounding_box()["height"] <= 100
    assert page.locator(".action-bar").bounding_box()["height"] <= height // 4
    page.locator("#card-telegram summary").click()
    page.locator("#text-telegram").press("End")
    page.keyboard.type(" Mehr")
    expect(page.locator("#count-telegram .length")).not_to_have_text("59")
    counter = page.locator("#count-telegram").bounding_box()
    bar = page.locator(".action-bar").bounding_box()
    assert counter["y"] + counter["height"] <= bar["y"]
    assert serious_violations(page) == [] and fits(page)
    shot(page, "35-phone-typing-above-the-bar")


@pytest.mark.parametrize("size", SIZES)
def test_signed_out_in_another_tab_the_teaser_typed_here_is_kept_through_signing_in(
    newsroom, browser, size
) -> None:
    from playwright.sync_api import expect

    base, engine, _ = newsroom
    page = open_desk(browser, base, size)
    number = 170 + len(size)
    article_page(page, base, number)
    only(page, "telegram")
    if size == "phone":
        page.locator("#card-telegram summary").click()
    typed = f"Eigener Teaser {number} https://e.de/plan/{number}"
    page.locator("#text-telegram").fill(typed)
    page.wait_for_timeout(1200)  # the page keeps a draft once the editor pauses
    other = page.context.new_page()
    other.goto(f"{base}/queue")
    other.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("alert")).to_contain_text("You are signed out")
    shot(page, f"41-signed-out-elsewhere-{size}")
    page.get_by_role("button", name="Queue", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Your session has ended")
    page.get_by_label("Name").fill("anna")
    page.get_by_label("Password").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#text-telegram")).to_have_value(typed)
    expect(page.get_by_role("status")).to_contain_text("Your draft is back")
    assert posts_of(engine, number) == []
    assert serious_violations(page) == []
    shot(page, f"42-draft-back-after-signing-in-{size}")

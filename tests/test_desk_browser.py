"""The web desk in a real browser (Debian's Chromium, headless, driven by Playwright), walked as
a social editor would at desktop and phone size: take in an article and queue it, keep choices
after a refusal, the post view, the queue's pages, filters and bulk actions, the calendar with
drag and drop and its keyboard way, live updates, German words, and axe-core's WCAG 2.2 AA
check on every page. Each step leaves a screenshot in test-artifacts/desk/.

One server on one SQLite database serves the module (the desk's database behaviour is tested
over HTTP on both databases in test_desk*.py); each test makes the posts it looks at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import Engine, update

from publisher import roster
from publisher.articles import Article
from publisher.clock import utcnow
from publisher.config import ChannelSettings, DeskSettings, Settings
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue, verbs
from publisher.engine.posts.users import add_user
from publisher.engine.storage.schema import posts
from publisher.engine.storage.store import open_engine
from publisher.web.app import create_app
from publisher.web.serving import ServerThread
from tests.browser_helpers import (
    BROWSER_PASSWORD,
    NO_CHROMIUM,
    SIZES,
    fits,
    open_desk,
    serious_violations,
    shot,
)
from tests.conftest import SAMPLE, coming
from tests.engine_helpers import approve_as_read, post

PASSWORD = BROWSER_PASSWORD
URL = "https://www.news.de/politik/857/baschar-al-assad-putin-liess-vertrauten-haengen/"
pytestmark = NO_CHROMIUM


@pytest.fixture(scope="module")
def site(tmp_path_factory, monkeypatch_module) -> Iterator[tuple[str, Engine, Settings]]:
    monkeypatch_module.setenv("PUBLISHER_SESSION_SECRET", "browser-session-secret-0123456789")
    database_url = f"sqlite:///{tmp_path_factory.mktemp('desk') / 'desk.db'}"
    engine = open_engine(database_url)
    channels = {
        kind: ChannelSettings(type=kind, dry_run=True, approval=True)
        for kind in ("x", "facebook", "whatsapp", "telegram")
    }
    channels["x"] = ChannelSettings(
        type="x", dry_run=True, approval=True, slots=["09:00", "12:00", "18:00"], min_gap=60
    )
    settings = Settings(
        database_url=database_url,
        language="en",
        channels=channels,
        desk=DeskSettings(secure_cookies=False),
    )
    add_user(engine, "anna", PASSWORD, "approver")
    add_user(engine, "ed", PASSWORD, "editor")
    server = ServerThread(create_app(engine, settings), "127.0.0.1", 0)
    server.start()
    yield f"http://127.0.0.1:{server.port}", engine, settings
    server.stop()
    engine.dispose()


def queued(engine: Engine, settings: Settings, channel: str, at: datetime, n: int = 1) -> int:
    article = Article(
        id=f"walk-{channel}-{at.isoformat()}-{n}",
        url=f"https://e.de/walk/{n}",
        headline=f"Stadtrat beschließt Haushalt {n}",
        bullets=["Erster Punkt"],
    )
    chosen = roster.chosen(settings, [channel])
    (post_id,) = queue.add(
        engine, settings, article, chosen, When("at", at), force=True, queued_by="test"
    )
    return post_id


def next_monday(settings: Settings) -> date:
    today = utcnow().astimezone(settings.tz).date()
    return today + timedelta(days=7 - today.weekday())


def test_an_editor_takes_an_article_from_intake_to_the_delivery_log(site, browser) -> None:
    from playwright.sync_api import expect

    base, engine, settings = site
    page = open_desk(browser, base)
    expect(page.get_by_role("heading", name="Take in an article")).to_be_visible()
    shot(page, "01-intake")
    page.get_by_label("Article URL").fill(URL)
    page.get_by_label("Article file (JSON, text or HTML)").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Take in").click()
    cards = page.locator("section.card")
    expect(cards).to_have_count(4)
    for kind in ("x", "facebook", "whatsapp", "telegram"):
        expect(page.locator(f".pv-{kind}")).to_be_visible()
    expect(page.locator(".pv-whatsapp")).to_have_css("background-color", "rgb(217, 253, 211)")
    shot(page, "02-previews")
    page.get_by_role("button", name="Queue").click()
    # Three channels without posting times would post at once, WhatsApp to its readers: asked.
    # X waits for its slot: the question names the three that go out at once.
    asked = page.get_by_role("alertdialog", name=re.compile(r"^Post now on .*WhatsApp"))
    expect(asked).to_be_visible()
    page.get_by_role("button", name="Yes, queue as shown").click()
    expect(page.get_by_role("status")).to_contain_text("Queued: posts")
    ids = [int(n) for n in re.findall(r"\d+", page.get_by_role("status").inner_text())]
    page.goto(f"{base}/queue")
    for post_id in ids:
        # An approval is given where the whole text is read: the post's own page.
        page.goto(f"{base}/queue")
        page.get_by_role("link", name=f"Review and approve #{post_id}", exact=True).click()
        expect(page.locator(".preview")).to_be_visible()
        page.get_by_role("button", name="Approve", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text("Approved.")
    shot(page, "03-approved")
    past = utcnow() - timedelta(minutes=1)
    with engine.begin() as connection:
        connection.execute(update(posts).where(posts.c.id.in_(ids)).values(due_at=past))
    delivered = Dispatcher(engine, settings).run_once()
    assert {d.claimed.post_id for d in delivered} >= set(ids)
    page.goto(f"{base}/log")
    expect(page.locator("tr.outcome-sent")).to_have_count(len(delivered))
    shot(page, "04-log")


@pytest.mark.parametrize("size", SIZES)
def test_a_refused_article_form_keeps_what_the_editor_chose(site, browser, size) -> None:
    from playwright.sync_api import expect

    base, _, _ = site
    page = open_desk(browser, base, size)
    page.get_by_label("Article URL").fill(URL.replace("857", f"858{len(size)}"))
    page.get_by_label("Article file (JSON, text or HTML)").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Take in").click()
    page.get_by_label("Post on facebook").uncheck()
    page.get_by_label("At", exact=True).check()
    page.get_by_label("Date and time").fill(f"{coming(3, 4)}T10:30")
    # On a phone the teasers start folded: the editor opens X's to edit it.
    if size == "phone":
        page.locator("#card-x summary").click()
    page.locator("#text-x").fill("Zu lang. " * 60)
    page.get_by_role("button", name="Queue").click()
    expect(page.get_by_role("alert")).to_contain_text("Not queued")
    expect(page.get_by_label("Post on facebook")).not_to_be_checked()
    expect(page.get_by_label("Post on x")).to_be_checked()
    expect(page.get_by_label("At", exact=True)).to_be_checked()
    expect(page.get_by_label("Date and time")).to_have_value(f"{coming(3, 4)}T10:30")
    shot(page, f"05-refused-keeps-choices-{size}")


@pytest.mark.parametrize("size", SIZES)
def test_the_post_view_previews_counts_and_saves_an_edit(site, browser, size) -> None:
    from playwright.sync_api import expect

    base, engine, settings = site
    post_id = queued(engine, settings, "telegram", utcnow() + timedelta(days=3))
    page = open_desk(browser, base, size)
    page.goto(f"{base}/posts/{post_id}")
    expect(page.locator(".pv-telegram")).to_be_visible()
    text = page.get_by_label("Text on telegram")
    text.fill(text.input_value().replace("Stadtrat", "Gemeinderat"))
    expect(page.locator("#preview-telegram")).to_contain_text("Gemeinderat")
    shot(page, f"06-post-view-{size}")
    page.get_by_role("button", name="Save text").click()
    expect(page.get_by_role("status")).to_contain_text("Text saved.")
    assert "Gemeinderat" in post(engine, post_id).text and fits(page)


@pytest.mark.parametrize("size", SIZES)
def test_the_queue_pages_filters_and_approves_in_bulk(site, browser, size) -> None:
    from playwright.sync_api import expect

    base, engine, settings = site
    soon = utcnow() + timedelta(days=20)
    ids = [queued(engine, settings, "facebook", soon + timedelta(minutes=n), n) for n in range(55)]
    page = open_desk(browser, base, size)
    page.goto(f"{base}/queue?channel=facebook&state=awaiting_approval")
    expect(page.locator("tbody tr")).to_have_count(50)
    expect(page.get_by_role("link", name="next page →")).to_be_visible()
    page.get_by_label(f"Select post {ids[0]}", exact=True).check()
    page.get_by_label(f"Select post {ids[1]}", exact=True).check()
    page.get_by_label("With the selected posts").select_option("approve")
    approve = page.get_by_role("button", name="Do it")
    approve.scroll_into_view_if_needed()
    box = approve.bounding_box()
    assert box is not None and box["x"] + box["width"] <= SIZES[size]["width"]
    approve.click()
    # Every text it approves is shown whole first.
    expect(page.locator("pre.whole-text")).to_have_count(2)
    shot(page, f"07-queue-approve-texts-{size}")
    page.get_by_role("button", name="Yes, do it").click()
    expect(page.get_by_role("status")).to_contain_text("Done for 2 of 2 posts.")
    assert [post(engine, i).state for i in ids[:3]] == ["queued", "queued", "awaiting_approval"]
    assert fits(page)
    shot(page, f"07-queue-{size}")


def test_the_queue_is_usable_from_the_keyboard_alone(site, browser) -> None:
    base, engine, settings = site
    post_id = queued(engine, settings, "whatsapp", utcnow() + timedelta(days=30))
    page = open_desk(browser, base)
    page.goto(f"{base}/queue?channel=whatsapp&state=awaiting_approval")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('aria-label')") == (
            f"Review and approve #{post_id}"
        ):
            break
    else:
        pytest.fail("the review link was not reached with Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Approve":
            break
    else:
        pytest.fail("the approve button was not reached with Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert post(engine, post_id).state == "queued"


@pytest.mark.parametrize("size", SIZES)
def test_the_calendar_moves_a_dragged_post_and_says_why_it_refuses(site, browser, size) -> None:
    from playwright.sync_api import expect

    base, engine, settings = site
    monday = next_monday(settings) + timedelta(days=70 if size == "desktop" else 77)
    tz = settings.tz
    fixed = queued(engine, settings, "x", datetime.combine(monday, time(12), tz))
    moving = queued(engine, settings, "x", datetime.combine(monday, time(15, 20), tz), 2)
    page = open_desk(browser, base, size)
    page.goto(f"{base}/plan?start={monday.isoformat()}")
    if size == "phone":
        # The agenda: only the hours with posts or free slots, no sideways scrolling.
        assert fits(page)
        expect(page.locator(".hour").first).to_be_hidden()
        shot(page, "08-calendar-phone")
        return
    shot(page, "08-calendar-week")
    entry = page.locator(f'.ev[data-post="{moving}"]')
    page.drag_and_drop(
        f'.ev[data-post="{moving}"]', f'.cell[data-day="{monday.isoformat()}"][data-hour="17"]'
    )
    expect(page.locator("#cal-message")).to_have_text("")
    expect(page.get_by_role("status")).to_contain_text("Moved to")
    assert post(engine, moving).due_at == datetime.combine(monday, time(17, 20), tz)
    page.drag_and_drop(
        f'.ev[data-post="{moving}"]', f'.cell[data-day="{monday.isoformat()}"][data-hour="12"]'
    )
    expect(page.locator("#cal-message")).to_contain_text(f"post {fixed} on X is due within 60")
    # Said where the post was dropped too.
    expect(page.locator(".drop-refusal")).to_contain_text(f"post {fixed} on X")
    shot(page, "09-calendar-refused")
    assert entry.count() == 1
    page.goto(f"{base}/plan?view=month&start={monday.isoformat()}")
    expect(page.locator(f'.ev[data-post="{fixed}"]')).to_be_visible()
    shot(page, "10-calendar-month")


def test_a_post_moves_to_a_free_slot_from_the_keyboard(site, browser) -> None:
    base, engine, settings = site
    post_id = queued(engine, settings, "x", utcnow() + timedelta(days=2, hours=1), 3)
    page = open_desk(browser, base)
    page.goto(f"{base}/plan")
    page.locator(f'.ev[data-post="{post_id}"]').focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/posts/{post_id}")
    page.get_by_label("Free slots").focus()
    page.keyboard.press("ArrowDown")
    chosen = page.get_by_label("Free slots").input_value()
    page.get_by_role("button", name="Move").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"done=reschedule"))
    assert post(engine, post_id).due_at == datetime.fromisoformat(chosen)


@pytest.mark.parametrize("size", SIZES)
def test_the_queue_updates_without_reload_when_a_post_changes(site, browser, size) -> None:
    from playwright.sync_api import expect

    base, engine, settings = site
    post_id = queued(engine, settings, "telegram", utcnow() + timedelta(days=40), len(size))
    page = open_desk(browser, base, size)
    page.goto(f"{base}/queue?channel=telegram&state=awaiting_approval")
    page.evaluate("window.notReloaded = true")
    expect(page.locator(f'tr[data-post="{post_id}"]')).to_be_visible()
    verbs.cancel(engine, post_id, by="bot")
    expect(page.locator(f'tr[data-post="{post_id}"]')).to_have_count(0, timeout=8000)
    assert page.evaluate("window.notReloaded") is True


def test_the_post_view_and_calendar_update_without_reload(site, browser) -> None:
    from playwright.sync_api import expect

    base, engine, settings = site
    post_id = queued(engine, settings, "whatsapp", utcnow() + timedelta(hours=30), 8)
    post_page, calendar = open_desk(browser, base), open_desk(browser, base)
    post_page.goto(f"{base}/posts/{post_id}")
    calendar.goto(f"{base}/plan")
    for page in (post_page, calendar):
        page.evaluate("window.notReloaded = true")
    approve_as_read(engine, post_id, by="bot")
    expect(post_page.locator(".meta .state")).to_have_text("queued", timeout=8000)
    expect(calendar.locator(f'.ev[data-post="{post_id}"] small')).to_have_text("queued")
    assert [p.evaluate("window.notReloaded") for p in (post_page, calendar)] == [True, True]


def test_two_editors_editing_one_post_are_told_not_overwritten(site, browser) -> None:
    from playwright.sync_api import expect

    base, engine, settings = site
    post_id = queued(engine, settings, "facebook", utcnow() + timedelta(days=41), 5)
    first, second = open_desk(browser, base), open_desk(browser, base, name="ed")
    for page in (first, second):
        page.goto(f"{base}/posts/{post_id}")
    first.get_by_label("Text on facebook").fill("Erste Fassung https://e.de/walk/5")
    first.get_by_role("button", name="Save text").click()
    # The first editor's text is saved before the second sends theirs.
    expect(first.get_by_role("status")).to_contain_text("Text saved")
    second.get_by_label("Text on facebook").fill("Zweite Fassung https://e.de/walk/5")
    second.get_by_role("button", name="Save text").click()
    expect(second.get_by_role("alert")).to_contain_text("changed meanwhile by anna")
    assert post(engine, post_id).text.startswith("Erste Fassung")
    shot(second, "11-edit-conflict")


def test_a_german_desk_speaks_german_on_a_phone(site, browser) -> None:
    _, engine, settings = site
    german = settings.model_copy(update={"language": "de"})
    server = ServerThread(create_app(engine, german), "127.0.0.1", 0)
    server.start()
    try:
        german_base = f"http://127.0.0.1:{server.port}"
        queued(engine, settings, "whatsapp", utcnow() + timedelta(days=42), 6)
        page = browser.new_context(viewport=SIZES["phone"]).new_page()
        page.goto(f"{german_base}/signin")
        page.get_by_label("Name").fill("ed")
        page.get_by_label("Passwort").fill(PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        page.goto(f"{german_base}/queue?state=awaiting_approval")
        words = page.locator("main").inner_text()
        assert "wartet auf Freigabe" in words and "awaiting_approval" not in words
        assert fits(page)
        shot(page, "12-queue-german-phone")
    finally:
        server.stop()


def pages_of(base: str, engine: Engine, settings: Settings) -> dict[str, str]:
    post_id = queued(engine, settings, "x", utcnow() + timedelta(days=3, hours=2), 7)
    return {
        "intake": "/",
        "article": "/articles/1",
        "queue": "/queue",
        "calendar-week": "/plan",
        "calendar-month": "/plan?view=month",
        "post": f"/posts/{post_id}",
        "cancel-asks": f"/posts/{post_id}?confirm=cancel",
        "log": "/log",
    }


@pytest.mark.parametrize("size", SIZES)
def test_every_page_passes_axe_and_fits_the_screen(site, browser, size) -> None:
    base, engine, settings = site
    page = browser.new_context(viewport=SIZES[size]).new_page()
    page.goto(f"{base}/signin")
    problems = {"signin": serious_violations(page)}
    page = open_desk(browser, base, size)
    for name, path in pages_of(base, engine, settings).items():
        page.goto(base + path)
        problems[name] = serious_violations(page) + ([] if fits(page) else ["scrolls sideways"])
        shot(page, f"13-{name}-{size}")
    assert {name: found for name, found in problems.items() if found} == {}


@pytest.mark.parametrize("size", SIZES)
def test_the_chiefs_old_page_approves_nothing_after_an_edit_and_shows_the_new_text(
    site, browser, size
) -> None:
    from playwright.sync_api import expect

    base, engine, settings = site
    post_id = queued(engine, settings, "facebook", utcnow() + timedelta(days=3), 300 + len(size))
    page = open_desk(browser, base, size)
    page.goto(f"{base}/posts/{post_id}")
    expect(page.locator(".preview")).to_contain_text("Stadtrat beschließt Haushalt")
    # A second later an editor replaces the text; the chief presses Approve on her old page.
    link = post(engine, post_id).link
    verbs.edit(engine, settings, post_id, f"ACHTUNG FALSCH: Bayern verliert 0:4 {link}", by="ed")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("was changed meanwhile")
    expect(page.locator(".preview")).to_contain_text("ACHTUNG FALSCH")
    assert post(engine, post_id).state == "awaiting_approval"
    assert serious_violations(page) == [] and fits(page)
    shot(page, f"40-approval-outdated-{size}")


def test_restoring_a_post_whose_time_passed_asks_and_nothing_goes_out_before(site, browser) -> None:
    from playwright.sync_api import expect

    base, engine, settings = site
    post_id = queued(engine, settings, "telegram", utcnow() + timedelta(days=3), 310)
    approve_as_read(engine, post_id, by="anna")
    verbs.cancel(engine, post_id, "ed")
    with engine.begin() as connection:
        past = utcnow() - timedelta(hours=2)
        connection.execute(update(posts).where(posts.c.id == post_id).values(due_at=past))
    page = open_desk(browser, base)
    page.goto(f"{base}/posts/{post_id}?done=cancel")
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("now, or at a new time?")
    assert post(engine, post_id).state == "cancelled"
    assert serious_violations(page) == []
    shot(page, "41-restore-overdue")
    page.get_by_role("button", name="Post it now").click()
    expect(page.get_by_role("status")).to_contain_text("Goes out now.")


def test_a_post_dragged_in_the_calendar_goes_back_with_one_button(site, browser) -> None:
    from playwright.sync_api import expect

    base, engine, settings = site
    monday = next_monday(settings) + timedelta(days=84)
    tz = settings.tz
    moving = queued(engine, settings, "x", datetime.combine(monday, time(15, 20), tz), 4)
    page = open_desk(browser, base)
    page.goto(f"{base}/plan?start={monday.isoformat()}")
    page.drag_and_drop(
        f'.ev[data-post="{moving}"]', f'.cell[data-day="{monday.isoformat()}"][data-hour="17"]'
    )
    expect(page.get_by_role("status")).to_contain_text("Moved to")
    assert post(engine, moving).due_at == datetime.combine(monday, time(17, 20), tz)
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("status")).to_contain_text("15:20")
    assert post(engine, moving).due_at == datetime.combine(monday, time(15, 20), tz)
    shot(page, "09b-calendar-move-undone")

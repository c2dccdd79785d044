"""What the desk shows an editor, walked in Chromium at desktop and phone size: an article's
posts and posting again, a failed post's ways out, free slots around a planned day, a page's own
summary and the WhatsApp template as readers get them, the desk in German, the queue's search,
the log at newsroom scale, the phone's reach, and the calendar of a busy week."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from babel.dates import format_date
from sqlalchemy import Engine, insert, select, update

from publisher import roster
from publisher.articles import Article
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue, verbs
from publisher.engine.releases.release import release
from publisher.engine.storage.schema import deliveries, posts
from tests.browser_helpers import (
    NO_CHROMIUM,
    SIZES,
    fits,
    open_desk,
    serious_violations,
    shot,
)
from tests.engine_helpers import approve_as_read
from tests.newsroom_helpers import (
    READERS,
    article_page,
    open_german,
    posts_of,
    queued_on,
)

pytestmark = NO_CHROMIUM


@pytest.mark.parametrize("size", SIZES)
def test_the_article_page_shows_its_posts_and_posting_again_is_deliberate(
    newsroom, browser, size
) -> None:
    from playwright.sync_api import expect

    base, engine, settings = newsroom
    number = 60 + len(size)
    first = queued_on(engine, settings, number, "telegram")
    page = open_desk(browser, base, size)
    article_page(page, base, number)
    posts = page.locator("table.existing-posts")
    expect(posts.locator("tr", has_text="Telegram")).to_contain_text("queued")
    expect(page.get_by_label("Post on Telegram")).not_to_be_checked()
    expect(page.locator("#card-telegram")).to_contain_text(f"Already on this channel: post {first}")
    assert serious_violations(page) == []
    shot(page, f"26-article-posts-{size}")
    page.get_by_role("link", name="Post again on Telegram").click()
    expect(page.get_by_label("Post on Telegram")).to_be_checked()
    expect(page.get_by_label("Post on x", exact=True)).not_to_be_checked()
    expect(page.locator("#card-telegram")).to_contain_text("Ticked, it is posted here again.")
    page.get_by_role("button", name="Queue", exact=True).click()
    # Telegram has no posting times: its next slot is now, which is asked first.
    page.get_by_role("button", name="Yes, queue as shown").click()
    expect(page.get_by_role("status")).to_contain_text("Queued")
    assert [r.channel for r in posts_of(engine, number)] == ["telegram", "telegram"]


def test_a_post_is_duplicated_to_another_account_of_its_platform(newsroom, browser) -> None:
    from playwright.sync_api import expect

    base, engine, settings = newsroom
    first = queued_on(engine, settings, 70, "x")
    verbs.edit(engine, settings, first, "Eigener Text https://e.de/plan/70", by="ed")
    page = open_desk(browser, base)
    article_page(page, base, 70)
    page.get_by_role("link", name="Duplicate to x_sport").click()
    expect(page.get_by_label("Post on x_sport")).to_be_checked()
    expect(page.locator("#text-x_sport")).to_have_value("Eigener Text https://e.de/plan/70")
    page.get_by_role("button", name="Queue", exact=True).click()
    # x_sport has no posting times: its next slot is now, which is asked first.
    page.get_by_role("button", name="Yes, queue as shown").click()
    expect(page.get_by_role("status")).to_contain_text("Queued")
    with engine.connect() as connection:
        texts = connection.execute(
            select(posts.c.text).where(
                posts.c.channel == "x_sport", posts.c.text.contains("Eigener")
            )
        ).all()
    assert len(texts) == 1


@pytest.mark.parametrize("size", SIZES)
def test_a_failed_post_is_retried_or_moved_from_its_page(newsroom, browser, size) -> None:
    from playwright.sync_api import expect

    base, engine, settings = newsroom
    retried = queued_on(engine, settings, 80 + len(size), "telegram")
    moved = queued_on(engine, settings, 90 + len(size), "telegram")
    with engine.begin() as connection:
        connection.execute(
            update(posts)
            .where(posts.c.id.in_([retried, moved]))
            .values(state="failed", error="telegram: Bad Request: chat not found")
        )
    page = open_desk(browser, base, size)
    page.goto(f"{base}/posts/{retried}")
    expect(page.locator(".why")).to_contain_text("chat not found")
    assert serious_violations(page) == []
    shot(page, f"27-failed-post-{size}")
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("status")).to_contain_text("It will be tried again.")
    assert post_state(engine, retried) == "queued"
    page.goto(f"{base}/posts/{moved}")
    at = (utcnow() + timedelta(days=3)).astimezone(settings.tz).replace(hour=8, minute=15)
    page.get_by_label("New time").fill(at.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Moved.")
    with engine.connect() as connection:
        row = connection.execute(select(posts).where(posts.c.id == moved)).one()
    assert (row.state, row.due_at) == ("queued", at.replace(second=0, microsecond=0))


def test_an_edit_of_an_approved_post_says_it_needs_approval_again(newsroom, browser) -> None:
    from playwright.sync_api import expect

    base, engine, settings = newsroom
    post_id = queued_on(engine, settings, 100, "x")  # x posts wait for approval
    approve_as_read(engine, post_id, by="anna")
    page = open_desk(browser, base, "phone")
    page.goto(f"{base}/posts/{post_id}")
    page.locator("#text-x").fill("Neuer Text https://e.de/plan/100")
    page.get_by_role("button", name="Save text").click()
    expect(page.get_by_role("status")).to_contain_text("it waits for approval again")
    assert post_state(engine, post_id) == "awaiting_approval"
    shot(page, "28-edited-needs-approval-phone")


@pytest.mark.parametrize("size", SIZES)
def test_free_slots_are_offered_around_the_day_a_post_is_planned_for(
    newsroom, browser, size
) -> None:
    from playwright.sync_api import expect

    base, engine, settings = newsroom
    day = (utcnow() + timedelta(days=12 + len(size))).astimezone(settings.tz).date()
    at = datetime.combine(day, time(12, 0), settings.tz)
    article = Article(id=f"slots-{size}", url=f"https://e.de/slots/{size}", headline="Slots")
    (post_id,) = queue.add(
        engine, settings, article, roster.chosen(settings, ["x"]), When("at", at), queued_by="test"
    )
    page = open_desk(browser, base, size)
    page.goto(f"{base}/posts/{post_id}")
    offered = page.get_by_label("Free slots").locator("option")
    labels = " | ".join(offered.all_inner_texts())
    shown_day = format_date(day, "EEE d MMM", locale="en")  # as the desk writes it
    assert f"{shown_day}, 09:00" in labels and f"{shown_day}, 18:00" in labels
    expect(page.get_by_label("Free slots")).to_be_visible()


def post_state(engine: Engine, post_id: int) -> str:
    with engine.connect() as connection:
        return connection.execute(select(posts.c.state).where(posts.c.id == post_id)).scalar()


SUMMARY_PAGE = """<!doctype html><html lang="de"><head><title>Sturm im Norden | News</title>
<meta property="og:title" content="Sturm im Norden"><link rel="canonical" href="{url}"></head>
<body><article><h1>Sturm im Norden</h1><h2>Das Wichtigste in Kürze</h2>
<ul><li>Orkanböen bis 140 km/h</li><li>Fernverkehr eingestellt</li></ul>
<p>Der Wetterdienst warnt.</p></article></body></html>"""


@pytest.mark.parametrize("size", SIZES)
def test_a_pasted_pages_own_summary_becomes_the_teaser_bullets(
    newsroom, browser, size, server
) -> None:
    from playwright.sync_api import expect

    base, _, _ = newsroom
    path = f"/sturm-{size}"
    url = server.serve(path, SUMMARY_PAGE.replace("{url}", server.base + path).encode())
    page = open_desk(browser, base, size)
    page.get_by_label("Article URL").fill(url)
    page.get_by_role("button", name="Take in").click()
    expect(page.locator("#text-telegram")).to_contain_text("• Orkanböen bis 140 km/h")
    expect(page.locator(".pv-telegram")).to_contain_text("Fernverkehr eingestellt")
    shot(page, f"29-bullets-from-the-page-{size}")


@pytest.mark.parametrize("size", SIZES)
def test_the_template_most_readers_get_is_previewed_beside_the_text(
    newsroom, browser, size
) -> None:
    from playwright.sync_api import expect

    base, _, _ = newsroom
    page = open_desk(browser, base, size)
    article_page(page, base, 110 + len(size))
    card = page.locator("#card-whatsapp")
    expect(card).to_contain_text("What readers outside the 24-hour window get")
    expect(card.locator(".pv-template")).to_contain_text(
        f"Neu bei News.de: Stadtrat beschließt Haushalt {110 + len(size)}"
    )
    expect(card).to_contain_text("1,200 with the approved template")
    assert serious_violations(page) == []
    card.scroll_into_view_if_needed()
    shot(page, f"30-template-preview-{size}")


TOO_LONG = "Bad Request: message is too long"


@pytest.mark.parametrize("size", SIZES)
def test_a_german_desk_speaks_german_in_its_own_words_and_formats(
    newsroom, german, browser, size
) -> None:
    from playwright.sync_api import expect

    _, engine, settings = newsroom
    article = Article(id=f"cms-{size}", url=f"https://e.de/cms/{size}", headline="Aus dem CMS")
    release(engine, settings.model_copy(update={"rules": ()}), article, "webhook")
    with engine.connect() as connection:
        post_id = connection.execute(
            select(posts.c.id).where(posts.c.channel == "telegram").order_by(posts.c.id.desc())
        ).scalar()
    with engine.begin() as connection:
        connection.execute(
            update(posts)
            .where(posts.c.id == post_id)
            .values(
                state="failed", error_class="permanent", error="Bad Request: message is too long"
            )
        )
    page = open_german(browser, german, size)
    expect(page.locator(".who")).to_contain_text("anna (Freigabe)")
    page.goto(f"{german}/posts/{post_id}")
    expect(page.locator(".meta")).to_contain_text("Telegram")
    expect(page.locator(".meta")).to_contain_text(re.compile(r"(Mo|Di|Mi|Do|Fr|Sa|So)\. \d+\. "))
    expect(page.locator(".meta")).to_contain_text(re.compile(r"ME(S)?Z"))
    expect(page.locator(".history")).to_contain_text("– CMS")
    expect(page.locator(".why")).to_contain_text("Die Plattform hat diesen Post abgelehnt")
    expect(page.locator(".why")).to_contain_text(TOO_LONG)
    shot(page, f"31-german-post-{size}")
    page.goto(f"{german}/channels")
    expect(page.locator("tr", has_text="WhatsApp")).to_contain_text("1.200")
    missing = page.goto(f"{german}/gibt-es-nicht")
    assert missing.status == 404
    expect(page.get_by_role("status")).to_contain_text("Diese Seite gibt es nicht.")
    assert serious_violations(page) == []


@pytest.mark.parametrize("size", SIZES)
def test_searching_the_queue_folds_umlauts_and_accents(newsroom, browser, size) -> None:
    from playwright.sync_api import expect

    base, engine, settings = newsroom
    headline = f"Müller übernimmt den Vorsitz in Zürich ({size})"
    article = Article(id=f"search-{size}", url=f"https://e.de/search/{size}", headline=headline)
    queue.add(
        engine, settings, article, roster.chosen(settings, ["telegram"]), When(), queued_by="test"
    )
    page = open_desk(browser, base, size)
    page.goto(f"{base}/queue")
    for words in ("muller zurich", "Mueller", "MÜLLER"):
        page.get_by_label("Words").fill(f"{words} {size}")
        page.get_by_role("button", name="Filter").click()
        expect(page.locator("table.queue")).to_contain_text(headline)
    shot(page, f"32-search-folded-{size}")


def fanned_out(engine: Engine, settings: Settings, number: int, readers: int) -> int:
    """A WhatsApp post sent to `readers` readers as the engine records a fan-out: a delivery
    per reader; Meta reported some delivered and read, and three numbers undeliverable later."""
    article = Article(
        id=f"fan-{number}", url=f"https://e.de/fan/{number}", headline=f"Eilmeldung {number}"
    )
    (post_id,) = queue.add(
        engine, settings, article, roster.chosen(settings, ["whatsapp"]), When(), queued_by="test"
    )
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "post_id": post_id, "channel": "whatsapp", "attempt": 1, "worker": "w",
            "started_at": now, "finished_at": now, "outcome": "sent", "payload": {},
            "recipient": READERS[n], "remote_id": f"wamid.{number}.{n}",
            "status": "failed" if n < 3 else "read" if n % 2 else "delivered",
            "status_error": "131026: Message undeliverable" if n < 3 else None,
        }
        for n in range(readers)
    ]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(deliveries), rows)
        connection.execute(update(posts).where(posts.c.id == post_id).values(state="sent"))
    return post_id


@pytest.mark.parametrize("size", SIZES)
def test_the_log_shows_a_whatsapp_push_as_one_row_with_its_counts(newsroom, browser, size):
    from playwright.sync_api import expect

    base, engine, settings = newsroom
    post_id = fanned_out(engine, settings, 120 + len(size), 1_200)
    page = open_desk(browser, base, size)
    page.goto(f"{base}/log?channel=whatsapp")
    rows = page.locator("table.log tbody tr")
    expect(rows.first).to_contain_text(f"#{post_id}")
    expect(rows.first).to_contain_text(f"Eilmeldung {120 + len(size)}")
    expect(rows.first).to_contain_text("1,200 of 1,200 messages sent")
    rows.first.locator("summary").click()
    # Meta's later report of undeliverable numbers counts as failed.
    expect(rows.first.locator("dd").nth(3)).to_have_text("3")
    expect(page.locator("table.log")).not_to_contain_text("+49170")
    assert serious_violations(page) == []
    assert fits(page)
    shot(page, f"33-log-fan-out-{size}")
    rows.first.get_by_role("link", name=f"#{post_id}").click()
    page.wait_for_url(f"{base}/posts/{post_id}")


def test_the_log_pages_and_filters_by_outcome(newsroom, browser) -> None:
    from playwright.sync_api import expect

    base, engine, settings = newsroom
    for number in range(60):
        post_id = queued_on(engine, settings, 1_000 + number, "telegram")
        with engine.begin() as connection:
            connection.execute(
                insert(deliveries).values(
                    post_id=post_id, channel="telegram", attempt=1, worker="w",
                    started_at=utcnow(), outcome="failed" if number == 7 else "sent", payload={},
                )
            )  # fmt: skip
    page = open_desk(browser, base)
    page.goto(f"{base}/log")
    expect(page.locator(".count")).to_contain_text("Page 1 of")
    page.get_by_role("link", name="Next page").click()
    expect(page.locator(".count")).to_contain_text("Page 2 of")
    page.get_by_label("Channel").select_option("telegram")
    page.get_by_label("Outcome").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.log tbody tr")).to_have_count(1)
    expect(page.locator("table.log")).to_contain_text("Stadtrat beschließt Haushalt 1007")


def test_on_a_phone_the_channels_and_the_button_are_in_reach(newsroom, browser) -> None:
    from playwright.sync_api import expect

    base, engine, settings = newsroom
    page = open_desk(browser, base, "phone")
    article_page(page, base, 130)
    # Every channel's tick within two screens; the button always on screen.
    last = page.get_by_label("Post on Facebook", exact=True)
    assert last.bounding_box()["y"] < 2 * SIZES["phone"]["height"]
    expect(page.get_by_role("button", name="Queue", exact=True)).to_be_in_viewport()
    expect(page.get_by_label("Next free slot")).to_be_in_viewport()
    shot(page, "34-article-folded-phone")
    post_id = queued_on(engine, settings, 131, "x")
    page.goto(f"{base}/posts/{post_id}")
    expect(page.get_by_role("button", name="Approve")).to_be_in_viewport()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("button", name="Yes, cancel it")).to_be_in_viewport()
    shot(page, "35-cancel-confirmation-phone")


@pytest.mark.parametrize("size", SIZES)
def test_the_calendar_filters_by_channel_and_has_a_compact_busy_week(
    newsroom, browser, size
) -> None:
    from playwright.sync_api import expect

    base, engine, settings = newsroom
    monday = utcnow().astimezone(settings.tz).date() + timedelta(days=35 + 7 * len(size))
    monday -= timedelta(days=monday.weekday())
    for hour in (10, 11, 14):
        at = datetime.combine(monday, time(hour), settings.tz)
        article = Article(id=f"cal-{size}-{hour}", url=f"https://e.de/cal/{hour}", headline="Rat")
        queue.add(
            engine,
            settings,
            article,
            roster.chosen(settings, ["telegram"]),
            When("at", at),
            queued_by="test",
        )
    page = open_desk(browser, base, size)
    page.goto(f"{base}/plan?start={monday.isoformat()}")
    expect(page.locator(".legend")).to_contain_text("next free slot")
    page.locator("select[name=channel]").select_option("x")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".ev", has_text="Telegram")).to_have_count(0)
    page.locator("select[name=channel]").select_option("telegram")
    page.get_by_label("Compact (times and channels only)").check()
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".ev", has_text="Telegram")).to_have_count(3)
    # Compact shows time and channel; the headline is left to screen readers and the tooltip.
    expect(page.locator(".ev small")).to_have_count(0)
    expect(page.locator(".ev").first.locator(".visually-hidden")).to_have_text(" Rat")
    shot(page, f"36-calendar-filtered-compact-{size}")
    # The next week keeps the filter.
    page.get_by_role("link", name="Next week").click()
    expect(page.locator("select[name=channel]")).to_have_value("telegram")
    if size == "desktop":
        position = page.locator(".cal-head").first.evaluate("e => getComputedStyle(e).position")
        assert position == "sticky"
    assert serious_violations(page) == []


@pytest.mark.parametrize("size", SIZES)
def test_a_german_counter_writes_counts_as_german_and_says_when_a_text_is_too_long(
    newsroom, german, browser, size
) -> None:
    from playwright.sync_api import expect

    page = open_german(browser, german, size)
    body = f'{{"id": "count-{size}", "url": "https://e.de/count/{size}", "headline": "Zählen"}}'
    page.get_by_label("Artikeldatei (JSON, Text oder HTML)").set_input_files(
        {"name": "article.json", "mimeType": "application/json", "buffer": body.encode()}
    )
    page.get_by_role("button", name="Aufnehmen").click()
    page.wait_for_url(f"{german}/articles/*")
    expect(page.locator("#count-telegram .limit")).to_have_text("4.096")
    # On a phone the teasers start folded: the editor opens Telegram's to edit it.
    if size == "phone":
        page.locator("#card-telegram summary").click()
    page.locator("#text-telegram").fill("a" * 5_000)
    expect(page.locator("#count-telegram .length")).to_have_text("5.000")
    page.locator("#text-telegram").fill("a" * 70_000)
    expect(page.locator("#problems-telegram")).to_contain_text("zu lang zum Zählen")
    expect(page.locator("#count-telegram")).to_have_class(re.compile("over"))
    expect(page.locator("#count-telegram .length")).not_to_have_text("5.000")
    shot(page, f"33-german-counter-{size}")


@pytest.mark.parametrize("size", SIZES)
def test_the_month_shows_a_days_posts_first_in_time_order_and_folds_its_free_slots(
    newsroom, browser, size
) -> None:
    from playwright.sync_api import expect

    base, engine, settings = newsroom
    day = utcnow().astimezone(settings.tz).date() + timedelta(days=20 + len(size))
    long = "Der Stadtrat beschließt nach langer Debatte den Haushalt für das kommende Jahr"
    for n, (hour, minute) in enumerate(((10, 30), (10, 0), (18, 0))):
        article = Article(
            id=f"month-{size}-{n}", url=f"https://e.de/month/{size}/{n}", headline=long
        )
        at = datetime.combine(day, time(hour, minute), settings.tz)
        queue.add(
            engine, settings, article, roster.chosen(settings, ["telegram"]), When("at", at),
            queued_by="test",
        )  # fmt: skip
    page = open_desk(browser, base, size)
    page.goto(f"{base}/plan?view=month&start={day.isoformat()}")
    cell = page.locator(f'section.cell[data-day="{day.isoformat()}"]')
    times = cell.locator(".ev b").all_inner_texts()
    assert times == ["10:00", "10:30", "18:00"]
    expect(cell.locator(".ev").first).to_contain_text("den Haushalt für das… ")
    # X's free slots that day are there, folded under one line.
    expect(cell.locator(".free-slots summary")).to_contain_text("free slots")
    expect(cell.locator(".free").first).to_be_hidden()
    assert serious_violations(page) == [] and fits(page)
    shot(page, f"38-month-day-{size}")


@pytest.mark.parametrize("size", SIZES)
def test_a_post_is_duplicated_from_its_page_to_its_own_channel_at_another_time(
    newsroom, browser, size
) -> None:
    from playwright.sync_api import expect

    base, engine, settings = newsroom
    number = 180 + len(size)
    first = queued_on(engine, settings, number, "telegram")
    verbs.edit(engine, settings, first, f"Eigener Text https://e.de/plan/{number}", by="ed")
    page = open_desk(browser, base, size)
    page.goto(f"{base}/posts/{first}")
    page.get_by_label("Duplicate on").select_option("telegram")
    page.get_by_role("button", name="Duplicate …").click()
    expect(page.get_by_label("Post on Telegram")).to_be_checked()
    if size == "phone":
        page.locator("#card-telegram summary").click()
    expect(page.locator("#text-telegram")).to_have_value(f"Eigener Text https://e.de/plan/{number}")
    later = utcnow().astimezone(settings.tz) + timedelta(days=2)
    page.get_by_label("At", exact=True).check()
    page.get_by_label("Date and time").fill(later.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Queue", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Queued")
    shot(page, f"43-duplicated-{size}")
    with engine.connect() as connection:
        copies = (
            connection.execute(
                select(posts.c.due_at).where(
                    posts.c.channel == "telegram",
                    posts.c.text == f"Eigener Text https://e.de/plan/{number}",
                )
            )
            .scalars()
            .all()
        )
    assert len(copies) == 2

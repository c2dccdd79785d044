"""The Results page as an editor reads it, in Chromium at desktop and phone size: the week's best
posts with their numbers (a dash where a network tells none), the articles across channels,
each channel's trend drawn as a chart with its numbers as a table, the CSV download, and a
sent post's own numbers on its page; axe finds nothing serious, nothing scrolls sideways."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import Engine, insert, update

from publisher.channels import Result
from publisher.clock import utcnow
from publisher.engine.storage.schema import measurements, posts
from tests.browser_helpers import NO_CHROMIUM, SIZES, fits, open_desk, serious_violations, shot
from tests.engine_helpers import post
from tests.newsroom_helpers import open_german, queued_on

pytestmark = NO_CHROMIUM


def sent_and_measured(engine: Engine, settings, number: int, channel: str, **numbers: int) -> int:
    """A post of article `number` on `channel`, sent two hours ago and measured at its hour."""
    post_id = queued_on(engine, settings, number, channel)
    sent_at = utcnow() - timedelta(hours=2)
    metrics = Result.of({}, **numbers).metrics
    with engine.begin() as connection:
        connection.execute(
            update(posts)
            .where(posts.c.id == post_id)
            .values(state="sent", sent_at=sent_at, approval_required=False)
        )
        connection.execute(
            insert(measurements).values(
                post_id=post_id,
                channel=channel,
                point="1h",
                measured_at=sent_at + timedelta(hours=1),
                metrics=metrics,
                raw={},
            )
        )
    return post_id


@pytest.fixture(scope="module")
def measured(newsroom) -> dict[str, int]:
    _, engine, settings = newsroom
    return {
        "best": sent_and_measured(engine, settings, 90, "telegram", likes=40, reposts=12),
        "second": sent_and_measured(engine, settings, 91, "x", impressions=900, likes=7),
    }


@pytest.mark.parametrize("size", SIZES)
def test_the_results_page_shows_the_weeks_best_posts_and_each_channels_trend(
    newsroom, browser, measured, size
) -> None:
    from playwright.sync_api import expect

    base, _, _ = newsroom
    page = open_desk(browser, base, size)
    page.get_by_role("link", name="Results").click()
    best = page.get_by_role("region", name="The best posts of the last 7 days")
    rows = best.locator("tbody tr")
    expect(rows.first).to_contain_text("Telegram")
    expect(rows.first).to_contain_text("52")  # 40 likes and 12 reposts
    expect(rows.nth(1)).to_contain_text("900")
    expect(page.get_by_role("img", name="Interactions per channel and week")).to_be_visible()
    assert fits(page)
    assert serious_violations(page) == []
    shot(page, f"40-results-{size}")


def test_a_sent_posts_page_shows_its_numbers(newsroom, browser, measured) -> None:
    from playwright.sync_api import expect

    base, _, _ = newsroom
    page = open_desk(browser, base)
    page.goto(f"{base}/posts/{measured['second']}")
    numbers = page.locator("dl", has_text="Views")
    expect(numbers).to_contain_text("900")
    expect(numbers).not_to_contain_text("Reposts")  # X told none here: not shown as 0
    assert serious_violations(page) == []


def test_the_csv_download_has_every_post_with_its_numbers(newsroom, browser, measured) -> None:
    base, _, _ = newsroom
    page = open_desk(browser, base)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    answer = requests.get(f"{base}/results.csv", cookies=cookies, timeout=30)
    assert answer.headers["content-type"].startswith("text/csv")
    header, *lines = answer.text.splitlines()
    assert "impressions" in header.split(",") and "clicks" in header.split(",")
    assert any(line.startswith(f"{measured['best']},") for line in lines)


def test_the_charts_words_stay_legible_on_a_phone(newsroom, browser, measured) -> None:
    base, _, _ = newsroom
    page = open_desk(browser, base, "phone")
    page.goto(f"{base}/results")
    heights = page.locator(".chart text.axis").evaluate_all(
        "texts => texts.filter(t => t.getBBox().width > 0)"
        ".map(t => t.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 10
    assert fits(page)


def test_no_two_landmarks_of_the_results_page_share_a_name(newsroom, browser, measured) -> None:
    from axe_playwright_python.sync_playwright import Axe

    base, _, _ = newsroom
    page = open_desk(browser, base)
    page.goto(f"{base}/results")
    page.locator("details").first.evaluate("details => { details.open = true; }")
    options = {"runOnly": {"type": "rule", "values": ["landmark-unique"]}}
    assert Axe().run(page, options=options).response["violations"] == []


def test_the_excel_download_opens_in_german_excel_with_local_times(
    newsroom, german, browser, measured
) -> None:
    _, _, settings = newsroom
    page = open_german(browser, german, "desktop")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    answer = requests.get(f"{german}/results-excel.csv", cookies=cookies, timeout=30)
    assert answer.content.startswith("\ufeff".encode())
    header, *lines = answer.content.decode("utf-8-sig").splitlines()
    columns = header.split(";")
    assert f"sent_at ({settings.tz.key})" in columns and "impressions" in columns
    row = next(line.split(";") for line in lines if line.startswith(f"{measured['best']};"))
    sent = row[columns.index(f"sent_at ({settings.tz.key})")]
    assert sent == post(newsroom[1], measured["best"]).sent_at.astimezone(settings.tz).strftime(
        "%Y-%m-%d %H:%M"
    )

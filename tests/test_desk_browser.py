"""The web desk in a real browser (Debian's Chromium, headless, driven by Playwright): sign in,
take in the sample article, see all four previews, push the X text past its limit and see it
refused, queue, approve, deliver through the log channel, and find the deliveries in the log.
Each step leaves a screenshot in test-artifacts/desk/."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from publisher.config import ChannelSettings, DeskSettings, Settings
from publisher.engine.dispatch import Dispatcher
from publisher.web.app import ServerThread, create_app
from publisher.web.users import add_user
from tests.conftest import ROOT, SAMPLE

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = ROOT / "test-artifacts" / "desk"
PASSWORD = "correct horse battery"
URL = "https://www.news.de/politik/857/baschar-al-assad-putin-liess-vertrauten-haengen/"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on this machine: install Debian's chromium package (.ci/run does)",
)


@pytest.fixture
def desk(engine: Engine, tmp_path, monkeypatch) -> Iterator[tuple[str, Settings]]:
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "browser-session-secret-0123456789")
    database_url = str(engine.url.render_as_string(hide_password=False))
    settings = Settings(
        database_url=database_url,
        language="en",
        channels={
            kind: ChannelSettings(type=kind, dry_run=True, approval=True)
            for kind in ("x", "facebook", "whatsapp", "telegram")
        },
        desk=DeskSettings(secure_cookies=False),
    )
    add_user(engine, "anna", PASSWORD, "approver")
    server = ServerThread(create_app(engine, settings), "127.0.0.1", 0)
    server.start()
    yield f"http://127.0.0.1:{server.port}", settings
    server.stop()


def test_editor_takes_an_article_from_intake_to_the_delivery_log(desk, engine) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, settings = desk
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        outside: list[str] = []
        page.on(
            "request",
            lambda request: None if request.url.startswith(base) else outside.append(request.url),
        )

        def shot(name: str) -> None:
            page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

        page.goto(f"{base}/")
        expect(page.get_by_label("Password")).to_be_visible()
        shot("01-signin")
        page.get_by_label("Name").fill("anna")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Take in an article")).to_be_visible()
        shot("02-intake")

        page.get_by_label("Article URL").fill(URL)
        page.get_by_label("Article file (JSON, text or HTML)").set_input_files(str(SAMPLE))
        page.get_by_role("button", name="Take in").click()
        cards = page.locator("section.card")
        expect(cards).to_have_count(4)
        assert [c.get_attribute("data-channel") for c in cards.all()] == [
            "x",
            "facebook",
            "whatsapp",
            "telegram",
        ]
        for kind in ("x", "facebook", "whatsapp", "telegram"):
            expect(page.locator(f".pv-{kind}")).to_be_visible()
        # Each platform's frame is styled by its channel module's stylesheet.
        expect(page.locator(".pv-whatsapp")).to_have_css("background-color", "rgb(217, 253, 211)")
        shot("03-previews")

        x_text = page.locator("#text-x")
        original = x_text.input_value()
        x_text.fill(original + " Noch ein Satz, der zu lang ist." * 10)
        expect(page.locator("#count-x")).to_have_class(re.compile(r"\bover\b"))
        expect(page.locator("#problems-x li")).to_contain_text("over the limit of 280")
        shot("04-x-over-the-limit")
        page.get_by_role("button", name="Queue").click()
        expect(page.get_by_role("alert")).to_contain_text("Not queued: x:")
        shot("05-refused")

        page.locator("#text-x").fill(original)
        expect(page.locator("#count-x")).not_to_have_class(re.compile(r"\bover\b"))
        page.get_by_role("button", name="Queue").click()
        expect(page.get_by_role("status")).to_contain_text("Queued: posts")
        shot("06-queued")

        page.goto(f"{base}/queue")
        approve = page.get_by_role("button", name="Approve")
        expect(approve).to_have_count(4)
        for _ in range(4):
            page.get_by_role("button", name="Approve").first.click()
            page.wait_for_load_state()
        expect(page.get_by_role("button", name="Approve")).to_have_count(0)
        shot("07-approved")

        delivered = Dispatcher(engine, settings).run_once()
        assert {d.outcome for d in delivered} == {"sent"} and len(delivered) == 4

        page.goto(f"{base}/log")
        rows = page.locator("tr.outcome-sent")
        expect(rows).to_have_count(4)
        shot("08-log")
        page.get_by_label("Channel").select_option("telegram")
        page.get_by_role("button", name="Filter").click()
        expect(page.locator("tr.outcome-sent")).to_have_count(1)

        page.goto(f"{base}/plan")
        expect(page.locator(".ev")).to_have_count(4)
        shot("09-plan")

        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base}/articles/1")
        expect(page.locator("section.card").first).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400
        shot("10-phone")
        browser.close()
    assert outside == []

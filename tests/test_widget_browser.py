"""The share widget in a real browser: Debian's Chromium, headless, driven by Playwright. The
widget is embedded in an article page served from 127.0.0.1; no request may leave for any other
address before a click, the links must point where they should, and a screenshot is kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from publisher.config import Settings, WidgetSettings
from publisher.web.widget import render_meta, render_widget
from tests.browser_helpers import NO_CHROMIUM
from tests.conftest import ROOT, LocalServer
from tests.test_widget import ARTICLE

ARTIFACTS = ROOT / "test-artifacts"

pytestmark = NO_CHROMIUM


@pytest.fixture
def browser_page(server: LocalServer, browser: Any) -> Iterator[tuple]:
    settings = Settings(
        widget=WidgetSettings(outlet="News.de", follow={"x": "https://x.com/newsde"})
    )
    html = (
        '<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Artikel</title>'
        f"{render_meta(ARTICLE, settings)}</head><body><article><h1>Artikel</h1>"
        f"<p>Text.</p>{render_widget(ARTICLE, settings)}</article></body></html>"
    )
    url = server.serve("/artikel.html", html.encode())
    context = browser.new_context(viewport={"width": 800, "height": 600})
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    yield page, requested, url
    context.close()


def test_widget_renders_and_nothing_leaves_the_page(browser_page) -> None:
    page, requested, url = browser_page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget.png"), full_page=True)
    assert Path(ARTIFACTS / "widget.png").stat().st_size > 1000
    assert requested == [url]


def test_links_point_at_each_platforms_share_address(browser_page) -> None:
    page, _, _ = browser_page
    hosts = {
        platform: page.get_attribute(f"a.pub-{platform}", "href")
        for platform in ("whatsapp", "facebook", "x", "telegram", "email")
    }
    assert hosts["whatsapp"].startswith("https://wa.me/?text=")
    assert hosts["facebook"].startswith("https://www.facebook.com/sharer/sharer.php?u=")
    assert hosts["x"].startswith("https://x.com/intent/post?text=")
    assert hosts["telegram"].startswith("https://t.me/share/url?url=")
    assert hosts["email"].startswith("mailto:?subject=")


def test_links_have_accessible_names_and_visible_focus(browser_page) -> None:
    page, _, _ = browser_page
    link = page.get_by_role("link", name="Auf WhatsApp teilen (öffnet in neuem Fenster)")
    assert link.count() == 1
    link.focus()
    outline = link.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline == "solid"


def test_copy_button_appears_with_javascript_and_copies(browser_page) -> None:
    page, _, _ = browser_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    button = page.locator("button.pub-copy")
    assert button.is_visible()
    button.click()
    page.wait_for_function("document.querySelector('[role=status]').textContent.length > 0")
    assert page.evaluate("navigator.clipboard.readText()") == ARTICLE.url

"""What the browser tests share (a pytest plugin): Debian's Chromium driven by Playwright, a
signed-in page at desktop or phone size that fails on any request leaving the desk, screenshots
in test-artifacts/desk/, and axe-core's WCAG 2.2 AA check."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = ROOT / "test-artifacts" / "desk"
BROWSER_PASSWORD = "correct horse battery"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
# WCAG 2.2 AA, as axe-core tags its rules.
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

NO_CHROMIUM = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on this machine: install Debian's chromium package (.ci/run does)",
)


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def open_desk(browser: Any, base: str, size: str = "desktop", name: str = "anna") -> Any:
    """A signed-in page of a fresh browser context at `size`; it fails the test if the desk
    loads anything from elsewhere."""
    context = browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    page.on(
        "request",
        lambda request: None if request.url.startswith(base) else pytest.fail(request.url),
    )
    page.goto(f"{base}/signin")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    return page


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def fits(page: Any) -> bool:
    """Whether the page needs no sideways scrolling."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def serious_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": WCAG}, "resultTypes": ["violations"]}
    results = Axe().run(page, options=options)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}×, e.g. {v['nodes'][0]['target']})"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]

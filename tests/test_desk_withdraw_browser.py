"""Withdrawing an article at the desk, walked in Chromium at desktop and phone size as an
approver does it: open the article, ask to withdraw it with a reason, read what becomes of
each post, confirm; the post out is then taken down and its article says so."""

from __future__ import annotations

import pytest

from publisher import roster
from publisher.articles import Article
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from tests.browser_helpers import NO_CHROMIUM, SIZES, fits, open_desk, serious_violations, shot
from tests.desk_helpers import state

pytestmark = NO_CHROMIUM


@pytest.mark.parametrize("size", SIZES)
def test_an_approver_withdraws_an_article_and_its_post_is_taken_down(
    newsroom, browser, size
) -> None:
    from playwright.sync_api import expect

    base, engine, settings = newsroom
    article = Article(
        id=f"wrong-{size}", url=f"https://e.de/wrong/{size}", headline=f"Falsche Zahlen {size}"
    )
    (post_id,) = queue.add(
        engine, settings, article, roster.chosen(settings, ["telegram"]), When(), queued_by="t"
    )
    dispatcher = Dispatcher(engine, settings)
    try:
        dispatcher.run_once()
        page = open_desk(browser, base, size)
        page.goto(f"{base}/posts/{post_id}")
        page.get_by_role("link", name="the article’s page").click()
        page.get_by_text("Withdraw the article …").click()
        page.get_by_label("Reason (it stands in each post's history)").fill("Zahlen falsch")
        page.get_by_role("button", name="Withdraw …").click()
        question = page.get_by_role("alertdialog")
        expect(question).to_contain_text(
            f"Telegram: post {post_id} is taken down from the platform."
        )
        assert state(engine, post_id) == "sent" and fits(page)
        assert serious_violations(page) == []
        shot(page, f"60-withdraw-question-{size}")
        page.get_by_role("button", name="Yes, withdraw it").click()
        expect(page.get_by_role("heading", name="Withdrawn")).to_be_visible()
        dispatcher.run_once()
        page.reload()
        expect(page.locator(".existing-posts")).to_contain_text("taken down")
        assert state(engine, post_id) == "taken_down" and fits(page)
        assert serious_violations(page) == []
        shot(page, f"61-withdrawn-taken-down-{size}")
    finally:
        dispatcher.close()

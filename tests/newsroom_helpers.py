"""A newsroom's desk for browser tests: five channels as a German newsroom has them (X planned
by slots and approved, Telegram without slots, a second X account, WhatsApp to 1,200 readers,
Facebook with its one slot always taken), served once per test module, with the editor's
ways into it (an article's page, a post queued behind the desk's back, the desk in German)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from publisher import roster
from publisher.articles import Article
from publisher.clock import utcnow
from publisher.config import ChannelSettings, DeskSettings, FetchSettings, Settings
from publisher.engine.audiences.subscribers import import_numbers
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.posts.users import add_user
from publisher.engine.storage.schema import posts
from publisher.engine.storage.store import open_engine
from publisher.web.app import create_app
from publisher.web.serving import ServerThread
from tests.browser_helpers import (
    BROWSER_PASSWORD,
    SIZES,
)

# The channels as the desk names them: by their platform, or by their own name where two share
# one (x and x_sport are both X).
LABELS = {
    "x": "x",
    "telegram": "Telegram",
    "x_sport": "x_sport",
    "whatsapp": "WhatsApp",
    "facebook": "Facebook",
}
READERS = [f"+49170{n:07d}" for n in range(1, 1201)]


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory, monkeypatch_module) -> Iterator[tuple[str, Engine, Settings]]:
    """Four channels as a newsroom has them: X planned by slots and approved, Telegram without
    slots, WhatsApp to 1,200 readers, Facebook with one slot that is always taken."""
    monkeypatch_module.setenv("PUBLISHER_SESSION_SECRET", "planning-session-secret-0123456789")
    database_url = f"sqlite:///{tmp_path_factory.mktemp('plan') / 'desk.db'}"
    engine = open_engine(database_url)
    channels = {
        "x": ChannelSettings(
            type="x", dry_run=True, approval=True, slots=["09:00", "12:00", "18:00"], min_gap=60
        ),
        "telegram": ChannelSettings(type="telegram", dry_run=True),
        # A second X account, for duplicates.
        "x_sport": ChannelSettings(type="x", dry_run=True),
        "whatsapp": ChannelSettings(
            type="whatsapp",
            dry_run=True,
            phone_number_id="1098",
            template={"name": "news_teaser", "body": "Neu bei News.de: *{{1}}* {{2}}"},
        ),
        # One post every 70 days: the one queued below keeps every slot of the month taken.
        "facebook": ChannelSettings(
            type="facebook", dry_run=True, slots=["08:00"], min_gap=100_000
        ),
    }
    settings = Settings(
        database_url=database_url,
        language="en",
        channels=channels,
        desk=DeskSettings(secure_cookies=False),
        # The pages pasted here are served by the test on this machine.
        fetch=FetchSettings(allow_private_networks=True),
    )
    add_user(engine, "anna", BROWSER_PASSWORD, "approver")
    add_user(engine, "ed", BROWSER_PASSWORD, "editor")
    import_numbers(engine, "whatsapp", READERS, "sign-up form")
    taken = Article(id="taken", url="https://e.de/taken", headline="Belegt")
    queue.add(
        engine, settings, taken, roster.chosen(settings, ["facebook"]), When(), queued_by="test"
    )
    server = ServerThread(create_app(engine, settings), "127.0.0.1", 0)
    server.start()
    yield f"http://127.0.0.1:{server.port}", engine, settings
    server.stop()
    engine.dispose()


def article_page(page: Any, base: str, number: int) -> None:
    """Take in an article (uploaded as Article JSON) and land on its page."""
    page.goto(f"{base}/")
    body = (
        f'{{"id": "plan-{number}", "url": "https://e.de/plan/{number}", '
        f'"headline": "Stadtrat beschließt Haushalt {number}", "bullets": ["Erster Punkt"]}}'
    )
    page.get_by_label("Article file (JSON, text or HTML)").set_input_files(
        {"name": "article.json", "mimeType": "application/json", "buffer": body.encode()}
    )
    page.get_by_role("button", name="Take in").click()
    page.wait_for_url(f"{base}/articles/*")


def only(page: Any, *channels: str) -> None:
    """Tick exactly these channels."""
    for name in LABELS:
        box = page.get_by_label(f"Post on {LABELS[name]}", exact=True)
        if name in channels:
            box.check()
        else:
            box.uncheck()


def posts_of(engine: Engine, number: int) -> Sequence[Any]:
    with engine.connect() as connection:
        return connection.execute(
            select(posts.c.channel, posts.c.due_at, posts.c.state)
            .where(posts.c.text.contains(f"Haushalt {number}"))
            .order_by(posts.c.channel)
        ).all()


def queued_on(engine: Engine, settings: Settings, number: int, channel: str) -> int:
    """An article queued on one channel behind the desk's back (the CMS, the bot): its post."""
    article = Article(
        id=f"plan-{number}",
        url=f"https://e.de/plan/{number}",
        headline=f"Stadtrat beschließt Haushalt {number}",
        bullets=["Erster Punkt"],
    )
    at = When("at", utcnow() + timedelta(days=1))
    (post_id,) = queue.add(
        engine, settings, article, roster.chosen(settings, [channel]), at, queued_by="test"
    )
    return post_id


@pytest.fixture(scope="module")
def german(newsroom) -> Iterator[str]:
    """The same newsroom's desk in German."""
    _, engine, settings = newsroom
    desk = settings.model_copy(update={"desk": DeskSettings(secure_cookies=False, language="de")})
    server = ServerThread(create_app(engine, desk), "127.0.0.1", 0)
    server.start()
    yield f"http://127.0.0.1:{server.port}"
    server.stop()


def open_german(browser: Any, base: str, size: str) -> Any:
    page = browser.new_context(viewport=SIZES[size], locale="de-DE").new_page()
    page.goto(f"{base}/signin")
    page.get_by_label("Name").fill("anna")
    page.get_by_label("Passwort").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{base}/")
    return page

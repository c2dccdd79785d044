"""Crash test of takedowns, on SQLite and PostgreSQL: an article whose 120 posts went out on a
Telegram channel is withdrawn, and two `publisher run` workers take the posts down while they
are killed with SIGKILL at random moments and restarted, against a stand-in that answers after a
random delay. Removing is idempotent, so a takedown whose worker died is simply tried again:
every post ends taken down, none is forgotten, and each has one removal in the log."""

from __future__ import annotations

import random
import time
from collections import Counter

import pytest
from sqlalchemy import select, update

from publisher.actions import Someone, withdraw_article
from publisher.articles import Article
from publisher.config import ChannelSettings, EngineSettings, Settings
from publisher.engine.storage.schema import amendments, articles, deliveries, posts
from publisher.engine.storage.store import open_engine
from standins.base import Answer, Call
from standins.telegram import TELEGRAM_TOKEN, TelegramStandIn
from tests.crash_helpers import kill_while_busy, queue_due_posts, start_worker

POSTS = 120
KILLS = 5

pytestmark = pytest.mark.slow


class SlowTelegram(TelegramStandIn):
    def respond(self, call: Call) -> Answer:
        time.sleep(random.uniform(0.002, 0.04))
        return super().respond(call)


def test_killed_workers_take_every_post_down_and_none_twice(database_url: str, tmp_path):
    telegram = SlowTelegram()
    config = tmp_path / "publisher.toml"
    config.write_text(
        f'database_url = "{database_url}"\n'
        "[engine]\nlease = 1.0\n"
        f'[channels.tg]\ntype = "telegram"\nchat_id = "@newsde"\napi_base = "{telegram.url}"\n'
        "concurrency = 4\n"
    )
    settings = Settings(
        database_url=database_url,
        engine=EngineSettings(lease=1.0),
        channels={"tg": ChannelSettings(type="telegram", chat_id="@newsde", api_base=telegram.url)},
    )
    queue_due_posts(database_url, "tg", "telegram", POSTS, {})
    engine = open_engine(database_url)
    now = int(time.time())
    with engine.begin() as connection:
        stored = Article(id="crash", url="https://e.de/crash", headline="Crash")
        connection.execute(update(articles).values(data=stored.to_json()))
        for post_id in connection.execute(select(posts.c.id)).scalars().all():
            telegram.sent[post_id] = now
            connection.execute(
                update(posts)
                .where(posts.c.id == post_id)
                .values(state="sent", remote_id=str(post_id))
            )
    withdraw_article(engine, settings, "crash", Someone("chefin", approver=True), "falsch")

    def busy() -> bool:
        with engine.connect() as connection:
            return (
                connection.execute(
                    select(amendments.c.post_id).where(amendments.c.state.in_(("due", "working")))
                ).first()
                is not None
            )

    try:
        kills = kill_while_busy(
            lambda: start_worker(config, TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN),
            busy,
            KILLS,
            20261208,
            120,
            (0.2, 0.6),
        )
    finally:
        telegram.close()
    with engine.connect() as connection:
        states = Counter(connection.execute(select(posts.c.state)).scalars().all())
        ids = set(connection.execute(select(posts.c.id)).scalars())
        outcomes = connection.execute(
            select(deliveries.c.post_id, deliveries.c.outcome).where(
                deliveries.c.action == "remove"
            )
        ).all()
    removed = Counter(post_id for post_id, outcome in outcomes if outcome == "removed")
    finished = {post_id for post_id, outcome in outcomes if outcome in ("removed", "already_gone")}
    engine.dispose()
    assert kills == KILLS
    assert states == {"taken_down": POSTS}, states
    assert telegram.sent == {}, "a message was left standing"
    # At most one call found each post there to remove; a call made again after a kill (the
    # first one's answer lost with its worker) finds it gone.
    assert max(removed.values()) == 1 and finished == ids

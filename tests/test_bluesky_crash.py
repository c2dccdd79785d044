"""Crash test of a Bluesky channel, on SQLite and PostgreSQL: 150 posts go out through two
`publisher run` workers killed with SIGKILL at random moments and restarted, against a PDS
stand-in answering after a random delay. Because every attempt looks under the post's record key
first, a post whose worker died mid-call goes back to the queue instead of becoming unclear:
every post ends sent, exactly once."""

from __future__ import annotations

import random
import time
from collections import Counter

import pytest
from sqlalchemy import select

from publisher.engine.storage.schema import posts
from publisher.engine.storage.store import open_engine
from standins.base import Answer, Call
from standins.bluesky import APP_PASSWORD, HANDLE, BlueskyStandIn
from tests.crash_helpers import kill_while_busy, open_posts, queue_due_posts, start_worker

POSTS = 150
KILLS = 5

pytestmark = pytest.mark.slow


class SlowPds(BlueskyStandIn):
    def respond(self, call: Call) -> Answer:
        time.sleep(random.uniform(0.002, 0.04))
        return super().respond(call)


def test_killed_workers_leave_no_bluesky_post_twice_or_unclear(database_url: str, tmp_path):
    pds = SlowPds()
    config = tmp_path / "publisher.toml"
    config.write_text(
        f'database_url = "{database_url}"\n'
        "[engine]\nlease = 1.0\n"
        f'[channels.sky]\ntype = "bluesky"\nhandle = "{HANDLE}"\napi_base = "{pds.url}"\n'
        "card = false\nconcurrency = 4\ntimeout = 5.0\n"
    )
    queue_due_posts(database_url, "sky", "bluesky", POSTS, {"link": "https://e.de/crash"})
    engine = open_engine(database_url)
    try:
        kills = kill_while_busy(
            lambda: start_worker(config, BLUESKY_APP_PASSWORD=APP_PASSWORD),
            lambda: bool(open_posts(engine)),
            KILLS,
            20261126,
            120,
            (0.2, 0.6),
        )
    finally:
        pds.close()
    with engine.connect() as connection:
        states = Counter(connection.execute(select(posts.c.state)).scalars().all())
    engine.dispose()
    texts = Counter(record["text"] for record in pds.posted())
    assert states == {"sent": POSTS}, states
    assert len(texts) == POSTS and max(texts.values()) == 1
    print(f"\nBluesky crash test: {POSTS} sent once each, {kills} kills")

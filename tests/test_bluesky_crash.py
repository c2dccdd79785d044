"""Crash test of a Bluesky channel, on SQLite and PostgreSQL: 150 posts go out through two
`publisher run` workers killed with SIGKILL at random moments and restarted, against a PDS
stand-in answering after a random delay. Because every attempt looks under the post's record key
first, a post whose worker died mid-call goes back to the queue instead of becoming unclear:
every post ends sent, exactly once."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from publisher.engine.schema import articles, posts
from publisher.engine.store import open_engine
from standins.base import Answer, Call
from standins.bluesky import APP_PASSWORD, HANDLE, BlueskyStandIn
from tests.conftest import ROOT
from tests.crash_helpers import kill_while_busy

POSTS = 150
KILLS = 5

pytestmark = pytest.mark.slow


class SlowPds(BlueskyStandIn):
    def respond(self, call: Call) -> Answer:
        time.sleep(random.uniform(0.002, 0.04))
        return super().respond(call)


def _queue(database_url: str) -> None:
    engine = open_engine(database_url)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        article_id = connection.execute(
            insert(articles).values(
                key="crash", url="https://e.de/crash", headline="Crash", data={},
                created_at=now, updated_at=now,
            )
        ).inserted_primary_key[0]  # fmt: skip
        connection.execute(
            insert(posts),
            [
                {
                    "article_id": article_id, "channel": "sky", "channel_type": "bluesky",
                    "text": f"Post {n} e.de/crash", "link": "https://e.de/crash",
                    "fields": {"link": "https://e.de/crash"}, "state": "queued", "due_at": now,
                    "attempts": 0, "retries": 0, "queued_by": "crash-test", "edited": False,
                    "created_at": now, "updated_at": now,
                }
                for n in range(POSTS)
            ],
        )  # fmt: skip
    engine.dispose()


def _start(config: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "publisher", "--config", str(config), "run"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={
            "PATH": "/usr/bin:/bin",
            "BLUESKY_APP_PASSWORD": APP_PASSWORD,
            "PYTHONPATH": str(ROOT),
        },
    )


def test_killed_workers_leave_no_bluesky_post_twice_or_unclear(database_url: str, tmp_path):
    pds = SlowPds()
    config = tmp_path / "publisher.toml"
    config.write_text(
        f'database_url = "{database_url}"\n'
        "[engine]\nlease = 1.0\n"
        f'[channels.sky]\ntype = "bluesky"\nhandle = "{HANDLE}"\napi_base = "{pds.url}"\n'
        "card = false\nconcurrency = 4\ntimeout = 5.0\n"
    )
    _queue(database_url)
    engine = open_engine(database_url)

    def open_count() -> int:
        with engine.connect() as connection:
            return connection.execute(
                select(func.count()).where(posts.c.state.in_(("queued", "sending")))
            ).scalar_one()

    try:
        kills = kill_while_busy(
            lambda: _start(config), lambda: bool(open_count()), KILLS, 20261126, 120, (0.2, 0.6)
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

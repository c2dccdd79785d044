"""Crash test: two `publisher run` workers on PostgreSQL deliver 1,200 due posts to a stand-in
platform that answers after a random delay, while workers are killed with SIGKILL at random
moments and restarted. Every post ends sent or uncertain; none is sent twice; none is lost."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from publisher.engine.storage.schema import posts
from publisher.engine.storage.store import open_engine
from tests.conftest import TEST_DATABASE_ENV
from tests.crash_helpers import (
    CountingPlatform,
    kill_while_busy,
    open_posts,
    queue_due_posts,
    start_worker,
)

POSTS = 1200
KILLS = 12

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get(TEST_DATABASE_ENV), reason="needs PostgreSQL"),
]


def test_killed_workers_never_send_twice_and_lose_nothing(
    database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the crash test runs on PostgreSQL")
    # The webhook's body carries the post's id: what each post received is counted by it.
    stand_in = CountingPlatform(
        lambda body: body["post_id"], lambda body, _: {"id": f"r{body['post_id']}"}, (0.001, 0.03)
    )
    config = tmp_path / "publisher.toml"
    config.write_text(
        f'database_url = "{database_url}"\n'
        "[engine]\nlease = 2.0\nbatch = 50\nthreads = 8\n"
        f'[channels.hook]\ntype = "webhook"\nurl = "{stand_in.url}/hook"\n'
        "concurrency = 8\ntimeout = 5.0\n"
    )
    queue_due_posts(database_url, "hook", "webhook", POSTS, {})
    engine = open_engine(database_url)
    try:
        kills = kill_while_busy(
            lambda: start_worker(config),
            lambda: bool(open_posts(engine)),
            KILLS,
            20261125,
            240,
            (0.1, 0.6),
        )
    finally:
        stand_in.httpd.shutdown()

    with engine.connect() as connection:
        final = dict(connection.execute(select(posts.c.id, posts.c.state)).all())
    engine.dispose()
    states = Counter(final.values())
    assert kills == KILLS
    assert set(states) <= {"sent", "uncertain"}, states
    assert len(final) == POSTS
    assert max(stand_in.received.values()) == 1
    assert all(stand_in.received[i] == 1 for i, state in final.items() if state == "sent")
    assert set(stand_in.received) <= set(final)
    print(f"\ncrash test: {states['sent']} sent, {states['uncertain']} uncertain, {kills} kills")

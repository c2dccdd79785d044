"""Crash test: two `publisher run` workers on PostgreSQL deliver 1,200 due posts to a stand-in
platform that answers after a random delay, while workers are killed with SIGKILL at random
moments and restarted. Every post ends sent or uncertain; none is sent twice; none is lost."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from publisher.engine.schema import articles, posts
from publisher.engine.store import open_engine
from standins.base import QuietServer
from tests.conftest import ROOT, TEST_DATABASE_ENV
from tests.crash_helpers import kill_while_busy

POSTS = 1200
KILLS = 12

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get(TEST_DATABASE_ENV), reason="needs PostgreSQL"),
]


class StandIn:
    """A platform that takes a while to answer and counts what it received per post."""

    def __init__(self) -> None:
        self.received: Counter[int] = Counter()
        lock = threading.Lock()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    received[body["post_id"]] += 1
                time.sleep(random.uniform(0.001, 0.03))
                answer = json.dumps({"id": f"r{body['post_id']}"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"


def _queue_due_posts(database_url: str) -> None:
    engine = open_engine(database_url)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        article_id = connection.execute(
            insert(articles).values(
                key="crash",
                url="https://e.de/crash",
                headline="Crash",
                data={},
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]
        connection.execute(
            insert(posts),
            [
                {
                    "article_id": article_id,
                    "channel": "hook",
                    "channel_type": "webhook",
                    "text": f"Post {n}",
                    "link": "https://e.de/crash",
                    "fields": {},
                    "state": "queued",
                    "due_at": now,
                    "attempts": 0,
                    "retries": 0,
                    "queued_by": "crash-test",
                    "edited": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(POSTS)
            ],
        )
    engine.dispose()


def _start(config: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "publisher", "--config", str(config), "run"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_killed_workers_never_send_twice_and_lose_nothing(
    database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the crash test runs on PostgreSQL")
    stand_in = StandIn()
    config = tmp_path / "publisher.toml"
    config.write_text(
        f'database_url = "{database_url}"\n'
        "[engine]\nlease = 2.0\nbatch = 50\nthreads = 8\n"
        f'[channels.hook]\ntype = "webhook"\nurl = "{stand_in.url}"\n'
        "concurrency = 8\ntimeout = 5.0\n"
    )
    _queue_due_posts(database_url)
    engine = open_engine(database_url)

    def open_count() -> int:
        with engine.connect() as connection:
            return connection.execute(
                select(func.count()).where(posts.c.state.in_(("queued", "sending")))
            ).scalar_one()

    try:
        kills = kill_while_busy(
            lambda: _start(config), lambda: bool(open_count()), KILLS, 20261125, 240, (0.1, 0.6)
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

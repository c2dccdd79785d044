"""What the crash tests share: two `publisher run` workers killed with SIGKILL at random moments
and restarted while there is work, then stopped; a slow platform that counts what it received;
due posts queued straight into the store."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select

from publisher.engine.storage.schema import articles, posts
from publisher.engine.storage.store import open_engine
from standins.base import QuietServer
from tests.conftest import ROOT


class CountingPlatform:
    """A platform on 127.0.0.1 that answers every POST after a random delay (`delay` seconds)
    with `answer(body, count)`, counting the requests per `key(body)` as they arrive."""

    def __init__(
        self,
        key: Callable[[dict[str, Any]], Hashable],
        answer: Callable[[dict[str, Any], int], dict[str, Any]],
        delay: tuple[float, float],
    ) -> None:
        self.received: Counter[Hashable] = Counter()
        lock = threading.Lock()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    received[key(body)] += 1
                    count = sum(received.values())
                time.sleep(random.uniform(*delay))
                payload = json.dumps(answer(body, count)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"


def start_worker(config: Path, **secrets: str) -> subprocess.Popen:
    """`publisher run` with `config`, the channel's secrets its only environment."""
    return subprocess.Popen(
        [sys.executable, "-m", "publisher", "--config", str(config), "run"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **secrets},
    )


def queue_due_posts(
    database_url: str, channel: str, channel_type: str, count: int, fields: dict[str, Any]
) -> None:
    """`count` posts of one article on `channel`, due now, written straight into the store."""
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
                    "article_id": article_id, "channel": channel, "channel_type": channel_type,
                    "text": f"Post {n} e.de/crash", "link": "https://e.de/crash",
                    "fields": fields, "state": "queued", "due_at": now, "attempts": 0,
                    "retries": 0, "queued_by": "crash-test", "edited": False,
                    "created_at": now, "updated_at": now,
                }
                for n in range(count)
            ],
        )  # fmt: skip
    engine.dispose()


def open_posts(engine: Engine) -> int:
    """How many posts are still queued or being sent."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).where(posts.c.state.in_(("queued", "sending")))
            ).scalar_one()
        )


def kill_while_busy(
    start: Callable[[], subprocess.Popen],
    busy: Callable[[], bool],
    kills: int,
    seed: int,
    seconds: float,
    pause: tuple[float, float] = (0.2, 0.6),
) -> int:
    """Run two workers from `start`, kill one at random every `pause` seconds (at most `kills`
    times, restarting it) while `busy` and for at most `seconds`; stop both; how many kills."""
    rng = random.Random(seed)
    workers = [start(), start()]
    done = 0
    deadline = time.monotonic() + seconds
    try:
        while busy() and time.monotonic() < deadline:
            time.sleep(rng.uniform(*pause))
            if done < kills:
                victim = rng.randrange(len(workers))
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                workers[victim] = start()
                done += 1
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
    return done

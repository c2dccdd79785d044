"""`publisher run` with the webhook and a feed enabled, all four adapters pointed at their
platforms' stand-ins: a signed release and a new feed item reach every platform within seconds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from publisher.web.signing import sign
from standins.base import free_port
from standins.config import channels_toml
from standins.graph import GraphStandIn
from standins.telegram import TelegramStandIn
from standins.x import XStandIn
from tests.conftest import ROOT, LocalServer, wait_for
from tests.test_feedwatch import Feed

SECRET = "whsec-live-5521"


@pytest.fixture
def worker(
    tmp_path: Path,
    x_api: XStandIn,
    graph_api: GraphStandIn,
    telegram_api: TelegramStandIn,
    credentials,
    server: LocalServer,
) -> Iterator[tuple[str, Feed]]:
    feed = Feed(server)
    feed.add(1)
    port = free_port()
    (tmp_path / "publisher.toml").write_text(
        f"[serve]\nenabled = true\nport = {port}\n"
        "[fetch]\nallow_private_networks = true\n"
        f'[feeds.news]\nurl = "{feed.url}"\nevery = 1\nfetch_pages = false\n'
        + channels_toml(x_api, graph_api, telegram_api)
    )
    with publisher_run(tmp_path, port) as base:
        yield base, feed


@contextmanager
def publisher_run(cwd: Path, port: int, env: dict[str, str] | None = None) -> Iterator[str]:
    """`publisher run` in `cwd` (its configuration serving on `port`), with the webhook's
    secret and `env`; the desk's address once it answers. It is stopped with SIGTERM and must
    stop cleanly; killed whatever happens."""
    # What the worker logs goes to a file: a pipe nobody reads fills up and stops it mid-write,
    # and then it cannot stop when asked.
    log = cwd / "run.log"
    environment = os.environ | (env or {}) | {"PYTHONPATH": str(ROOT)}
    with log.open("w") as written:
        process = subprocess.Popen(
            [sys.executable, "-m", "publisher", "run"],
            cwd=cwd,
            env=environment | {"PUBLISHER_WEBHOOK_SECRET": SECRET},
            stdout=subprocess.DEVNULL,
            stderr=written,
        )
        base = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                return requests.get(f"{base}/healthz", timeout=1).ok
            except requests.ConnectionError:
                return False

        try:
            wait_for(healthy, seconds=15)
            yield base
            process.send_signal(signal.SIGTERM)
            assert process.wait(15) == 0, log.read_text()[-3000:]
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def release(base: str, article: dict) -> requests.Response:
    body = json.dumps(article).encode()
    timestamp = int(time.time())
    return requests.post(
        f"{base}/hooks/articles",
        data=body,
        headers={
            "X-Publisher-Timestamp": str(timestamp),
            "X-Publisher-Signature": sign(SECRET, timestamp, body),
        },
        timeout=10,
    )


def test_signed_release_reaches_all_four_platforms(worker, x_api, graph_api, telegram_api) -> None:
    base, _ = worker
    article = {"id": "cms-9", "url": "https://e.de/eilmeldung", "headline": "Eilmeldung"}
    assert release(base, article).status_code == 202
    assert wait_for(
        lambda: (
            x_api.posts("/2/tweets")
            and graph_api.posts("/feed")
            and graph_api.posts("/messages")
            and telegram_api.posts("/sendMessage")
        )
    )
    assert "Eilmeldung" in x_api.posts("/2/tweets")[0].json["text"]


def test_new_feed_item_reaches_the_platforms(worker, x_api, telegram_api) -> None:
    _, feed = worker
    assert wait_for(lambda: len(feed.requests) >= 1)
    feed.add(2)
    # The channels are sent in parallel: either may be last.
    assert wait_for(lambda: telegram_api.posts("/sendMessage") and x_api.posts("/2/tweets"))
    texts = [c.json["text"] for c in x_api.posts("/2/tweets")]
    assert all("guid-2" in text for text in texts)

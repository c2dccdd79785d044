"""Crash test of a WhatsApp fan-out, on SQLite and PostgreSQL: one post to 400 subscribers goes
out through two `publisher run` workers that are killed with SIGKILL at random moments and
restarted, against a Cloud API stand-in answering after a random delay. No number gets the
post twice; every number either got it or its delivery is unclear (in flight at a kill)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from publisher.engine.audiences.subscribers import import_numbers
from publisher.engine.storage.schema import deliveries, posts
from publisher.engine.storage.store import open_engine
from standins.graph import GRAPH_TOKEN
from tests.conftest import ROOT
from tests.crash_helpers import CountingPlatform, kill_while_busy, start_worker

SUBSCRIBERS = 400
KILLS = 5

pytestmark = pytest.mark.slow


def test_killed_workers_never_message_a_subscriber_twice(database_url: str, tmp_path: Path):
    # The Cloud API's messages endpoint: what each number received is counted by number.
    api = CountingPlatform(
        lambda body: body["to"],
        lambda _, count: {"messages": [{"id": f"wamid.{count}"}]},
        (0.005, 0.06),
    )
    config = tmp_path / "publisher.toml"
    config.write_text(
        f'database_url = "{database_url}"\n'
        "[engine]\nlease = 1.0\n"
        f'[channels.wa]\ntype = "whatsapp"\napi_base = "{api.url}"\n'
        'phone_number_id = "1098765"\nmps = 150\ntimeout = 5.0\n'
    )
    engine = open_engine(database_url)
    numbers = [f"+49170{n:07d}" for n in range(SUBSCRIBERS)]
    import_numbers(engine, "wa", "\n".join(numbers), "crash test")
    article = tmp_path / "article.json"
    article.write_text('{"url": "https://e.de/crash", "headline": "Eilmeldung", "bullets": []}')
    subprocess.run(
        [sys.executable, "-m", "publisher", "--config", str(config), "queue", "add", str(article)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )

    def state() -> str:
        with engine.connect() as connection:
            return connection.execute(select(posts.c.state)).scalar_one()

    try:
        kills = kill_while_busy(
            lambda: start_worker(config, WHATSAPP_TOKEN=GRAPH_TOKEN),
            lambda: state() in ("queued", "sending"),
            KILLS,
            20261126,
            120,
            (0.2, 0.7),
        )
    finally:
        api.httpd.shutdown()

    with engine.connect() as connection:
        outcomes = dict(
            connection.execute(
                select(deliveries.c.recipient, func.max(deliveries.c.outcome)).group_by(
                    deliveries.c.recipient
                )
            ).all()
        )
        per_number = Counter(connection.execute(select(deliveries.c.recipient)).scalars().all())
    final = state()
    engine.dispose()
    assert final == "sent", final
    assert max(api.received.values()) == 1
    assert max(per_number.values()) == 1
    assert set(outcomes) == set(numbers)
    assert all(api.received[n] == 1 for n, outcome in outcomes.items() if outcome == "sent")
    unclear = sum(1 for outcome in outcomes.values() if outcome == "uncertain")
    print(f"\nfan-out crash test: {len(api.received)} reached, {unclear} unclear, {kills} kills")

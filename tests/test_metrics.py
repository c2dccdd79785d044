"""What `publisher run` exports to Prometheus, read as a scrape reads it: posts by state, and
what a monitor alerts on (paused channels, failing feeds)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import requests
from prometheus_client import generate_latest
from sqlalchemy import Engine, insert

from publisher import roster
from publisher.cli.engine import worker_health
from publisher.clock import utcnow
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.delivery.scheduler import Daemon
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.posts.pauses import pause_channel
from publisher.engine.storage.schema import feeds
from publisher.engine.storage.store import open_engine
from publisher.metrics import Metrics
from standins.base import free_port
from tests.conftest import ROOT, wait_for
from tests.engine_helpers import article, make_settings


def scraped(engine: Engine) -> str:
    return generate_latest(Metrics(engine).registry).decode()


def test_posts_are_counted_by_channel_and_state(engine: Engine, database_url: str) -> None:
    settings = make_settings(database_url)
    queue.add(
        engine, settings, article(), roster.chosen(settings, ["log"]), When(), queued_by="test"
    )
    assert 'publisher_posts{channel="log",state="queued"} 1.0' in scraped(engine)


def test_a_paused_channel_is_there_to_alert_on_with_its_cause(engine: Engine) -> None:
    with engine.begin() as connection:
        pause_channel(connection, "x_main", "token expired", "credentials", utcnow())
    assert 'publisher_channel_paused{cause="credentials",channel="x_main"} 1.0' in scraped(engine)


def test_a_failing_feed_is_there_to_alert_on(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(insert(feeds).values(name="news", url="https://e.de/rss", failures=4))
    assert 'publisher_feed_failures{feed="news"} 4.0' in scraped(engine)


def _daemon(engine: Engine, database_url: str) -> Daemon:
    settings = make_settings(database_url)
    return Daemon(engine, settings, Dispatcher(engine, settings))


def test_a_worker_whose_loop_runs_and_database_answers_is_healthy(
    engine: Engine, database_url: str
) -> None:
    daemon = _daemon(engine, database_url)
    daemon.clock.last_tick = utcnow()
    assert worker_health(daemon) is None


def test_a_worker_whose_loop_stopped_coming_round_is_unhealthy(
    engine: Engine, database_url: str
) -> None:
    daemon = _daemon(engine, database_url)
    daemon.clock.last_tick = utcnow() - timedelta(minutes=10)
    assert "loop last ran" in (worker_health(daemon) or "")


def test_a_worker_whose_database_does_not_answer_is_unhealthy(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'p.db'}")
    daemon = _daemon(engine, f"sqlite:///{tmp_path / 'p.db'}")
    engine.dispose()
    (tmp_path / "p.db").unlink()
    (tmp_path / "p.db").mkdir()  # what was the database cannot be opened as one
    assert worker_health(daemon) == "the database does not answer"


def test_the_metrics_port_answers_the_workers_health_beside_the_metrics(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "publisher.toml").write_text('[channels.log]\ntype = "log"\n')
    worker = subprocess.Popen(
        [sys.executable, "-m", "publisher", "run", "--metrics-port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        health = wait_for(lambda: _get(base + "/healthz"))
        scrape = requests.get(base + "/metrics", timeout=5).text
    finally:
        worker.terminate()
        try:
            # A worker stopping finishes its loop's round first, which a busy machine slows.
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    assert (health.status_code, health.json()) == (200, {"ok": True})
    assert "publisher_deliveries" in scrape


def _get(url: str) -> requests.Response | None:
    try:
        return requests.get(url, timeout=5)
    except requests.ConnectionError:
        return None

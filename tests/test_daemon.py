"""`publisher run`: wakes when posts fall due, notices posts queued by other processes, and stops
cleanly on SIGTERM, finishing what is in flight."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from datetime import timedelta
from functools import partial
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from publisher import roster
from publisher.clock import utcnow
from publisher.config import FeedSettings, FetchSettings
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.delivery.scheduler import Daemon
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.storage.store import open_engine
from tests.conftest import ROOT, LocalServer, wait_for
from tests.engine_helpers import article, delivery_rows, make_settings, post


def slow_poll(database_url: str):
    """Settings whose worker looks at the queue by itself only every 30 s: within seconds,
    only a wake-up makes it look."""
    settings = make_settings(database_url)
    return settings.model_copy(
        update={"engine": settings.engine.model_copy(update={"watch_interval": 30.0})}
    )


def seconds_to_send(engine: Engine, other: Engine, settings) -> float:
    """How long a post queued through another connection takes to go out."""
    (post_id,) = queue.add(
        other, settings, article(), roster.chosen(settings, ["log"]), When(), queued_by="test"
    )
    started = time.monotonic()
    wait_for(lambda: post(engine, post_id).state == "sent", seconds=10)
    return time.monotonic() - started


def is_sent(engine: Engine, post_id: int) -> bool:
    return post(engine, post_id).state == "sent"


def test_daemon_sends_a_post_when_it_falls_due(engine: Engine, database_url: str) -> None:
    settings = make_settings(database_url)
    channels = roster.chosen(settings, ["log"])
    due = utcnow() + timedelta(seconds=0.5)
    post_id = queue.add(engine, settings, article(), channels, When("at", due), queued_by="test")[0]
    daemon = Daemon(engine, settings, Dispatcher(engine, settings))
    daemon.start()
    try:
        wait_for(lambda: post(engine, post_id).state == "sent")
    finally:
        daemon.stop()
    (delivery,) = delivery_rows(engine, post_id)
    # Without a wake-up at the due time the daemon would sleep its full minute (MAX_SLEEP); the
    # margin is for a busy machine, not a measure of punctuality (see bench/).
    assert timedelta(0) <= delivery.started_at - due < timedelta(seconds=5)


def test_sigterm_finishes_the_call_in_flight_and_leaves_the_rest_queued(
    tmp_path: Path, server: LocalServer
) -> None:
    def slow(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(1.0)
        handler.send_response(200)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    server.routes["/hook"] = slow
    database_url = f"sqlite:///{tmp_path / 'run.db'}"
    config = tmp_path / "publisher.toml"
    config.write_text(
        f'database_url = "{database_url}"\n[channels.hook]\ntype = "webhook"\n'
        f'url = "{server.base}/hook"\nconcurrency = 1\n'
    )
    settings = make_settings(
        database_url, hook={"type": "webhook", "url": server.base + "/hook", "concurrency": 1}
    )
    from publisher.engine.storage.store import open_engine

    engine = open_engine(database_url)
    channels = roster.chosen(settings, ["hook"])
    ids = [
        queue.add(engine, settings, article(n), channels, When(), queued_by="test")[0]
        for n in range(3)
    ]
    worker = subprocess.Popen(
        [sys.executable, "-m", "publisher", "--config", str(config), "run"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: len(server.received) == 1)
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=10)
    finally:
        worker.kill()
    assert worker.returncode == 0, stderr
    assert "stopped" in stderr
    assert [post(engine, i).state for i in ids] == ["sent", "queued", "queued"]
    engine.dispose()


def test_ctrl_c_says_what_it_waits_for_and_a_second_stops_at_once(
    tmp_path: Path, server: LocalServer
) -> None:
    def stuck(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(8.0)

    server.routes["/hook"] = stuck
    database_url = f"sqlite:///{tmp_path / 'run.db'}"
    config = tmp_path / "publisher.toml"
    config.write_text(
        f'database_url = "{database_url}"\n[channels.hook]\ntype = "webhook"\n'
        f'url = "{server.base}/hook"\ntimeout = 10\n'
    )
    settings = make_settings(database_url, hook={"type": "webhook", "url": server.base + "/hook"})
    from publisher.engine.storage.store import open_engine

    engine = open_engine(database_url)
    queue.add(
        engine, settings, article(), roster.chosen(settings, ["hook"]), When(), queued_by="test"
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "publisher", "--config", str(config), "run"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: len(server.received) == 1)
        worker.send_signal(signal.SIGINT)
        line = ""
        while "waiting for" not in line:
            line = worker.stderr.readline()
        worker.send_signal(signal.SIGINT)
        started = time.monotonic()
        _, rest = worker.communicate(timeout=30)
        stopped_after = time.monotonic() - started
    finally:
        worker.kill()
    engine.dispose()
    assert "waiting for 1 post being sent (up to 30 s); press Ctrl-C again" in line
    assert "stopped at once" in rest
    assert stopped_after < 2 and worker.returncode == 128 + signal.SIGINT


def test_a_change_by_another_connection_is_seen_at_once_not_at_the_next_poll(
    engine: Engine, database_url: str
) -> None:
    settings = slow_poll(database_url)
    daemon = Daemon(engine, settings, Dispatcher(engine, settings))
    daemon.start()
    other = open_engine(database_url)
    try:
        # Once it has looked at the queue, only a wake-up makes it look again within 30 s.
        wait_for(lambda: daemon.clock.last_tick is not None)
        # The next poll is 30 s away; the margin is for a busy machine.
        assert seconds_to_send(engine, other, settings) < 5
    finally:
        daemon.stop()
        other.dispose()


def test_no_wake_up_is_lost_when_posts_arrive_one_after_another(
    engine: Engine, database_url: str
) -> None:
    # The database poll 30 s away: each post goes out within seconds only if its wake-up
    # arrived (a timing margin for a busy machine, not a measure of speed: see bench/).
    settings = slow_poll(database_url)
    daemon = Daemon(engine, settings, Dispatcher(engine, settings))
    daemon.start()
    other = open_engine(database_url)
    channels = roster.chosen(settings, ["log"])
    try:
        wait_for(lambda: daemon.clock.last_tick is not None)
        for number in range(30):
            (post_id,) = queue.add(
                other, settings, article(number), channels, When(), queued_by="test"
            )
            wait_for(partial(is_sent, engine, post_id), seconds=5)
    finally:
        daemon.stop()
        other.dispose()


def test_a_sender_thread_failing_unexpectedly_is_logged_and_the_daemon_goes_on(
    engine: Engine, database_url: str, caplog, monkeypatch
) -> None:
    settings = make_settings(database_url)
    channels = roster.chosen(settings, ["log"])
    dispatcher = Dispatcher(engine, settings)
    broken = queue.add(engine, settings, article(1), channels, When(), queued_by="test")[0]
    deliver = dispatcher.deliver

    def deliver_unless_broken(claimed):
        if claimed.post_id == broken:
            raise RuntimeError("a bug of ours")
        return deliver(claimed)

    monkeypatch.setattr(dispatcher, "deliver", deliver_unless_broken)
    daemon = Daemon(engine, settings, dispatcher)
    daemon.start()
    try:
        wait_for(lambda: "a bug of ours" in caplog.text)
        later = queue.add(engine, settings, article(2), channels, When(), queued_by="test")[0]
        wait_for(lambda: post(engine, later).state == "sent")
    finally:
        daemon.stop()
    assert f"post {broken}: sending failed unexpectedly" in caplog.text


def _listening_backend(daemon: Daemon) -> int | None:
    listening = daemon.wakes.listening
    try:
        return listening.driver_connection.info.backend_pid if listening is not None else None
    except Exception:  # between a connection gone and the next
        return None


def test_a_worker_cut_off_from_the_database_listens_again_once_it_answers(
    engine: Engine, database_url: str
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's LISTEN is what is cut")
    settings = slow_poll(database_url)
    daemon = Daemon(engine, settings, Dispatcher(engine, settings))
    daemon.start()
    other = open_engine(database_url)
    try:
        wait_for(lambda: daemon.clock.last_tick is not None)
        cut = _listening_backend(daemon)
        with other.begin() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": cut})
        wait_for(lambda: _listening_backend(daemon) not in (None, cut), seconds=10)
        # The next poll is 30 s away: only a notification heard again sends it this soon.
        assert seconds_to_send(engine, other, settings) < 5
    finally:
        daemon.stop()
        other.dispose()


def test_a_job_that_falls_behind_is_told_once_with_how_long_its_run_takes(
    engine: Engine, database_url: str, server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    def slow_feed(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(3.5)
        handler.send_response(304)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    server.routes["/feed"] = slow_feed
    settings = make_settings(database_url).model_copy(
        update={
            "feeds": {"wire": FeedSettings(url=f"{server.base}/feed", every=1)},
            "fetch": FetchSettings(allow_private_networks=True),
        }
    )
    daemon = Daemon(engine, settings, Dispatcher(engine, settings))
    caplog.set_level(logging.INFO)
    daemon.start()
    try:
        wait_for(lambda: any("caught up" in r.getMessage() for r in caplog.records), seconds=10)
    finally:
        daemon.stop()
    told = [r.getMessage() for r in caplog.records if "fell behind" in r.getMessage()]
    assert len(told) == 1 and told[0].startswith("polling feed wire fell behind: its run has taken")
    assert "meant to run every 1 s" in told[0]
    assert not [r for r in caplog.records if "maximum number of running" in r.getMessage()]

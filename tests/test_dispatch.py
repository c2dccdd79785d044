"""Claim, send, record on SQLite and PostgreSQL, through the log channel and a webhook channel
talking to a real local HTTP server: outcomes, retries, rate limits, pauses and leases."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler

import pytest
from sqlalchemy import Engine

from publisher import roster
from publisher.channels import ChannelError
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.lifecycle import backoff
from publisher.engine.planning.slots import TimeError, When
from publisher.engine.posts import queue, verbs
from tests.conftest import LocalServer
from tests.engine_helpers import article, delivery_rows, make_settings, post


def queue_posts(engine: Engine, settings, count: int = 1, channel: str = "hook") -> list[int]:
    channels = roster.chosen(settings, [channel])
    ids = []
    for number in range(count):
        ids += queue.add(engine, settings, article(number), channels, When(), queued_by="test")
    return ids


def hook_settings(database_url: str, url: str, **options) -> Settings:
    return make_settings(database_url, hook={"type": "webhook", "url": url, **options})


def test_log_channel_delivers_and_records_what_would_have_been_sent(
    engine: Engine, database_url: str
) -> None:
    settings = make_settings(database_url)
    post_id = queue_posts(engine, settings, channel="log")[0]
    Dispatcher(engine, settings).run_once()
    row, (delivery,) = post(engine, post_id), delivery_rows(engine, post_id)
    assert (row.state, row.remote_id, delivery.outcome) == ("sent", f"log-{post_id}", "sent")
    assert delivery.payload["text"] == row.text


def test_dry_run_channel_keeps_its_platform_text_but_sends_nothing(
    engine: Engine, database_url: str, telegram_api, credentials
) -> None:
    settings = make_settings(
        database_url,
        tg={
            "type": "telegram",
            "dry_run": True,
            "api_base": telegram_api.url,
            "chat_id": "@newsde",
        },
    )
    post_id = queue_posts(engine, settings, channel="tg")[0]
    Dispatcher(engine, settings).run_once()
    assert post(engine, post_id).state == "sent"
    assert post(engine, post_id).text.startswith("<b>")
    assert telegram_api.calls == []


def test_webhook_success_records_remote_id_and_permalink(
    engine: Engine, database_url: str, server: LocalServer
) -> None:
    url = server.answer("/hook", 200, b'{"id": "r-1", "url": "https://social.example/r-1"}')
    settings = hook_settings(database_url, url)
    post_id = queue_posts(engine, settings)[0]
    Dispatcher(engine, settings).run_once()
    row = post(engine, post_id)
    assert (row.state, row.remote_id, row.permalink) == (
        "sent",
        "r-1",
        "https://social.example/r-1",
    )
    body = json.loads(server.received[0][2])
    assert (body["post_id"], body["text"]) == (post_id, row.text)
    assert server.received[0][1]["Idempotency-Key"] == f"publisher-post-{post_id}"


def test_transient_error_is_retried_later_with_backoff(
    engine: Engine, database_url: str, server: LocalServer
) -> None:
    settings = hook_settings(database_url, server.answer("/hook", 503), retry_base=30)
    post_id = queue_posts(engine, settings)[0]
    before = utcnow()
    Dispatcher(engine, settings).run_once()
    row = post(engine, post_id)
    assert (row.state, row.retries, row.error_class) == ("queued", 1, "transient")
    assert before + timedelta(seconds=15) <= row.due_at <= utcnow() + timedelta(seconds=30)
    assert [d.outcome for d in delivery_rows(engine, post_id)] == ["transient"]


def test_transient_errors_fail_the_post_after_max_attempts(
    engine: Engine, database_url: str, server: LocalServer
) -> None:
    settings = hook_settings(database_url, server.answer("/hook", 500), max_attempts=3)
    post_id = queue_posts(engine, settings)[0]
    dispatcher = Dispatcher(engine, settings)
    for _ in range(3):
        dispatcher.run_once(now=utcnow() + timedelta(days=1))
    row = post(engine, post_id)
    assert (row.state, row.attempts) == ("failed", 3)
    assert row.error.startswith("gave up after 3 attempts: hook: HTTP 500")


def test_rate_limit_waits_what_the_platform_says_and_holds_the_channel(
    engine: Engine, database_url: str, server: LocalServer
) -> None:
    url = server.answer("/hook", 429, headers={"Retry-After": "120"})
    settings = hook_settings(database_url, url)
    first, second = queue_posts(engine, settings, 2)
    Dispatcher(engine, settings).run_once()
    row = post(engine, first)
    assert row.state == "queued"
    assert timedelta(seconds=110) < row.due_at - utcnow() <= timedelta(seconds=120)
    assert len(server.received) == 1
    assert post(engine, second).attempts == 0


def test_permanent_error_fails_with_the_platforms_reason(
    engine: Engine, database_url: str, server: LocalServer
) -> None:
    settings = hook_settings(database_url, server.answer("/hook", 400))
    post_id = queue_posts(engine, settings)[0]
    Dispatcher(engine, settings).run_once()
    row = post(engine, post_id)
    assert (row.state, row.error_class, row.error) == ("failed", "permanent", "hook: HTTP 400")


def test_auth_error_pauses_the_channel_and_holds_its_posts(
    engine: Engine, database_url: str, server: LocalServer
) -> None:
    settings = hook_settings(database_url, server.answer("/hook", 401))
    first, second = queue_posts(engine, settings, 2)
    Dispatcher(engine, settings).run_once()
    assert (post(engine, first).state, post(engine, second).state) == ("queued", "queued")
    assert len(server.received) == 1
    server.answer("/hook", 200)
    Dispatcher(engine, settings).run_once()
    assert len(server.received) == 1
    verbs.resume(engine, settings, "hook")
    Dispatcher(engine, settings).run_once()
    assert (post(engine, first).state, post(engine, second).state) == ("sent", "sent")


def test_no_answer_after_sending_makes_the_post_uncertain(
    engine: Engine, database_url: str, server: LocalServer
) -> None:
    def silent(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(1.0)

    server.routes["/hook"] = silent
    settings = hook_settings(database_url, server.base + "/hook", timeout=0.3)
    post_id = queue_posts(engine, settings)[0]
    Dispatcher(engine, settings).run_once(now=utcnow() + timedelta(days=1))
    assert post(engine, post_id).state == "uncertain"
    assert [d.outcome for d in delivery_rows(engine, post_id)] == ["uncertain"]


def test_refused_connection_is_retried_as_never_sent(engine: Engine, database_url: str) -> None:
    settings = hook_settings(database_url, "http://127.0.0.1:9/hook")
    post_id = queue_posts(engine, settings)[0]
    Dispatcher(engine, settings).run_once()
    row = post(engine, post_id)
    assert (row.state, row.error) == ("queued", "hook: cannot connect")


def test_expired_lease_makes_the_post_uncertain_and_it_is_not_sent_again(
    engine: Engine, database_url: str, server: LocalServer
) -> None:
    settings = hook_settings(database_url, server.answer("/hook", 200))
    post_id = queue_posts(engine, settings)[0]
    crashed = Dispatcher(engine, settings, worker="crashed")
    assert [c.post_id for c in crashed.claims.claim()] == [post_id]
    survivor = Dispatcher(engine, settings, worker="survivor")
    assert survivor.claims.expire_leases(now=utcnow() + timedelta(seconds=121)) == 1
    survivor.run_once(now=utcnow() + timedelta(seconds=121))
    assert post(engine, post_id).state == "uncertain"
    assert server.received == []
    assert [d.outcome for d in delivery_rows(engine, post_id)] == ["uncertain"]


def test_late_record_after_lease_expiry_still_tells_the_truth(
    engine: Engine, database_url: str, server: LocalServer
) -> None:
    settings = hook_settings(database_url, server.answer("/hook", 200, b'{"id": "late"}'))
    post_id = queue_posts(engine, settings)[0]
    slow = Dispatcher(engine, settings, worker="slow")
    (claimed,) = slow.claims.claim()
    Dispatcher(engine, settings).claims.expire_leases(now=utcnow() + timedelta(seconds=121))
    slow.deliver(claimed)
    assert (post(engine, post_id).state, post(engine, post_id).remote_id) == ("sent", "late")


def test_released_post_goes_back_to_the_queue_untouched(engine: Engine, database_url: str) -> None:
    settings = make_settings(database_url)
    post_id = queue_posts(engine, settings, channel="log")[0]
    dispatcher = Dispatcher(engine, settings)
    (claimed,) = dispatcher.claims.claim()
    dispatcher.claims.release(claimed)
    row = post(engine, post_id)
    assert (row.state, row.attempts, row.worker) == ("queued", 0, None)
    assert [d.outcome for d in delivery_rows(engine, post_id)] == ["released"]


def test_paused_channel_is_not_claimed(engine: Engine, database_url: str) -> None:
    settings = make_settings(database_url)
    queue_posts(engine, settings, channel="log")
    verbs.pause(engine, settings, "log", "breaking news, hold everything")
    assert Dispatcher(engine, settings).claims.claim() == []


def test_future_posts_are_not_claimed(engine: Engine, database_url: str) -> None:
    settings = make_settings(database_url)
    channels = roster.chosen(settings, ["log"])
    later = utcnow() + timedelta(hours=1)
    queue.add(engine, settings, article(), channels, When("at", later), queued_by="test")
    dispatcher = Dispatcher(engine, settings)
    assert dispatcher.claims.claim() == []
    assert dispatcher.claims.next_wakeup() == later


def test_rate_limit_caps_posts_per_period(
    engine: Engine, database_url: str, server: LocalServer
) -> None:
    url = server.answer("/hook", 200)
    settings = hook_settings(database_url, url, rate_limit=3, rate_period=60, concurrency=10)
    queue_posts(engine, settings, 5)
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    assert len(server.received) == 3
    wake = dispatcher.claims.next_wakeup()
    assert wake is not None and timedelta(seconds=55) < wake - utcnow() <= timedelta(seconds=60)


def test_concurrency_caps_posts_in_flight(engine: Engine, database_url: str) -> None:
    settings = make_settings(
        database_url, hook={"type": "webhook", "url": "http://x", "concurrency": 2}
    )
    queue_posts(engine, settings, 5)
    dispatcher = Dispatcher(engine, settings)
    assert len(dispatcher.claims.claim()) == 2
    assert dispatcher.claims.claim() == []


def test_two_workers_claiming_at_once_never_share_a_post(engine: Engine, database_url: str) -> None:
    settings = make_settings(database_url)
    queue_posts(engine, settings, 60, channel="log")
    results: list[list[int]] = []

    def worker(name: str) -> None:
        dispatcher = Dispatcher(engine, settings, worker=name)
        mine = []
        while batch := dispatcher.claims.claim(limit=7):
            mine += [c.post_id for c in batch]
        results.append(mine)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claimed = results[0] + results[1]
    assert sorted(claimed) == sorted(set(claimed))
    assert len(claimed) == 60


def test_backoff_doubles_with_jitter_and_stops_at_the_cap() -> None:
    rng = random.Random(7)
    waits = [backoff(n, 10, 100, rng) for n in (1, 2, 3, 4, 5)]
    assert 5 <= waits[0] <= 10 and 10 <= waits[1] <= 20 and 20 <= waits[2] <= 40
    assert all(50 <= w <= 100 for w in waits[4:])


def test_naive_times_never_reach_the_database(engine: Engine, database_url: str) -> None:
    settings = make_settings(database_url)
    channels = roster.chosen(settings, ["log"])
    with pytest.raises(TimeError, match="needs a time zone"):
        queue.add(
            engine,
            settings,
            article(),
            channels,
            When("at", datetime(2030, 1, 1)),
            queued_by="test",
        )


def test_stored_times_come_back_in_utc(engine: Engine, database_url: str) -> None:
    # A machine zone far from UTC, where a time read back as local would show.
    machine_zone = os.environ.get("TZ")
    os.environ["TZ"] = "America/Los_Angeles"
    time.tzset()
    try:
        settings = make_settings(database_url)
        channels = roster.chosen(settings, ["log"])
        noon_here = datetime(2030, 7, 1, 12, 0, tzinfo=UTC).astimezone()
        post_id = queue.add(
            engine, settings, article(), channels, When("at", noon_here), queued_by="test"
        )[0]
        due = post(engine, post_id).due_at
    finally:
        if machine_zone is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = machine_zone
        time.tzset()
    assert due == datetime(2030, 7, 1, 12, 0, tzinfo=UTC)
    assert due.utcoffset() == timedelta(0)


def test_a_platform_error_holding_a_lone_surrogate_is_recorded_as_text(
    engine: Engine, database_url: str, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = hook_settings(database_url, server.answer("/hook", 200))
    post_id = queue_posts(engine, settings)[0]
    dispatcher = Dispatcher(engine, settings)

    def refuse(message):
        raise ChannelError("permanent", "the platform said \udfff no")

    monkeypatch.setattr(dispatcher.adapters["hook"], "send", refuse)
    dispatcher.run_once()
    row = post(engine, post_id)
    assert (row.state, row.error) == ("failed", "the platform said ? no")


def test_an_unexpected_failure_recording_one_post_leaves_it_unclear_and_the_others_go_out(
    engine: Engine, database_url: str, caplog: pytest.LogCaptureFixture, monkeypatch
) -> None:
    settings = make_settings(database_url)
    first, broken, last = queue_posts(engine, settings, count=3, channel="log")
    dispatcher = Dispatcher(engine, settings)
    record = dispatcher._record_delivery

    def record_unless_broken(connection, claimed, *args):
        if claimed.post_id == broken:
            raise RuntimeError("a bug of ours")
        record(connection, claimed, *args)

    monkeypatch.setattr(dispatcher, "_record_delivery", record_unless_broken)
    delivered = dispatcher.run_once()
    assert sorted(d.claimed.post_id for d in delivered) == [first, last]
    assert [post(engine, i).state for i in (first, broken, last)] == ["sent", "uncertain", "sent"]
    assert delivery_rows(engine, broken)[0].outcome == "uncertain"
    assert f"post {broken} on log: the attempt failed unexpectedly" in caplog.text
    assert "RuntimeError: a bug of ours" in caplog.text


def test_a_call_slower_than_the_lease_keeps_its_post_sending_not_uncertain(
    engine: Engine, database_url: str, server: LocalServer
) -> None:
    started = threading.Event()
    call = 4.0

    def slow(handler: BaseHTTPRequestHandler) -> None:
        started.set()
        time.sleep(call)
        body = b'{"id": "r-1"}'
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    server.routes["/slow"] = slow
    settings = hook_settings(database_url, server.base + "/slow", timeout=10)
    settings = settings.model_copy(
        update={"engine": settings.engine.model_copy(update={"lease": 1.0})}
    )
    post_id = queue_posts(engine, settings)[0]
    dispatcher = Dispatcher(engine, settings)
    worker = threading.Thread(target=dispatcher.run_once)
    worker.start()
    started.wait(5)
    began = time.monotonic()
    other = Dispatcher(engine, settings)  # another worker, looking for abandoned posts
    seen: list[tuple[float, str]] = []
    for _ in range(40):
        time.sleep(0.5)
        other.claims.expire_leases()
        seen.append((time.monotonic() - began, post(engine, post_id).state))
        if seen[-1][1] != "sending":
            break
    worker.join(10)
    dispatcher.close()
    # Looked at after the lease ran out while the call still ran (a loaded machine may look
    # late: the call is long enough for that), the post was sending, then sent, never unclear.
    assert any(1.2 < at < call - 0.2 and state == "sending" for at, state in seen)
    assert [state for _, state in seen] == ["sending"] * (len(seen) - 1) + ["sent"]

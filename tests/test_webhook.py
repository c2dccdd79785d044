"""The CMS webhook on the real ASGI app, served by uvicorn and called over HTTP: signed releases
are queued; unsigned, badly signed, replayed, oversized and malformed calls get 401/400/413
with a JSON error body, and nothing is queued."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import Engine, func, select

from publisher.config import ChannelSettings, ServeSettings, Settings
from publisher.engine.schema import posts
from publisher.web.app import ServerThread, create_app
from publisher.web.desk import pages
from publisher.web.signing import sign
from publisher.web.users import add_user
from tests.desk_helpers import PASSWORD, signed_in

pytestmark = pytest.mark.one_database

SECRET = "whsec-webhook-test-81c2"
ARTICLE = {
    "id": "cms-1",
    "url": "https://www.news.de/politik/1/",
    "headline": "Schlagzeile",
    "bullets": ["Erster Punkt"],
}


@pytest.fixture
def hook(engine: Engine, database_url: str, monkeypatch) -> Iterator[str]:
    monkeypatch.setenv("PUBLISHER_WEBHOOK_SECRET", SECRET)
    settings = Settings(
        database_url=database_url,
        channels={"x_main": ChannelSettings(type="x", dry_run=True)},
        serve=ServeSettings(max_body=10_000),
    )
    server = ServerThread(create_app(engine, settings), "127.0.0.1", 0)
    server.start()
    yield f"http://127.0.0.1:{server.port}/hooks/articles"
    server.stop()


def post(url: str, body: bytes, timestamp: int | None = None, secret: str = SECRET, **headers):
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = {
        "X-Publisher-Timestamp": str(timestamp),
        "X-Publisher-Signature": sign(secret, timestamp, body),
        "Content-Type": "application/json",
    }
    return requests.post(url, data=body, headers=signed | headers, timeout=10)


def queued(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(posts)).scalar_one()


def assert_refused(response: requests.Response, status: int, needle: str, engine) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert needle in response.json()["error"]
    assert queued(engine) == 0


def test_signed_release_is_queued_and_answered_with_what_happened(hook, engine) -> None:
    response = post(hook, json.dumps(ARTICLE).encode())
    assert response.status_code == 202
    answer = response.json()
    assert answer["article"]["id"] == "cms-1" and len(answer["queued"]) == 1
    assert queued(engine) == 1


def test_the_same_article_again_updates_and_does_not_queue_twice(hook, engine) -> None:
    post(hook, json.dumps(ARTICLE).encode())
    again = post(hook, json.dumps(ARTICLE | {"headline": "Neu"}).encode())
    assert again.status_code == 202
    assert (again.json()["queued"], len(again.json()["updated"])) == ([], 1)
    assert queued(engine) == 1


def test_unsigned_call_is_401(hook, engine) -> None:
    response = requests.post(hook, json=ARTICLE, timeout=10)
    assert_refused(response, 401, "unsigned", engine)


def test_wrong_secret_is_401(hook, engine) -> None:
    response = post(hook, json.dumps(ARTICLE).encode(), secret="guessed")
    assert_refused(response, 401, "does not match", engine)


def test_body_changed_after_signing_is_401(hook, engine) -> None:
    body = json.dumps(ARTICLE).encode()
    timestamp = int(time.time())
    response = requests.post(
        hook,
        data=body.replace(b"Schlagzeile", "Gefälscht".encode()),
        headers={
            "X-Publisher-Timestamp": str(timestamp),
            "X-Publisher-Signature": sign(SECRET, timestamp, body),
        },
        timeout=10,
    )
    assert_refused(response, 401, "does not match", engine)


def test_old_timestamp_is_refused_as_a_replay(hook, engine) -> None:
    response = post(hook, json.dumps(ARTICLE).encode(), timestamp=int(time.time()) - 301)
    assert_refused(response, 401, "window", engine)


def test_the_same_signed_request_twice_is_refused(hook, engine) -> None:
    body, timestamp = json.dumps(ARTICLE).encode(), int(time.time())
    assert post(hook, body, timestamp).status_code == 202
    replay = post(hook, body, timestamp)
    assert replay.status_code == 401 and "replay" in replay.json()["error"]
    assert queued(engine) == 1


def test_oversized_body_is_413(hook, engine) -> None:
    body = json.dumps(ARTICLE | {"lead": "x" * 20_000}).encode()
    assert_refused(post(hook, body), 413, "larger than", engine)


def test_malformed_json_is_400(hook, engine) -> None:
    assert_refused(post(hook, b'{"url": "https://e.de/a", '), 400, "not JSON", engine)


def test_article_without_headline_is_400(hook, engine) -> None:
    body = json.dumps({"url": "https://e.de/a"}).encode()
    assert_refused(post(hook, body), 400, "headline", engine)


def test_non_http_url_is_400(hook, engine) -> None:
    body = json.dumps({"url": "javascript:alert(1)", "headline": "x"}).encode()
    assert post(hook, body).status_code == 400
    assert queued(engine) == 0


def test_without_a_configured_secret_the_webhook_is_off(hook, engine, monkeypatch) -> None:
    monkeypatch.delenv("PUBLISHER_WEBHOOK_SECRET")
    assert_refused(post(hook, json.dumps(ARTICLE).encode()), 503, "not set", engine)


def test_deeply_nested_json_is_400(hook, engine) -> None:
    body = b'{"url": "https://e.de/a", "headline": "x", "lead": ' + b"[" * 4000 + b"]" * 4000 + b"}"
    assert_refused(post(hook, body), 400, "not JSON", engine)


def test_a_number_of_5000_digits_is_400(hook, engine) -> None:
    body = b'{"url": "https://e.de/a", "headline": "x", "id": ' + b"7" * 5000 + b"}"
    assert_refused(post(hook, body), 400, "not JSON", engine)


def test_a_replay_to_a_second_instance_is_refused(hook, engine, database_url) -> None:
    settings = Settings(
        database_url=database_url,
        channels={"x_main": ChannelSettings(type="x", dry_run=True)},
    )
    other = ServerThread(create_app(engine, settings), "127.0.0.1", 0)
    other.start()
    try:
        body, timestamp = json.dumps(ARTICLE).encode(), int(time.time())
        assert post(hook, body, timestamp).status_code == 202
        replay = post(f"http://127.0.0.1:{other.port}/hooks/articles", body, timestamp)
    finally:
        other.stop()
    assert replay.status_code == 401 and "replay" in replay.json()["error"]
    assert queued(engine) == 1


def test_a_request_that_was_not_stored_can_be_sent_again(hook, engine, monkeypatch) -> None:
    from publisher.engine.release import release as engine_release
    from publisher.engine.store import StoreError
    from publisher.web import app

    real = engine_release
    calls = []

    def failing_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise StoreError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(app, "release", failing_once)
    body, timestamp = json.dumps(ARTICLE).encode(), int(time.time())
    assert post(hook, body, timestamp).status_code == 503
    assert post(hook, body, timestamp).status_code == 202
    assert queued(engine) == 1


def test_the_health_check_answers_while_the_database_does(hook) -> None:
    answer = requests.get(hook.replace("/hooks/articles", "/healthz"), timeout=30)
    assert (answer.status_code, answer.json()) == (200, {"ok": True})


def test_the_health_check_says_when_the_database_is_gone(tmp_path, monkeypatch) -> None:
    from publisher.engine.store import open_engine

    url = f"sqlite:///{tmp_path / 'gone.db'}"
    engine = open_engine(url)
    server = ServerThread(create_app(engine, Settings(database_url=url)), "127.0.0.1", 0)
    server.start()
    try:
        engine.dispose()
        (tmp_path / "gone.db").unlink()
        (tmp_path / "gone.db").mkdir()  # a database that can no longer be opened
        answer = requests.get(f"http://127.0.0.1:{server.port}/healthz", timeout=30)
    finally:
        server.stop()
    assert answer.status_code == 503 and "does not answer" in answer.json()["error"]


def test_while_the_secret_is_replaced_the_previous_one_still_signs(
    hook, engine, monkeypatch
) -> None:
    monkeypatch.setenv("PUBLISHER_WEBHOOK_SECRET", "whsec-the-new-one")
    monkeypatch.setenv("PUBLISHER_WEBHOOK_SECRET_PREVIOUS", SECRET)
    old = post(hook, json.dumps(ARTICLE).encode())
    new = post(hook, json.dumps(ARTICLE | {"id": "cms-2"}).encode(), secret="whsec-the-new-one")
    assert (old.status_code, new.status_code) == (202, 202)


def test_once_the_previous_secret_is_gone_it_signs_nothing(hook, engine, monkeypatch) -> None:
    monkeypatch.setenv("PUBLISHER_WEBHOOK_SECRET", "whsec-the-new-one")
    assert_refused(post(hook, json.dumps(ARTICLE).encode()), 401, "does not match", engine)


def test_the_webhook_answers_while_an_editors_page_is_being_drawn(hook, engine, monkeypatch):
    add_user(engine, "ed", PASSWORD, "editor")
    base = hook.removesuffix("/hooks/articles")
    session, _ = signed_in(base, "ed")
    drawing, finish = threading.Event(), threading.Event()

    def slow_to_read(connection, now):
        drawing.set()
        finish.wait(10)
        return {}

    # Every desk page reads the channels' pauses while it is drawn.
    monkeypatch.setattr(pages, "active_pauses", slow_to_read)
    editor = threading.Thread(target=session.get, args=(f"{base}/queue",), kwargs={"timeout": 20})
    editor.start()
    try:
        assert drawing.wait(5)
        assert post(hook, json.dumps(ARTICLE).encode()).status_code == 202
    finally:
        finish.set()
        editor.join(20)

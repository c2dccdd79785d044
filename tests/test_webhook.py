"""The CMS webhook on the real ASGI app, called over HTTP in-process (and under uvicorn beside an
editor's page being drawn): signed releases are queued; unsigned, badly signed, replayed,
oversized and malformed calls get 401/400/413 with a JSON error body, and nothing is queued."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx2
import pytest
import requests
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from publisher.articles import article_from_mapping
from publisher.config import ChannelSettings, ServeSettings, Settings
from publisher.engine.posts.users import add_user
from publisher.engine.storage.schema import posts
from publisher.web.app import create_app
from publisher.web.desk import pages
from publisher.web.signing import sign
from tests.desk_helpers import PASSWORD, served, serving, token

pytestmark = pytest.mark.one_database

SECRET = "whsec-webhook-test-81c2"
URL = "/hooks/articles"
ARTICLE = {
    "id": "cms-1",
    "url": "https://www.news.de/politik/1/",
    "headline": "Schlagzeile",
    "bullets": ["Erster Punkt"],
}


def hook_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        channels={"x_main": ChannelSettings(type="x", dry_run=True)},
        serve=ServeSettings(max_body=10_000),
    )


@pytest.fixture
def hook(engine: Engine, database_url: str, monkeypatch) -> Iterator[TestClient]:
    monkeypatch.setenv("PUBLISHER_WEBHOOK_SECRET", SECRET)
    with serving(engine, hook_settings(database_url)) as client:
        yield client


def signed(body: bytes, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    """The headers a CMS signs `body` with."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "X-Publisher-Timestamp": str(timestamp),
        "X-Publisher-Signature": sign(secret, timestamp, body),
        "Content-Type": "application/json",
    }


def post(
    client: TestClient, body: bytes, timestamp: int | None = None, secret: str = SECRET, **headers
) -> httpx2.Response:
    return client.post(URL, content=body, headers=signed(body, timestamp, secret) | headers)


def queued(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(posts)).scalar_one()


def assert_refused(response: httpx2.Response, status: int, needle: str, engine) -> None:
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
    response = hook.post(URL, json=ARTICLE)
    assert_refused(response, 401, "unsigned", engine)


def test_wrong_secret_is_401(hook, engine) -> None:
    response = post(hook, json.dumps(ARTICLE).encode(), secret="guessed")
    assert_refused(response, 401, "does not match", engine)


def test_body_changed_after_signing_is_401(hook, engine) -> None:
    body = json.dumps(ARTICLE).encode()
    timestamp = int(time.time())
    response = hook.post(
        URL,
        content=body.replace(b"Schlagzeile", "Gefälscht".encode()),
        headers={
            "X-Publisher-Timestamp": str(timestamp),
            "X-Publisher-Signature": sign(SECRET, timestamp, body),
        },
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
    with serving(engine, settings) as other:
        body, timestamp = json.dumps(ARTICLE).encode(), int(time.time())
        assert post(hook, body, timestamp).status_code == 202
        replay = post(other, body, timestamp)
    assert replay.status_code == 401 and "replay" in replay.json()["error"]
    assert queued(engine) == 1


def test_a_request_that_was_not_stored_can_be_sent_again(hook, engine, monkeypatch) -> None:
    from publisher.engine.releases.release import release as engine_release
    from publisher.engine.storage.store import StoreError
    from publisher.web import article_hook

    real = engine_release
    calls = []

    def failing_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise StoreError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(article_hook, "release", failing_once)
    body, timestamp = json.dumps(ARTICLE).encode(), int(time.time())
    assert post(hook, body, timestamp).status_code == 503
    assert post(hook, body, timestamp).status_code == 202
    assert queued(engine) == 1


def test_the_health_check_answers_while_the_database_does(hook) -> None:
    answer = hook.get("/healthz")
    assert (answer.status_code, answer.json()) == (200, {"ok": True})


def test_the_health_check_says_when_the_database_is_gone(tmp_path, monkeypatch) -> None:
    from publisher.engine.storage.store import open_engine

    url = f"sqlite:///{tmp_path / 'gone.db'}"
    engine = open_engine(url)
    with serving(engine, Settings(database_url=url)) as client:
        engine.dispose()
        (tmp_path / "gone.db").unlink()
        (tmp_path / "gone.db").mkdir()  # a database that can no longer be opened
        answer = client.get("/healthz")
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


def test_the_webhook_answers_while_an_editors_page_is_being_drawn(
    engine, database_url, monkeypatch
):
    monkeypatch.setenv("PUBLISHER_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    add_user(engine, "ed", PASSWORD, "editor")
    drawing, finish = threading.Event(), threading.Event()

    def slow_to_read(connection, now):
        drawing.set()
        finish.wait(10)
        return {}

    # Under uvicorn, as in the newsroom: the page and the hook share one event loop.
    with served(engine, hook_settings(database_url)) as base:
        session = requests.Session()
        page = session.get(f"{base}/signin", timeout=30).text
        form = {"name": "ed", "password": PASSWORD, "csrf": token(page)}
        session.post(f"{base}/signin", data=form, timeout=30)
        # Every desk page reads the channels' pauses while it is drawn.
        monkeypatch.setattr(pages, "active_pauses", slow_to_read)
        editor = threading.Thread(
            target=session.get, args=(f"{base}/queue",), kwargs={"timeout": 20}
        )
        editor.start()
        try:
            assert drawing.wait(5)
            body = json.dumps(ARTICLE).encode()
            answer = requests.post(f"{base}{URL}", data=body, headers=signed(body), timeout=10)
            assert answer.status_code == 202
        finally:
            finish.set()
            editor.join(20)


def test_a_slow_article_to_read_never_holds_up_the_server(engine, database_url, monkeypatch):
    from publisher.web import article_hook

    monkeypatch.setenv("PUBLISHER_WEBHOOK_SECRET", SECRET)
    reading = threading.Event()

    def slow_to_read(data: object) -> object:
        reading.set()
        time.sleep(1.5)
        return article_from_mapping(data)

    monkeypatch.setattr(article_hook, "article_from_mapping", slow_to_read)
    body = json.dumps(ARTICLE).encode()
    with served(engine, hook_settings(database_url)) as base:
        hooked = threading.Thread(
            target=lambda: requests.post(base + URL, data=body, headers=signed(body), timeout=10)
        )
        hooked.start()
        assert reading.wait(5)
        started = time.monotonic()
        health = requests.get(base + "/healthz", timeout=10)
        waited = time.monotonic() - started
        hooked.join()
    assert health.status_code == 200 and waited < 1.0


def test_without_its_secret_the_server_says_at_start_that_the_webhook_is_off(
    engine: Engine, database_url: str, monkeypatch, caplog
) -> None:
    monkeypatch.delenv("PUBLISHER_WEBHOOK_SECRET", raising=False)
    caplog.set_level("WARNING")
    create_app(engine, hook_settings(database_url))
    assert "PUBLISHER_WEBHOOK_SECRET is not set" in caplog.text

"""The WhatsApp webhook at /hooks/whatsapp over HTTP (the real ASGI app), with the Cloud API's
own payload shapes: Meta's verification, signed events only, keywords that subscribe and
unsubscribe at once, and message statuses kept on the deliveries they are about."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Sequence
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from publisher import roster
from publisher.config import DeskSettings
from publisher.engine.audiences.subscribers import import_numbers, listing
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.posts.users import add_user
from publisher.engine.storage.schema import subscribers
from tests.desk_helpers import PASSWORD, serving, signed_in
from tests.engine_helpers import article, delivery_rows, make_settings

pytestmark = pytest.mark.one_database

SECRET = "meta-app-secret-5f1e"
READER = "4917612345678"


@pytest.fixture
def hook(engine: Engine, database_url: str, graph_api, credentials, monkeypatch):
    monkeypatch.setenv("WHATSAPP_APP_SECRET", SECRET)
    monkeypatch.setenv("WHATSAPP_VERIFY_TOKEN", "verify-me")
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    settings = make_settings(
        database_url,
        wa={
            "type": "whatsapp",
            "api_base": graph_api.url,
            "phone_number_id": graph_api.phone_number_id,
            "language": "en",
        },
    ).model_copy(update={"desk": DeskSettings(secure_cookies=False), "language": "en"})
    with serving(engine, settings) as base:
        yield base, settings


def envelope(number_id: str, **value: Any) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": number_id,
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def text_from(number_id: str, phone: str, body: str) -> dict[str, Any]:
    return envelope(
        number_id,
        contacts=[{"profile": {"name": "Leserin"}, "wa_id": phone}],
        messages=[
            {
                "from": phone,
                "id": "wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
                "timestamp": str(int(time.time())),
                "text": {"body": body},
                "type": "text",
            }
        ],
    )


def status_of(number_id: str, remote_id: str, phone: str, status: str, code: int | None = None):
    update: dict[str, Any] = {
        "id": remote_id,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": phone,
    }
    if code is not None:
        update["errors"] = [
            {
                "code": code,
                "title": "Message undeliverable",
                "message": "Message undeliverable",
                "error_data": {"details": "Message Undeliverable."},
            }
        ]
    return envelope(number_id, statuses=[update])


def post_event(base: TestClient, payload: dict[str, Any], secret: str = SECRET) -> httpx2.Response:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return base.post(
        "/hooks/whatsapp",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
    )


def test_meta_verification_gets_the_challenge_back(hook) -> None:
    base, _ = hook
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": "verify-me",
        "hub.challenge": "1158201444",
    }
    answer = base.get("/hooks/whatsapp", params=params)
    assert (answer.status_code, answer.text) == (200, "1158201444")


def test_verification_with_another_token_is_403(hook) -> None:
    base, _ = hook
    params = {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"}
    answer = base.get("/hooks/whatsapp", params=params)
    assert answer.status_code == 403 and "error" in answer.json()


def test_an_event_signed_with_another_secret_is_401_and_stores_nothing(hook, engine, graph_api):
    base, _ = hook
    payload = text_from(graph_api.phone_number_id, READER, "START")
    answer = post_event(base, payload, secret="not-the-app-secret")
    assert answer.status_code == 401 and listing(engine, "wa") == []


def test_a_body_that_is_not_json_is_400(hook) -> None:
    base, _ = hook
    body = b"{not json"
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    answer = base.post("/hooks/whatsapp", content=body, headers={"X-Hub-Signature-256": signature})
    assert answer.status_code == 400 and "not JSON" in answer.json()["error"]


def test_start_subscribes_and_is_answered_with_a_confirmation(hook, engine, graph_api) -> None:
    base, _ = hook
    answer = post_event(base, text_from(graph_api.phone_number_id, READER, "Start"))
    assert answer.status_code == 200
    (row,) = listing(engine, "wa")
    assert (row["phone"], row["state"], row["source"]) == (
        f"+{READER}",
        "subscribed",
        "keyword Start",
    )
    deadline = time.monotonic() + 5
    while not graph_api.posts("/messages") and time.monotonic() < deadline:
        time.sleep(0.02)
    (reply,) = graph_api.posts("/messages")
    assert reply.json["to"] == f"+{READER}" and "Send STOP" in reply.json["text"]["body"]


def test_stop_unsubscribes_at_once_whatever_its_case_and_spaces(hook, engine, graph_api) -> None:
    base, _ = hook
    import_numbers(engine, "wa", f"+{READER}", "form")
    post_event(base, text_from(graph_api.phone_number_id, READER, "  stop \n"))
    assert [row["state"] for row in listing(engine, "wa")] == ["unsubscribed"]
    assert graph_api.posts("/messages") == []


def test_any_message_opens_the_readers_24_hour_window(hook, engine, graph_api) -> None:
    base, _ = hook
    import_numbers(engine, "wa", f"+{READER}", "form")
    post_event(base, text_from(graph_api.phone_number_id, READER, "Danke!"))
    (row,) = listing(engine, "wa")
    assert row["state"] == "subscribed" and row["last_message_at"] is not None


def sent_to_subscribers(engine: Engine, settings, count: int = 1) -> Sequence[Any]:
    numbers = [f"+491760000000{n}" for n in range(count)]
    import_numbers(engine, "wa", "\n".join(numbers), "form")
    chosen = roster.chosen(settings, ["wa"])
    (post_id,) = queue.add(
        engine, settings, article(), chosen, When(), force=True, queued_by="test"
    )
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    dispatcher.close()
    return delivery_rows(engine, post_id)


def test_statuses_are_kept_on_the_delivery_and_never_go_back(hook, engine, graph_api) -> None:
    base, settings = hook
    (delivery,) = sent_to_subscribers(engine, settings)
    phone = delivery.recipient.lstrip("+")
    for status in ("delivered", "read", "delivered"):
        post_event(base, status_of(graph_api.phone_number_id, delivery.remote_id, phone, status))
    (row,) = delivery_rows(engine, delivery.post_id)
    assert (row.status, row.status_error) == ("read", None)


def test_a_number_that_cannot_receive_three_times_becomes_unreachable(hook, engine, graph_api):
    base, settings = hook
    for _ in range(3):
        delivery = sent_to_subscribers(engine, settings)[-1]
        phone = delivery.recipient.lstrip("+")
        failed = status_of(graph_api.phone_number_id, delivery.remote_id, phone, "failed", 131026)
        post_event(base, failed)
    assert delivery_rows(engine, delivery.post_id)[-1].status_error.startswith("131026")
    with engine.connect() as connection:
        assert connection.execute(select(subscribers.c.state)).scalar() == "unreachable"


def test_one_failure_that_meta_sends_three_times_counts_once(hook, engine, graph_api) -> None:
    base, settings = hook
    delivery = sent_to_subscribers(engine, settings)[-1]
    phone = delivery.recipient.lstrip("+")
    failed = status_of(graph_api.phone_number_id, delivery.remote_id, phone, "failed", 131026)
    for _ in range(3):
        post_event(base, failed)
    with engine.connect() as connection:
        row = connection.execute(select(subscribers.c.state, subscribers.c.failures)).first()
    assert (row.state, row.failures) == ("subscribed", 1)


def test_without_the_app_secret_the_webhook_is_off(hook, monkeypatch, graph_api) -> None:
    base, _ = hook
    monkeypatch.delenv("WHATSAPP_APP_SECRET")
    answer = post_event(base, text_from(graph_api.phone_number_id, READER, "START"))
    assert answer.status_code == 503 and "WHATSAPP_APP_SECRET" in answer.json()["error"]


def test_the_post_view_counts_what_became_of_the_messages(hook, engine, graph_api) -> None:
    base, settings = hook
    rows = sent_to_subscribers(engine, settings, count=3)
    number_id = graph_api.phone_number_id
    for row, status in zip(rows, ("read", "delivered", "failed"), strict=True):
        code = 131026 if status == "failed" else None
        post_event(base, status_of(number_id, row.remote_id, row.recipient[1:], status, code))
    add_user(engine, "ed", PASSWORD, "editor")
    session, _ = signed_in(base, "ed")
    page = session.get(f"/posts/{rows[0].post_id}").text
    shown = dict(re.findall(r"<dt>(\w+)</dt><dd>(\d+)</dd>", page))
    assert shown == {"sent": "3", "delivered": "2", "read": "1", "failed": "1"}
    assert "1 × 131026: Message undeliverable" in page


def test_the_article_page_says_whom_a_whatsapp_post_reaches(hook, engine) -> None:
    base, _ = hook
    import_numbers(engine, "wa", "+4917600000001\n+4917600000002", "form")
    add_user(engine, "ed", PASSWORD, "editor")
    session, csrf = signed_in(base, "ed")
    page = session.post(
        "/intake",
        data={"csrf": csrf},
        files={
            "file": ("a.json", b'{"url": "https://e.de/r", "headline": "Hallo", "bullets": []}')
        },
    ).text
    assert "Reaches 2 people: 0 with this text, 2 with the approved template" in page

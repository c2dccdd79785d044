"""The HTTP side under a fuzzer, so the next attack finds nothing: schemathesis generates
requests from the app's own OpenAPI description (the desk's pages and JSON calls, the widget,
the health check) and sends them over HTTP as a signed-in editor with the session's CSRF token;
no answer may be a server error, and an answer the description gives a schema must match it.
The webhooks, which read their bodies raw, get signed arbitrary JSON from hypothesis."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import Engine, create_engine

from publisher import roster
from publisher.articles import Article
from publisher.config import ChannelSettings, DeskSettings, Settings
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.posts.users import add_user
from publisher.engine.storage.schema import metadata
from publisher.engine.storage.store import open_engine
from publisher.web.app import create_app
from publisher.web.signing import sign
from tests.desk_helpers import PASSWORD, served, serving

pytestmark = pytest.mark.one_database

SECRET = "whsec-fuzz-test-0123456789"


def newsroom(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        language="de",
        channels={
            "x": ChannelSettings(type="x", dry_run=True, slots=["09:00"]),
            "telegram": ChannelSettings(type="telegram", dry_run=True, approval=True),
        },
        desk=DeskSettings(secure_cookies=False),
    )


def _description() -> dict[str, Any]:
    """The app's OpenAPI description, as FastAPI writes it from its routes."""
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    return create_app(engine, newsroom("sqlite://")).openapi()


SCHEMA = schemathesis.openapi.from_dict(_description())


@pytest.fixture(scope="module")
def desk(tmp_path_factory, monkeypatch_module) -> Iterator[tuple[str, requests.Session, str]]:
    """The desk served over HTTP with an article and its posts, and a signed-in approver's
    session with its CSRF token."""
    monkeypatch_module.setenv("PUBLISHER_SESSION_SECRET", "fuzz-session-secret-0123456789")
    monkeypatch_module.setenv("PUBLISHER_WEBHOOK_SECRET", SECRET)
    # Meta's webhook on, as in production (without its secrets it answers 503: switched off).
    monkeypatch_module.setenv("WHATSAPP_APP_SECRET", "fuzz-app-secret")
    monkeypatch_module.setenv("WHATSAPP_VERIFY_TOKEN", "fuzz-verify-token")
    database_url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    engine = open_engine(database_url)
    settings = newsroom(database_url)
    add_user(engine, "anna", PASSWORD, "approver")
    article = Article(id="cms-1", url="https://e.de/1", headline="Schlagzeile", bullets=["A"])
    later = When("at", datetime.now(UTC) + timedelta(days=1))
    queue.add(engine, settings, article, roster.chosen(settings, None), later, queued_by="fuzz")
    with served(engine, settings) as base:
        session = requests.Session()
        page = session.get(f"{base}/signin", timeout=10).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        signed = session.post(
            f"{base}/signin",
            data={"name": "anna", "password": PASSWORD, "csrf": csrf},
            timeout=10,
        )
        token = re.search(r'name="csrf" value="([^"]+)"', signed.text).group(1)
        yield base, session, token
    engine.dispose()


@SCHEMA.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_generated_request_gets_a_server_error(case, desk) -> None:
    base, session, token = desk
    case.call_and_validate(
        base_url=base,
        session=session,
        headers={"X-CSRF-Token": token},
        checks=[not_a_server_error, response_schema_conformance],
        timeout=10,
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
article_like = st.fixed_dictionaries(
    {
        "url": st.sampled_from(["https://e.de/a", "http://[::1", "", "ftp://x"])
        | st.text(max_size=30)
    },
    optional={
        "id": json_values,
        "headline": st.text(max_size=80) | json_values,
        "bullets": json_values,
        "image": json_values,
        "published_at": st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z"])
        | json_values,
        "withdrawn": json_values,
    },
)


@pytest.fixture(scope="module")
def hook(tmp_path_factory, monkeypatch_module) -> Iterator[Any]:
    monkeypatch_module.setenv("PUBLISHER_WEBHOOK_SECRET", SECRET)
    monkeypatch_module.setenv("PUBLISHER_SESSION_SECRET", "fuzz-session-secret-0123456789")
    database_url = f"sqlite:///{tmp_path_factory.mktemp('hook') / 'hook.db'}"
    engine: Engine = open_engine(database_url)
    with serving(engine, newsroom(database_url)) as client:
        yield client
    engine.dispose()


@given(body=article_like | json_values)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_a_signed_release_of_any_json_is_never_a_server_error(hook, body) -> None:
    raw = json.dumps(body).encode()
    timestamp = int(time.time())
    answer = hook.post(
        "/hooks/articles",
        content=raw,
        headers={
            "X-Publisher-Timestamp": str(timestamp),
            "X-Publisher-Signature": sign(SECRET, timestamp, raw),
            "Content-Type": "application/json",
        },
    )
    assert answer.status_code < 500, answer.text
    assert isinstance(answer.json(), dict)

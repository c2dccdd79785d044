"""Hostile requests at every desk route and both hooks get a 4xx with a message, never a 500: the
inputs an attack found (dates at the ends of the calendar, absurd page numbers, nested JSON, lone
surrogates, broken URLs), and then whatever hypothesis makes of every field."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from publisher import roster
from publisher.config import ChannelSettings, DeskSettings, Settings
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.posts.users import add_user
from publisher.engine.storage.schema import posts
from publisher.engine.storage.store import make_engine, migrate, open_engine
from publisher.web.app import create_app
from publisher.web.signing import sign
from tests.desk_helpers import ARTICLE, PASSWORD

HOOK_SECRET = "whsec-hostile-test"
APP_SECRET = "meta-app-secret-hostile"
DEEP = "[" * 50_000 + "]" * 50_000


class Desk:
    """The app in this process with a signed-in approver, a stored article and a few posts."""

    def __init__(self, client: TestClient, engine: Engine, csrf: str, post_id: int) -> None:
        self.client = client
        self.engine = engine
        self.csrf = csrf
        self.post_id = post_id

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params)

    def form(self, path: str, data: dict[str, Any], files: Any = None) -> Any:
        return self.client.post(path, data={"csrf": self.csrf, **data}, files=files)

    def api(self, path: str, body: bytes | str) -> Any:
        headers = {"x-csrf-token": self.csrf, "content-type": "application/json"}
        return self.client.post(path, content=body, headers=headers)

    def article_hook(self, body: bytes | str) -> Any:
        raw = body.encode() if isinstance(body, str) else body
        stamp = int(time.time())
        headers = {
            "X-Publisher-Timestamp": str(stamp),
            "X-Publisher-Signature": sign(HOOK_SECRET, stamp, raw),
            "Content-Type": "application/json",
        }
        return self.client.post("/hooks/articles", content=raw, headers=headers)

    def whatsapp_hook(self, body: bytes | str) -> Any:
        raw = body.encode() if isinstance(body, str) else body
        signature = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        headers = {"X-Hub-Signature-256": signature, "Content-Type": "application/json"}
        return self.client.post("/hooks/whatsapp", content=raw, headers=headers)


def hostile_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        language="en",
        channels={
            "x": ChannelSettings(type="x", dry_run=True, slots=["08:00", "12:00"], min_gap=30),
            "telegram": ChannelSettings(type="telegram", dry_run=True),
            "whatsapp": ChannelSettings(type="whatsapp", dry_run=True, phone_number_id="1098"),
        },
        desk=DeskSettings(secure_cookies=False),
    )


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    mp = pytest.MonkeyPatch()
    mp.setenv("PUBLISHER_WEBHOOK_SECRET", HOOK_SECRET)
    mp.setenv("WHATSAPP_APP_SECRET", APP_SECRET)
    mp.setenv("PUBLISHER_SESSION_SECRET", "hostile-session-secret-0123456789")
    path: Path = tmp_path_factory.mktemp("hostile") / "publisher.db"
    url = f"sqlite:///{path}"
    made = make_engine(url)
    migrate(made)
    made.dispose()
    engine = open_engine(url)
    settings = hostile_settings(url)
    add_user(engine, "anna", PASSWORD, "approver")
    (post_id,) = queue.add(
        engine, settings, ARTICLE, roster.chosen(settings, ["x"]), When(), queued_by="test"
    )
    client = TestClient(create_app(engine, settings), raise_server_exceptions=False)
    page = client.get("/signin").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    client.post("/signin", data={"name": "anna", "password": PASSWORD, "csrf": csrf})
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)
    yield Desk(client, engine, csrf, post_id)
    client.close()
    engine.dispose()
    mp.undo()


def refused(answer: Any, status: int | None = None) -> None:
    """A refusal with words, not a server error."""
    assert answer.status_code < 500, answer.text[:300]
    if status is not None:
        assert answer.status_code == status, answer.text[:300]


def shown(answer: Any) -> str:
    """A desk page drawn as for any other address: its text."""
    assert answer.status_code == 200 and '<main id="main"' in answer.text, answer.text[:300]
    return str(answer.text)


# --- what the attack found ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"published_at": "9999-12-31T23:59:59-14:00"},
        {"bullets": [["x"]]},
        {"url": "https://e.de/a\udfff"},
        {"image": "https://e.de/bild\udfff.jpg"},
        {"headline": "h" * 900_000},
    ],
    ids=["date-overflow", "nested-bullets", "surrogate-url", "surrogate-image", "huge-headline"],
)
def test_the_article_hook_refuses_what_no_article_holds_with_a_400(desk: Desk, body) -> None:
    article = {"id": "hostile-1", "url": "https://e.de/hostile", "headline": "H"} | body
    answer = desk.article_hook(json.dumps(article))
    refused(answer, 400 if "headline" not in body else None)
    assert answer.json()["error"]


def test_the_whatsapp_hook_refuses_a_status_error_title_that_is_not_text(desk: Desk) -> None:
    status = {
        "id": "wamid.1",
        "status": "failed",
        "recipient_id": "4917012345678",
        "timestamp": "1700000000",
        "errors": [{"code": 131026, "title": "\udfff"}],
    }
    payload = {
        "entry": [
            {
                "changes": [
                    {
                        "field": "messages",
                        "value": {"metadata": {"phone_number_id": "1098"}, "statuses": [status]},
                    }
                ]
            }
        ]
    }
    refused(desk.whatsapp_hook(json.dumps(payload)), 400)


@pytest.mark.parametrize("start", ["9999-12-31", "0001-01-01"])
@pytest.mark.parametrize("view", ["week", "month"])
def test_the_calendar_at_the_ends_of_the_calendar_shows_a_page(desk, view, start) -> None:
    shown(desk.get("/plan", view=view, start=start))


@pytest.mark.parametrize("path", ["/log", "/queue"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_day_filter_at_the_ends_of_the_calendar_shows_a_page(desk, path, day) -> None:
    shown(desk.get(path, day=day))


def test_a_queue_page_past_any_number_shows_the_last_page(desk: Desk) -> None:
    page = shown(desk.get("/queue", page="9223372036854775807"))
    assert f'href="/posts/{desk.post_id}"' in page


@pytest.mark.parametrize(
    "body", [DEEP, json.dumps({"channel": "x", "text": "a\udfff"})], ids=["deep", "surrogate"]
)
def test_measuring_a_hostile_body_is_refused(desk: Desk, body: str) -> None:
    answer = desk.api("/api/measure", body)
    refused(answer)
    assert answer.status_code in (400, 413) and answer.json()["error"]


@pytest.mark.parametrize(
    "body",
    [json.dumps({"at": "0001-01-01T00:00"}), json.dumps({"at": "9999-12-31T23:59-14:00"}), DEEP],
    ids=["first-day", "last-day", "deep"],
)
def test_moving_a_post_to_a_hostile_time_is_refused(desk: Desk, body: str) -> None:
    answer = desk.api(f"/api/posts/{desk.post_id}/move", body)
    assert 400 <= answer.status_code < 500 and answer.json()["error"]


def test_moving_a_post_years_ahead_is_refused_as_a_slip_of_the_keyboard(desk: Desk) -> None:
    answer = desk.api(f"/api/posts/{desk.post_id}/move", json.dumps({"at": "9999-12-31T23:59"}))
    assert answer.status_code == 422 and "more than a year ahead" in answer.json()["error"]


@pytest.mark.parametrize("at", ["0001-01-01T00:00", "9999-12-31T23:59-14:00"])
def test_rescheduling_a_post_to_the_ends_of_the_calendar_is_refused(desk, at) -> None:
    refused(desk.form(f"/posts/{desk.post_id}/reschedule", {"at": at}), 422)


@pytest.mark.parametrize(
    ("at", "reason"), [("", "Choose a date and time."), ("not a time", "not a time")]
)
def test_moving_ticked_posts_to_no_time_is_refused_with_a_reason(desk, at, reason) -> None:
    answer = desk.form("/queue/bulk", {"action": "reschedule", "post": desk.post_id, "at": at})
    refused(answer, 422)
    assert reason in answer.text


def test_pasting_a_url_with_a_broken_host_is_refused_with_a_reason(desk: Desk) -> None:
    answer = desk.form("/intake", {"url": "http://[::1"})
    refused(answer)
    assert "is not a web address" in answer.text


@pytest.mark.parametrize(
    "content",
    [json.dumps({"url": "https://e.de/b", "headline": "h", "bullets": [["a"]]}), DEEP],
    ids=["nested-bullets", "deep"],
)
def test_uploading_hostile_article_json_is_refused_with_a_reason(desk, content) -> None:
    answer = desk.form("/intake", {}, files={"file": ("article.json", content.encode())})
    refused(answer)
    assert "cannot be used" in answer.text or "not an article" in answer.text


# --- whatever hypothesis makes of every field ----------------------------------------------

NASTY = [
    "",
    " ",
    "0",
    "-1",
    "9" * 40,
    "9223372036854775807",
    "1e309",
    "NaN",
    "null",
    "[]",
    "{}",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00+14:00",
    "24:00",
    "+9999h",
    "+0m",
    "next",
    "now",
    "http://[::1",
    "https://e.de/a b",
    "javascript:x",
    "/\\evil.example",
    "//evil.example",
    "x" * 5_000,
    "[" * 3_000,
    "*" * 3_000,
    "<b>&amp;",
    "\u202e",
    "\x00",
    "ＳＴＯＰ",
    "../../etc/passwd",
    "%00",
    "x\r\nSet-Cookie: a=b",
]
# Form fields and query values are text (a browser sends UTF-8): no lone surrogates.
form_value = st.one_of(st.sampled_from(NASTY), st.text(max_size=300), st.integers().map(str))
# JSON may carry anything an escape can say, lone surrogates included.
json_text = st.one_of(
    form_value, st.text(st.characters(codec=None, categories=["Cs", "Lo", "So", "Cc"]))
)
json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), json_text),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_text, inner, max_size=4),
    max_leaves=12,
)
ARTICLE_FIELDS = [
    "url",
    "headline",
    "id",
    "kicker",
    "lead",
    "bullets",
    "image",
    "tags",
    "language",
    "published_at",
    "section",
    "breaking",
]
hostile_article = st.fixed_dictionaries(
    {
        "url": st.one_of(st.sampled_from(["https://e.de/h", "https://e.de/h2"]), json_text),
        "headline": st.one_of(st.just("H"), json_text),
    },
    optional={name: st.one_of(json_value, json_text) for name in ARTICLE_FIELDS[2:]},
)
QUERY = [
    "view",
    "start",
    "day",
    "page",
    "channel",
    "state",
    "q",
    "outcome",
    "url",
    "confirm",
    "done",
    "status",
    "message",
    "error",
    "chosen",
    "problems",
    "text",
    "linkless",
    "query",
    "kept",
]
FORM = [
    "url",
    "text",
    "timing",
    "at",
    "slot",
    "action",
    "post",
    "back",
    "confirm",
    "seen",
    "without_link",
    "include_x",
    "include_telegram",
    "text_x",
    "text_telegram",
    "name",
    "password",
    "article_id",
]
PAGES = [
    "/",
    "/queue",
    "/plan",
    "/log",
    "/signin",
    "/api/changes",
    "/healthz",
    "/articles/{value}",
    "/posts/{value}",
    "/widget/{value}",
    "/widget/{value}/meta",
    "/widget",
    "/widget/meta",
    "/hooks/whatsapp",
]
FORMS = [
    "/intake",
    "/articles/{value}/queue",
    "/posts/{value}/edit",
    "/posts/{value}/{action}",
    "/queue/bulk",
    "/channels/{value}/{action}",
]
ACTIONS = ["approve", "cancel", "retry", "restore", "reschedule", "pause", "resume", "x"]
in_path = st.one_of(st.just("1"), st.sampled_from(NASTY), st.text(min_size=1, max_size=30)).map(
    lambda value: quote(value, safe="") or "1"
)
HOSTILE = settings(max_examples=60)


@pytest.mark.parametrize("path", PAGES)
@HOSTILE
@given(value=in_path, query=st.dictionaries(st.sampled_from(QUERY), form_value, max_size=4))
def test_no_page_answers_hostile_addresses_with_a_server_error(desk, path, value, query) -> None:
    refused(desk.get(path.format(value=value), **query))


@pytest.mark.parametrize("path", FORMS)
@HOSTILE
@given(
    value=in_path,
    action=st.sampled_from(ACTIONS),
    fields=st.dictionaries(st.sampled_from(FORM), form_value, max_size=6),
)
def test_no_form_answers_hostile_fields_with_a_server_error(desk, path, value, action, fields):
    refused(desk.form(path.format(value=value, action=action), fields))


@HOSTILE
@given(name=form_value, password=form_value)
def test_signing_in_with_hostile_fields_never_answers_with_a_server_error(desk, name, password):
    client = TestClient(desk.client.app, raise_server_exceptions=False)
    page = client.get("/signin").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    refused(client.post("/signin", data={"name": name, "password": password, "csrf": csrf}))


@HOSTILE
@given(
    content=st.one_of(
        hostile_article.map(json.dumps), json_value.map(json.dumps), form_value, st.just(DEEP)
    )
)
def test_no_upload_answers_hostile_article_json_with_a_server_error(desk, content) -> None:
    files = {"file": ("article.json", content.encode("utf-8", "surrogatepass"))}
    refused(desk.form("/intake", {}, files=files))


@HOSTILE
@given(
    path=st.sampled_from(["/api/measure", "/api/posts/{value}/move"]),
    value=in_path,
    body=st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "channel": json_value,
                "text": json_text,
                "article_id": json_value,
                "at": json_text,
            },
        ),
        json_value,
    ),
)
def test_no_desk_api_call_answers_hostile_json_with_a_server_error(desk, path, value, body):
    refused(desk.api(path.format(value=value), json.dumps(body)))


@HOSTILE
@given(article=hostile_article)
def test_the_article_hook_never_answers_hostile_article_json_with_a_server_error(desk, article):
    refused(desk.article_hook(json.dumps(article)))


@HOSTILE
@given(
    message=st.fixed_dictionaries(
        {"from": form_value, "timestamp": json_value},
        optional={"text": st.fixed_dictionaries({"body": json_text}), "type": json_text},
    ),
    status=st.fixed_dictionaries(
        {"id": json_text, "status": st.sampled_from(["sent", "delivered", "read", "failed"])},
        optional={
            "recipient_id": json_text,
            "timestamp": json_value,
            "errors": st.lists(st.dictionaries(json_text, json_value), max_size=2),
        },
    ),
    number_id=st.one_of(st.just("1098"), json_text),
)
def test_the_whatsapp_hook_never_answers_hostile_events_with_a_server_error(
    desk, message, status, number_id
):
    value = {
        "metadata": {"phone_number_id": number_id},
        "messages": [message],
        "statuses": [status],
    }
    payload = {"entry": [{"changes": [{"field": "messages", "value": value}]}]}
    refused(desk.whatsapp_hook(json.dumps(payload)))


@pytest.mark.parametrize("path", ["/posts/{n}/edit", "/articles/{n}/queue", "/posts/{n}/cancel"])
def test_a_number_past_any_row_in_a_form_address_is_no_page(desk: Desk, path: str) -> None:
    answer = desk.form(path.format(n="9" * 40), {"text": "x"})
    refused(answer, 404)
    assert "There is no such page" in answer.text or "There is no post" in answer.text


# --- bodies larger than a form takes ---------------------------------------------------------


def test_a_sign_in_form_of_megabytes_is_refused_unread(desk: Desk) -> None:
    client = TestClient(desk.client.app, raise_server_exceptions=False)
    fields = {f"field{n}": "x" * 100_000 for n in range(20)}
    answer = client.post("/signin", data=fields)
    assert answer.status_code == 413 and "nothing was read" in answer.text


def test_a_file_on_a_form_that_takes_none_is_refused_and_changes_nothing(desk: Desk) -> None:
    post_id = queue.add(
        desk.engine,
        hostile_settings("sqlite://"),
        ARTICLE.model_copy(update={"id": "f"}),
        roster.chosen(hostile_settings("sqlite://"), ["telegram"]),
        When(),
        queued_by="test",
    )[0]
    answer = desk.form(
        f"/posts/{post_id}/cancel", {"confirm": "1"}, files={"file": ("a.txt", b"x" * 10)}
    )
    assert answer.status_code == 400, answer.text[-500:]
    with desk.engine.connect() as connection:
        state = connection.execute(select(posts.c.state).where(posts.c.id == post_id)).scalar()
    assert state == "queued"


def test_an_upload_within_the_fetch_limit_passes_the_door(desk: Desk) -> None:
    article = json.dumps({"url": "https://e.de/gross", "headline": "Groß", "lead": "x" * 4_000})
    answer = desk.form("/intake", {}, files={"file": ("a.json", article.encode() + b" " * 900_000)})
    assert answer.status_code == 200 and "Groß" in answer.text

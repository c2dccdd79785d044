"""The web desk over HTTP (the real ASGI app in-process, and under uvicorn where only a server
shows it): sign-in, CSRF, roles, and bad input that leaves the queue as it was."""

from __future__ import annotations

import html
import json
import re
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time, timedelta

import httpx2
import pytest
import requests
from fastapi.testclient import TestClient
from sqlalchemy import select

from publisher import roster
from publisher.clock import utcnow
from publisher.config import ChannelSettings, FetchSettings
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue, verbs
from publisher.engine.posts.pauses import active_pauses
from publisher.engine.posts.users import add_user, remove_user
from publisher.engine.storage.schema import posts
from tests.conftest import LocalServer, coming, run_cli
from tests.desk_helpers import (
    ARTICLE,
    PASSWORD,
    desk_settings,
    fresh,
    queued_post,
    served,
    serving,
    shown_version,
    signed_in,
    state,
    token,
)

pytestmark = pytest.mark.one_database

# The smallest PNG there is: one transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001"
    "0d0a2db40000000049454e44ae426082"
)


def test_signed_out_page_request_gets_the_sign_in_page(desk) -> None:
    answer = fresh(desk).get("/queue")
    assert answer.url.path == "/signin"
    assert 'name="password"' in answer.text


def test_signed_out_api_call_is_401(desk) -> None:
    answer = fresh(desk).post("/api/measure", json={"channel": "x", "text": "a"})
    assert answer.status_code == 401 and answer.json()["error"]


def test_wrong_password_is_refused(desk) -> None:
    session = fresh(desk)
    page = session.get("/signin").text
    answer = session.post(
        "/signin", data={"name": "anna", "password": "guess", "csrf": token(page)}
    )
    assert answer.status_code == 401 and "wrong" in answer.text


def test_form_without_csrf_token_is_refused_and_changes_nothing(desk, engine, database_url):
    post_id = queued_post(engine, database_url)
    session, _ = signed_in(desk, "anna")
    answer = session.post(f"/posts/{post_id}/cancel", data={})
    assert answer.status_code == 403
    assert state(engine, post_id) == "queued"


def test_api_call_without_csrf_header_is_refused(desk) -> None:
    session, _ = signed_in(desk, "ed")
    answer = session.post("/api/measure", json={"channel": "x", "text": "a"})
    assert answer.status_code == 403


def test_editor_cannot_approve(desk, engine, database_url) -> None:
    post_id = queued_post(engine, database_url, "awaiting_approval")
    session, csrf = signed_in(desk, "ed")
    answer = session.post(f"/posts/{post_id}/approve", data={"csrf": csrf})
    assert answer.status_code == 403 and "Only approvers" in answer.text
    assert state(engine, post_id) == "awaiting_approval"


def test_approver_approves(desk, engine, database_url) -> None:
    post_id = queued_post(engine, database_url, "awaiting_approval")
    session, csrf = signed_in(desk, "anna")
    seen = shown_version(session, post_id)
    session.post(f"/posts/{post_id}/approve", data={"csrf": csrf, "seen": seen})
    assert state(engine, post_id) == "queued"


def test_editor_cannot_resume_a_channel(desk, engine, database_url) -> None:
    verbs.pause(engine, desk_settings(database_url), "x", "token expired")
    session, csrf = signed_in(desk, "ed")
    answer = session.post("/channels/x/resume", data={"csrf": csrf})
    assert answer.status_code == 403
    with engine.connect() as connection:
        assert "x" in active_pauses(connection, utcnow())


def test_paused_channel_is_shown_at_the_top(desk, engine, database_url) -> None:
    verbs.pause(engine, desk_settings(database_url), "telegram", "token expired")
    session, _ = signed_in(desk, "ed")
    page = session.get("/queue").text
    assert "Channel Telegram is paused: token expired" in page


def test_stale_form_changes_nothing(desk, engine, database_url) -> None:
    post_id = queued_post(engine, database_url, "sent")
    session, csrf = signed_in(desk, "anna")
    answer = session.post(f"/posts/{post_id}/cancel", data={"csrf": csrf})
    assert "nothing changed" in answer.text
    assert state(engine, post_id) == "sent"


def test_text_over_the_limit_is_refused_with_the_reason(desk, engine) -> None:
    session, csrf = signed_in(desk, "ed")
    article = session.post(
        "/intake",
        data={"csrf": csrf, "url": "https://e.de/a"},
        files={"file": ("a.json", b'{"url": "https://e.de/a", "headline": "Hallo"}')},
    )
    answer = session.post(
        f"{article.url}/queue",
        data={"csrf": csrf, "include_x": "1", "text_x": "Wort " * 70, "timing": "now"},
    )
    assert answer.status_code == 422 and "over the limit of 280" in answer.text
    with engine.connect() as connection:
        assert connection.execute(select(posts)).all() == []


def test_time_in_the_past_is_refused(desk, engine) -> None:
    session, csrf = signed_in(desk, "ed")
    article = session.post(
        "/intake",
        data={"csrf": csrf},
        files={"file": ("a.json", b'{"url": "https://e.de/b", "headline": "Hallo"}')},
    )
    answer = session.post(
        f"{article.url}/queue",
        data={
            "csrf": csrf,
            "include_x": "1",
            "text_x": "Hallo https://e.de/b",
            "timing": "at",
            "at": "2020-01-01T10:00",
        },
    )
    assert answer.status_code == 422 and "in the past" in answer.text


def test_unknown_article_is_a_message_not_a_crash(desk) -> None:
    session, _ = signed_in(desk, "ed")
    answer = session.get("/articles/999")
    assert answer.status_code == 404 and "no stored article" in answer.text


def test_measure_counts_by_the_channels_own_rule(desk) -> None:
    session, csrf = signed_in(desk, "ed")
    answer = session.post(
        "/api/measure",
        json={"channel": "x", "text": "日本 https://e.de/a"},
        headers={"X-CSRF-Token": csrf},
    ).json()
    assert (answer["length"], answer["limit"]) == (28, 280)  # CJK weigh 2, a URL 23


def test_reschedule_moves_a_post(desk, engine, database_url) -> None:
    post_id = queued_post(engine, database_url)
    session, csrf = signed_in(desk, "ed")
    later = (utcnow() + timedelta(days=2)).astimezone(desk_settings(database_url).tz)
    session.post(
        f"/posts/{post_id}/reschedule",
        data={"csrf": csrf, "at": later.strftime("%Y-%m-%dT%H:%M")},
    )
    with engine.connect() as connection:
        due = connection.execute(select(posts.c.due_at).where(posts.c.id == post_id)).scalar()
    assert abs((due - later).total_seconds()) < 60


def test_removed_user_is_signed_out(desk, engine) -> None:
    session, _ = signed_in(desk, "ed")
    remove_user(engine, "ed")
    assert session.get("/queue").url.path == "/signin"


def test_a_new_password_signs_out_every_session_of_the_old_one(desk, engine) -> None:
    session, _ = signed_in(desk, "ed")
    add_user(engine, "ed", "a new password after the leak", "editor")
    assert session.get("/queue").url.path == "/signin"


def test_trusted_proxy_header_signs_in_a_user_of_the_desk_with_their_role(
    engine, database_url, monkeypatch
) -> None:
    add_user(engine, "proxy-anna", None, "approver")
    settings = desk_settings(database_url, trusted_user_header="X-Forwarded-User")
    with serving(engine, settings) as base:
        page = fresh(base).get("/queue", headers={"X-Forwarded-User": "proxy-anna"})
        assert page.url.path == "/queue" and "proxy-anna (approver)" in page.text


def test_trusted_proxy_header_naming_no_user_of_the_desk_admits_nobody(
    engine, database_url
) -> None:
    settings = desk_settings(database_url, trusted_user_header="X-Forwarded-User")
    with serving(engine, settings) as base:
        page = fresh(base).get("/queue", headers={"X-Forwarded-User": "mallory"})
    assert page.status_code == 403 and "the desk does not" in page.text


def test_trusted_proxy_header_holds_behind_a_proxy_that_forwards_the_client(
    engine, database_url, monkeypatch
) -> None:
    add_user(engine, "proxy-ed", None, "editor")
    settings = desk_settings(database_url, trusted_user_header="X-Forwarded-User")
    settings = settings.model_copy(
        update={"serve": settings.serve.model_copy(update={"trusted_proxies": ("127.0.0.1",)})}
    )
    headers = {"X-Forwarded-User": "proxy-ed", "X-Forwarded-For": "203.0.113.9"}
    with serving(engine, settings) as base:
        page = fresh(base).get("/queue", headers=headers)
    assert page.url.path == "/queue" and "proxy-ed (editor)" in page.text


def test_a_forwarded_client_address_from_an_untrusted_peer_does_not_evade_the_throttle(
    desk,
) -> None:
    session = fresh(desk)
    page = session.get("/signin").text
    for number in range(25):  # more than an address may fail freely, each on another name
        session.post(
            "/signin",
            data={"name": f"guess{number}", "password": "guess", "csrf": token(page)},
            headers={"X-Forwarded-For": f"198.51.100.{number}"},
        )
    answer = session.post(
        "/signin",
        data={"name": "someone", "password": "guess", "csrf": token(page)},
        headers={"X-Forwarded-For": "198.51.100.99"},
    )
    assert answer.status_code == 429


def test_users_command_adds_lists_and_removes(tmp_path) -> None:
    added = run_cli(
        "users", "add", "mia", "--role", "approver", "--password-stdin",
        cwd=tmp_path, stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = run_cli("users", "list", "--json", cwd=tmp_path)
    assert '"role": "approver"' in listed.stdout and PASSWORD not in listed.stdout
    assert run_cli("users", "remove", "mia", cwd=tmp_path).returncode == 0
    refused = run_cli("users", "add", "x", "--password-stdin", cwd=tmp_path, stdin="kurz\n")
    assert refused.returncode == 2 and "at least 10 characters" in refused.stderr


def test_sample_article_upload_needs_its_url(desk, sample_without_url) -> None:
    session, csrf = signed_in(desk, "ed")
    answer = session.post(
        "/intake",
        data={"csrf": csrf},
        files={"file": ("sample.txt", sample_without_url.read_bytes())},
    )
    assert "names no link" in answer.text


@pytest.mark.parametrize("typed", ["/etc/passwd", "-", "publisher.toml", "file:///etc/passwd"])
def test_the_address_field_reads_no_file_of_the_server(desk, typed) -> None:
    session, csrf = signed_in(desk, "ed")
    answer = session.post("/intake", data={"csrf": csrf, "url": typed})
    assert answer.status_code == 200 and "root:" not in answer.text
    assert "is not a web address" in answer.text


def test_queueing_an_unknown_article_is_a_message(desk) -> None:
    session, csrf = signed_in(desk, "ed")
    answer = session.post("/articles/999/queue", data={"csrf": csrf})
    assert answer.status_code == 404 and "no stored article" in answer.text


def test_malformed_measure_call_is_400_with_json(desk) -> None:
    session, csrf = signed_in(desk, "ed")
    answer = session.post(
        "/api/measure",
        content=b"{not json",
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
    )
    assert answer.status_code == 400 and answer.json()["error"]


def test_plan_offers_the_channels_free_slots_and_moves_a_post_there(
    engine, database_url, monkeypatch
) -> None:
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    settings = desk_settings(database_url).model_copy(
        update={
            "channels": {
                "x": ChannelSettings(type="x", dry_run=True, slots=["07:00", "20:00"]),
                "log": ChannelSettings(type="log"),
            }
        }
    )
    add_user(engine, "ed", PASSWORD, "editor")
    next_week = (utcnow() + timedelta(days=7)).astimezone(settings.tz).date()
    start = next_week - timedelta(days=next_week.weekday())
    wednesday = datetime.combine(start + timedelta(days=2), time(12), settings.tz)
    (post_id,) = queue.add(
        engine,
        settings,
        ARTICLE,
        roster.chosen(settings, ["x"]),
        When("at", wednesday),
        force=True,
        queued_by="test",
    )
    with serving(engine, settings) as base:
        session, csrf = signed_in(base, "ed")
        plan = session.get(f"/plan?start={start.isoformat()}").text
        # The slot carries its zone's offset, so the move means that instant.
        slot = datetime.combine(start, time(7), settings.tz).isoformat(timespec="minutes")
        assert f'data-at="{slot}"' in plan
        session.post(
            f"/posts/{post_id}/reschedule",
            data={"csrf": csrf, "channel": "x", "slot": slot, "at": ""},
        )
    with engine.connect() as connection:
        due = connection.execute(select(posts.c.due_at).where(posts.c.id == post_id)).scalar()
    assert due == datetime.fromisoformat(slot)


def test_measuring_for_the_log_channel_answers(desk) -> None:
    session, csrf = signed_in(desk, "ed")
    answer = session.post(
        "/api/measure",
        json={"channel": "log", "text": "Hallo"},
        headers={"X-CSRF-Token": csrf},
    )
    assert answer.status_code == 200 and answer.json()["length"] == 5


def test_an_upload_over_the_size_limit_is_refused(engine, database_url, monkeypatch) -> None:
    from publisher.config import FetchSettings

    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    add_user(engine, "ed", PASSWORD, "editor")
    settings = desk_settings(database_url).model_copy(
        update={"fetch": FetchSettings(max_bytes=1_000)}
    )
    with serving(engine, settings) as base:
        session, csrf = signed_in(base, "ed")
        answer = session.post(
            "/intake",
            data={"csrf": csrf, "url": "https://e.de/a"},
            files={"file": ("a.txt", b"Kopf\n\n" + b"x" * 5_000)},
        )
    assert answer.status_code == 413 and "larger than 1,000 bytes" in answer.text


def test_pages_forbid_framing_and_foreign_scripts(desk) -> None:
    headers = fresh(desk).get("/signin").headers
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"


def test_signing_out_ends_the_session_for_every_copy_of_the_cookie(desk) -> None:
    session, csrf = signed_in(desk, "ed")
    copied = fresh(desk)
    copied.cookies.update(session.cookies)
    session.post("/signout", data={"csrf": csrf})
    assert copied.get("/queue").url.path == "/signin"


def test_repeated_wrong_passwords_for_a_user_are_throttled(desk) -> None:
    session = fresh(desk)
    page = session.get("/signin").text
    for _ in range(5):
        session.post("/signin", data={"name": "ed", "password": "guess", "csrf": token(page)})
    answer = session.post("/signin", data={"name": "ed", "password": PASSWORD, "csrf": token(page)})
    assert answer.status_code == 429 and "Too many" in answer.text


def test_the_proxy_header_is_ignored_from_an_address_not_trusted(
    engine, database_url, monkeypatch
) -> None:
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    settings = desk_settings(
        database_url, trusted_user_header="X-Forwarded-User", trusted_proxies=("10.0.0.0/8",)
    )
    with serving(engine, settings) as base:
        page = fresh(base).get("/queue", headers={"X-Forwarded-User": "mallory"})
    assert page.url.path == "/signin"


def test_a_text_that_drops_the_link_is_queued_only_when_confirmed(desk, engine) -> None:
    session, csrf = signed_in(desk, "ed")
    article = session.post(
        "/intake",
        data={"csrf": csrf},
        files={"file": ("a.json", b'{"url": "https://e.de/c", "headline": "Hallo"}')},
    )
    form = {"csrf": csrf, "include_x": "1", "text_x": "Nur Text", "timing": "now"}
    refused = session.post(f"{article.url}/queue", data=form)
    assert refused.status_code == 422 and "no longer holds the article" in refused.text
    assert 'name="without_link_x"' in refused.text
    with engine.connect() as connection:
        assert connection.execute(select(posts)).all() == []
    session.post(f"{article.url}/queue", data=form | {"without_link_x": "1"})
    with engine.connect() as connection:
        assert [r.text for r in connection.execute(select(posts))] == ["Nur Text"]


def test_a_post_id_too_large_for_any_post_is_a_message_not_a_crash(desk) -> None:
    session, csrf = signed_in(desk, "anna")
    answer = session.post(f"/posts/{'9' * 30}/approve", data={"csrf": csrf})
    assert answer.status_code == 404 and "There is no such page" in answer.text
    article = session.get(f"/articles/{'9' * 30}")
    assert article.status_code == 404


def test_a_channel_paused_for_its_settings_says_so_not_to_renew_credentials(
    desk, engine, database_url
) -> None:
    with engine.begin() as connection:
        from publisher.engine.storage.schema import channel_pauses

        connection.execute(
            channel_pauses.insert().values(
                channel="telegram", reason="chat not found", paused_at=utcnow(), cause="settings"
            )
        )
    session, _ = signed_in(desk, "ed")
    page = html.unescape(session.get("/queue").text)
    assert "check the channel's settings" in page and "credentials" not in page


def test_slow_pages_being_taken_in_do_not_hold_up_the_other_pages(
    engine, database_url, monkeypatch, server
) -> None:
    import threading
    import time as clock

    from publisher.config import FetchSettings

    done = threading.Event()

    def slow(handler) -> None:
        done.wait(10)
        handler.send_response(200)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    server.routes["/slow"] = slow
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    add_user(engine, "ed", PASSWORD, "editor")
    settings = desk_settings(database_url).model_copy(
        update={"fetch": FetchSettings(allow_private_networks=True, timeout=10.0)}
    )
    with served(engine, settings) as base:
        session, csrf = signed_in_over_http(base, "ed")
        intakes = [
            threading.Thread(
                target=lambda: session.post(
                    f"{base}/intake", data={"csrf": csrf, "url": server.base + "/slow"}, timeout=30
                )
            )
            for _ in range(44)
        ]
        for intake in intakes:
            intake.start()
        clock.sleep(0.5)
        started = clock.monotonic()
        page = session.get(f"{base}/queue", timeout=30)
        waited = clock.monotonic() - started
        done.set()
        for intake in intakes:
            intake.join()
    # Held up, the page would wait for the fetches (10 s); the margin is for a busy machine.
    assert page.status_code == 200 and waited < 5


def test_a_teaser_sent_back_with_the_browsers_line_ends_is_not_an_edit(desk, engine) -> None:
    session, csrf = signed_in(desk, "ed")
    article = session.post(
        "/intake",
        data={"csrf": csrf},
        files={
            "file": ("a.json", b'{"url": "https://e.de/d", "headline": "Hallo", "bullets": ["A"]}')
        },
    )
    composed = html.unescape(re.search(r'name="text_x"[^>]*>([^<]*)<', article.text).group(1))
    assert "\n" in composed
    form = {"csrf": csrf, "include_x": "1", "text_x": composed.replace("\n", "\r\n")}
    session.post(f"{article.url}/queue", data=form | {"timing": "now"})
    with engine.connect() as connection:
        assert [(r.text, r.edited) for r in connection.execute(select(posts))] == [
            (composed, False)
        ]


def test_a_refused_form_comes_back_as_the_editor_left_it(desk, engine) -> None:
    session, csrf = signed_in(desk, "ed")
    article = session.post(
        "/intake",
        data={"csrf": csrf},
        files={"file": ("a.json", b'{"url": "https://e.de/k", "headline": "Hallo"}')},
    )
    form = {"csrf": csrf, "include_x": "1", "text_x": "Wort " * 70, "text_telegram": "Hallo",
            "timing": "at", "at": f"{coming(1, 15)}T09:30"}  # fmt: skip
    refused = session.post(f"{article.url}/queue", data=form)
    assert refused.status_code == 422
    page = refused.text
    assert re.search(r'name="include_x" value="1" checked', page)
    assert not re.search(r'name="include_telegram" value="1" checked', page)
    assert re.search(r'name="timing" value="at"[^>]* checked', page)
    assert f'value="{coming(1, 15)}T09:30"' in page
    assert "Wort Wort" in page


def test_the_queue_names_states_in_words_not_identifiers(desk, engine, database_url) -> None:
    queued_post(engine, database_url, "awaiting_approval")
    session, _ = signed_in(desk, "ed")
    page = session.get("/queue").text
    shown = re.sub(r"<[^>]+>", " ", page.split("<main")[1])
    assert "waiting for approval" in shown and "awaiting_approval" not in shown


def test_a_refusal_from_the_queue_reads_as_a_sentence(desk, engine, database_url) -> None:
    post_id = queued_post(engine, database_url, "sent")
    session, csrf = signed_in(desk, "anna")
    answer = session.post(f"/posts/{post_id}/cancel", data={"csrf": csrf})
    assert f"Post {post_id} is sent: only posts that are" in answer.text


def post_form(session: TestClient, base: str, post_id: int) -> dict[str, str]:
    """The post view's edit form as the browser would send it."""
    page = session.get(f"/posts/{post_id}").text
    seen = re.search(r'name="seen" value="([^"]+)"', page).group(1)
    text = html.unescape(re.search(r'name="text"[^>]*>([^<]*)<', page).group(1))
    return {"csrf": token(page), "seen": seen, "text": text}


def test_the_post_view_shows_the_preview_who_queued_it_and_its_deliveries(
    desk, engine, database_url
) -> None:
    post_id = queued_post(engine, database_url)
    session, _ = signed_in(desk, "ed")
    page = session.get(f"/posts/{post_id}").text
    assert 'class="pv-x"' in page and "Schlagzeile" in page
    assert "queued – command line" in page
    assert "No deliveries." in page


def test_cancelling_asks_once_and_can_be_undone(desk, engine, database_url) -> None:
    post_id = queued_post(engine, database_url)
    session, csrf = signed_in(desk, "ed")
    asked = session.post(f"/posts/{post_id}/cancel", data={"csrf": csrf})
    assert "Really cancel post" in asked.text and state(engine, post_id) == "queued"
    done = session.post(
        f"/posts/{post_id}/cancel",
        data={"csrf": csrf, "confirm": "1", "back": f"/posts/{post_id}?done=cancel"},
    )
    assert state(engine, post_id) == "cancelled" and "Undo" in done.text
    session.post(f"/posts/{post_id}/restore", data={"csrf": csrf})
    assert state(engine, post_id) == "queued"


def test_a_post_that_had_failed_is_not_restored_by_undoing_its_cancel(
    desk, engine, database_url
) -> None:
    post_id = queued_post(engine, database_url, "failed")
    session, csrf = signed_in(desk, "ed")
    session.post(f"/posts/{post_id}/cancel", data={"csrf": csrf, "confirm": "1"})
    answer = session.post(f"/posts/{post_id}/restore", data={"csrf": csrf})
    assert "cannot be restored" in answer.text and state(engine, post_id) == "cancelled"


def test_a_text_edited_in_the_post_view_is_saved(desk, engine, database_url) -> None:
    post_id = queued_post(engine, database_url)
    session, _ = signed_in(desk, "ed")
    form = post_form(session, desk, post_id)
    form["text"] = form["text"].replace("Schlagzeile", "Neue Zeile")
    session.post(f"/posts/{post_id}/edit", data=form)
    with engine.connect() as connection:
        row = connection.execute(select(posts).where(posts.c.id == post_id)).one()
    assert row.text.startswith("Neue Zeile") and row.edited


def test_two_editors_cannot_overwrite_each_other_silently(desk, engine, database_url) -> None:
    post_id = queued_post(engine, database_url)
    first, _ = signed_in(desk, "ed")
    second, _ = signed_in(desk, "anna")
    mine, theirs = post_form(first, desk, post_id), post_form(second, desk, post_id)
    first.post(f"/posts/{post_id}/edit", data=mine | {"text": mine["text"] + " A"})
    late = second.post(f"/posts/{post_id}/edit", data=theirs | {"text": theirs["text"] + " B"})
    assert late.status_code == 422 and "changed meanwhile by ed" in late.text
    with engine.connect() as connection:
        assert connection.execute(select(posts.c.text)).scalar().endswith(" A")


def take_in(session: TestClient, base: str, csrf: str) -> httpx2.Response:
    return session.post(
        "/intake",
        data={"csrf": csrf},
        files={
            "file": ("a.json", b'{"url": "https://e.de/t", "headline": "Hallo", "bullets": []}')
        },
    )


def test_telegram_text_is_edited_with_marks_not_html(desk, engine) -> None:
    session, csrf = signed_in(desk, "ed")
    article = take_in(session, desk, csrf)
    typed = html.unescape(re.search(r'name="text_telegram"[^>]*>([^<]*)<', article.text).group(1))
    assert typed.startswith("**Hallo**") and "<b>" not in typed and "](https://e.de/t" in typed
    form = {"csrf": csrf, "include_telegram": "1", "text_telegram": typed, "timing": "now"}
    session.post(f"{article.url}/queue", data=form)
    with engine.connect() as connection:
        stored = connection.execute(select(posts.c.text, posts.c.edited)).one()
    assert stored.text.startswith("<b>Hallo</b>") and not stored.edited


def test_marks_typed_for_telegram_are_saved_as_its_html(desk, engine, database_url) -> None:
    settings = desk_settings(database_url)
    chosen = roster.chosen(settings, ["telegram"])
    (post_id,) = queue.add(engine, settings, ARTICLE, chosen, When(), force=True, queued_by="test")
    session, _ = signed_in(desk, "ed")
    form = post_form(session, desk, post_id)
    session.post(
        f"/posts/{post_id}/edit",
        data=form | {"text": "**Neu** & [mehr](https://e.de/artikel/9)"},
    )
    with engine.connect() as connection:
        text = connection.execute(select(posts.c.text).where(posts.c.id == post_id)).scalar()
    assert text == '<b>Neu</b> &amp; <a href="https://e.de/artikel/9">mehr</a>'


def test_the_live_count_reads_telegram_marks_as_the_server_will(desk) -> None:
    session, csrf = signed_in(desk, "ed")
    answer = session.post(
        "/api/measure",
        json={"channel": "telegram", "text": "**Fett** [x](https://e.de/a)"},
        headers={"X-CSRF-Token": csrf},
    )
    assert answer.json()["length"] == len("Fett x")


def test_a_german_desk_says_why_a_text_is_refused_in_german(engine, database_url, monkeypatch):
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    add_user(engine, "ed", PASSWORD, "editor")
    german = desk_settings(database_url).model_copy(update={"language": "de"})
    with serving(engine, german) as base:
        session, csrf = signed_in(base, "ed")
        answer = session.post(
            "/api/measure",
            json={"channel": "x", "text": "a" * 300},
            headers={"X-CSRF-Token": csrf},
        ).json()
    assert answer["problems"] == ["300 Zeichen (wie X zählt), mehr als die erlaubten 280"]
    assert answer["unit"] == "Zeichen (wie X zählt)"


def test_a_german_desk_says_in_german_why_a_page_cannot_be_taken_in(
    engine, database_url, server, monkeypatch
) -> None:
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    add_user(engine, "ed", PASSWORD, "editor")
    server.answer("/weg", 404)
    german = desk_settings(database_url).model_copy(
        update={"language": "de", "fetch": FetchSettings(allow_private_networks=True)}
    )
    with serving(engine, german) as base:
        session, csrf = signed_in(base, "ed")
        page = session.post("/intake", data={"csrf": csrf, "url": f"{server.base}/weg"}).text
    assert f"Die Website hat {server.base}/weg mit Fehler 404 beantwortet." in html.unescape(page)


@pytest.fixture
def uvicorn_desk(engine, database_url, monkeypatch) -> Iterator[str]:
    """The desk served by uvicorn (the smoke test of the server the newsroom runs): its address."""
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    add_user(engine, "anna", PASSWORD, "approver")
    add_user(engine, "ed", PASSWORD, "editor")
    with served(engine, desk_settings(database_url)) as base:
        yield base


def signed_in_over_http(base: str, name: str) -> tuple[requests.Session, str]:
    """A session signed in to a desk uvicorn serves at `base`, and its form token."""
    session = requests.Session()
    page = session.get(f"{base}/signin", timeout=30).text
    form = {"name": name, "password": PASSWORD, "csrf": token(page)}
    answer = session.post(f"{base}/signin", data=form, timeout=30)
    assert answer.url == f"{base}/", answer.text
    return session, token(answer.text)


def test_several_editors_signing_in_at_once_through_uvicorn_all_get_in(uvicorn_desk) -> None:
    with ThreadPoolExecutor(8) as pool:  # signed_in fails unless the sign-in leads to the desk
        sessions = list(
            pool.map(lambda name: signed_in_over_http(uvicorn_desk, name), ["anna", "ed"] * 4)
        )
    assert len(sessions) == 8


def test_a_body_sent_without_a_length_is_refused_before_the_rest_of_it_arrives(
    uvicorn_desk,
) -> None:
    host, port = uvicorn_desk.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as connection:
        connection.sendall(
            b"POST /signin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\n\r\n"
        )
        for _ in range(10):  # 100 KB of a body that never ends
            connection.sendall(b"2710\r\n" + b"x" * 10_000 + b"\r\n")
        answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413")


def test_an_upload_with_the_id_of_a_cms_article_shows_the_cms_version_and_says_so(
    desk, engine, database_url
) -> None:
    from publisher.engine.releases.release import release

    cms = ARTICLE.model_copy(update={"headline": "Die Fassung des CMS"})
    release(engine, desk_settings(database_url), cms, "webhook")
    session, csrf = signed_in(desk, "ed")
    forged = b'{"id": "cms-9", "url": "https://attacker.example/", "headline": "Untergeschoben"}'
    page = session.post("/intake", data={"csrf": csrf}, files={"file": ("a.json", forged)})
    assert "stored as the CMS sent it" in page.text and "Die Fassung des CMS" in page.text
    assert "Untergeschoben" not in page.text and "attacker.example" not in page.text


@pytest.mark.parametrize(
    "address", ["/?error=Sign+in+at+evil.example", "/queue?message=evil.example&status=500"]
)
def test_what_a_page_says_is_never_taken_from_its_address(desk, address) -> None:
    session, _ = signed_in(desk, "ed")
    answer = session.get(address)
    assert answer.status_code == 200 and "evil.example" not in answer.text


def test_a_redirect_never_names_the_host_a_request_claims(desk) -> None:
    answer = fresh(desk).get(
        "/widget/pub1/", headers={"Host": "evil.example"}, follow_redirects=False
    )
    assert "evil.example" not in answer.headers.get("location", "")


def test_desk_pages_are_kept_by_no_cache(desk) -> None:
    session, _ = signed_in(desk, "ed")
    assert session.get("/queue").headers["cache-control"] == "no-store"


def test_the_desks_own_files_are_compressed_and_kept_a_while(desk) -> None:
    answer = fresh(desk).get("/static/desk.js", headers={"Accept-Encoding": "gzip"})
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.headers["cache-control"] == "public, max-age=300" and answer.headers["etag"]


def test_signing_in_over_plain_http_works_when_cookies_follow_the_request(
    engine, database_url, monkeypatch
) -> None:
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    add_user(engine, "ed", PASSWORD, "editor")
    with serving(engine, desk_settings(database_url, secure_cookies="auto")) as base:
        session, _ = signed_in(base, "ed")
        assert "secure" not in str(session.cookies).lower()
        assert session.get("/queue").url.path == "/queue"


def test_cookies_are_secure_when_a_trusted_proxy_says_the_request_came_over_https(
    engine, database_url, monkeypatch
) -> None:
    settings = desk_settings(database_url, secure_cookies="auto")
    settings = settings.model_copy(
        update={"serve": settings.serve.model_copy(update={"trusted_proxies": ("127.0.0.1",)})}
    )
    with serving(engine, settings) as base:
        answer = fresh(base).get("/signin", headers={"X-Forwarded-Proto": "https"})
    assert "; secure" in answer.headers["set-cookie"].lower()


def test_a_desk_that_signs_in_only_over_https_says_so_over_http(engine, database_url) -> None:
    with serving(engine, desk_settings(database_url, secure_cookies=True)) as base:
        page = fresh(base).get("/signin").text
    assert "signs in only over HTTPS" in page


@pytest.fixture
def image_desk(engine, database_url, monkeypatch) -> Iterator[TestClient]:
    """A desk that may fetch from this machine (the test's image server)."""
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    add_user(engine, "ed", PASSWORD, "editor")
    settings = desk_settings(database_url).model_copy(
        update={"fetch": FetchSettings(allow_private_networks=True)}
    )
    with serving(engine, settings) as base:
        yield base


def test_article_images_in_previews_are_loaded_through_the_desk(
    image_desk, server: LocalServer
) -> None:
    desk = image_desk
    picture = server.serve("/bild.png", PNG, "image/png")
    session, csrf = signed_in(desk, "ed")
    article = json.dumps({"url": "https://e.de/bild", "headline": "Mit Bild", "image": picture})
    page = session.post(
        "/intake", data={"csrf": csrf}, files={"file": ("a.json", article.encode())}
    )
    assert picture not in page.text
    shown = re.search(r'class="pv-img" src="(/articles/\d+/image)"', page.text).group(1)
    image = session.get(shown)
    assert (image.status_code, image.headers["content-type"], image.content) == (
        200,
        "image/png",
        PNG,
    )
    assert "img-src 'self' data:;" in page.headers["content-security-policy"]


def test_a_preview_image_that_is_no_image_is_not_passed_on(image_desk, server: LocalServer) -> None:
    desk = image_desk
    script = server.serve("/bild.svg", b"<svg><script>alert(1)</script></svg>", "image/svg+xml")
    session, csrf = signed_in(desk, "ed")
    article = json.dumps({"url": "https://e.de/svg", "headline": "Mit SVG", "image": script})
    page = session.post(
        "/intake", data={"csrf": csrf}, files={"file": ("a.json", article.encode())}
    )
    shown = re.search(r'class="pv-img" src="(/articles/\d+/image)"', page.text).group(1)
    assert session.get(shown).status_code == 404


def article_form(session, desk: str, csrf: str) -> str:
    """The page of a freshly taken-in article: its address."""
    page = session.post(
        "/intake",
        data={"csrf": csrf},
        files={"file": ("a.json", b'{"url": "https://e.de/zeit", "headline": "Zur Zeit"}')},
    )
    return page.url


@pytest.mark.parametrize("timing", ["now", "next_slot", "best"])
def test_a_time_typed_beside_another_timing_is_refused_not_ignored(
    desk, engine, timing: str
) -> None:
    session, csrf = signed_in(desk, "ed")
    at = f"{coming(1, 15)}T09:30"
    form = {"csrf": csrf, "include_x": "1", "timing": timing, "at": at}
    refused = session.post(f"{article_form(session, desk, csrf)}/queue", data=form)
    assert refused.status_code == 422 and "choose “At”" in html.unescape(refused.text)
    with engine.connect() as connection:
        assert connection.execute(select(posts.c.id)).first() is None


def test_at_without_a_time_says_to_choose_one(desk, engine) -> None:
    session, csrf = signed_in(desk, "ed")
    form = {"csrf": csrf, "include_x": "1", "timing": "at", "at": ""}
    refused = session.post(f"{article_form(session, desk, csrf)}/queue", data=form)
    assert refused.status_code == 422 and "Choose a date and time" in refused.text

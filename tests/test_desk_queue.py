"""The desk's queue at scale: pages, filters, the posts needing an editor first, and actions on
many posts at once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, update

from publisher.clock import utcnow
from publisher.engine.posts.events import post_history
from publisher.engine.storage.schema import posts
from tests.conftest import coming
from tests.desk_helpers import desk_settings, queued_post, shown_version, signed_in, state
from tests.engine_helpers import post


def rows(page: str) -> list[int]:
    return [int(number) for number in re.findall(r'<tr data-post="(\d+)"', page)]


def many(engine: Engine, database_url: str, count: int) -> list[int]:
    return [queued_post(engine, database_url) for _ in range(count)]


def test_the_queue_shows_fifty_posts_a_page_and_links_the_next(desk, engine, database_url):
    ids = many(engine, database_url, 53)
    session, _ = signed_in(desk, "ed")
    first = session.get("/queue").text
    second = session.get("/queue?page=2").text
    assert len(rows(first)) == 50 and 'href="/queue?page=2"' in first
    assert sorted(rows(first) + rows(second)) == ids


def test_posts_needing_an_editor_come_first(desk, engine, database_url) -> None:
    early = queued_post(engine, database_url)
    failed = queued_post(engine, database_url, "failed")
    with engine.begin() as connection:
        later = utcnow() + timedelta(days=2)
        connection.execute(update(posts).where(posts.c.id == failed).values(due_at=later))
    session, _ = signed_in(desk, "ed")
    assert rows(session.get("/queue").text) == [failed, early]


def test_the_queue_filters_by_state_and_words(desk, engine, database_url) -> None:
    waiting = queued_post(engine, database_url, "awaiting_approval")
    queued_post(engine, database_url)
    session, _ = signed_in(desk, "ed")
    by_state = session.get("/queue?state=awaiting_approval").text
    by_words = session.get("/queue?q=nirgends").text
    assert rows(by_state) == [waiting] and rows(by_words) == []


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden fields of a confirmation's form, as the browser sends them back."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))


def confirmed(session, asked) -> Any:
    """The answer to pressing the button of a confirmation: its form sent back as it is."""
    assert 'role="alertdialog"' in asked.text, asked.text[:500]
    return session.post("/queue/bulk", data=hidden_fields(asked.text))


def test_approving_in_bulk_shows_every_whole_text_first(desk, engine, database_url) -> None:
    ids = [queued_post(engine, database_url, "awaiting_approval") for _ in range(2)]
    session, csrf = signed_in(desk, "anna")
    asked = session.post("/queue/bulk", data={"csrf": csrf, "action": "approve", "post": ids})
    texts = re.findall(r'<pre class="whole-text">(.*?)</pre>', asked.text, re.S)
    assert len(texts) == 2 and [state(engine, i) for i in ids] == ["awaiting_approval"] * 2


def test_an_approver_approves_the_ticked_posts_as_shown(desk, engine, database_url) -> None:
    ids = [queued_post(engine, database_url, "awaiting_approval") for _ in range(3)]
    session, csrf = signed_in(desk, "anna")
    asked = session.post("/queue/bulk", data={"csrf": csrf, "action": "approve", "post": ids[:2]})
    answer = session.post("/queue/bulk", data=hidden_fields(asked.text))
    assert "Done for 2 of 2 posts." in answer.text
    assert [state(engine, i) for i in ids] == ["queued", "queued", "awaiting_approval"]


def test_a_bulk_approval_of_posts_whose_time_passed_says_they_go_out_now(
    desk, engine, database_url
) -> None:
    ids = [queued_post(engine, database_url, "awaiting_approval") for _ in range(2)]
    session, csrf = signed_in(desk, "anna")
    asked = session.post("/queue/bulk", data={"csrf": csrf, "action": "approve", "post": ids})
    answer = session.post("/queue/bulk", data=hidden_fields(asked.text))
    assert "2 of them go out now: their time has come." in answer.text


def test_a_bulk_approval_leaves_a_text_changed_after_it_was_shown(
    desk, engine, database_url
) -> None:
    ids = [queued_post(engine, database_url, "awaiting_approval") for _ in range(2)]
    session, csrf = signed_in(desk, "anna")
    asked = session.post("/queue/bulk", data={"csrf": csrf, "action": "approve", "post": ids})
    with engine.begin() as connection:
        changed = "ACHTUNG FALSCH: Bayern verliert 0:4 https://e.de/artikel/1"
        connection.execute(update(posts).where(posts.c.id == ids[1]).values(text=changed))
    answer = session.post("/queue/bulk", data=hidden_fields(asked.text))
    assert "Done for 1 of 2 posts." in answer.text and "changed meanwhile" in answer.text
    assert [state(engine, i) for i in ids] == ["queued", "awaiting_approval"]


def test_a_queue_row_offers_review_not_a_blind_approval(desk, engine, database_url) -> None:
    post_id = queued_post(engine, database_url, "awaiting_approval")
    session, _ = signed_in(desk, "anna")
    page = session.get("/queue").text
    assert f'action="/posts/{post_id}/approve"' not in page
    assert f'href="/posts/{post_id}" aria-label="Review and approve #{post_id}"' in page


def test_an_editor_cannot_approve_in_bulk(desk, engine, database_url) -> None:
    post_id = queued_post(engine, database_url, "awaiting_approval")
    session, csrf = signed_in(desk, "ed")
    answer = session.post(
        "/queue/bulk",
        data={"csrf": csrf, "action": "approve", "post": [post_id]},
    )
    assert answer.status_code == 403 and state(engine, post_id) == "awaiting_approval"


def test_cancelling_many_posts_asks_once(desk, engine, database_url) -> None:
    ids = many(engine, database_url, 2)
    session, csrf = signed_in(desk, "ed")
    form = {"csrf": csrf, "action": "cancel", "post": ids, "back": "/queue"}
    asked = session.post("/queue/bulk", data=form)
    assert "Really cancel 2 posts?" in asked.text and state(engine, ids[0]) == "queued"
    session.post("/queue/bulk", data=form | {"confirm": "1"})
    assert [state(engine, i) for i in ids] == ["cancelled", "cancelled"]


def test_a_bulk_action_says_which_posts_it_could_not_do(desk, engine, database_url) -> None:
    sent, queued = queued_post(engine, database_url, "sent"), queued_post(engine, database_url)
    session, csrf = signed_in(desk, "ed")
    answer = session.post(
        "/queue/bulk",
        data={"csrf": csrf, "action": "cancel", "confirm": "1", "post": [sent, queued]},
    )
    assert answer.status_code == 422
    assert "Done for 1 of 2 posts." in answer.text and f"Post {sent} is sent" in answer.text


def test_many_posts_move_to_one_time_but_not_onto_each_other(desk, engine, database_url):
    first, second = many(engine, database_url, 2)
    session, csrf = signed_in(desk, "ed")
    answer = session.post(
        "/queue/bulk",
        data={
            "csrf": csrf,
            "action": "reschedule",
            "post": [first, second],
            "at": f"{coming(5, 4)}T10:30",
        },
    )
    answer = confirmed(session, answer)
    assert "Done for 1 of 2 posts." in answer.text
    assert f"post {first} on x is already due at that time" in answer.text.lower()
    wanted = datetime.fromisoformat(f"{coming(5, 4)}T10:30").replace(
        tzinfo=desk_settings(database_url).tz
    )
    assert post(engine, first).due_at.replace(tzinfo=UTC) == wanted


def test_nothing_ticked_is_a_message_and_changes_nothing(desk, engine, database_url) -> None:
    post_id = queued_post(engine, database_url)
    session, csrf = signed_in(desk, "ed")
    answer = session.post("/queue/bulk", data={"csrf": csrf, "action": "cancel"})
    assert answer.status_code == 422 and "tick at least one post" in answer.text
    assert state(engine, post_id) == "queued"


def test_going_back_after_an_action_never_leaves_the_desk(desk, engine, database_url) -> None:
    post_id = queued_post(engine, database_url, "awaiting_approval")
    session, csrf = signed_in(desk, "anna")
    seen = shown_version(session, post_id)
    answer = session.post(
        f"/posts/{post_id}/approve",
        data={"csrf": csrf, "seen": seen, "back": "/\\evil.example/"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/queue"


def test_all_posts_the_filter_finds_are_changed_after_one_question(desk, engine, database_url):
    ids = many(engine, database_url, 53)
    session, csrf = signed_in(desk, "ed")
    form = {"csrf": csrf, "action": "cancel", "scope": "matching", "back": "/queue"}
    asked = session.post("/queue/bulk", data=form)
    assert "Really cancel 53 posts?" in asked.text and "on all pages" in asked.text
    carried = re.search(r'name="ids" value="([\d,]+)"', asked.text).group(1)
    late = queued_post(engine, database_url)
    session.post("/queue/bulk", data=form | {"confirm": "1", "ids": carried})
    assert {state(engine, i) for i in ids} == {"cancelled"}
    # A post queued while the editor read the question was not asked about.
    assert state(engine, late) == "queued"


def test_all_posts_the_filter_finds_keeps_to_the_filter(desk, engine, database_url) -> None:
    waiting = queued_post(engine, database_url, "awaiting_approval")
    queued = queued_post(engine, database_url)
    session, csrf = signed_in(desk, "anna")
    form = {
        "csrf": csrf, "action": "approve", "scope": "matching",
        "back": "/queue?state=awaiting_approval",
    }  # fmt: skip
    asked = session.post("/queue/bulk", data=form)
    assert "Approve: one post?" in asked.text
    carried = re.search(r'name="ids" value="([\d,]+)"', asked.text).group(1)
    assert carried == str(waiting) and state(engine, queued) == "queued"


def test_more_posts_than_one_action_takes_are_refused_whole(
    desk, engine, database_url, monkeypatch
):
    monkeypatch.setattr("publisher.bulk.MOST", 2)
    ids = many(engine, database_url, 3)
    session, csrf = signed_in(desk, "ed")
    form = {"csrf": csrf, "action": "cancel", "scope": "matching", "back": "/queue"}
    answer = session.post("/queue/bulk", data=form)
    assert answer.status_code == 422 and "more than 2 posts" in answer.text
    assert {state(engine, i) for i in ids} == {"queued"}


def test_a_time_typed_beside_another_action_is_refused_not_ignored(desk, engine, database_url):
    post_id = queued_post(engine, database_url, "awaiting_approval")
    session, csrf = signed_in(desk, "anna")
    form = {"csrf": csrf, "action": "approve", "post": [post_id], "at": f"{coming(5, 4)}T10:30"}
    answer = session.post("/queue/bulk", data=form)
    assert answer.status_code == 422 and "a time or hours were typed" in answer.text
    assert state(engine, post_id) == "awaiting_approval"


def test_ticked_posts_shift_by_the_hours_typed(desk, engine, database_url) -> None:
    post_id = queued_post(engine, database_url)
    before = post(engine, post_id).due_at
    session, csrf = signed_in(desk, "ed")
    form = {"csrf": csrf, "action": "shift", "post": [post_id], "hours": "1,5"}
    answer = confirmed(session, session.post("/queue/bulk", data=form))
    assert answer.status_code == 200 and "Done for 1 of 1 posts." in answer.text
    assert post(engine, post_id).due_at - before == timedelta(minutes=90)


def test_a_refused_post_is_listed_with_its_channel_and_headline(desk, engine, database_url):
    sent = queued_post(engine, database_url, "sent")
    session, csrf = signed_in(desk, "ed")
    form = {"csrf": csrf, "action": "shift", "post": [sent], "hours": "2"}
    answer = session.post("/queue/bulk", data=form)
    item = re.search(r'<ul class="left-alone"><li>(.*?)</li>', answer.text).group(1)
    assert f'href="/posts/{sent}"' in item and "X, „" in item and f"Post {sent} is sent" in item


def test_a_shift_sent_again_by_a_reload_is_not_made_twice(desk, engine, database_url) -> None:
    post_id = queued_post(engine, database_url)
    before = post(engine, post_id).due_at
    session, csrf = signed_in(desk, "ed")
    page = session.get("/queue").text
    once = re.search(r'name="once" value="([^"]+)"', page).group(1)
    form = {"csrf": csrf, "action": "shift", "post": [post_id], "hours": "1", "once": once}
    asked = session.post("/queue/bulk", data=form)
    confirmed(session, asked)
    again = confirmed(session, asked)
    assert again.status_code == 409 and "already done" in again.text
    assert post(engine, post_id).due_at - before == timedelta(hours=1)


def test_a_refused_move_on_a_posts_page_keeps_the_editor_on_that_page(
    desk, engine, database_url
) -> None:
    post_id = queued_post(engine, database_url)
    session, csrf = signed_in(desk, "ed")
    form = {"csrf": csrf, "at": "2020-01-01T10:00", "back": f"/posts/{post_id}?done=reschedule"}
    answer = session.post(f"/posts/{post_id}/reschedule", data=form)
    assert answer.status_code == 422 and "is in the past" in answer.text
    assert f'action="/posts/{post_id}/reschedule"' in answer.text


def test_an_action_in_a_queue_row_says_what_became_of_the_post(desk, engine, database_url):
    post_id = queued_post(engine, database_url, "failed")
    session, csrf = signed_in(desk, "ed")
    back = f"/queue?&done=retry&post={post_id}"
    answer = session.post(f"/posts/{post_id}/retry", data={"csrf": csrf, "back": back})
    assert answer.url.path == "/queue"
    assert f"#{post_id}: It will be tried again." in answer.text


def test_a_move_to_the_time_a_post_already_has_is_no_move(desk, engine, database_url) -> None:
    post_id = queued_post(engine, database_url)
    due = post(engine, post_id).due_at + timedelta(hours=2)
    with engine.begin() as connection:
        connection.execute(update(posts).where(posts.c.id == post_id).values(due_at=due))
    session, csrf = signed_in(desk, "ed")
    form = {
        "csrf": csrf,
        "slot": due.replace(second=0, microsecond=0).isoformat(),
        "back": f"/posts/{post_id}?done=reschedule",
    }
    answer = session.post(f"/posts/{post_id}/reschedule", data=form)
    assert "already planned for" in answer.text and "nothing changed" in answer.text
    assert "rescheduled" not in [event.action for event in post_history(engine, post_id)]


def test_a_busy_days_move_of_hundreds_of_posts_is_made_as_shown(desk, engine, database_url):
    ids = many(engine, database_url, 320)
    start = utcnow() + timedelta(hours=2)
    with engine.begin() as connection:
        for n, post_id in enumerate(ids):
            moment = start + timedelta(minutes=n)
            connection.execute(update(posts).where(posts.c.id == post_id).values(due_at=moment))
    session, csrf = signed_in(desk, "ed")
    form = {"csrf": csrf, "action": "shift", "hours": "1", "scope": "matching", "back": "/queue"}
    answer = confirmed(session, session.post("/queue/bulk", data=form))
    assert "Done for 320 of 320 posts." in answer.text
    assert post(engine, ids[-1]).due_at == start + timedelta(minutes=319, hours=1)


def test_a_form_of_too_many_fields_is_refused_in_the_editors_words(desk) -> None:
    session, csrf = signed_in(desk, "ed")
    form = {"csrf": csrf, "action": "cancel"} | {f"seen_{n}": "x" for n in range(400)}
    answer = session.post("/queue/bulk", data=form)
    assert answer.status_code == 400 and "This form could not be read" in answer.text
    assert "Too many fields" not in answer.text

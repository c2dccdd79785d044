"""An approval covers exactly the text the approver was shown, from every surface: the engine
refuses one that names no text version or another than the current one; the desk's post page,
bulk approval, the command line and the bot each name the version they showed, a text is shown
whole before it can be approved, and the approver is told when the post goes out (never a time
already past)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update

from publisher import roster
from publisher.config import ChannelSettings, Settings
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue, verbs
from publisher.engine.posts.queue import QueueError
from publisher.engine.storage.schema import posts
from standins.bot_api import BotApiStandIn
from standins.telegram import TELEGRAM_TOKEN
from tests.conftest import run_cli, wait_for
from tests.desk_helpers import queued_post, shown_version, signed_in, state
from tests.engine_helpers import article, make_settings, post
from tests.test_bot import EDITOR, EDITORS_CHAT, bot_running, bot_settings, press, reply_after

WRONG = "ACHTUNG FALSCH: Bayern verliert 0:4 https://e.de/artikel/1"
ADVERT = "PS: Anzeige – jetzt Depot eröffnen und 50 Euro Startguthaben sichern"


def set_text(engine: Engine, post_id: int, text: str, **values: Any) -> None:
    with engine.begin() as connection:
        connection.execute(update(posts).where(posts.c.id == post_id).values(text=text, **values))


# --- the engine ----------------------------------------------------------------------------


def waiting_post(engine: Engine, database_url: str) -> int:
    settings = make_settings(
        database_url, facebook={"type": "facebook", "page_id": "1", "approval": True}
    )
    later = When("at", datetime.now(UTC) + timedelta(hours=2))
    channels = roster.chosen(settings, ["facebook"])
    return queue.add(engine, settings, article(), channels, later, queued_by="ed")[0]


def test_an_approval_naming_no_text_version_approves_nothing(engine, database_url) -> None:
    post_id = waiting_post(engine, database_url)
    with pytest.raises(QueueError) as refused:
        verbs.approve(engine, post_id, "chief", seen=None)
    assert refused.value.key == "approval_unseen" and post(engine, post_id).approved_by is None


def test_an_approval_of_a_text_changed_since_approves_nothing(engine, database_url) -> None:
    post_id = waiting_post(engine, database_url)
    seen = verbs.text_version(post(engine, post_id).text)
    set_text(engine, post_id, WRONG)
    with pytest.raises(QueueError) as refused:
        verbs.approve(engine, post_id, "chief", seen=seen)
    assert refused.value.key == "approval_outdated" and post(engine, post_id).state != "queued"


# --- the desk ------------------------------------------------------------------------------


def test_the_chief_approving_her_old_page_after_an_edit_is_refused_and_shown_the_new_text(
    desk, engine, database_url
) -> None:
    post_id = queued_post(engine, database_url, "awaiting_approval")
    session, csrf = signed_in(desk, "anna")
    seen = shown_version(session, post_id)
    set_text(engine, post_id, WRONG)
    answer = session.post(f"/posts/{post_id}/approve", data={"csrf": csrf, "seen": seen})
    assert answer.status_code == 409 and "was changed meanwhile" in answer.text
    assert "ACHTUNG FALSCH" in answer.text and state(engine, post_id) == "awaiting_approval"


def test_an_approval_form_without_its_version_approves_nothing(desk, engine, database_url):
    post_id = queued_post(engine, database_url, "awaiting_approval")
    session, csrf = signed_in(desk, "anna")
    answer = session.post(f"/posts/{post_id}/approve", data={"csrf": csrf})
    assert answer.status_code == 409 and state(engine, post_id) == "awaiting_approval"


def test_an_approval_says_when_the_post_goes_out(desk, engine, database_url) -> None:
    post_id = queued_post(engine, database_url, "awaiting_approval")
    # On a whole minute: a time at its end (20:23:59.97) may be shown as the next one.
    later = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    set_text(engine, post_id, post(engine, post_id).text, due_at=later)
    session, csrf = signed_in(desk, "anna")
    seen = shown_version(session, post_id)
    page = approve_on_page(session, csrf, post_id, seen)
    assert "Approved. Goes out on " in page and later.strftime("%H:%M") in page


def test_an_approval_after_the_due_time_says_it_goes_out_now(desk, engine, database_url):
    post_id = queued_post(engine, database_url, "awaiting_approval")
    past = datetime.now(UTC) - timedelta(hours=3)
    set_text(engine, post_id, post(engine, post_id).text, due_at=past)
    session, csrf = signed_in(desk, "anna")
    seen = shown_version(session, post_id)
    page = approve_on_page(session, csrf, post_id, seen)
    assert "Approved. Goes out now." in page and past.strftime("%H:%M") not in page


def approve_on_page(session: Any, csrf: str, post_id: int, seen: str) -> str:
    """Press "Approve" on a post's page, as its form sends it."""
    back = f"/posts/{post_id}?done=approve"
    return session.post(
        f"/posts/{post_id}/approve", data={"csrf": csrf, "seen": seen, "back": back}
    ).text


# --- the command line ----------------------------------------------------------------------


@pytest.fixture
def newsroom_dir(tmp_path: Path) -> Path:
    (tmp_path / "publisher.toml").write_text(
        'database_url = "sqlite:///publisher.db"\n'
        '[channels.facebook]\ntype = "facebook"\npage_id = "1"\napproval = true\ndry_run = true\n'
    )
    source = tmp_path / "article.json"
    source.write_text(json.dumps(article().to_json()))
    at = (datetime.now(UTC) + timedelta(hours=2)).isoformat(timespec="minutes")
    added = run_cli("queue", "add", str(source), "--channels", "facebook", "--at", at, cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    return tmp_path


def test_the_command_line_refuses_an_approval_that_names_no_text(newsroom_dir) -> None:
    answer = run_cli("queue", "approve", "1", cwd=newsroom_dir)
    assert answer.returncode == 2 and "queue show 1" in answer.stderr
    listed = json.loads(run_cli("queue", "list", "--json", cwd=newsroom_dir).stdout)
    assert listed[0]["state"] == "awaiting_approval"


def test_the_command_line_approves_the_version_queue_show_printed(newsroom_dir) -> None:
    shown = json.loads(run_cli("queue", "show", "1", "--json", cwd=newsroom_dir).stdout)
    answer = run_cli("queue", "approve", "1", "--version", shown["version"], cwd=newsroom_dir)
    assert answer.returncode == 0 and "post 1 approved: it goes out" in answer.stdout


def test_the_command_line_refuses_a_version_of_an_older_text(newsroom_dir) -> None:
    shown = json.loads(run_cli("queue", "show", "1", "--json", cwd=newsroom_dir).stdout)
    run_cli("queue", "edit", "1", f"Neuer Text {shown['link']}", cwd=newsroom_dir)
    answer = run_cli("queue", "approve", "1", "--version", shown["version"], cwd=newsroom_dir)
    assert answer.returncode == 2 and "changed meanwhile" in answer.stderr


# --- the bot -------------------------------------------------------------------------------


@pytest.fixture
def chief_bot(
    engine: Engine, database_url: str, bot_api: BotApiStandIn, monkeypatch
) -> Iterator[tuple[BotApiStandIn, Settings]]:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    settings = Settings(
        database_url=database_url,
        channels={
            "facebook": ChannelSettings(type="facebook", page_id="1", dry_run=True, approval=True),
        },
        bot=bot_settings(bot_api, "de"),
    )
    with bot_running(engine, settings, bot_api) as api:
        yield api, settings


def long_waiting_post(engine: Engine, settings: Settings, due: datetime) -> int:
    """A Facebook post of 4,412 characters whose last line is an advertisement."""
    channels = roster.chosen(settings, ["facebook"])
    subject = article()
    (post_id,) = queue.add(
        engine, settings, subject, channels, When("at", due), queued_by="cli", force=True
    )
    body = ("Ein langer Absatz über das Spiel und seine Folgen. " * 90)[:4300]
    set_text(engine, post_id, f"{body}\n{subject.url}\n{ADVERT}")
    return post_id


def to_editors(api: BotApiStandIn) -> list[dict[str, Any]]:
    return [m for m in api.messages if m["chat"]["id"] == EDITORS_CHAT]


def visible(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).replace("&amp;", "&")


def test_a_long_text_awaiting_approval_is_shown_whole_with_the_button_under_its_last_part(
    engine, chief_bot
) -> None:
    api, settings = chief_bot
    long_waiting_post(engine, settings, datetime.now(UTC) + timedelta(hours=2))
    shown = wait_for(lambda: (m := to_editors(api)) and m[-1].get("buttons") and m)
    assert len(shown) >= 2 and all(m.get("buttons") is None for m in shown[:-1])
    assert ADVERT in visible("".join(m["text"] for m in shown))


def test_approving_a_long_text_by_command_shows_all_of_it_first(engine, chief_bot) -> None:
    api, settings = chief_bot
    post_id = long_waiting_post(engine, settings, datetime.now(UTC) + timedelta(hours=2))
    reply_after(api, f"/approve {post_id}")
    mine = wait_for(
        lambda: (
            (m := [x for x in api.messages if x["chat"]["id"] == EDITOR])
            and m[-1].get("buttons")
            and m
        )
    )
    assert ADVERT in visible(mine[-1]["text"]) and len(mine) >= 2
    assert all("Anzeige" not in visible(m["text"]) for m in mine[:-1])


def test_approving_by_button_after_the_due_time_says_it_goes_out_now(engine, chief_bot):
    api, settings = chief_bot
    post_id = long_waiting_post(engine, settings, datetime.now(UTC) + timedelta(hours=2))
    wait_for(lambda: (m := to_editors(api)) and m[-1].get("buttons"))
    past = datetime.now(UTC) - timedelta(hours=2)
    with engine.begin() as connection:
        connection.execute(update(posts).where(posts.c.id == post_id).values(due_at=past))
    press(api, "Freigeben", chat=EDITORS_CHAT)
    said = wait_for(lambda: [e["text"] for e in api.sent("editMessageText")])[-1]
    assert "Geht jetzt hinaus." in said and state(engine, post_id) == "queued"

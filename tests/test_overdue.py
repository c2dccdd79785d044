"""Nothing overdue goes out unseen: restoring a post whose time has passed, resuming a channel
that held posts past their time, a paused channel in a plan, and a best time that comes to
"now" are said and asked once, on the desk, in the bot and on the command line; the time an
editor is shown is the time stored."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from sqlalchemy import Engine, select, update

from publisher.config import ChannelSettings, DeskSettings, Settings
from publisher.engine.learning.history import import_history
from publisher.engine.planning import besttime
from publisher.engine.posts import queue, verbs
from publisher.engine.posts.pauses import active_pauses, pause_channel
from publisher.engine.posts.users import add_user
from publisher.engine.storage.schema import posts
from standins.bot_api import BotApiStandIn
from standins.telegram import TELEGRAM_TOKEN
from tests.conftest import run_cli, wait_for
from tests.desk_helpers import ARTICLE, PASSWORD, queued_post, serving, signed_in, state
from tests.test_bot import bot_running, one_channel, press, reply_after

HOURS_AGO = datetime.now(UTC) - timedelta(hours=3)


def overdue(engine: Engine, post_id: int) -> None:
    with engine.begin() as connection:
        connection.execute(update(posts).where(posts.c.id == post_id).values(due_at=HOURS_AGO))


def paused(engine: Engine, channel: str) -> None:
    with engine.begin() as connection:
        pause_channel(connection, channel, "Eilmeldung geprüft", "editor", datetime.now(UTC))


def is_paused(engine: Engine, channel: str) -> bool:
    with engine.connect() as connection:
        return channel in active_pauses(connection, datetime.now(UTC))


def form_of(page: str, action: str, holding: str = "csrf") -> dict[str, Any]:
    """What a browser sends for the (first) form posting to `action` that has a field
    `holding`: its hidden fields, ticked boxes, chosen radios and typed texts as the page
    holds them."""
    form = next(
        f
        for f in lxml.html.fromstring(page).forms
        if f.action.endswith(action) and holding in f.fields
    )
    return {k: v for k, v in form.form_values()}


# --- restoring -----------------------------------------------------------------------------


def cancelled_overdue(engine: Engine, database_url: str) -> int:
    post_id = queued_post(engine, database_url)
    verbs.cancel(engine, post_id, "ed")
    overdue(engine, post_id)
    return post_id


def test_restoring_a_post_whose_time_passed_asks_first(desk, engine, database_url) -> None:
    post_id = cancelled_overdue(engine, database_url)
    session, csrf = signed_in(desk, "ed")
    answer = session.post(f"/posts/{post_id}/restore", data={"csrf": csrf})
    assert answer.status_code == 409 and "that time has passed" in answer.text
    assert "Post it now" in answer.text and state(engine, post_id) == "cancelled"
    # The question stays put: drawn again, it would ask for the form's address as a page.
    assert "data-live" not in answer.text


def test_restoring_it_confirmed_sends_it_now(desk, engine, database_url) -> None:
    post_id = cancelled_overdue(engine, database_url)
    session, csrf = signed_in(desk, "ed")
    asked = session.post(f"/posts/{post_id}/restore", data={"csrf": csrf}).text
    done = session.post(f"/posts/{post_id}/restore", data=form_of(asked, "restore", "overdue"))
    assert "Goes out now." in done.text and state(engine, post_id) == "queued"


def test_restoring_it_at_a_new_time_keeps_it_until_then(desk, engine, database_url) -> None:
    post_id = cancelled_overdue(engine, database_url)
    session, csrf = signed_in(desk, "ed")
    later = (datetime.now(UTC) + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M")
    session.post(f"/posts/{post_id}/restore", data={"csrf": csrf, "at": later + "+00:00"})
    with engine.connect() as connection:
        due = connection.execute(select(posts.c.due_at).where(posts.c.id == post_id)).scalar()
    assert state(engine, post_id) == "queued" and due > datetime.now(UTC) + timedelta(hours=4)


# --- resuming ------------------------------------------------------------------------------


def test_resuming_a_channel_holding_overdue_posts_asks_first(desk, engine, database_url):
    overdue(engine, queued_post(engine, database_url))
    paused(engine, "x")
    session, csrf = signed_in(desk, "anna")
    answer = session.post("/channels/x/resume", data={"csrf": csrf, "back": "/channels"})
    assert answer.status_code == 409 and "holds a post whose time has passed" in answer.text
    assert is_paused(engine, "x")


def test_resuming_it_confirmed_lets_them_go(desk, engine, database_url) -> None:
    overdue(engine, queued_post(engine, database_url))
    paused(engine, "x")
    session, csrf = signed_in(desk, "anna")
    asked = session.post("/channels/x/resume", data={"csrf": csrf, "back": "/channels"}).text
    session.post("/channels/x/resume", data=form_of(asked, "/channels/x/resume", "overdue"))
    assert not is_paused(engine, "x")


def test_resuming_from_the_command_line_names_the_overdue_posts(tmp_path: Path) -> None:
    (tmp_path / "publisher.toml").write_text(
        'database_url = "sqlite:///publisher.db"\n[channels.x]\ntype = "x"\ndry_run = true\n'
    )
    source = tmp_path / "a.json"
    source.write_text('{"url": "https://e.de/a", "headline": "Schlagzeile"}')
    assert run_cli("queue", "add", str(source), cwd=tmp_path).returncode == 0
    assert run_cli("channels", "pause", "x", cwd=tmp_path).returncode == 0
    from publisher.engine.storage.store import open_engine

    engine = open_engine(f"sqlite:///{tmp_path / 'publisher.db'}")
    overdue(engine, 1)
    refused = run_cli("channels", "resume", "x", cwd=tmp_path)
    assert refused.returncode == 2 and "--send-overdue" in refused.stderr
    assert run_cli("channels", "resume", "x", "--send-overdue", cwd=tmp_path).returncode == 0
    assert not is_paused(engine, "x")


@pytest.fixture
def bot(engine: Engine, database_url: str, bot_api: BotApiStandIn, monkeypatch) -> Iterator[Any]:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    with bot_running(engine, one_channel(database_url, bot_api, "de"), bot_api) as api:
        yield api


def test_resuming_in_the_bot_asks_before_sending_overdue_posts(bot, engine, database_url):
    overdue(engine, queued_post(engine, database_url))
    paused(engine, "x")
    answer = reply_after(bot, "/resume x")
    assert "dessen Zeit vorbei ist" in answer and is_paused(engine, "x")
    press(bot, "X fortsetzen und jetzt senden")
    wait_for(lambda: not is_paused(engine, "x"))


# --- planning ------------------------------------------------------------------------------


def stored_article(engine: Engine) -> int:
    with engine.begin() as connection:
        return queue.upsert_article(connection, ARTICLE, datetime.now(UTC), "cms").id


def test_a_paused_channel_is_shown_as_held_not_as_now(desk, engine) -> None:
    paused(engine, "x")
    article_id = stored_article(engine)
    session, _ = signed_in(desk, "ed")
    page = session.get(f"/articles/{article_id}").text
    form = form_of(page, "queue") | {"timing": "now"}
    answer = session.post(f"/articles/{article_id}/queue", data=form).text
    row = re.search(r"<tr[^>]*>\s*<t[hd][^>]*>X.*?</tr>", answer, re.S)
    assert row is not None and "held while the channel is paused" in row.group(0)


def flat_audience(engine: Engine, channel: str) -> None:
    """Months of history with readers about as keen at any hour: every draw may choose
    another hour."""
    rng, now, rows = random.Random(5), datetime.now(UTC), []
    for number in range(400):
        at = now - timedelta(days=60) + timedelta(hours=rng.randrange(0, 60 * 24))
        clicks = round(100 * math.exp(rng.gauss(0, 0.6)))
        rows.append(
            {"channel": channel, "sent_at": at + timedelta(seconds=number), "clicks": clicks,
             "engagement": None}
        )  # fmt: skip
    import_history(engine, rows)


@pytest.fixture
def learned_desk(engine: Engine, database_url: str, monkeypatch) -> Iterator[Any]:
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    add_user(engine, "ed", PASSWORD, "editor")
    besttime._learned.clear()
    flat_audience(engine, "x")
    settings = Settings(
        database_url=database_url,
        language="en",
        channels={
            "x": ChannelSettings(type="x", dry_run=True, slots=["09:00"]),
            "threads": ChannelSettings(type="threads", user_id="1", dry_run=True),
        },
        desk=DeskSettings(secure_cookies=False),
    )
    with serving(engine, settings) as client:
        yield client
    besttime._learned.clear()


def test_the_best_time_shown_is_the_time_stored(learned_desk, engine) -> None:
    session, _ = signed_in(learned_desk, "ed")
    shown, stored = [], []
    for number in range(6):
        subject = ARTICLE.model_copy(
            update={"id": f"cms-{number}", "url": f"https://e.de/{number}"}
        )
        with engine.begin() as connection:
            article_id = queue.upsert_article(connection, subject, datetime.now(UTC), "cms").id
        form = form_of(session.get(f"/articles/{article_id}").text, "queue")
        form = {k: v for k, v in form.items() if k != "include_threads"} | {"timing": "best"}
        page = session.post(f"/articles/{article_id}/queue", data=form).text
        if 'name="confirmed"' in page:
            # The draw chose the very moment: that is "now", and asked first.
            page = session.post(
                f"/articles/{article_id}/queue", data=form_of(page, "queue", "confirmed")
            ).text
        shown.append(re.search(r"(\d\d:\d\d) CET", page).group(1))
        with engine.connect() as connection:
            due = connection.execute(
                select(posts.c.due_at).where(posts.c.article_id == article_id)
            ).scalar()
        assert due is not None, page
        stored.append(due.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M"))
    assert shown == stored


def test_a_best_time_that_comes_to_now_asks_first(learned_desk, engine) -> None:
    session, _ = signed_in(learned_desk, "ed")
    article_id = stored_article(engine)
    form = form_of(session.get(f"/articles/{article_id}").text, "queue")
    form = {k: v for k, v in form.items() if k != "include_x"} | {"timing": "best"}
    asked = session.post(f"/articles/{article_id}/queue", data=form)
    with engine.connect() as connection:
        assert connection.execute(select(posts)).all() == []
    assert 'name="confirmed"' in asked.text and "now" in asked.text


def test_a_confirmed_best_time_is_the_time_stored(learned_desk, engine) -> None:
    session, _ = signed_in(learned_desk, "ed")
    article_id = stored_article(engine)
    form = form_of(session.get(f"/articles/{article_id}").text, "queue") | {"timing": "best"}
    asked = session.post(f"/articles/{article_id}/queue", data=form).text
    shown = re.search(r"X</th>\s*<td>[^<]*?(\d\d:\d\d) CET", asked).group(1)
    session.post(f"/articles/{article_id}/queue", data=form_of(asked, "queue", "confirmed"))
    with engine.connect() as connection:
        due = connection.execute(select(posts.c.due_at).where(posts.c.channel == "x")).scalar()
    assert due.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M") == shown


def test_a_best_time_drawn_for_now_and_confirmed_is_stored_not_drawn_again(
    learned_desk, engine, monkeypatch
) -> None:
    from publisher.engine.planning import planner

    # The draw picks the first free time, which is now: the confirmation shows "now".
    monkeypatch.setattr(planner, "best_time", lambda _estimate, free, _zone: free[0])
    session, _ = signed_in(learned_desk, "ed")
    article_id = stored_article(engine)
    form = form_of(session.get(f"/articles/{article_id}").text, "queue") | {"timing": "best"}
    asked = session.post(f"/articles/{article_id}/queue", data=form).text
    # Any later draw would pick another time than the one shown.
    monkeypatch.setattr(planner, "best_time", lambda _estimate, free, _zone: free[-1])
    session.post(f"/articles/{article_id}/queue", data=form_of(asked, "queue", "confirmed"))
    with engine.connect() as connection:
        due = connection.execute(select(posts.c.due_at).where(posts.c.channel == "x")).scalar()
    assert due is not None and abs(due.replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(
        minutes=2
    )

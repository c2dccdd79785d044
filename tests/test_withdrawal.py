"""Withdrawing an article (the CMS's `"withdrawn": true`, or `publisher articles withdraw ID`):
every post of it not yet out is cancelled at once with the reason in its history, sent posts stay
as they are, and nothing posts it again until the CMS releases it anew."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from publisher import roster
from publisher.clock import utcnow
from publisher.config import ChannelSettings, Settings
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue, verbs
from publisher.engine.posts.queue import QueueError
from publisher.engine.releases.release import release
from publisher.engine.storage.schema import post_events, posts
from publisher.web.app import create_app
from publisher.web.signing import sign
from tests.conftest import run_cli
from tests.engine_helpers import article, post

ARTICLE = article(7, id="cms-7")
WITHDRAWN = ARTICLE.model_copy(update={"withdrawn": True})


@pytest.fixture
def settings(database_url: str) -> Settings:
    channels = {
        "x_main": ChannelSettings(type="x", dry_run=True),
        "facebook": ChannelSettings(type="facebook", dry_run=True, approval=True),
        "telegram": ChannelSettings(type="telegram", dry_run=True),
    }
    return Settings(database_url=database_url, channels=channels)


@pytest.fixture
def three(engine: Engine, settings: Settings) -> dict[str, int]:
    """The article on three channels: queued on X, waiting for approval on Facebook, and
    already sent on Telegram."""
    later = When("at", utcnow() + timedelta(hours=2))
    ids = queue.add(
        engine, settings, ARTICLE, roster.chosen(settings, None), later, queued_by="test"
    )
    found = {post(engine, i).channel: i for i in ids}
    with engine.begin() as connection:
        connection.execute(
            update(posts).where(posts.c.id == found["telegram"]).values(state="sent")
        )
    return found


def states(engine: Engine, ids: dict[str, int]) -> dict[str, str]:
    return {name: post(engine, post_id).state for name, post_id in ids.items()}


def test_a_withdrawal_from_the_cms_cancels_every_post_not_yet_out(engine, settings, three) -> None:
    done = release(engine, settings, WITHDRAWN, "webhook")
    assert states(engine, three) == {
        "x_main": "cancelled",
        "facebook": "cancelled",
        "telegram": "sent",
    }
    assert done.withdrawn is not None
    assert done.withdrawn.cancelled == sorted([three["x_main"], three["facebook"]])
    assert done.queued == []


def test_each_cancelled_posts_history_says_who_withdrew_it_and_what_it_was(
    engine, settings, three
) -> None:
    release(engine, settings, WITHDRAWN, "webhook")
    with engine.connect() as connection:
        event = connection.execute(
            select(post_events.c.actor, post_events.c.former_state).where(
                post_events.c.post_id == three["x_main"], post_events.c.action == "withdrawn"
            )
        ).one()
    assert tuple(event) == ("webhook", "queued")


def test_a_withdrawn_article_is_not_queued_again(engine, settings, three) -> None:
    release(engine, settings, WITHDRAWN, "webhook")
    with pytest.raises(QueueError) as refused:
        queue.add(
            engine, settings, ARTICLE, roster.chosen(settings, ["x_main"]), When(),
            force=True, queued_by="ed",
        )  # fmt: skip
    assert refused.value.key == "article_withdrawn"
    assert states(engine, three)["x_main"] == "cancelled"


def test_a_post_cancelled_with_its_article_cannot_be_restored(engine, settings, three) -> None:
    release(engine, settings, WITHDRAWN, "webhook")
    with pytest.raises(QueueError) as refused:
        verbs.restore(engine, three["x_main"], "ed")
    assert refused.value.key == "article_withdrawn"


def test_a_release_without_the_flag_lifts_the_withdrawal(engine, settings, three) -> None:
    release(engine, settings, WITHDRAWN, "webhook")
    again = release(engine, settings, ARTICLE, "webhook")
    assert again.withdrawn is None
    assert {post(engine, i).channel for i in again.queued} == {"x_main", "facebook"}


def test_the_webhook_answers_with_the_posts_it_cancelled(
    engine, settings, three, monkeypatch
) -> None:
    monkeypatch.setenv("PUBLISHER_WEBHOOK_SECRET", "whsec-withdrawal")
    body = json.dumps(WITHDRAWN.to_json()).encode()
    stamp = int(time.time())
    headers = {
        "X-Publisher-Timestamp": str(stamp),
        "X-Publisher-Signature": sign("whsec-withdrawal", stamp, body),
        "Content-Type": "application/json",
    }
    with TestClient(create_app(engine, settings)) as client:
        answer = client.post("/hooks/articles", content=body, headers=headers)
    assert answer.status_code == 202
    assert answer.json()["withdrawn"]["cancelled"] == sorted([three["x_main"], three["facebook"]])


@pytest.mark.one_database
def test_an_editor_withdraws_an_article_from_the_command_line(
    engine, settings, three, tmp_path: Path, database_url: str
) -> None:
    (tmp_path / "publisher.toml").write_text(f'database_url = "{database_url}"\n')
    done = run_cli("articles", "withdraw", "cms-7", "--reason", "Korrektur", "--by", "ed",
                   cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "posts cancelled" in done.stdout
    assert states(engine, three)["facebook"] == "cancelled"
    with engine.connect() as connection:
        detail = connection.execute(
            select(post_events.c.detail).where(post_events.c.post_id == three["facebook"])
            .order_by(post_events.c.id.desc()).limit(1)
        ).scalar_one()  # fmt: skip
    assert detail == "Korrektur"


@pytest.mark.one_database
def test_withdrawing_an_article_never_stored_is_one_line_and_exit_2(
    engine, tmp_path: Path, database_url: str
) -> None:
    (tmp_path / "publisher.toml").write_text(f'database_url = "{database_url}"\n')
    done = run_cli("articles", "withdraw", "nowhere", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "no stored article" in done.stderr


@pytest.mark.one_database
def test_an_article_id_of_bytes_that_are_no_text_is_one_line_and_exit_2(
    engine, tmp_path: Path, database_url: str
) -> None:
    (tmp_path / "publisher.toml").write_text(f'database_url = "{database_url}"\n')
    # What a terminal passes for a byte that is no UTF-8: a lone surrogate.
    done = run_cli("articles", "withdraw", "cms-\udcff", cwd=tmp_path)
    assert done.returncode == 2 and "not text" in done.stderr
    assert "Error" not in done.stderr


def test_a_restore_returns_a_post_to_the_state_kept_with_its_cancel_whatever_its_note_says(
    engine, settings, three
) -> None:
    verbs.cancel(engine, three["facebook"], "ed")
    with engine.begin() as connection:
        connection.execute(
            update(post_events)
            .where(post_events.c.post_id == three["facebook"])
            .values(detail="zurückgezogen, bis die Rechtsabteilung antwortet")
        )
    verbs.restore(engine, three["facebook"], "ed")
    assert post(engine, three["facebook"]).state == "awaiting_approval"

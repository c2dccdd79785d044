"""`publisher.actions.apply`: one door for an editor's verbs from the CLI, the bot and the desk,
refusing an approver's verb to anyone else before anything changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from publisher import actions, roster
from publisher.actions import ApproversOnly, Someone
from publisher.clock import utcnow
from publisher.engine.lifecycle import State
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue, verbs
from publisher.engine.posts.pauses import active_pauses
from publisher.engine.posts.queue import QueueError
from tests.engine_helpers import article, make_settings, post

EDITOR = Someone("ed")
APPROVER = Someone("anna", approver=True)


@pytest.fixture
def settings(database_url: str):
    return make_settings(
        database_url,
        facebook={"type": "facebook", "dry_run": True, "approval": True},
    )


def waiting(engine: Engine, settings) -> int:
    later = When("at", utcnow() + timedelta(hours=3))
    channels = roster.chosen(settings, ["facebook"])
    return queue.add(engine, settings, article(), channels, later, queued_by="test")[0]


def test_an_editor_who_is_no_approver_cannot_approve(engine: Engine, settings) -> None:
    post_id = waiting(engine, settings)
    with pytest.raises(ApproversOnly):
        actions.apply(engine, settings, "approve", post_id, EDITOR)
    assert post(engine, post_id).state == State.AWAITING_APPROVAL


def test_an_approver_approves_and_is_named_for_it(engine: Engine, settings) -> None:
    post_id = waiting(engine, settings)
    seen = verbs.text_version(post(engine, post_id).text)
    actions.apply(engine, settings, "approve", post_id, APPROVER, seen=seen)
    assert (post(engine, post_id).state, post(engine, post_id).approved_by) == ("queued", "anna")


def test_any_editor_may_cancel(engine: Engine, settings) -> None:
    post_id = waiting(engine, settings)
    actions.apply(engine, settings, "cancel", post_id, EDITOR)
    assert post(engine, post_id).state == State.CANCELLED


def test_a_reschedule_returns_the_new_time(engine: Engine, settings) -> None:
    post_id = waiting(engine, settings)
    at = (utcnow() + timedelta(hours=5)).replace(second=0, microsecond=0)
    moved = actions.apply(engine, settings, "reschedule", post_id, EDITOR, at=at.isoformat())
    assert moved == at == post(engine, post_id).due_at


def test_an_unknown_verb_is_refused_in_words(engine: Engine, settings) -> None:
    post_id = waiting(engine, settings)
    with pytest.raises(QueueError) as refused:
        actions.apply(engine, settings, "publish", post_id, APPROVER)
    assert refused.value.key == "no_such_action"
    assert post(engine, post_id).state == State.AWAITING_APPROVAL


def test_an_editor_who_is_no_approver_cannot_pause_a_channel(engine: Engine, settings) -> None:
    with pytest.raises(ApproversOnly):
        actions.apply_to_channel(engine, settings, "pause", "facebook", EDITOR, "why")
    with engine.connect() as connection:
        assert active_pauses(connection, utcnow()) == {}


def test_an_approver_pauses_a_channel_with_the_reason(engine: Engine, settings) -> None:
    actions.apply_to_channel(engine, settings, "pause", "facebook", APPROVER, "Token abgelaufen")
    with engine.connect() as connection:
        assert active_pauses(connection, utcnow())["facebook"].reason == "Token abgelaufen"

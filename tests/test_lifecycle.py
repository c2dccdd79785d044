"""The lifecycle's rules, each decided once: who may take an action, what a changed text does
to an approval, what counts as held."""

from __future__ import annotations

from typing import get_args

import pytest

from publisher.channels.base import ErrorKind
from publisher.engine.lifecycle import (
    AFTER_ERROR,
    State,
    approval_withdrawn,
    asked_by_editor,
    for_approvers,
    held,
    needs_approval,
)


@pytest.mark.parametrize("action", ["approve", "pause", "resume"])
def test_approving_and_stopping_or_starting_a_channel_are_for_approvers(action: str) -> None:
    assert for_approvers(action)


@pytest.mark.parametrize("action", ["cancel", "retry", "edit", "reschedule", "restore", "sent"])
def test_every_other_action_is_for_any_editor(action: str) -> None:
    assert not for_approvers(action)


def test_a_queued_post_whose_approved_text_changed_waits_for_approval_again() -> None:
    values = approval_withdrawn(State.QUEUED)
    assert values["state"] == State.AWAITING_APPROVAL
    assert (values["approved_by"], values["approved_at"]) == (None, None)


@pytest.mark.parametrize("state", [State.FAILED, State.UNCERTAIN])
def test_a_failed_or_unclear_post_keeps_its_state_when_its_approval_is_taken_back(
    state: State,
) -> None:
    values = approval_withdrawn(state)
    assert "state" not in values and values["approval_required"] is True


def test_a_post_is_held_only_while_it_would_go_out_on_a_paused_channel() -> None:
    assert held(State.QUEUED, "x", {"x"})
    assert not held(State.QUEUED, "x", {"facebook"})
    assert not held(State.SENT, "x", {"x"})


def test_every_kind_of_error_says_what_becomes_of_its_post() -> None:
    assert set(AFTER_ERROR) == set(get_args(ErrorKind))


@pytest.mark.parametrize(
    ("configured", "held", "needed"),
    [(False, False, False), (False, True, True), (True, False, True), (True, True, True)],
)
def test_an_editor_can_hold_a_post_for_an_approver_but_never_waive_its_channels(
    configured: bool, held: bool, needed: bool
) -> None:
    assert needs_approval(configured, asked_by_editor(held)) is needed


def test_a_release_rule_may_waive_the_approval_its_channel_asks_for() -> None:
    assert needs_approval(True, False) is False

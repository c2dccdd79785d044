"""The post lifecycle in one place: the states a post moves through, what one delivery attempt
can come to, what each kind of error does to its post and its channel (`AFTER_ERROR`,
`stops_channel`, `slows_down`; how a platform's answer becomes a kind of error is read in
channels/http.py `by_status`), the named sets of states the rest of the house asks about, and
the editors' verbs with the states each may start from and the state it leads to.

    awaiting_approval --approve--> queued --claim--> sending --> sent
            |                        |                  |--> queued     (retry later, or held)
            '-------cancel------> cancelled             |--> failed     (permanent, or used up)
                                                        '--> uncertain  (the worker vanished)
    failed / uncertain --retry--> queued (or awaiting_approval, when an edit withdrew approval)
    uncertain --mark sent--> sent
    cancelled --restore--> the state it was cancelled in (awaiting_approval or queued)
    sent --its article withdrawn, the platform's copy removed--> taken_down
    sent --its article corrected, the platform's copy edited--> sent (with its new text)
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random

    from publisher.channels.base import ChannelError, ErrorKind


class State(StrEnum):
    """Where a post is; stored as its value."""

    AWAITING_APPROVAL = "awaiting_approval"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    CANCELLED = "cancelled"
    # It went out, and was taken down again when its article was withdrawn.
    TAKEN_DOWN = "taken_down"


class Outcome(StrEnum):
    """What one delivery attempt came to; stored as its value."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    TRANSIENT = "transient"
    RATE_LIMITED = "rate_limited"
    AUTH = "auth"
    UNCERTAIN = "uncertain"
    RELEASED = "released"
    # A takedown's attempt: the platform removed the post, or it was gone already.
    REMOVED = "removed"
    ALREADY_GONE = "already_gone"
    # A correction's attempt: the platform changed the post's text.
    EDITED = "edited"

    @classmethod
    def of(cls, error: ChannelError | None) -> Outcome:
        """The outcome of an attempt that raised `error` (None: it went out)."""
        if error is None:
            return cls.SENT
        if error.kind == "permanent":
            return cls.FAILED
        return cls(error.kind)


class Then(StrEnum):
    """What an attempt that ended in an error does to its post."""

    # Queued again after a wait that grows with each try; failed once the channel's
    # max_attempts are spent.
    RETRY = "retry"
    # Queued again for when the platform's limit lets it through (its retry_after).
    WAIT = "wait"
    # Queued again as it was, while its channel pauses until its credentials are put right.
    HOLD = "hold"
    # Uncertain: it may have gone out, so an editor looks; it is never sent again blindly.
    ASK = "ask"
    # Failed, with the platform's reason.
    GIVE_UP = "give_up"


# What each kind of error does to the post whose attempt it ended (engine/delivery/dispatch.py).
AFTER_ERROR: dict[ErrorKind, Then] = {
    "transient": Then.RETRY,
    "rate_limited": Then.WAIT,
    "auth": Then.HOLD,
    "uncertain": Then.ASK,
    "permanent": Then.GIVE_UP,
}
# Seconds to wait after a rate limit whose platform said nothing of when to come back.
RATE_LIMIT_FALLBACK = 60.0


def backoff(retries: int, base: float, cap: float, rng: random.Random) -> float:
    """How long a post (or a takedown) waits before its next try (`Then.RETRY`): exponential
    backoff with equal jitter, half the delay fixed, half random."""
    delay = min(cap, base * 2.0 ** max(retries - 1, 0))
    return delay / 2 + rng.uniform(0, delay / 2)


def stops_channel(error: ChannelError) -> bool:
    """Whether an error holds every post of its channel (a pause): a refused credential or a
    limit of the account, not one of a single recipient."""
    return error.kind == "auth" or (error.kind == "rate_limited" and not error.recipient_only)


def slows_down(error: ChannelError) -> bool:
    """Whether an error asks a fan-out for a slower pace (the throughput limit), not a stop."""
    return error.kind == "rate_limited" and error.backoff and not error.recipient_only


# Posts that hold their place in a channel's plan: not gone out, not given up.
OPEN = frozenset({State.AWAITING_APPROVAL, State.QUEUED, State.SENDING})
# Posts still to go out or waiting for an editor: what `queue list` shows without --all.
TO_GO = OPEN | {State.UNCERTAIN, State.FAILED}
# Times another post must keep its distance from in a slot plan.
TAKING_TIME = OPEN | {State.SENT, State.TAKEN_DOWN}
# An article already has a post on a channel in one of these: it is not queued there again.
ALREADY_THERE = TO_GO | {State.SENT, State.TAKEN_DOWN}
# Posts a paused channel holds back.
HOLDABLE = frozenset({State.AWAITING_APPROVAL, State.QUEUED})
# What a post's history says when an update of its article gave it a new text, and when the
# update left a text an editor wrote as it was.
UPDATED = "updated"
ARTICLE_UPDATED = "article updated"
# What a post's history says when its article's withdrawal cancelled it (its detail: why).
WITHDRAWN = "withdrawn"
# What a post's history says when its takedown is done (its detail: removed, or already gone).
TAKEN_DOWN = "taken down"
# What a post's history says when a correction changed its text on its platform (its detail:
# the new text).
CORRECTED = "corrected"
# What the history of a post not yet out says when its article was corrected (its detail: the
# correction): it waits for an approver, as its text may be wrong too.
ARTICLE_CORRECTED = "article corrected"
# Who queued a post an archive rule gave another turn: this, then the rule's name.
RESURFACED = "resurface:"

# What the editors are told about.
NEEDS_AN_EDITOR = frozenset({State.FAILED, State.UNCERTAIN, State.AWAITING_APPROVAL})


def needs_approval(configured: bool, asked: bool | None = None) -> bool:
    """Whether a new post waits for an approver before it goes out: as asked (a release rule's
    `approval`, or an editor holding it for one), else as its channel is configured
    (`[channels.NAME] approval`). The one place this is decided."""
    return configured if asked is None else asked


def asked_by_editor(held: bool) -> bool | None:
    """What an editor's choice asks of `needs_approval`: an editor may hold a post for an
    approver, never waive the approval its channel requires."""
    return True if held else None


def unapproved(approval_required: bool, approved_at: object) -> bool:
    """Whether a post that needs an approver has none for its present text (an edit withdraws
    an approval): sent again, it waits for one first."""
    return approval_required and approved_at is None


def held(state: str, channel: str, paused: Collection[str]) -> bool:
    """Whether a post is held back: it would go out, but its channel is paused."""
    return state in HOLDABLE and channel in paused


# What the post's history says when a changed text needs its approver's word again.
APPROVAL_AGAIN = "needs approval again"


def approval_withdrawn(state: State) -> dict[str, object]:
    """The values that take back a post's approval when its text changes (the approver approved
    another text): a post waiting to go out waits for approval again; a failed or uncertain one
    keeps its state, and its retry waits for approval."""
    values: dict[str, object] = {
        "approval_required": True,
        "approved_by": None,
        "approved_at": None,
    }
    if state == State.QUEUED:
        values["state"] = State.AWAITING_APPROVAL
    return values


@dataclass(frozen=True)
class Verb:
    """An editor's action on one post: the states it may start from, the state it leads to
    (None: the post keeps its state), and whether only an approver may take it."""

    name: str
    done: str
    sources: frozenset[State]
    target: State | None
    for_approvers: bool = False

    def allows(self, state: str) -> bool:
        return state in self.sources

    def refusal(self, post_id: int, state: str) -> tuple[str, dict[str, object]]:
        """Why this post cannot take this verb now: the message, and the values the catalogue's
        "verb_refused" takes."""
        allowed = " or ".join(sorted(self.sources))
        message = f"post {post_id} is {state}; only {allowed} posts can be {self.done}"
        values = {
            "post": post_id,
            "state": state,
            "verb": self.name,
            "allowed": sorted(self.sources),
        }
        return message, values


APPROVE = Verb(
    "approve", "approved", frozenset({State.AWAITING_APPROVAL}), State.QUEUED, for_approvers=True
)
CANCEL = Verb(
    "cancel",
    "cancelled",
    frozenset({State.AWAITING_APPROVAL, State.QUEUED, State.FAILED, State.UNCERTAIN}),
    State.CANCELLED,
)
RETRY = Verb("retry", "retried", frozenset({State.FAILED, State.UNCERTAIN}), State.QUEUED)
MARK_SENT = Verb("sent", "marked sent", frozenset({State.UNCERTAIN}), State.SENT)
RESCHEDULE = Verb("reschedule", "rescheduled", HOLDABLE, None)
# Undoing a cancel: the post returns to the state it was cancelled in, if it had not been tried.
RESTORE = Verb("restore", "restored", frozenset({State.CANCELLED}), None)
EDIT = Verb(
    "edit",
    "edited",
    frozenset({State.AWAITING_APPROVAL, State.QUEUED, State.FAILED, State.UNCERTAIN}),
    None,
)

# The verbs that are buttons (desk, bot) and commands (CLI), by name.
VERBS = {verb.name: verb for verb in (APPROVE, CANCEL, RETRY, MARK_SENT, RESCHEDULE, EDIT, RESTORE)}


# A channel's actions that only an approver may take: an emergency stop, and its end; and an
# article's: its withdrawal (which takes its posts down everywhere) and its correction (which
# changes or follows up on its posts out).
ACTIONS_FOR_APPROVERS = frozenset({"pause", "resume", "withdraw", "correct"})


def for_approvers(action: str) -> bool:
    """Whether only an approver may take `action`: a post's verb, or a channel's action."""
    verb = VERBS.get(action)
    return verb.for_approvers if verb is not None else action in ACTIONS_FOR_APPROVERS


def verbs_for(state: str, names: tuple[str, ...] = ("approve", "cancel", "retry")) -> list[str]:
    """The verbs among `names` a post in `state` can take (for buttons)."""
    return [name for name in names if VERBS[name].allows(state)]

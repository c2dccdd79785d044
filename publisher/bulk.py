"""What an editor does to many posts at once, the same from every front: one verb on each, a
shift of all by the same time, or a spread over their channels' free slots. Each post is its
own change; the posts left as they were are returned, each with its reason."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from publisher import actions
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.lifecycle import RESCHEDULE, State
from publisher.engine.planning import planner
from publisher.engine.planning.slots import SEARCH_DAYS, TimeError
from publisher.engine.posts import verbs
from publisher.engine.posts.queue import QueueError
from publisher.engine.storage.schema import posts
from publisher.errors import EditorError

# The most posts one bulk action changes: a busy week of four channels, with room to spare.
MOST = 5_000
# Hours as an editor types them: "2", "-1.5", "+0,25" (a minus sign or a hyphen).
HOURS = re.compile(r"\s*([+\-\u2212]?)\s*(\d{1,3})(?:[.,](\d{1,2}))?\s*")
LONGEST_SHIFT = timedelta(days=31)


@dataclass(frozen=True)
class Refused:
    """A post a bulk action left as it was, and why."""

    post_id: int
    reason: EditorError


def shift_of(text: str) -> timedelta:
    """The time an editor's hours shift posts by ("2", "-1.5", "1,5"), in whole minutes: never
    none, at most a month either way."""
    found = HOURS.fullmatch(text)
    if found is None:
        raise QueueError(f"{text[:20]!r} is no number of hours", key="shift_not_read")
    sign, whole, part = found.groups()
    minutes = round(Decimal(f"{whole}.{part or 0}") * 60)
    shift = timedelta(minutes=-minutes if sign in ("-", "\u2212") else minutes)
    if not shift or abs(shift) > LONGEST_SHIFT:
        raise QueueError(f"{text[:20]!r} is no shift", key="shift_not_read")
    return shift


def each(ids: Iterable[int], do: Callable[[int], object]) -> list[Refused]:
    """`do` to every post in turn; a refusal leaves that post alone and the others go on."""
    refused = []
    for post_id in ids:
        try:
            do(post_id)
        except EditorError as exc:
            if not _already_there(exc):
                refused.append(Refused(post_id, exc))
    return refused


def _already_there(refusal: EditorError) -> bool:
    """Whether a move was refused only because the post already stands at that time: for a
    bulk move it is where it was meant to be, nothing left undone."""
    return refusal.key == "already_at"


@dataclass(frozen=True)
class Move:
    """A post's time before a move, and after it."""

    post_id: int
    before: datetime
    after: datetime


def planned_shift(
    engine: Engine, ids: Sequence[int], by_time: timedelta
) -> tuple[list[Move], list[Refused]]:
    """Every post moved by `by_time`, each keeping its distance to the others."""
    rows, refused = _movable(engine, ids)
    return _not_past([Move(row.id, row.due_at, row.due_at + by_time) for row in rows], refused)


def planned_time(
    engine: Engine, ids: Sequence[int], at: datetime
) -> tuple[list[Move], list[Refused]]:
    """Every post moved to one time (a channel's posts keep their gap: the second is refused)."""
    rows, refused = _movable(engine, ids)
    return _not_past([Move(row.id, row.due_at, at) for row in rows], refused)


def _not_past(moves: list[Move], refused: list[Refused]) -> tuple[list[Move], list[Refused]]:
    """The moves to a time still ahead; the others refused before anything is shown."""
    ahead = []
    for move in moves:
        try:
            verbs.not_past(move.after)
        except EditorError as exc:
            refused.append(Refused(move.post_id, exc))
        else:
            ahead.append(move)
    return ahead, refused


def planned_spread(
    engine: Engine, settings: Settings, ids: Sequence[int], start: datetime
) -> tuple[list[Move], list[Refused]]:
    """The posts given their channels' free slots from `start` on, one post to a slot, in the
    order they were due; a channel without slots, or without enough free ones in the coming
    month, leaves its remaining posts where they are."""
    rows, refused = _movable(engine, ids)
    start = max(start, utcnow())
    chosen = {row.id for row in rows}
    by_channel: dict[str, list[Any]] = {}
    for row in sorted(rows, key=lambda row: (row.due_at, row.id)):
        by_channel.setdefault(row.channel, []).append(row)
    moves = []
    for channel, group in by_channel.items():
        if not settings.channels[channel].slots:
            error = QueueError(
                f"{channel} has no posting slots", key="no_slots_to_spread", channel=channel
            )
            refused += [Refused(row.id, error) for row in group]
            continue
        targets = _slots_for(engine, settings, channel, start, len(group), besides=chosen)
        moves += [Move(row.id, row.due_at, at) for row, at in zip(group, targets, strict=False)]
        full = TimeError(
            f"no free slot in the next {SEARCH_DAYS} days", key="no_free_slot", days=SEARCH_DAYS
        )
        refused += [Refused(row.id, full) for row in group[len(targets) :]]
    return moves, refused


def apply_moves(
    engine: Engine, settings: Settings, moves: Sequence[Move], *, by: str, together: bool = True
) -> list[Refused]:
    """Move each post to the time planned for it, as long as it still stands where the plan
    found it (an editor saw the plan: a post moved since is left alone, and said). `together`:
    the posts move as one, so none is refused for standing where another is about to leave
    (not for posts all moved to one time, which must keep their gap)."""
    refused = []
    waiting = {move.post_id for move in moves} if together else set()
    # Moved as one, posts moved later go latest first, earlier ones earliest first; else in
    # the order shown, the first taking the time.
    order = sorted(moves, key=lambda m: m.before, reverse=_later(moves)) if together else moves
    # Where each post stands now, read once: a move moves no other post of the plan.
    with engine.connect() as connection:
        ids = [move.post_id for move in moves]
        due = dict(
            connection.execute(select(posts.c.id, posts.c.due_at).where(posts.c.id.in_(ids))).all()
        )
    for move in order:
        waiting.discard(move.post_id)
        try:
            _still_at(move, due.get(move.post_id))
            actions.move_to(engine, settings, move.post_id, move.after, by=by, making_way=waiting)
        except EditorError as exc:
            if not _already_there(exc):
                refused.append(Refused(move.post_id, exc))
    return refused


def _later(moves: Sequence[Move]) -> bool:
    return sum(((m.after - m.before) for m in moves), timedelta()) > timedelta(0)


def _still_at(move: Move, due: datetime | None) -> None:
    """Refuse a move of a post that was moved (it is `due` now) since its plan was made."""
    minute = timedelta(minutes=1)
    if due is not None and abs(due - move.before) >= minute:
        raise QueueError(
            f"post {move.post_id} was moved meanwhile", key="moved_meanwhile", post=move.post_id
        )


def shift(
    engine: Engine, settings: Settings, ids: Sequence[int], by_time: timedelta, *, by: str
) -> list[Refused]:
    """Move every post by `by_time` (see `planned_shift`)."""
    moves, refused = planned_shift(engine, ids, by_time)
    return refused + apply_moves(engine, settings, moves, by=by)


def spread(
    engine: Engine, settings: Settings, ids: Sequence[int], start: datetime, *, by: str
) -> list[Refused]:
    """Give the posts their channels' free slots from `start` on (see `planned_spread`)."""
    moves, refused = planned_spread(engine, settings, ids, start)
    return refused + apply_moves(engine, settings, moves, by=by)


def _movable(engine: Engine, ids: Sequence[int]) -> tuple[list[Any], list[Refused]]:
    """The posts among `ids` that can still be moved, and the others with their reasons."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(posts.c.id, posts.c.channel, posts.c.state, posts.c.due_at).where(
                posts.c.id.in_(list(ids))
            )
        ).all()
    found = {row.id: row for row in rows}
    movable, refused = [], []
    for post_id in dict.fromkeys(ids):
        row = found.get(post_id)
        if row is None:
            missing = QueueError(f"no post {post_id}", key="no_post", post=post_id)
            refused.append(Refused(post_id, missing))
        elif RESCHEDULE.allows(row.state) or row.state == State.FAILED:
            movable.append(row)
        else:
            message, values = RESCHEDULE.refusal(post_id, row.state)
            refused.append(Refused(post_id, QueueError(message, key="verb_refused", **values)))
    return movable, refused


def _slots_for(
    engine: Engine,
    settings: Settings,
    channel: str,
    start: datetime,
    count: int,
    *,
    besides: set[int],
) -> list[datetime]:
    """Up to `count` free slots of `channel` from `start` on, at least `min_gap` apart and from
    every post of the channel other than those `besides`."""
    gap = planner.free_gap(settings.channels[channel].min_gap)
    first = start.astimezone(settings.channel_tz(channel)).date()
    days = [first + timedelta(days=n) for n in range(SEARCH_DAYS)]
    found: list[datetime] = []
    # The posts placed take their slots too: each is a gap from the one before.
    for slot in planner.free_times(engine, settings, {channel: days}, start, besides)[channel]:
        if not found or slot - found[-1] >= gap:
            found.append(slot)
            if len(found) == count:
                break
    return found

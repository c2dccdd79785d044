"""Correcting an article (the CMS sends it again with `correction`, or an approver says what was
wrong and what is right): the fix stands where the error stood. Each post out is edited in place
where its channel says `on_correct = "edit"` (the default where the platform lets a post be
edited: its text gains the catalogue's "Correction: …" line and keeps its link), replied under
where it says `reply` (the default elsewhere; WhatsApp's readers get a follow-up message), or
left as it is (`none`). An edit that would not fit the platform goes out as a reply instead.
Posts not yet out wait for an editor, as their text may be wrong too."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import Connection, Engine, Row, select, update

from publisher import roster
from publisher.channels import channel_class
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.lifecycle import ARTICLE_CORRECTED, State, approval_withdrawn
from publisher.engine.posts import identity
from publisher.engine.posts.amendments import newest_text, schedule_edit
from publisher.engine.posts.followups import (
    CORRECTION_FOLLOWS,
    is_follow_up,
    queue_notice,
    queue_reply,
    reached,
    words,
)
from publisher.engine.posts.queue import UnknownArticle, record_event
from publisher.engine.storage.changes import notify_change
from publisher.engine.storage.schema import posts

Way = Literal["edit", "reply", "none"]


@dataclass(frozen=True)
class Correction:
    """What correcting an article did: the posts out edited in place (once the worker has
    been), the follow-ups queued (replies under posts, messages to readers), the posts out
    left as they are, and the posts not yet out now waiting for an editor."""

    edited: list[int] = field(default_factory=list)
    follow_ups: list[int] = field(default_factory=list)
    left: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, list[int]]:
        return {
            "edited": self.edited,
            "follow_ups": self.follow_ups,
            "left": self.left,
            "held": self.held,
        }


def way_of(settings: Settings, name: str) -> Way:
    """How a channel's posts out are corrected: as configured, else edited where the platform
    lets a post be edited, else replied under (or followed up, for readers reached one by one)."""
    kind = channel_class(settings.channels[name].type)
    chosen = settings.channels[name].on_correct
    if chosen == "none":
        return "none"
    if chosen != "reply" and kind.editable_posts:
        return "edit"
    return "reply"


Fate = Literal["edit", "reply", "notice", "left", "held"]


@dataclass(frozen=True)
class Step:
    """What a correction does to one post: edit it (`text` in place of `former`), reply under
    it or send its readers a notice (`text`), leave it, or hold it for an editor."""

    post_id: int
    channel: str
    fate: Fate
    text: str | None = None
    former: str | None = None


def plan_correction(
    connection: Connection, settings: Settings, article_id: int, note: str
) -> list[Step]:
    """What correcting the article with `note` does to each of its posts, writing nothing."""
    rows = connection.execute(
        select(posts.c.id, posts.c.channel, posts.c.state, posts.c.text, posts.c.fields)
        .where(posts.c.article_id == article_id)
        .order_by(posts.c.id)
    ).all()
    steps = []
    for row in rows:
        if is_follow_up(row.fields):
            continue
        if row.state == State.SENT:
            steps.append(_step(connection, settings, row, note))
        elif row.state in (State.QUEUED, State.AWAITING_APPROVAL):
            steps.append(Step(row.id, row.channel, "held"))
    return steps


def _step(connection: Connection, settings: Settings, row: Row, note: str) -> Step:
    post_id: int = row.id
    name: str = row.channel
    way = way_of(settings, name) if name in settings.channels else "none"
    if way == "none":
        return Step(post_id, name, "left")
    line = words(settings, name, "correction_line", note=note)
    if way == "edit":
        channel = roster.configured(settings, name)
        before = newest_text(connection, post_id) or row.text
        after = f"{before}\n\n{line}"
        if channel.measure(after) <= channel.limit_for(None):
            return Step(post_id, name, "edit", after, before)
    if reached(connection, post_id):
        return Step(post_id, name, "notice", line)
    if channel_class(settings.channels[name].type).replies:
        return Step(post_id, name, "reply", line)
    return Step(post_id, name, "left")


def correct_posts(
    connection: Connection,
    settings: Settings,
    article_id: int,
    note: str,
    by: str,
    now: datetime,
) -> Correction:
    """Correct the article's posts, in the caller's transaction (see the module's opening)."""
    done = Correction()
    for step in plan_correction(connection, settings, article_id, note):
        if step.fate == "held":
            state = connection.execute(
                select(posts.c.state).where(posts.c.id == step.post_id)
            ).scalar_one()
            connection.execute(
                update(posts)
                .where(posts.c.id == step.post_id)
                .values(updated_at=now, **approval_withdrawn(State(state)))
            )
            record_event(connection, [step.post_id], by, ARTICLE_CORRECTED, now, note)
            done.held.append(step.post_id)
        elif step.fate == "left":
            done.left.append(step.post_id)
        elif step.fate == "edit":
            edit = (step.text or "", step.former or "")
            schedule_edit(connection, step.post_id, step.channel, *edit, by, note, now)
            done.edited.append(step.post_id)
        else:
            if step.fate == "notice":
                follow_up = queue_notice(connection, step.post_id, step.text or "", by, now)
            else:
                follow_up = queue_reply(
                    connection, settings, step.post_id, step.text or "", by, now
                )
            if follow_up is not None:
                record_event(
                    connection, [step.post_id], by, CORRECTION_FOLLOWS, now, str(follow_up)
                )
                done.follow_ups.append(follow_up)
    notify_change(connection)
    return done


def foresee_correction(
    engine: Engine, settings: Settings, article_id: int, note: str
) -> list[Step]:
    """What correcting the article would do now, without doing it: for the question an editor
    answers first."""
    with engine.connect() as connection:
        return plan_correction(connection, settings, article_id, note)


def correct(engine: Engine, settings: Settings, key: str, note: str, by: str) -> Correction:
    """Correct the stored article with this id (or number, or address) with `note` (what was
    wrong and what is right), noted on the article. UnknownArticle when there is none."""
    now = utcnow()
    with engine.begin() as connection:
        row = identity.find_named(connection, key, lock=True)
        if row is None:
            raise UnknownArticle(
                f"no stored article {key[:200]!r}", key="unknown_article", article=key[:200]
            )
        return correct_posts(connection, settings, row.id, note, by, now)

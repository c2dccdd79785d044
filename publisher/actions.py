"""What an editor asks for, the same from the CLI, the bot and the desk: a verb on one post or a
channel (`apply`, `apply_to_channel`, refused to anyone but an approver where the lifecycle says
so), when posts go out (their words read one way, in the newsroom's zone), and queueing an
article on channels, all or nothing. The verbs' rules are `publisher.engine.lifecycle`'s,
their transactions `publisher.engine.posts.verbs`'; the CLI, the bot and the desk only parse
and render."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine

from publisher import roster
from publisher.articles import MAX_CORRECTION, Article, is_text
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.audiences import subscribers
from publisher.engine.audiences.subscribers import Reach
from publisher.engine.learning.estimate import ENOUGH_POSTS
from publisher.engine.lifecycle import (
    APPROVE,
    EDIT,
    MARK_SENT,
    RESCHEDULE,
    RESTORE,
    State,
    asked_by_editor,
    for_approvers,
    needs_approval,
)
from publisher.engine.planning import planner
from publisher.engine.planning.besttime import recently_learned
from publisher.engine.planning.planner import breaking_now
from publisher.engine.planning.slots import TimeError, When
from publisher.engine.posts import amendments, confirmed, queue, verbs
from publisher.engine.posts.overdue import GRACE
from publisher.engine.posts.pauses import active_pauses
from publisher.engine.posts.queue import QueueError
from publisher.engine.releases.correction import Correction, correct
from publisher.engine.releases.withdrawal import Withdrawal, withdraw
from publisher.errors import EditorError
from publisher.teasers import compose


class Editor(Protocol):
    """Who acts, as every surface knows them: the name a post's history keeps ("anna",
    "telegram:42", "cli") and whether they are an approver (a desk user is one as it is)."""

    @property
    def name(self) -> str: ...

    @property
    def approver(self) -> bool: ...


@dataclass(frozen=True)
class Someone:
    """An editor the bot or the command line names: who, and whether an approver."""

    name: str
    approver: bool = False


class ApproversOnly(EditorError):
    """The action is an approver's (approving, pausing, resuming) and the editor is none."""


def may(action: str, editor: Editor) -> bool:
    """Whether `editor` may take `action` (a post's verb or a channel's action): surfaces ask
    before they offer it; `apply` refuses it all the same."""
    return editor.approver or not for_approvers(action)


def check(action: str, editor: Editor) -> None:
    """Refuse (`ApproversOnly`) an action the editor may not take, before anything is done."""
    if not may(action, editor):
        raise ApproversOnly(f"only approvers may {action}", key="approvers_only")


def apply(
    engine: Engine,
    settings: Settings,
    verb: str,
    post_id: int,
    editor: Editor,
    *,
    at: str | None = None,
    seen: str | None = None,
    permalink: str | None = None,
    text: str | None = None,
    without_link: bool = False,
    overdue_ok: bool = False,
) -> datetime | None:
    """Carry out an editor's `verb` on one post: approve (the text version `seen`, which an
    approval must name), cancel, restore (asked first when its time has passed: `overdue_ok`
    once the editor confirmed), retry, mark sent (with its `permalink`), reschedule (to the time
    `at` in an editor's words) or edit (to `text`, from the post's version `seen`;
    `without_link` when the editor confirmed dropping the link). Refused, changing nothing, when
    the editor may not or the post cannot take it. A reschedule returns the post's new time;
    `going` says when any other post goes out."""
    check(verb, editor)
    by = editor.name
    if verb == APPROVE.name:
        verbs.approve(engine, post_id, by, seen=seen)
    elif verb == MARK_SENT.name:
        confirmed.mark_sent(engine, post_id, permalink, by=by)
    elif verb == RESCHEDULE.name:
        return move(engine, settings, post_id, at or "", by=by)
    elif verb == EDIT.name:
        new_text = text or ""
        verbs.edit(engine, settings, post_id, new_text, by, without_link=without_link, seen=seen)
    elif verb == RESTORE.name:
        new_time = when(at, settings).at if at and at.strip() else None
        verbs.restore(engine, post_id, by, overdue_ok=overdue_ok, at=new_time)
    elif verb in verbs.ACTIONS:
        verbs.ACTIONS[verb](engine, post_id, by=by)
    else:
        raise QueueError(f"no action {verb!r}", key="no_such_action", action=verb)
    return None


def apply_to_channel(
    engine: Engine,
    settings: Settings,
    action: str,
    channel: str,
    editor: Editor,
    reason: str = "",
    *,
    overdue_ok: bool = False,
) -> list[int]:
    """Pause a channel (an emergency stop, with the editor's `reason`) or resume it (asked
    first when posts it held are past their time: `overdue_ok` once the editor confirmed); the
    posts a resume lets go out at once."""
    check(action, editor)
    if action == "pause":
        verbs.pause(engine, settings, channel, reason or editor.name)
        return []
    if action == "resume":
        return verbs.resume(engine, settings, channel, overdue_ok=overdue_ok)
    raise QueueError(f"no action {action!r}", key="no_such_action", action=action)


def withdraw_article(
    engine: Engine,
    settings: Settings,
    key: str,
    editor: Editor,
    reason: str = "",
    *,
    keep_sent: bool = False,
) -> Withdrawal:
    """Withdraw a stored article (by its CMS id, else its address): every post of it not yet out
    is cancelled at once, with who withdrew it and why, those out are taken down (unless
    `keep_sent`, or their channel keeps them), and nothing posts it again. Approvers only."""
    check("withdraw", editor)
    if not (is_text(key) and is_text(reason) and is_text(editor.name)):
        # Bytes that are no UTF-8 text (a mistyped terminal): no article has such an id.
        raise QueueError("the article id or the reason is not text", key="not_text")
    return withdraw(engine, settings, key, reason, editor.name, keep_sent=keep_sent)


def try_amendment_again(engine: Engine, post_id: int, editor: Editor) -> bool:
    """Try a post's refused takedown or correction again (approvers only); False when it has
    none that was refused."""
    check("withdraw", editor)
    return amendments.try_again(engine, post_id, editor.name)


def correct_article(
    engine: Engine, settings: Settings, key: str, editor: Editor, note: str
) -> Correction:
    """Correct a stored article (by its CMS id, its number or its address) with the editor's
    `note` (what was wrong and what is right): its posts out are edited or followed up where
    the error stood, its posts not yet out wait for an editor. Approvers only."""
    check("correct", editor)
    if not (is_text(key) and is_text(editor.name)):
        raise QueueError("the article id is not text", key="not_text")
    return correct(engine, settings, key, correction_note(note), editor.name)


def correction_note(note: str) -> str:
    """A correction's note as it is used (on one line), or refused: none, too long, not text."""
    if not is_text(note):
        raise QueueError("the correction is not text", key="not_text")
    note = " ".join(note.split())
    if not note:
        raise QueueError("a correction says what was wrong and what is right", key="no_note")
    if len(note) > MAX_CORRECTION:
        raise QueueError(
            f"a correction of at most {MAX_CORRECTION} characters",
            key="note_too_long",
            most=MAX_CORRECTION,
        )
    return note


def short_histories(
    engine: Engine, settings: Settings, channels: Sequence[str] | None
) -> dict[str, str]:
    """The channels whose history is too short for the timing `best` to choose by, each with
    what it does instead (its next slot, or now)."""
    found = {}
    for name in roster.chosen(settings, channels):
        estimate = recently_learned(engine, settings, name)
        if not estimate.enough:
            by_slot = planner.slot_or_now(settings, name).mode == "next_slot"
            instead = "its next slot" if by_slot else "now"
            found[name] = (
                f"{estimate.posts} measured posts are too few to learn its best times from "
                f"(it takes {ENOUGH_POSTS}): {instead} instead"
            )
    return found


def when(text: str | None, settings: Settings) -> When:
    """An editor's words for a time ("now", "next", "+15m", "09:30", ISO 8601), read in the
    newsroom's zone; nothing given means now."""
    return When.parse(text, settings.tz, utcnow()) if text and text.strip() else When("now")


def move(engine: Engine, settings: Settings, post_id: int, text: str, *, by: str) -> datetime:
    """Move a post to the time an editor wrote (a slot's ISO time, a date and time, "09:30");
    refused, changing nothing, when it is no time, in the past, or closer than its channel's
    `min_gap` to another post of that channel. A failed post moved is tried again then."""
    moved = when(text or "?", settings)
    if moved.at is None:
        raise TimeError("choose a date and time", key="no_time_given")
    move_to(engine, settings, post_id, moved.at, by=by)
    return moved.at


def move_to(
    engine: Engine,
    settings: Settings,
    post_id: int,
    at: datetime,
    *,
    by: str,
    making_way: Collection[int] = (),
) -> None:
    """Move a post to `at` (a failed one is tried again then); refused, changing nothing, in
    the past or closer than its channel's `min_gap` to another post of the channel than those
    `making_way` (about to be moved too)."""
    if verbs.state_of(engine, post_id) == State.FAILED:
        verbs.not_past(at)
        verbs.retry(engine, post_id, by, now=at)
        return
    gaps = {name: timedelta(minutes=c.min_gap) for name, c in settings.channels.items()}
    verbs.reschedule(engine, post_id, at, by, gaps, making_way)


def queue_article(
    engine: Engine,
    settings: Settings,
    article: Article,
    channels: Sequence[str] | None,
    at: When,
    *,
    by: str,
    texts: Mapping[str, str] | None = None,
    without_link: frozenset[str] = frozenset(),
    held: bool = False,
    force: bool = False,
) -> list[int]:
    """Queue `article` on the named channels (none named: every configured one) in one
    transaction, with the texts an editor wrote in place of the composed ones; `held` waits for
    an approver whatever the channels say. A refusal (an unknown channel, a text over its limit,
    a channel without slots asked for its next slot, a post already there) queues nothing."""
    return queue.add(
        engine,
        settings,
        article,
        roster.chosen(settings, channels),
        at,
        force=force,
        queued_by=by,
        approval=asked_by_editor(held),
        texts=texts,
        without_link=without_link,
    )


@dataclass(frozen=True)
class Planned:
    """What queueing an article would do on one channel, worked out before anything is queued:
    the timing it gets and when that is, whether an approver must let it go, whom it reaches (a
    subscriber channel), or why it cannot be queued there."""

    channel: str
    when: When | None = None
    due: datetime | None = None
    approval: bool = False
    by_slot: bool = False
    # Chosen by what the channel's readers did before (the timing best).
    best: bool = False
    reach: Reach | None = None
    refusal: EditorError | None = None
    # The channel is paused: the post waits until it is resumed, whatever its time.
    held: bool = False
    # The timing the editor asked for ("now", "next_slot", "best", "at").
    asked: str = "now"

    @property
    def rule(self) -> str:
        """The catalogue's word for how its time was found: held, at once, a slot, the time
        asked."""
        if self.held:
            return "planned_held"
        if self.now:
            return "planned_now"
        return "planned_slot" if self.by_slot else "planned_best" if self.best else "planned_at"

    @property
    def now(self) -> bool:
        """Whether it goes out at once (within the minute an editor takes to confirm); a post
        of a paused channel does not."""
        return not self.held and self.due is not None and self.due - utcnow() <= GRACE

    @property
    def stored_as(self) -> When | None:
        """The timing it is queued with: the very time shown for a best time (a second draw
        could choose another), else the timing itself (a slot taken meanwhile is refused)."""
        if self.when is not None and self.best and self.due is not None:
            return When("at", self.due)
        return self.when


def plan(
    engine: Engine,
    settings: Settings,
    article: Article,
    channels: Sequence[str],
    at: When,
    *,
    held: bool = False,
    again: frozenset[str] = frozenset(),
    shown: Mapping[str, datetime] | None = None,
) -> dict[str, Planned]:
    """Where and when `article` would go out on each of `channels` at the editor's timing: the
    next free slot (a channel without slots at once), now, a time, or the best time its history
    knows of (its next slot while that is too short; now for breaking news). A channel that
    cannot take it (no free slot, the article already there unless it is to go `again` there)
    says why; the others are queued as planned by `queue_planned`. A best time `shown` to the
    editor before (asked to confirm it) is kept while it is still free, so that what they
    confirm is what is stored."""
    now = utcnow()
    asked_for = at.mode
    found: dict[str, Planned] = {}
    whom = reach(engine, settings, channels)
    # The best time where a channel's history tells it; its next slot (or now) where not.
    short = short_histories(engine, settings, channels) if at.mode == "best" else {}
    at = breaking_now(at, article)
    with engine.connect() as connection:
        article_id = queue.stored_id(connection, article)
        there = queue.posts_of(connection, article_id, channels) if article_id else {}
        paused = active_pauses(connection, now)
        for name in channels:
            configured = settings.channels[name]
            if name in there and name not in again:
                post_id, state = there[name]
                refusal = queue.QueueError(
                    f"already on {name} as post {post_id} ({state})",
                    key="already_queued",
                    channel=name,
                    post=post_id,
                    state=state,
                )
                found[name] = Planned(name, refusal=refusal)
                continue
            asked = When("next_slot") if name in short else at
            timing = planner.slot_or_now(settings, name) if asked.mode == "next_slot" else asked
            by_slot = timing.mode == "next_slot"
            earlier = (shown or {}).get(name)
            try:
                if (
                    timing.mode == "best"
                    and earlier
                    and planner.still_free(connection, settings, name, earlier, now)
                ):
                    due = earlier
                else:
                    due = planner.due_at(connection, settings, name, timing, now)
            except TimeError as exc:
                found[name] = Planned(name, refusal=exc)
                continue
            found[name] = Planned(
                name,
                when=timing,
                due=due,
                approval=needs_approval(configured.approval, asked_by_editor(held)),
                by_slot=by_slot,
                best=timing.mode == "best",
                reach=whom.get(name),
                held=name in paused,
                asked=asked_for,
            )
    return found


def asks_first(planned: Mapping[str, Planned]) -> bool:
    """Whether queueing as planned sends at once to readers' phones, on several channels, or
    where the editor did not ask for "now" (a best time or a next slot that comes to now): then
    the editor confirms what goes where first (at the desk and in the bot alike)."""
    at_once = [p for p in planned.values() if p.when is not None and p.now]
    unasked = any(p.asked != "now" for p in at_once)
    return unasked or any(p.reach is not None for p in at_once) or len(at_once) > 1


def check_texts(
    settings: Settings,
    article: Article,
    planned: Mapping[str, Planned],
    texts: Mapping[str, str],
    without_link: frozenset[str] = frozenset(),
) -> None:
    """Refuse (TextsRefused) the texts an editor wrote for the channels the plan found room on
    that their channels would refuse: before anything is asked, not after it is confirmed."""
    fitting = [name for name, p in planned.items() if p.stored_as is not None]
    channels = roster.chosen(settings, fitting)
    composed = compose(article, channels, settings)
    chosen = {name: text for name, text in texts.items() if name in channels}
    queue.editor_texts(article, channels, composed, chosen, without_link)


def queue_planned(
    engine: Engine,
    settings: Settings,
    article: Article,
    planned: Mapping[str, Planned],
    *,
    by: str,
    texts: Mapping[str, str] | None = None,
    without_link: frozenset[str] = frozenset(),
    held: bool = False,
    force: bool = False,
) -> list[int]:
    """Queue `article` on the channels `plan` found room on, each at its own timing, in one
    transaction (a refusal now, such as a slot taken meanwhile, queues none of them); `force`
    when the editor asked to post it again where it already is."""
    fitting = {name: p.stored_as for name, p in planned.items() if p.stored_as is not None}
    return queue.add(
        engine,
        settings,
        article,
        roster.chosen(settings, list(fitting)),
        fitting,
        queued_by=by,
        approval=asked_by_editor(held),
        texts={name: text for name, text in (texts or {}).items() if name in fitting},
        without_link=without_link,
        force=force,
    )


def reach(engine: Engine, settings: Settings, names: Iterable[str]) -> dict[str, Reach]:
    """For each of the channels `names` that sends to subscribers, whom a post would reach now
    and in which form (free-form or the approved template)."""
    found = {}
    for name in dict.fromkeys(names):
        if name in settings.channels and roster.configured(settings, name).subscribable:
            configured = getattr(settings.channels[name].platform, "recipients", ())
            found[name] = subscribers.reach(engine, name, configured)
    return found

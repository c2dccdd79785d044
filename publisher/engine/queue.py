"""The editorial queue: add an article's posts (now, at a time, in the next free slot), edit,
approve, cancel, retry, and pause or resume channels. Each change is one short transaction and
refuses what would break the post lifecycle; a refusal changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, and_, func, insert, select, update

from publisher import roster
from publisher.articles import Article, ArticleError, check_http_url
from publisher.channels import Channel, Teaser
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.changes import notify_change
from publisher.engine.lifecycle import (
    APPROVE,
    CANCEL,
    EDIT,
    MARK_SENT,
    RESCHEDULE,
    RETRY,
    TAKING_TIME,
    Outcome,
    State,
    Verb,
)
from publisher.engine.pauses import pause_channel, resume_channel
from publisher.engine.schema import articles, deliveries, is_row_id, post_events, posts
from publisher.engine.slots import When, next_slot
from publisher.errors import EditorError
from publisher.teasers import compose


class QueueError(EditorError):
    """A queue command cannot be carried out; nothing was changed."""


class LinkMissing(QueueError):
    """An edited text no longer holds the article's link; an editor must confirm posting it."""


class TextsRefused(QueueError):
    """Texts an editor wrote for some channels cannot be posted: `problems` by channel (empty
    lists for the rest), `linkless` the channels whose text lost the article's link."""

    def __init__(self, problems: dict[str, list[str]], linkless: frozenset[str]) -> None:
        first = next(
            (f"{name}: {'; '.join(found)}" for name, found in problems.items() if found),
            f"{min(linkless, default='')}: the text no longer holds the article's link",
        )
        super().__init__(first)
        self.problems = problems
        self.linkless = linkless


def editor_texts(
    article: Article,
    channels: dict[str, Channel],
    teasers: dict[str, Teaser],
    texts: Mapping[str, str],
    without_link: frozenset[str] = frozenset(),
) -> dict[str, Teaser]:
    """The teasers with the texts an editor wrote in place of the composed ones, each checked
    by its channel's rules (TextsRefused says what is wrong where). Line ends as browsers send
    them (CRLF) are the same text."""
    problems: dict[str, list[str]] = {name: [] for name in teasers}
    linkless: set[str] = set()
    chosen = dict(teasers)
    for name, given in texts.items():
        if name not in teasers:
            continue
        text = given.replace("\r\n", "\n")
        if text == teasers[name].text:
            continue
        channel = channels[name]
        problems[name] = channel.validate(text, article)
        if drops_link(channel, text, teasers[name].link, article.url) and name not in without_link:
            linkless.add(name)
        chosen[name] = replace(teasers[name], text=text, length=channel.measure(text))
    if linkless or any(problems.values()):
        raise TextsRefused(problems, frozenset(linkless))
    return chosen


def record_event(
    connection: Connection,
    post_ids: Sequence[int],
    actor: str,
    action: str,
    now: datetime,
    detail: str | None = None,
) -> None:
    """Note who did what to these posts, in the caller's transaction."""
    if post_ids:
        connection.execute(
            insert(post_events),
            [
                {"post_id": i, "at": now, "actor": actor, "action": action, "detail": detail}
                for i in post_ids
            ],
        )


def upsert_article(connection: Connection, article: Article, now: datetime) -> int:
    """Store the article (keyed by its id, else its URL) and return its row id; an update
    locks the row, so releases of one article are serialised."""
    key = article.id or article.url
    values = {
        "url": article.url,
        "headline": article.headline,
        "data": article.to_json(),
        "updated_at": now,
    }
    existing = connection.execute(select(articles.c.id).where(articles.c.key == key)).scalar()
    if existing is not None:
        connection.execute(update(articles).where(articles.c.id == existing).values(values))
        return existing
    inserted = connection.execute(insert(articles).values(key=key, created_at=now, **values))
    return _new_id(inserted)


def _new_id(result: CursorResult[Any]) -> int:
    """The row id an INSERT made."""
    key = result.inserted_primary_key
    assert key is not None, "an INSERT answers with the row's key"
    return int(key[0])


def _taken_times(connection: Connection, channel: str, now: datetime) -> list[datetime]:
    rows = connection.execute(
        select(func.coalesce(posts.c.sent_at, posts.c.due_at)).where(
            posts.c.channel == channel,
            posts.c.state.in_(TAKING_TIME),
            func.coalesce(posts.c.sent_at, posts.c.due_at) >= now - timedelta(days=1),
        )
    )
    return [row[0] for row in rows]


def _due(
    connection: Connection, settings: Settings, name: str, timing: When, now: datetime
) -> datetime:
    if timing.mode == "at" and timing.at is not None:
        return timing.at
    if timing.mode == "now":
        return now
    channel = settings.channels[name]
    return next_slot(
        now,
        channel.slots,
        settings.channel_tz(name),
        _taken_times(connection, name, now),
        timedelta(minutes=channel.min_gap),
    )


def add(
    engine: Engine,
    settings: Settings,
    article: Article,
    channels: dict[str, Channel],
    timing: When,
    *,
    force: bool = False,
    queued_by: str = "cli",
    now: datetime | None = None,
    approval: bool | None = None,
    adjust: Callable[[str, datetime], datetime] | None = None,
    texts: Mapping[str, str] | None = None,
    without_link: frozenset[str] = frozenset(),
) -> list[int]:
    """Queue one post per channel for `article`, all or nothing: refuses (queues nothing) if
    any channel already has an open or sent post of this article, unless `force`, or if a text
    an editor wrote in `texts` breaks its channel's rules (or drops the link, unless the channel
    is in `without_link`). `approval` overrides the channels' own setting; `adjust` may move
    each channel's due time later (quiet hours, embargo)."""
    now = now or utcnow()
    composed = compose(article, channels, settings)
    teasers = editor_texts(article, channels, composed, texts or {}, without_link)
    edited = frozenset(n for n in teasers if teasers[n].text != composed[n].text)
    with engine.begin() as connection:
        article_id = upsert_article(connection, article, now)
        if not force:
            existing = connection.execute(
                select(posts.c.id, posts.c.channel, posts.c.state).where(
                    posts.c.article_id == article_id,
                    posts.c.channel.in_(list(channels)),
                    posts.c.state != State.CANCELLED,
                )
            ).first()
            if existing is not None:
                raise QueueError(
                    f"this article is already queued for {existing.channel} as post "
                    f"{existing.id} ({existing.state}); use --force to queue it again"
                )
        ids = insert_posts(
            connection,
            settings,
            article_id,
            teasers,
            timing,
            now=now,
            queued_by=queued_by,
            approval=approval,
            adjust=adjust,
            edited=edited,
        )
    return ids


def insert_posts(
    connection: Connection,
    settings: Settings,
    article_id: int,
    teasers: dict[str, Teaser],
    timing: When,
    *,
    now: datetime,
    queued_by: str,
    approval: bool | None = None,
    adjust: Callable[[str, datetime], datetime] | None = None,
    edited: frozenset[str] = frozenset(),
) -> list[int]:
    """Insert one post per teaser in the caller's transaction and tell the workers; `edited`
    names the channels whose text an editor wrote (a CMS update leaves those alone)."""
    ids = []
    for name, teaser in teasers.items():
        try:
            due = _due(connection, settings, name, timing, now)
        except ValueError as exc:
            raise QueueError(f"{name}: {exc}") from None
        if adjust is not None:
            due = adjust(name, due)
        held = settings.channels[name].approval if approval is None else approval
        result = connection.execute(
            insert(posts).values(
                article_id=article_id,
                channel=name,
                channel_type=teaser.type,
                text=teaser.text,
                link=teaser.link,
                fields=dict(teaser.fields),
                state=State.AWAITING_APPROVAL if held else State.QUEUED,
                approval_required=held,
                due_at=due,
                attempts=0,
                retries=0,
                queued_by=queued_by,
                edited=name in edited,
                created_at=now,
                updated_at=now,
            )
        )
        ids.append(_new_id(result))
    record_event(connection, ids, queued_by, "queued", now)
    notify_change(connection)
    return ids


def _post(connection: Connection, post_id: int) -> Any:
    if not is_row_id(post_id):
        raise QueueError(f"no post {post_id}")
    row = connection.execute(select(posts).where(posts.c.id == post_id)).first()
    if row is None:
        raise QueueError(f"no post {post_id}")
    return row


def _transition(
    engine: Engine,
    post_id: int,
    verb: Verb,
    by: str,
    detail: str | None = None,
    **values: Any,
) -> None:
    """Apply `verb` to a post in one transaction: refused (nothing changed) unless the post's
    state allows it; the state changes to the verb's target unless `values` say otherwise."""
    now = utcnow()
    with engine.begin() as connection:
        row = _post(connection, post_id)
        if not verb.allows(row.state):
            raise QueueError(verb.refusal(post_id, row.state))
        if verb.target is not None:
            values.setdefault("state", verb.target)
        connection.execute(
            update(posts)
            .where(and_(posts.c.id == post_id, posts.c.state == row.state))
            .values(updated_at=now, **values)
        )
        record_event(connection, [post_id], by, verb.done, now, detail)
        notify_change(connection)


def approve(engine: Engine, post_id: int, by: str = "cli") -> None:
    """Let a post that waits for approval go out at its time; who approved it is kept."""
    _transition(engine, post_id, APPROVE, by, approved_by=by, approved_at=utcnow())


def cancel(engine: Engine, post_id: int, by: str = "cli") -> None:
    """Withdraw a post that has not gone out."""
    _transition(engine, post_id, CANCEL, by, worker=None)


def retry(engine: Engine, post_id: int, by: str = "cli", now: datetime | None = None) -> None:
    """Send a failed or uncertain post again, now (an editor has checked it is not online); a
    post whose approval an edit withdrew waits for approval first."""
    with engine.connect() as connection:
        row = _post(connection, post_id)
    unapproved = row.approval_required and row.approved_at is None
    _transition(
        engine,
        post_id,
        RETRY,
        by,
        state=State.AWAITING_APPROVAL if unapproved else State.QUEUED,
        due_at=now or utcnow(),
        retries=0,
        worker=None,
        lease_until=None,
        # Fan-out posts owe again every recipient not yet reached, refused ones included.
        pending=None,
    )


def reschedule(engine: Engine, post_id: int, when: datetime, by: str = "cli") -> None:
    """Move a post that has not gone out to another time (in the future)."""
    if when.tzinfo is None:
        raise QueueError("a post's time needs a time zone")
    if when < utcnow() - timedelta(seconds=5):
        raise QueueError(f"{when.isoformat(timespec='minutes')} is in the past")
    _transition(
        engine,
        post_id,
        RESCHEDULE,
        by,
        when.astimezone(UTC).isoformat(timespec="minutes"),
        due_at=when,
    )


def mark_sent(engine: Engine, post_id: int, permalink: str | None = None, by: str = "cli") -> None:
    """Record that an uncertain post did go out (an editor found it on the platform); the
    permalink, when given, must be an http(s) address."""
    if permalink is not None:
        try:
            permalink = check_http_url(permalink)
        except ArticleError:
            raise QueueError(
                f"the permalink must be an http(s) address, not {permalink[:80]!r}"
            ) from None
    with engine.begin() as connection:
        row = _post(connection, post_id)
        if not MARK_SENT.allows(row.state):
            raise QueueError(MARK_SENT.refusal(post_id, row.state))
        _record_sent(connection, post_id, None, permalink, by, permalink)


def found_online(
    engine: Engine, post_id: int, remote_id: str | None, permalink: str | None
) -> bool:
    """Record that an uncertain post was found on its platform after its worker stopped; False
    when it is no longer uncertain (an editor was quicker)."""
    with engine.begin() as connection:
        return _record_sent(
            connection, post_id, remote_id, permalink, "reconcile", "found on the platform"
        )


def _record_sent(
    connection: Connection,
    post_id: int,
    remote_id: str | None,
    permalink: str | None,
    by: str,
    detail: str | None,
) -> bool:
    """The one way an uncertain post becomes sent: the post, its uncertain deliveries and the
    record of who said so."""
    now = utcnow()
    changed = connection.execute(
        update(posts)
        .where(posts.c.id == post_id, posts.c.state == State.UNCERTAIN)
        .values(
            state=MARK_SENT.target,
            sent_at=now,
            remote_id=remote_id,
            permalink=permalink,
            error_class=None,
            error=detail if by == "reconcile" else None,
            worker=None,
            lease_until=None,
            updated_at=now,
        )
    ).rowcount
    if not changed:
        return False
    connection.execute(
        update(deliveries)
        .where(deliveries.c.post_id == post_id, deliveries.c.outcome == Outcome.UNCERTAIN)
        .values(outcome=Outcome.SENT, remote_id=remote_id, permalink=permalink)
    )
    record_event(connection, [post_id], by, MARK_SENT.done, now, detail)
    notify_change(connection)
    return True


# The editor's verbs that are buttons (desk, bot), by name: each takes the engine, the post and
# who acts (`by`).
ACTIONS: dict[str, Callable[..., None]] = {
    APPROVE.name: approve,
    CANCEL.name: cancel,
    RETRY.name: retry,
    MARK_SENT.name: mark_sent,
}


def drops_link(channel: Channel, text: str, link: str, article_url: str) -> bool:
    """Whether an edited text has lost the article's link (tracked or plain) on a channel
    that posts the link in the text."""
    return not (channel.carries_link(text, link) or channel.carries_link(text, article_url))


def edit(
    engine: Engine,
    settings: Settings,
    post_id: int,
    new_text: str,
    by: str = "cli",
    *,
    without_link: bool = False,
) -> None:
    """Replace a post's text, validated against its channel's rules (QueueError lists problems).
    A text that drops the article's link is refused (LinkMissing) unless `without_link`. An
    approved post that is edited waits for approval again."""
    with engine.begin() as connection:
        row = _post(connection, post_id)
        if not EDIT.allows(row.state):
            raise QueueError(f"post {post_id} is {row.state} and can no longer be edited")
        if row.channel not in settings.channels:
            raise QueueError(
                f"post {post_id} belongs to channel {row.channel!r}, no longer configured"
            )
        channel = roster.configured(settings, row.channel)
        stored = connection.execute(select(articles.c.data).where(articles.c.id == row.article_id))
        article = Article.model_validate(stored.scalar_one())
        problems = channel.validate(new_text, article)
        if problems:
            raise QueueError(f"post {post_id} on {row.channel}: " + "; ".join(problems))
        if not without_link and drops_link(channel, new_text, row.link, article.url):
            raise LinkMissing(
                f"post {post_id} on {row.channel}: the text no longer holds the article's link"
            )
        now = utcnow()
        values: dict[str, Any] = {"text": new_text, "edited": True, "updated_at": now}
        detail = None
        if row.approved_at is not None:
            # The approver approved another text: this one needs their word again. A failed or
            # uncertain post keeps its state; its retry then waits for approval.
            values.update(approval_required=True, approved_by=None, approved_at=None)
            if row.state == State.QUEUED:
                values["state"] = State.AWAITING_APPROVAL
            detail = "needs approval again"
        connection.execute(update(posts).where(posts.c.id == post_id).values(values))
        record_event(connection, [post_id], by, "edited", now, detail)
        notify_change(connection)


def pause(engine: Engine, settings: Settings, channel: str, reason: str) -> None:
    """Hold every post of a channel until it is resumed."""
    if channel not in settings.channels:
        raise QueueError(f"unknown channel {channel!r}")
    with engine.begin() as connection:
        pause_channel(connection, channel, reason, "editor", utcnow())


def resume(engine: Engine, settings: Settings, channel: str) -> None:
    """Let a paused channel's posts go out again."""
    if channel not in settings.channels:
        raise QueueError(f"unknown channel {channel!r}")
    with engine.begin() as connection:
        resume_channel(connection, channel)

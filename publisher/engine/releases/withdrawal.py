"""Withdrawing an article (a correction, a takedown; the CMS says so or an editor does): every
post of it that has not gone out is cancelled at once, with the reason in its history, every
post out is taken down where its channel and platform let us (engine/posts/takedowns.py),
and the stored article is marked withdrawn, so that nothing queues it again (nor resurfaces
it) until the CMS releases it anew."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine, Row, select, update

from publisher.articles import Article
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.lifecycle import CANCEL, WITHDRAWN, State
from publisher.engine.posts import identity
from publisher.engine.posts.followups import is_notice, queue_withdrawal_notices
from publisher.engine.posts.queue import UnknownArticle, record_event, withdrawal_marks
from publisher.engine.posts.takedowns import Planned, out_or_going, plan, sort_out
from publisher.engine.storage.changes import notify_change
from publisher.engine.storage.schema import articles, posts


@dataclass(frozen=True)
class Withdrawal:
    """What withdrawing an article did: the posts cancelled; those going out that very moment
    (taken down once they are out, where they are taken down); of the posts out, those being
    taken down, those kept on purpose and those their platform lets no one remove."""

    cancelled: list[int]
    in_flight: list[int]
    taking_down: list[int]
    kept: list[int]
    cannot: list[int]
    # Of those it cannot take down, the ones whose readers are sent a notice, and the notices'
    # own post numbers (once queued).
    noticed: list[int] = field(default_factory=list)
    notices: list[int] = field(default_factory=list)

    def fate(self, post_id: int) -> str | None:
        """What the withdrawal does to one post, as the catalogue's `withdraw_will_…` says it:
        cancel, take_down, take_down_in_flight, keep or cannot (None: nothing)."""
        if post_id in self.cancelled:
            return "cancel"
        if post_id in self.taking_down:
            return "take_down_in_flight" if post_id in self.in_flight else "take_down"
        if post_id in self.kept:
            return "keep"
        if post_id in self.noticed:
            return "notice"
        return "cannot" if post_id in self.cannot else None

    def to_json(self) -> dict[str, list[int]]:
        return {
            "cancelled": self.cancelled,
            "in_flight": self.in_flight,
            "taking_down": self.taking_down,
            "kept": self.kept,
            "cannot": self.cannot,
            "notices": self.notices,
        }


def _cancellable(rows: list[Row]) -> dict[str, list[int]]:
    """The posts a withdrawal cancels, by the state each is in: not a notice of an earlier
    withdrawal to readers (a withdrawal sent again must not stop it)."""
    by_state: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        if CANCEL.allows(row.state) and not is_notice(row.fields):
            by_state[row.state].append(row.id)
    return by_state


def foresee(
    engine: Engine, settings: Settings, article_id: int, *, keep_sent: bool = False
) -> Withdrawal:
    """What withdrawing the article would do now, without doing it: for the question an editor
    answers first."""
    with engine.connect() as connection:
        rows = list(
            connection.execute(
                select(posts.c.id, posts.c.state, posts.c.fields).where(
                    posts.c.article_id == article_id
                )
            ).all()
        )
        planned = sort_out(out_or_going(connection, article_id), settings, keep_sent=keep_sent)
    return _withdrawal(_cancellable(rows), rows, planned)


def withdraw_posts(
    connection: Connection,
    settings: Settings,
    article_id: int,
    reason: str,
    by: str,
    now: datetime,
    *,
    keep_sent: bool = False,
) -> Withdrawal:
    """Cancel every post of the article that can still be cancelled and plan the takedown of
    those out, in this transaction; each cancelled post's history says it was withdrawn, by
    whom and why (`reason`, the editor's words, if any), and keeps the state it was in.
    `keep_sent`: this once, leave the posts out standing."""
    rows = connection.execute(
        select(posts.c.id, posts.c.state, posts.c.fields).where(posts.c.article_id == article_id)
    ).all()
    by_state = _cancellable(list(rows))
    for state, ids in by_state.items():
        connection.execute(
            update(posts)
            .where(posts.c.id.in_(ids), posts.c.state == state)
            .values(state=State.CANCELLED, worker=None, updated_at=now)
        )
        record_event(connection, ids, by, WITHDRAWN, now, reason or None, former=state)
    if by_state:
        notify_change(connection)
    planned: Planned = plan(connection, settings, article_id, by, reason, now, keep_sent=keep_sent)
    notices = queue_withdrawal_notices(connection, settings, planned.noticed, by, now)
    return _withdrawal(by_state, rows, planned, notices)


def _withdrawal(
    by_state: dict[str, list[int]],
    rows: Sequence[Row],
    planned: Planned,
    notices: list[int] | None = None,
) -> Withdrawal:
    """What a withdrawal does, from the posts it cancels (by state), the article's posts and
    the takedowns planned."""
    return Withdrawal(
        cancelled=sorted(i for ids in by_state.values() for i in ids),
        in_flight=sorted(row.id for row in rows if row.state == State.SENDING),
        taking_down=planned.taking_down,
        kept=planned.kept,
        cannot=planned.cannot,
        noticed=planned.noticed,
        notices=notices or [],
    )


def withdraw(
    engine: Engine,
    settings: Settings,
    key: str,
    reason: str,
    by: str,
    *,
    keep_sent: bool = False,
) -> Withdrawal:
    """Withdraw the stored article with this id (or address): marked withdrawn, with who did it,
    when and why (`reason`, the editor's words), its unsent posts cancelled and those out
    taken down (unless `keep_sent`), in one transaction. UnknownArticle when there is no such
    article."""
    now = utcnow()
    with engine.begin() as connection:
        row = identity.find_named(connection, key, lock=True)
        if row is None:
            raise UnknownArticle(
                f"no stored article {key[:200]!r}", key="unknown_article", article=key[:200]
            )
        marked = Article.model_validate(row.data).model_copy(update={"withdrawn": True})
        connection.execute(
            update(articles)
            .where(articles.c.id == row.id)
            .values(
                data=marked.to_json(), updated_at=now, **withdrawal_marks(True, by, reason, now)
            )
        )
        return withdraw_posts(connection, settings, row.id, reason, by, now, keep_sent=keep_sent)


@dataclass(frozen=True)
class Withdrawn:
    """Who withdrew an article (an editor's name, or the CMS's source), when, and why."""

    by: str
    at: datetime | None
    reason: str | None


def withdrawn_as(engine: Engine, article_id: int) -> Withdrawn | None:
    """How the stored article was withdrawn; None while it stands."""
    with engine.connect() as connection:
        row = connection.execute(
            select(
                articles.c.data,
                articles.c.withdrawn_by,
                articles.c.withdrawn_at,
                articles.c.withdrawn_reason,
            ).where(articles.c.id == article_id)
        ).first()
    if row is None or not Article.model_validate(row.data).withdrawn:
        return None
    return Withdrawn(row.withdrawn_by or "?", row.withdrawn_at, row.withdrawn_reason)

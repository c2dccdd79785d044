"""An uncertain post confirmed as sent: by an editor who found it on its platform (`mark_sent`,
with its permalink), or by the reconciling round that looked it up there (`found_online`); the
one way an uncertain post becomes sent either way."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, select, update

from publisher.articles import ArticleError, check_http_url
from publisher.clock import utcnow
from publisher.engine.lifecycle import MARK_SENT, Outcome, State
from publisher.engine.posts.queue import QueueError, record_event
from publisher.engine.storage.changes import notify_change
from publisher.engine.storage.schema import deliveries, posts


def mark_sent(engine: Engine, post_id: int, permalink: str | None = None, *, by: str) -> None:
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
        row = connection.execute(select(posts.c.state).where(posts.c.id == post_id)).first()
        if row is None:
            raise QueueError(f"no post {post_id}", key="no_post", post=post_id)
        if not MARK_SENT.allows(row.state):
            message, values = MARK_SENT.refusal(post_id, row.state)
            raise QueueError(message, key="verb_refused", **values)
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

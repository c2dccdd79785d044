"""The webhook's spent signatures: a signed release is stored with its signature in one
transaction, so that every instance refuses the same request again; signatures older than
twice the replay window are forgotten (their timestamps are refused anyway)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select

from publisher.engine.storage.schema import webhook_signatures


def spent_before(connection: Connection, signature: str, window: int, now: datetime) -> bool:
    """Whether `signature` was spent before; if not, it is now, in the caller's transaction
    (the release it carries: a request that was not stored can be sent again)."""
    connection.execute(
        delete(webhook_signatures).where(
            webhook_signatures.c.received_at < now - timedelta(seconds=2 * window)
        )
    )
    seen = connection.execute(
        select(webhook_signatures.c.signature).where(webhook_signatures.c.signature == signature)
    ).first()
    if seen is None:
        connection.execute(insert(webhook_signatures).values(signature=signature, received_at=now))
    return seen is not None

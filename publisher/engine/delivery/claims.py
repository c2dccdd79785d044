"""The claim side of delivery: take due posts into `sending` in one short transaction (within
each channel's concurrency and rate limit, `FOR UPDATE SKIP LOCKED` on PostgreSQL), give them
back unsent, turn posts whose worker vanished into `uncertain`, and say when next to wake."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)

from publisher import roster
from publisher.channels import Channel
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.audiences.subscribers import subscribed
from publisher.engine.delivery.claimed import Claimed, worker_name
from publisher.engine.lifecycle import Outcome, State
from publisher.engine.posts.pauses import active_pauses
from publisher.engine.storage.schema import deliveries, posts

logger = logging.getLogger(__name__)


class Claims:
    """The claiming half of a worker; `Dispatcher` adds sending and recording."""

    def __init__(self, engine: Engine, settings: Settings, worker: str | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.worker = worker or worker_name()
        self.adapters: dict[str, Channel] = {
            name: roster.sender(settings, name) for name in settings.channels
        }
        self.lease = timedelta(seconds=settings.engine.lease)

    def _concurrency(self, name: str) -> int:
        return self.settings.channels[name].concurrency or type(self.adapters[name]).concurrency

    @staticmethod
    def _in_flight(connection: Connection, name: str) -> int:
        return connection.execute(
            select(func.count()).where(posts.c.channel == name, posts.c.state == State.SENDING)
        ).scalar_one()

    def _budget(self, connection: Connection, name: str, in_flight: int, now: datetime) -> int:
        budget = self._concurrency(name) - in_flight
        channel = self.settings.channels[name]
        if channel.rate_limit and budget > 0:
            window_start = now - timedelta(seconds=channel.rate_period)
            recent = connection.execute(
                select(func.count()).where(
                    deliveries.c.channel == name,
                    deliveries.c.started_at > window_start,
                    deliveries.c.outcome != Outcome.RELEASED,
                )
            ).scalar_one()
            budget = min(budget, channel.rate_limit - recent)
        return budget

    def _lock_channel(self, connection: Connection, name: str) -> None:
        # On PostgreSQL one worker at a time claims a channel (claims take milliseconds), so
        # concurrency and rate budgets hold across workers. Channels are always locked in the
        # configured order, so two workers cannot wait on each other.
        if connection.dialect.name == "postgresql":
            key = zlib.crc32(f"publisher:{name}".encode()) - 2**31
            connection.execute(select(func.pg_advisory_xact_lock(key)))

    def claim(self, now: datetime | None = None, limit: int | None = None) -> list[Claimed]:
        """Take due posts of channels that are not paused into `sending`, within each channel's
        concurrency and rate limit, and open a delivery row for each."""
        now = now or utcnow()
        limit = limit or self.settings.engine.batch
        claimed: list[Claimed] = []
        with self.engine.begin() as connection:
            paused = active_pauses(connection, now)
            # Only channels with something due are looked at closely (one query for all).
            due = set(
                connection.execute(
                    select(posts.c.channel)
                    .where(posts.c.state == State.QUEUED, posts.c.due_at <= now)
                    .distinct()
                ).scalars()
            )
            for name in self.settings.channels:
                room = limit - len(claimed)
                if room <= 0:
                    break
                if name in paused or name not in due:
                    continue
                self._lock_channel(connection, name)
                budget = min(
                    room, self._budget(connection, name, self._in_flight(connection, name), now)
                )
                if budget <= 0:
                    continue
                claimed += self._claim_channel(connection, name, budget, now)
        return claimed

    def _claim_channel(
        self, connection: Connection, name: str, budget: int, now: datetime
    ) -> list[Claimed]:
        rows = connection.execute(
            select(
                posts.c.id,
                posts.c.text,
                posts.c.link,
                posts.c.fields,
                posts.c.attempts,
                posts.c.retries,
                posts.c.due_at,
                posts.c.pending,
                posts.c.created_at,
            )
            .where(posts.c.channel == name, posts.c.state == State.QUEUED, posts.c.due_at <= now)
            .order_by(posts.c.due_at, posts.c.id)
            .limit(budget)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return []
        connection.execute(
            update(posts)
            .where(posts.c.id.in_([row.id for row in rows]))
            .values(
                state=State.SENDING,
                worker=self.worker,
                lease_until=now + self.lease,
                attempts=posts.c.attempts + 1,
                updated_at=now,
            )
        )
        adapter = self.adapters[name]
        targets = adapter.targets()
        if adapter.subscribable:
            targets = tuple(dict.fromkeys([*targets, *subscribed(connection, name)]))
        if targets:
            return self._claim_fanout(connection, name, rows, targets, now)
        opened = self._open_deliveries(connection, name, [(row, None) for row in rows], now)
        return [
            Claimed.of(row, name, now, delivery_id)
            for row, delivery_id in zip(rows, opened, strict=True)
        ]

    def _open_deliveries(
        self, connection: Connection, name: str, rows: list[tuple[Row, str | None]], now: datetime
    ) -> list[int]:
        return list(
            connection.execute(
                insert(deliveries).returning(deliveries.c.id, sort_by_parameter_order=True),
                [
                    {
                        "post_id": row.id,
                        "channel": name,
                        "attempt": row.attempts + 1,
                        "worker": self.worker,
                        "started_at": now,
                        "outcome": Outcome.PENDING,
                        "recipient": recipient,
                        "payload": {"text": row.text, "link": row.link, "fields": row.fields},
                    }
                    for row, recipient in rows
                ],
            )
            .scalars()
            .all()
        )

    def _claim_fanout(
        self,
        connection: Connection,
        name: str,
        rows: Sequence[Row],
        targets: tuple[str, ...],
        now: datetime,
    ) -> list[Claimed]:
        """The recipients each post is still owed to: those an earlier round left owed, or,
        the first time and after an editor's retry, every recipient; never one it was sent
        to, nor one whose message may have gone out (unclear, or in flight when a worker
        stopped), nor one refused for good in the round a worker stopped in."""
        ids = [row.id for row in rows]
        done: dict[int, set[str]] = {}
        for post_id, recipient, outcome, attempt in connection.execute(
            select(
                deliveries.c.post_id,
                deliveries.c.recipient,
                deliveries.c.outcome,
                deliveries.c.attempt,
            ).where(
                deliveries.c.post_id.in_(ids),
                deliveries.c.outcome.in_(
                    [Outcome.SENT, Outcome.UNCERTAIN, Outcome.PENDING, Outcome.FAILED]
                ),
            )
        ):
            row = next(r for r in rows if r.id == post_id)
            if outcome != Outcome.FAILED or (row.pending is not None and attempt == row.attempts):
                done.setdefault(post_id, set()).add(recipient)
        owed = {
            row.id: [
                recipient
                for recipient in (row.pending if row.pending is not None else targets)
                if recipient not in done.get(row.id, set())
            ]
            for row in rows
        }
        connection.execute(
            update(posts)
            .where(posts.c.id == bindparam("match_post"))
            .values(pending=bindparam("new_pending")),
            [{"match_post": row.id, "new_pending": owed[row.id]} for row in rows],
        )
        # Nobody left means everyone was reached (or is unclear): the round records it so.
        return [Claimed.of(row, name, now, recipients=tuple(owed[row.id])) for row in rows]

    def release(self, claimed: Claimed) -> None:
        """Give back a claimed post that was never sent (the worker is stopping)."""
        now = utcnow()
        with self.engine.begin() as connection:
            if claimed.delivery_id is not None:
                connection.execute(
                    update(deliveries)
                    .where(
                        deliveries.c.id == claimed.delivery_id,
                        deliveries.c.outcome == Outcome.PENDING,
                    )
                    .values(finished_at=now, outcome=Outcome.RELEASED)
                )
            connection.execute(
                update(posts)
                .where(claimed.held_by(self.worker))
                .values(
                    state=State.QUEUED,
                    worker=None,
                    lease_until=None,
                    attempts=posts.c.attempts - 1,
                    updated_at=now,
                )
            )

    def expire_leases(self, now: datetime | None = None) -> int:
        """Posts whose worker vanished mid-delivery: a single post becomes uncertain (it may be
        out); a fan-out goes on with the recipients never tried, while those in flight become
        unclear and are never sent again. Returns how many posts."""
        now = now or utcnow()
        with self.engine.begin() as connection:
            rows = connection.execute(
                select(posts.c.id, posts.c.pending, posts.c.channel)
                .where(posts.c.state == State.SENDING, posts.c.lease_until < now)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            ids = [row.id for row in rows]
            # A fan-out goes on with those never tried; a post its platform recognises when
            # sent again (by its key) is simply sent again.
            fanned = [
                row.id
                for row in rows
                if row.pending is not None
                or (row.channel in self.adapters and self.adapters[row.channel].retry_is_safe)
            ]
            # The worker stays named so that its late record, should it come, still lands.
            connection.execute(
                update(posts)
                .where(posts.c.id.in_(ids))
                .values(
                    state=State.UNCERTAIN,
                    lease_until=None,
                    error_class=Outcome.UNCERTAIN,
                    error="the worker stopped while sending; check the platform before retrying",
                    updated_at=now,
                )
            )
            if fanned:
                # No longer this worker's: should it wake, it sends nothing more.
                connection.execute(
                    update(posts)
                    .where(posts.c.id.in_(fanned))
                    .values(state=State.QUEUED, worker=None, error_class=None, error=None)
                )
            connection.execute(
                update(deliveries)
                .where(deliveries.c.post_id.in_(ids), deliveries.c.outcome == Outcome.PENDING)
                .values(outcome=Outcome.UNCERTAIN, finished_at=now)
            )
        logger.warning("%d posts were left sending by a stopped worker", len(ids))
        return len(ids)

    def renew(self, claimed: Claimed) -> bool:
        """Extend this worker's lease on a post it is still sending (a long fan-out); False
        when the post is no longer this claim."""
        now = utcnow()
        with self.engine.begin() as connection:
            return bool(
                connection.execute(
                    update(posts)
                    .where(claimed.held_by(self.worker), posts.c.state == State.SENDING)
                    .values(lease_until=now + self.lease)
                ).rowcount
            )

    def renew_all(self, held: Sequence[Claimed]) -> int:
        """Extend this worker's lease on every post it is sending now (a platform call may take
        longer than the lease); returns how many are still this worker's."""
        if not held:
            return 0
        now = utcnow()
        with self.engine.begin() as connection:
            return connection.execute(
                update(posts)
                .where(or_(*(claimed.held_by(self.worker) for claimed in held)))
                .where(posts.c.state == State.SENDING)
                .values(lease_until=now + self.lease)
            ).rowcount

    def next_wakeup(self, now: datetime | None = None) -> datetime | None:
        """When there will next be something to do: a post falls due, a rate-limit pause ends,
        a lease runs out, or a channel's rate window frees up."""
        now = now or utcnow()
        with self.engine.connect() as connection:
            paused = active_pauses(connection, now)
            candidates = [pause.until for pause in paused.values() if pause.until is not None]
            busy = []
            for name in self.settings.channels:
                in_flight = self._in_flight(connection, name)
                if name in paused or self._budget(connection, name, in_flight, now) <= 0:
                    busy.append(name)
                    channel = self.settings.channels[name]
                    if channel.rate_limit and name not in paused:
                        oldest = connection.execute(
                            select(func.min(deliveries.c.started_at)).where(
                                deliveries.c.channel == name,
                                deliveries.c.started_at
                                > now - timedelta(seconds=channel.rate_period),
                            )
                        ).scalar()
                        if oldest is not None:
                            candidates.append(oldest + timedelta(seconds=channel.rate_period))
            due = connection.execute(
                select(func.min(posts.c.due_at)).where(
                    posts.c.state == State.QUEUED,
                    posts.c.channel.in_([n for n in self.settings.channels if n not in busy]),
                )
            ).scalar()
            lease = connection.execute(
                select(func.min(posts.c.lease_until)).where(posts.c.state == State.SENDING)
            ).scalar()
        candidates += [t for t in (due, lease) if t is not None]
        return min(candidates) if candidates else None

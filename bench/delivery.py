"""Benchmark: deliveries per second through the `log` channel, on SQLite and on PostgreSQL with one
and two workers, next to the bare claim-and-record transactions in plain sqlite3 on the same file
settings (the ceiling the engine is measured against). Target: 2,000 deliveries/s on SQLite."""

from __future__ import annotations

import multiprocessing
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import add_posts, fresh_postgres
from publisher.config import Settings
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.storage.store import open_engine

COUNT = 5000


def deliver_all(database_url: str) -> int:
    engine = open_engine(database_url)
    delivered = len(Dispatcher(engine, Settings(database_url=database_url)).run_once())
    engine.dispose()
    return delivered


def engine_rate(database_url: str, workers: int) -> float:
    add_posts(database_url, COUNT)
    started = time.perf_counter()
    if workers == 1:
        delivered = deliver_all(database_url)
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            delivered = sum(pool.map(deliver_all, [database_url] * workers))
    elapsed = time.perf_counter() - started
    assert delivered == COUNT, delivered
    return COUNT / elapsed


def bare_sqlite_rate(path: Path) -> float:
    """Claim in batches of 200 and record one by one, as the engine does, in plain sqlite3."""
    add_posts(f"sqlite:///{path}", COUNT)
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000"):
        db.execute(f"PRAGMA {pragma}")
    started = time.perf_counter()
    done = 0
    while True:
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
        db.execute("BEGIN IMMEDIATE")
        ids = [
            r[0]
            for r in db.execute(
                "SELECT id FROM posts WHERE channel='log' AND state='queued' AND due_at<=? "
                "ORDER BY due_at, id LIMIT 200",
                (now,),
            )
        ]
        if not ids:
            db.execute("COMMIT")
            break
        marks = ",".join("?" * len(ids))
        db.execute(
            f"UPDATE posts SET state='sending', attempts=attempts+1 WHERE id IN ({marks})", ids
        )
        delivery_ids = [
            db.execute(
                "INSERT INTO deliveries"
                " (post_id, channel, attempt, worker, started_at, outcome, payload)"
                " VALUES (?, 'log', 1, 'bare', ?, 'pending', '{}') RETURNING id",
                (i, now),
            ).fetchone()[0]
            for i in ids
        ]
        db.execute("COMMIT")
        for post_id, delivery_id in zip(ids, delivery_ids, strict=True):
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "UPDATE deliveries SET outcome='sent', finished_at=? WHERE id=?", (now, delivery_id)
            )
            db.execute("UPDATE posts SET state='sent', sent_at=? WHERE id=?", (now, post_id))
            db.execute("COMMIT")
            done += 1
    elapsed = time.perf_counter() - started
    assert done == COUNT
    return COUNT / elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        sqlite_rate = engine_rate(f"sqlite:///{folder}/engine.db", 1)
        bare_rate = bare_sqlite_rate(Path(folder) / "bare.db")
    print(f"SQLite, 1 worker:      {sqlite_rate:8,.0f} deliveries/s (target 2,000)")
    print(
        f"plain sqlite3 ceiling: {bare_rate:8,.0f} claim+record/s"
        f"  -> engine at {sqlite_rate / bare_rate:.0%}"
    )
    for workers in (1, 2):
        url, drop = fresh_postgres()
        try:
            rate = engine_rate(url, workers)
        finally:
            drop()
        print(
            f"PostgreSQL, {workers} worker{'s' if workers > 1 else ' '}: {rate:8,.0f} deliveries/s"
        )


if __name__ == "__main__":
    sys.exit(main())

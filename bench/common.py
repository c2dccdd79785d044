"""Shared set-up for the engine benchmarks: a fresh database and many due posts, fast."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from publisher.engine.storage.schema import articles, posts  # noqa: E402
from publisher.engine.storage.store import open_engine  # noqa: E402

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def fresh_postgres() -> tuple[str, callable]:
    """A URL to an empty schema of the local PostgreSQL, and a function that drops it."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return f"{POSTGRES}?options=-csearch_path%3D{schema}", drop


def add_posts(
    database_url: str, count: int, channel: str = "log", due: list[datetime] | None = None
) -> None:
    """Insert `count` queued posts (due now, or at the given times) in bulk."""
    engine = open_engine(database_url)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        article_id = connection.execute(
            insert(articles).values(
                key=uuid.uuid4().hex,
                url="https://e.de/bench",
                headline="Bench",
                data={},
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]
        for start in range(0, count, 10_000):
            connection.execute(
                insert(posts),
                [
                    {
                        "article_id": article_id,
                        "channel": channel,
                        "channel_type": "log",
                        "text": f"Benchmark post {n} https://e.de/bench",
                        "link": "https://e.de/bench",
                        "fields": {},
                        "state": "queued",
                        "due_at": due[n] if due else now - timedelta(seconds=1),
                        "attempts": 0,
                        "retries": 0,
                        "queued_by": "bench",
                        "edited": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(start, min(count, start + 10_000))
                ],
            )
    engine.dispose()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]

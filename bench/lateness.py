"""Benchmark: lateness (start of sending minus due time) of `publisher run` for 1,000 posts due
within one minute, through the log channel on SQLite. Target: p99 under 50 ms."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from common import ROOT, add_posts, percentile
from publisher.engine.storage.schema import deliveries, posts
from publisher.engine.storage.store import open_engine

COUNT = 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/lateness.db"
        config = Path(folder) / "publisher.toml"
        config.write_text(f'database_url = "{url}"\n')
        start = datetime.now(UTC) + timedelta(seconds=5)
        rng = random.Random(1)
        due = [start + timedelta(seconds=rng.uniform(0, 60)) for _ in range(COUNT)]
        add_posts(url, COUNT, due=due)
        worker = subprocess.Popen(
            [sys.executable, "-m", "publisher", "--config", str(config), "run"],
            cwd=ROOT,
            stderr=subprocess.DEVNULL,
        )
        engine = open_engine(url)
        try:
            while True:
                time.sleep(1)
                with engine.connect() as connection:
                    left = connection.execute(
                        select(func.count()).where(posts.c.state != "sent")
                    ).scalar_one()
                if not left:
                    break
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        with engine.connect() as connection:
            rows = connection.execute(
                select(deliveries.c.started_at, posts.c.due_at).join(posts)
            ).all()
        engine.dispose()
    late = [(started - due_at).total_seconds() * 1000 for started, due_at in rows]
    print(f"{len(late)} posts due within one minute, through `publisher run` on SQLite")
    print(
        f"lateness p50 {percentile(late, 0.5):.1f} ms, p99 {percentile(late, 0.99):.1f} ms, "
        f"max {max(late):.1f} ms (target p99 < 50 ms)"
    )


if __name__ == "__main__":
    main()

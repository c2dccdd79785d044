"""Benchmark: planning a release in a busy month, on SQLite. Four channels with a slot every half
hour and `min_gap` 30 hold 10,000 posts ahead (two of every three slots taken, for weeks); the
release rules send each article to all four at their next free slot. Measured, in-process:
- one release at a time: p50 and p95 of `release` (goal: p95 under 100 ms);
- the same while four threads read the month's calendar over and over (an editor's desk each);
- four releases at once, 50 each: how many were refused (goal: none; SQLite takes one writer
  at a time, the others wait their turn).
"""

from __future__ import annotations

import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from common import add_posts, percentile
from publisher.articles import Article
from publisher.config import ChannelSettings, Rule, Settings
from publisher.engine.planning.timetable import cells
from publisher.engine.releases.release import release
from publisher.engine.storage.store import StoreError, open_engine

CHANNELS = ("x", "facebook", "telegram", "threads")
POSTS = 10_000
SINGLE = 100
TOGETHER = 4
EACH = 50


def newsroom(database_url: str) -> Settings:
    slots = tuple(clock(hour, minute) for hour in range(24) for minute in (0, 30))
    channels = {
        name: ChannelSettings(type=name, dry_run=True, slots=slots, min_gap=30) for name in CHANNELS
    }
    rule = Rule(name="all", channels=CHANNELS, timing="next_slot", max_wait=24 * 31)
    return Settings(database_url=database_url, channels=channels, rules=(rule,))


def seed(database_url: str) -> None:
    """POSTS posts in two of every three of the channels' slots ahead, in bulk."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    per_channel = POSTS // len(CHANNELS)
    for name in CHANNELS:
        due = [start + timedelta(minutes=30 * (n * 3 // 2)) for n in range(per_channel)]
        add_posts(database_url, per_channel, channel=name, due=due)


def timed_releases(settings: Settings, engine, count: int, first: int) -> list[float]:
    seconds = []
    for number in range(first, first + count):
        article = Article(id=f"bench-{number}", url=f"https://e.de/{number}", headline="H")
        started = time.perf_counter()
        release(engine, settings, article, "webhook")
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        settings = newsroom(url)
        seed(url)
        engine = open_engine(url)
        alone = timed_releases(settings, engine, SINGLE, 0)
        print(
            f"one release at a time, {POSTS:,} posts: p50 {percentile(alone, 0.5) * 1000:.0f} ms, "
            f"p95 {percentile(alone, 0.95) * 1000:.0f} ms (goal: p95 under 100 ms)"
        )

        stop = threading.Event()

        def desk() -> None:
            today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            bounds = [today + timedelta(days=n) for n in range(36)]
            while not stop.is_set():
                cells(engine, bounds, 3, None)

        editors = [threading.Thread(target=desk) for _ in range(4)]
        for editor in editors:
            editor.start()
        try:
            loaded = timed_releases(settings, engine, SINGLE, SINGLE)
        finally:
            stop.set()
            for editor in editors:
                editor.join()
        print(
            f"the same under four editors' month calendars: p50 "
            f"{percentile(loaded, 0.5) * 1000:.0f} ms, p95 {percentile(loaded, 0.95) * 1000:.0f} ms"
        )

        refused = []

        def releaser(first: int) -> None:
            for number in range(first, first + EACH):
                article = Article(id=f"bench-{number}", url=f"https://e.de/{number}", headline="H")
                try:
                    release(engine, settings, article, "webhook")
                except (StoreError, DBAPIError):
                    # What the webhook answers 503 to ("database is locked"): the CMS retries.
                    refused.append(number)

        started = time.perf_counter()
        threads = [
            threading.Thread(target=releaser, args=(10_000 + n * EACH,)) for n in range(TOGETHER)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(
            f"{TOGETHER} releasing at once, {TOGETHER * EACH} releases in "
            f"{time.perf_counter() - started:.1f} s: {len(refused)} refused (goal: none)"
        )
        engine.dispose()


if __name__ == "__main__":
    main()

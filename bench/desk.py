"""The desk's pages with a busy newsroom's queue: 10,000 posts over six weeks on four channels,
50,000 deliveries and an event per post, every sent post measured at its four points (21,000
measurements: one post has at most four), and on top a busy week (2,500 more posts in one week
on the four channels), its calendar and its queue a day at a time. Each page is asked for many
times over HTTP from the real server (uvicorn on 127.0.0.1), signed in as an approver; the
figures are the time from request to the last byte (the server's time plus the loopback) and
the page's size. Last, a busy day's posts are shifted by an hour from the queue's bulk form.

    python bench/desk.py [--postgres] [--posts 10000] [--deliveries 50000] [--busy-week 2500]
                         [--rounds 40]

Aim: every page's p95 under 100 ms and every HTML page under 300 KB.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import func, insert, select, text

from common import ROOT, fresh_postgres, percentile
from publisher.articles import Article, fold
from publisher.channels import METRICS
from publisher.cli import long_running
from publisher.config import ChannelSettings, DeskSettings, Settings
from publisher.engine.posts.users import add_user
from publisher.engine.storage.schema import articles, deliveries, measurements, post_events, posts
from publisher.engine.storage.store import open_engine
from publisher.web.app import create_app
from publisher.web.serving import ServerThread

CHANNELS = ("x", "facebook", "telegram", "whatsapp")
POINTS_MEASURED = (
    ("first", timedelta(minutes=10)),
    ("1h", timedelta(hours=1)),
    ("24h", timedelta(hours=24)),
    ("7d", timedelta(days=7)),
)
STATES = ("queued",) * 6 + ("sent",) * 10 + ("awaiting_approval", "failed", "cancelled")
PASSWORD = "bench password 123"
BERLIN = ZoneInfo("Europe/Berlin")


def busy_monday(now: datetime) -> datetime:
    """The Monday, three weeks ahead, that the busy week begins on (midnight in Berlin)."""
    day = (now + timedelta(days=21)).astimezone(BERLIN).date()
    return datetime.combine(day - timedelta(days=day.weekday()), datetime.min.time(), BERLIN)


def fill(database_url: str, count: int, delivery_count: int, busy: int) -> None:
    """Articles (one per four posts), posts due over six weeks around now, their deliveries and
    one event each, and `busy` more posts queued in one week, inserted in bulk."""
    engine = open_engine(database_url)
    now = datetime.now(UTC)
    start = now - timedelta(days=21)
    monday = busy_monday(now)
    articles_needed = (count + busy) // len(CHANNELS) + 1
    with engine.begin() as connection:
        rows = []
        for n in range(articles_needed):
            article = Article(
                id=f"bench-{n}",
                url=f"https://e.de/politik/{n}/eine-schlagzeile-{n}",
                headline=f"Bundestag beschließt Vorlage {n} nach langer Debatte über Haushalt",
                bullets=["Erster Punkt der Meldung", "Zweiter Punkt, etwas länger formuliert"],
            )
            rows.append(
                {
                    "key": article.id,
                    "url": article.url,
                    "headline": article.headline,
                    "data": article.model_dump(mode="json"),
                    "created_at": now,
                    "updated_at": now,
                }
            )
        connection.execute(insert(articles), rows)
        post_rows = []
        for n in range(count + busy):
            state = STATES[n % len(STATES)]
            due = start + timedelta(days=42) * n / count
            if state in ("queued", "awaiting_approval") and due < now:
                due = now + (now - due)
            if n >= count:
                # The busy week: its posts spread over the days' waking hours, all still to go.
                state = "queued"
                due = monday + timedelta(days=7) * (n - count) / busy
                due = due.replace(hour=6 + due.hour * 17 // 24)
            post_rows.append(
                {
                    "article_id": n // len(CHANNELS) + 1,
                    "channel": CHANNELS[n % len(CHANNELS)],
                    "channel_type": CHANNELS[n % len(CHANNELS)],
                    "text": f"Bundestag beschließt Vorlage {n // 4}\n\n• Erster Punkt\n"
                    f"https://e.de/politik/{n // 4}/eine-schlagzeile",
                    "link": f"https://e.de/politik/{n // 4}/eine-schlagzeile",
                    "fields": {},
                    "search": fold(f"Bundestag beschließt Vorlage {n // 4} Erster Punkt"),
                    "state": state,
                    "due_at": due,
                    "sent_at": due if state == "sent" else None,
                    "attempts": 1 if state in ("sent", "failed") else 0,
                    "retries": 0,
                    "queued_by": "bench",
                    "edited": False,
                    "error": "HTTP 500 from the platform" if state == "failed" else None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        connection.execute(insert(posts), post_rows)
        per_post = max(delivery_count // count, 1)
        delivery_rows = [
            {
                "post_id": n % count + 1,
                "channel": CHANNELS[n % count % len(CHANNELS)],
                "attempt": n // count + 1,
                "worker": "bench",
                "started_at": start + timedelta(seconds=n * 40),
                "finished_at": start + timedelta(seconds=n * 40 + 1),
                "outcome": "sent" if n % 7 else "transient",
                "remote_id": str(10**12 + n),
                "permalink": f"https://x.com/i/status/{10**12 + n}",
                "error": None if n % 7 else "the platform answered 503",
                "latency_ms": 300,
                "payload": {},
            }
            for n in range(count * per_post)
        ]
        for first in range(0, len(delivery_rows), 10_000):
            connection.execute(insert(deliveries), delivery_rows[first : first + 10_000])
        connection.execute(
            insert(post_events),
            [
                {"post_id": n + 1, "at": now, "actor": "bench", "action": "queued"}
                for n in range(count)
            ],
        )
        # Every sent post measured at each of its points (first, 1 hour, 24 hours, 7 days).
        measured = [
            {
                "post_id": n + 1,
                "channel": row["channel"],
                "point": point,
                "measured_at": row["sent_at"] + after,
                "metrics": dict.fromkeys(METRICS) | {
                    "impressions": 40 * n % 9_000, "likes": n % 97, "reposts": n % 13,
                },
                "raw": {},
            }
            for n, row in enumerate(post_rows[:count])
            if row["state"] == "sent"
            for point, after in POINTS_MEASURED
        ]  # fmt: skip
        for first in range(0, len(measured), 10_000):
            connection.execute(insert(measurements), measured[first : first + 10_000])
    # Statistics and visibility as a database that has run a while has them (autovacuum, or
    # SQLite's optimize): the planner then picks the indexes it would in production.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(
            text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
        )
    engine.dispose()


def shift_busy_day(session: requests.Session, base: str, day: object) -> None:
    """Every post of the busy week's Wednesday shifted by an hour from the queue's bulk form
    (all the filter finds, asked once): how long the change takes, and how many it left."""
    page = session.get(f"{base}/queue?day={day}", timeout=30).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    form = {
        "csrf": csrf, "action": "shift", "hours": "1", "scope": "matching",
        "back": f"/queue?day={day}",
    }  # fmt: skip
    began = time.perf_counter()
    asked = session.post(f"{base}/queue/bulk", data=form, timeout=60).text
    planned = time.perf_counter() - began
    # The confirmation shows each post's new time and carries the moves it showed.
    shown = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', asked))
    moves = len([move for move in shown.get("moves", "").split(";") if move])
    began = time.perf_counter()
    done = session.post(f"{base}/queue/bulk", data=shown, timeout=600)
    took = time.perf_counter() - began
    said = re.search(r"(?:Erledigt für|Done for) ([\d.,]+) (?:von|of) ([\d.,]+)", done.text)
    if said is None:
        i = done.text.find("<main")
        raise SystemExit(f"the shift was not done: {done.status_code} {done.text[i : i + 800]}")
    print(
        f"bulk shift of a busy day: its {moves} new times shown in {planned:.2f} s; "
        f"{said.group(1)} of {said.group(2)} posts moved in {took:.2f} s "
        f"({took * 1000 / max(moves, 1):.1f} ms a post)"
    )


def bench_database(postgres: bool) -> tuple[str, Callable[[], None] | None]:
    """A fresh database: a schema of the local PostgreSQL (and the function that drops it), or
    an SQLite file in a folder of its own."""
    if postgres:
        return fresh_postgres()
    folder = tempfile.mkdtemp(prefix="publisher-bench-desk-")
    return f"sqlite:///{Path(folder) / 'desk.db'}", None


def bench_settings(database_url: str) -> Settings:
    """The newsroom of the desk's benchmarks: four channels with three slots a day, in dry runs."""
    return Settings(
        database_url=database_url,
        language="de",
        channels={
            name: ChannelSettings(type=name, dry_run=True, slots=["07:00", "12:00", "18:00"])
            for name in CHANNELS
        },
        desk=DeskSettings(secure_cookies=False),
    )


def signed_in(base: str) -> requests.Session:
    """A session signed in at the desk as the benchmark's approver."""
    session = requests.Session()
    page = session.get(f"{base}/signin", timeout=10).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    session.post(
        f"{base}/signin", data={"name": "bench", "password": PASSWORD, "csrf": csrf}, timeout=10
    )
    return session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="the local PostgreSQL")
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--deliveries", type=int, default=50_000)
    parser.add_argument("--busy-week", type=int, default=2_500)
    parser.add_argument("--rounds", type=int, default=40)
    options = parser.parse_args()
    database_url, drop = bench_database(options.postgres)
    os.environ["PUBLISHER_SESSION_SECRET"] = uuid.uuid4().hex
    began = time.perf_counter()
    fill(database_url, options.posts, options.deliveries, options.busy_week)
    store = "PostgreSQL" if drop else "SQLite"
    took = time.perf_counter() - began
    print(
        f"filled {options.posts:,} posts, {options.deliveries:,} deliveries and a busy week of "
        f"{options.busy_week:,} posts: {took:.1f} s"
    )
    engine = open_engine(database_url)
    with engine.connect() as connection:
        kept = connection.execute(select(func.count()).select_from(measurements)).scalar()
    print(f"database: {store}, {kept:,} measurements")
    add_user(engine, "bench", PASSWORD, "approver")
    settings = bench_settings(database_url)
    web = create_app(engine, settings)
    long_running()  # as `publisher serve` does once its app is made
    server = ServerThread(web, "127.0.0.1", 0)
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    session = signed_in(base)
    middle = options.posts // 2
    pages = {
        "intake /": "/",
        "queue": "/queue",
        "queue, page 20": "/queue?page=20",
        "queue, filtered": "/queue?channel=x&state=queued",
        "queue, words": "/queue?q=Vorlage+1711",
        "calendar, week": "/plan",
        "calendar, month": "/plan?view=month",
        "post view": f"/posts/{middle}",
        "log": "/log",
        "change stamp (polled)": "/api/changes",
        "results": "/results",
        "results as CSV (download)": "/results.csv",
    }
    monday = busy_monday(datetime.now(UTC)).date()
    wednesday = monday + timedelta(days=2)
    if options.busy_week:
        pages |= {
            "busy week": f"/plan?start={monday}",
            "busy week, compact": f"/plan?start={monday}&compact=1",
            "busy week, one channel": f"/plan?start={monday}&channel=x&compact=1",
            "busy day's queue": f"/queue?day={wednesday}",
        }
    print(f"{'page':<24}{'p50 ms':>8}{'p95 ms':>8}{'KB':>8}")
    worst = 0.0
    largest = 0
    for name, path in pages.items():
        times = []
        size = 0
        for _ in range(options.rounds):
            began = time.perf_counter()
            answer = session.get(base + path, timeout=30)
            times.append((time.perf_counter() - began) * 1000)
            if answer.status_code != 200:
                raise SystemExit(f"{path} answered {answer.status_code}")
            size = len(answer.content)
        p95 = percentile(times, 0.95)
        if "download" not in name:
            worst = max(worst, p95)
            largest = max(largest, size)
        print(f"{name:<24}{percentile(times, 0.5):>8.1f}{p95:>8.1f}{size / 1024:>8.1f}")
    print(f"slowest page's p95: {worst:.1f} ms (aim < 100), largest page: {largest / 1024:.0f} KB "
          f"(aim < 300)")  # fmt: skip
    if options.busy_week:
        shift_busy_day(session, base, wednesday)
    server.stop()
    engine.dispose()
    if drop:
        drop()


if __name__ == "__main__":
    os.chdir(ROOT)
    main()

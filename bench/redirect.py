"""The newsroom's redirect links under readers' load: `publisher serve`'s app on one uvicorn
worker, the links of 1,000 queued posts, and clients in processes of their own following them
over kept-alive connections for a while (most as readers, some as link-preview fetchers, some
with HEAD, a few with codes that do not exist). Prints redirects per second, the time each
request took inside the server (p50, p95, p99) and from the client, and whether the clicks
written to the database are exactly the readers' requests.

    python bench/redirect.py [--postgres] [--seconds 10] [--clients 2] [--connections 4]

Aim: at least 2,000 redirects a second, p99 under 5 ms of server time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from common import ROOT, fresh_postgres, percentile
from publisher import roster
from publisher.articles import Article
from publisher.config import ChannelSettings, Settings, Tracking
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.storage.schema import link_clicks, links
from publisher.engine.storage.store import open_engine
from publisher.links import LINK_SECRET_ENV
from publisher.web.app import create_app, uvicorn_config
from standins.base import free_port

ARTICLES = 250
CHANNELS = ("x", "facebook", "telegram", "bluesky")
OPTIONS = {
    "facebook": {"page_id": "1"},
    "telegram": {"chat_id": "@bench"},
    "bluesky": {"handle": "bench.bsky.social"},
}
READER = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile"
CRAWLER = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
TIMES_PATH = "/__bench_times"


def settings_for(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        tracking=Tracking(redirect_base="https://go.example-news.de"),
        channels={
            name: ChannelSettings(type=name, dry_run=True, **OPTIONS.get(name, {}))
            for name in CHANNELS
        },
    )


def fill(database_url: str) -> list[str]:
    """Queue every article on every channel; the codes their links carry."""
    settings = settings_for(database_url)
    engine = open_engine(database_url)
    chosen = roster.chosen(settings, list(CHANNELS))
    for n in range(ARTICLES):
        news = Article(
            id=f"bench-{n}", url=f"https://e.de/politik/{n}/meldung", headline=f"Meldung {n}"
        )
        queue.add(engine, settings, news, chosen, When(), queued_by="bench")
    with engine.connect() as connection:
        codes = list(connection.execute(select(links.c.code)).scalars())
    engine.dispose()
    return codes


class Timed:
    """The app, timing each request inside the server; `GET /__bench_times` hands the times
    over (milliseconds) and starts afresh."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.times: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == TIMES_PATH:
            body = json.dumps(self.times).encode()
            self.times = []
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        began = time.perf_counter()
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            self.times.append((time.perf_counter() - began) * 1000)


def serve(database_url: str, port: int) -> None:
    """The server's process: the app as `publisher serve` runs it, on one worker."""
    import uvicorn

    from publisher.cli import long_running

    app = create_app(open_engine(database_url), settings_for(database_url))
    long_running()
    uvicorn.Server(uvicorn_config(Timed(app), host="127.0.0.1", port=port)).run()


def client(port: int, codes: list[str], seconds: float, threads: int, out: Any) -> None:
    """A client process: `threads` kept-alive connections asking for links until the time is
    up; what it sent, by kind, and each answer's time."""
    import threading

    sent = {"reader": 0, "crawler": 0, "head": 0, "unknown": 0}
    took: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def work(seed: int) -> None:
        chance = random.Random(seed)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = dict.fromkeys(sent, 0)
        times = []
        while time.monotonic() < stop:
            roll = chance.random()
            kind = (
                "unknown" if roll < 0.02 else "head" if roll < 0.07
                else "crawler" if roll < 0.17 else "reader"
            )  # fmt: skip
            code = "a" * 24 if kind == "unknown" else chance.choice(codes)
            began = time.perf_counter()
            connection.request(
                "HEAD" if kind == "head" else "GET",
                f"/r/{code}",
                headers={"User-Agent": CRAWLER if kind == "crawler" else READER},
            )
            answer = connection.getresponse()
            answer.read()
            times.append((time.perf_counter() - began) * 1000)
            if answer.status != (404 if kind == "unknown" else 302):
                raise SystemExit(f"/r/{code} answered {answer.status}")
            mine[kind] += 1
        with lock:
            for key, number in mine.items():
                sent[key] += number
            took.extend(times)

    workers = [threading.Thread(target=work, args=(seed,)) for seed in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    out.put((sent, took))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="the local PostgreSQL")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--connections", type=int, default=4, help="connections per client")
    options = parser.parse_args()
    os.environ.setdefault(LINK_SECRET_ENV, "bench-" + "s" * 40)
    os.environ.setdefault("PUBLISHER_SESSION_SECRET", "bench-" + "t" * 40)
    if options.postgres:
        database_url, drop = fresh_postgres()
    else:
        folder = tempfile.mkdtemp(prefix="publisher-bench-redirect-")
        database_url, drop = f"sqlite:///{Path(folder) / 'redirect.db'}", None
    codes = fill(database_url)
    port = free_port()
    server = multiprocessing.Process(target=serve, args=(database_url, port), daemon=True)
    server.start()
    for _ in range(200):
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            probe.request("GET", "/healthz")
            probe.getresponse().read()
            break
        except OSError:
            time.sleep(0.05)
    # Every target read once before the clock starts, as a running server has them.
    warm = http.client.HTTPConnection("127.0.0.1", port)
    for code in codes:
        warm.request("HEAD", f"/r/{code}")
        warm.getresponse().read()
    warm.request("GET", TIMES_PATH)
    warm.getresponse().read()

    results: multiprocessing.Queue = multiprocessing.Queue()
    clients = [
        multiprocessing.Process(
            target=client, args=(port, codes, options.seconds, options.connections, results)
        )
        for _ in range(options.clients)
    ]
    began = time.perf_counter()
    for process in clients:
        process.start()
    sent = {"reader": 0, "crawler": 0, "head": 0, "unknown": 0}
    took: list[float] = []
    for _ in clients:
        part, times = results.get()
        for key, number in part.items():
            sent[key] += number
        took.extend(times)
    elapsed = time.perf_counter() - began
    for process in clients:
        process.join()
    # A fresh connection: the warm one has idled past uvicorn's keep-alive.
    asking = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    asking.request("GET", TIMES_PATH)
    inside = json.loads(asking.getresponse().read())
    server.terminate()  # uvicorn stops on SIGTERM: the clicks still held in memory are written
    server.join(30)
    engine = open_engine(database_url)
    with engine.connect() as connection:
        counted = connection.execute(select(func.sum(link_clicks.c.clicks))).scalar() or 0
    engine.dispose()

    total = sum(sent.values())
    print(f"database: {'PostgreSQL' if drop else 'SQLite'}, {len(codes):,} links")
    print(
        f"requests: {total:,} in {elapsed:.1f} s = {total / elapsed:,.0f}/s "
        f"({options.clients} client processes x {options.connections} connections)"
    )
    print(
        f"  readers {sent['reader']:,}, link-preview fetchers {sent['crawler']:,}, "
        f"HEAD {sent['head']:,}, unknown codes {sent['unknown']:,}"
    )
    print(f"{'ms':<24}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}")
    for label, times in (("inside the server", inside), ("at the client", took)):
        print(
            f"{label:<24}{percentile(times, 0.5):>8.2f}{percentile(times, 0.95):>8.2f}"
            f"{percentile(times, 0.99):>8.2f}{max(times):>8.2f}"
        )
    verdict = "exactly the readers'" if counted == sent["reader"] else "NOT the readers'"
    print(f"clicks written: {counted:,} ({verdict} {sent['reader']:,})")
    print(
        f"aim: >= 2,000/s and server p99 < 5 ms: {total / elapsed:,.0f}/s, "
        f"p99 {percentile(inside, 0.99):.2f} ms"
    )
    if drop:
        drop()


if __name__ == "__main__":
    os.chdir(ROOT)
    main()

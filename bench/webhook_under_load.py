"""The CMS webhook while the desk is busy: the queue of bench/desk.py (10,000 posts over six
weeks, 50,000 deliveries), four signed-in editors each loading the calendar's month view over
and over, and meanwhile the CMS releasing an article through the signed webhook every 50 ms.
The figures are each webhook request's time from sending to its answer (p50, p95, p99) with
the editors loading and without, and how many month views the editors got. The server, the
editors and the CMS each run in processes of their own, as they would: Python runs one thread
of a process at a time, and editors' browsers are not in the server's process.

    python bench/webhook_under_load.py [--postgres] [--posts 10000] [--releases 200]

Aim: the webhook's p99 under 100 ms while the four editors load.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
import uuid
from multiprocessing.synchronize import Event

import requests
from desk import PASSWORD, bench_database, bench_settings, fill, signed_in

from common import ROOT, percentile
from publisher.cli import long_running
from publisher.engine.posts.users import add_user
from publisher.engine.storage.store import open_engine
from publisher.web.app import create_app, uvicorn_config
from publisher.web.signing import SECRET_ENV, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from standins.base import free_port

EDITORS = 4
SECRET = "bench-webhook-secret"


def release(base: str, number: int, session: requests.Session) -> float:
    """One signed release of a new article; the milliseconds until its answer."""
    article = {
        "id": f"hook-{number}-{uuid.uuid4().hex[:6]}",
        "url": f"https://e.de/eilmeldung/{number}",
        "headline": f"Eilmeldung {number}: Bundestag beschließt Haushalt",
        "bullets": ["Erster Punkt"],
    }
    body = json.dumps(article).encode()
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: sign(SECRET, stamp, body),
    }
    began = time.perf_counter()
    answer = session.post(f"{base}/hooks/articles", data=body, headers=headers, timeout=30)
    took = (time.perf_counter() - began) * 1000
    if answer.status_code != 202:
        raise SystemExit(f"the webhook answered {answer.status_code}: {answer.text}")
    return took


def releases(base: str, count: int, first: int) -> list[float]:
    """`count` releases, one every 50 ms; each one's time."""
    session = requests.Session()
    times = []
    for n in range(count):
        began = time.perf_counter()
        times.append(release(base, first + n, session))
        time.sleep(max(0.0, 0.05 - (time.perf_counter() - began)))
    return times


def figures(label: str, times: list[float]) -> None:
    print(
        f"{label:<34}{percentile(times, 0.5):>8.1f}{percentile(times, 0.95):>8.1f}"
        f"{percentile(times, 0.99):>8.1f}{max(times):>8.1f}"
    )


def serve(database_url: str, port: int) -> None:
    """The server's process: the app as `publisher serve` runs it."""
    import uvicorn

    app = create_app(open_engine(database_url), bench_settings(database_url))
    long_running()
    uvicorn.Server(uvicorn_config(app, host="127.0.0.1", port=port)).run()


def editor(base: str, stop: Event, views: multiprocessing.Queue) -> None:
    """An editor's process: the month view, again and again until `stop`; each one's time."""
    session = signed_in(base)
    while not stop.is_set():
        began = time.perf_counter()
        answer = session.get(f"{base}/plan?view=month", timeout=60)
        if answer.status_code != 200:
            raise SystemExit(f"the month view answered {answer.status_code}")
        views.put((time.perf_counter() - began) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="the local PostgreSQL")
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--deliveries", type=int, default=50_000)
    parser.add_argument("--releases", type=int, default=200)
    options = parser.parse_args()
    database_url, drop = bench_database(options.postgres)
    os.environ["PUBLISHER_SESSION_SECRET"] = uuid.uuid4().hex
    os.environ[SECRET_ENV] = SECRET
    fill(database_url, options.posts, options.deliveries, 0)
    engine = open_engine(database_url)
    add_user(engine, "bench", PASSWORD, "approver")
    engine.dispose()
    port = free_port()
    server = multiprocessing.Process(target=serve, args=(database_url, port), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            requests.get(f"{base}/healthz", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.05)
    print(f"database: {'PostgreSQL' if drop else 'SQLite'}, {options.posts:,} posts")
    print(f"{'webhook, ms':<34}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}")
    figures("alone", releases(base, options.releases, 0))

    stop = multiprocessing.Event()
    views: multiprocessing.Queue = multiprocessing.Queue()
    editors = [
        multiprocessing.Process(target=editor, args=(base, stop, views), daemon=True)
        for _ in range(EDITORS)
    ]
    for process in editors:
        process.start()
    time.sleep(2.0)
    loaded = releases(base, options.releases, options.releases)
    stop.set()
    for process in editors:
        process.join(60)
    took = []
    while not views.empty():
        took.append(views.get())
    figures(f"while {EDITORS} editors load the month", loaded)
    print(
        f"month views meanwhile: {len(took)}, p50 {percentile(took, 0.5):.0f} ms, "
        f"p95 {percentile(took, 0.95):.0f} ms"
    )
    print(f"webhook p99 under load: {percentile(loaded, 0.99):.1f} ms (aim < 100)")
    server.terminate()
    server.join(10)
    if drop:
        drop()


if __name__ == "__main__":
    os.chdir(ROOT)
    main()

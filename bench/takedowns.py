"""Benchmark: how fast a withdrawal and a correction reach the platforms. `publisher run` serves
the webhook, with one channel on each of the eight platforms pointed at its stand-in (which
keeps each platform's limits: X 50 deletions per 15 minutes, Mastodon 30 per 30 minutes, Threads
100 a day). ARTICLES articles go out everywhere; then, one after the other, the CMS withdraws
each and the time until none of the seven platforms that allow it holds its post any more is
measured, and as many are corrected and the time until Telegram and Mastodon show the edit and
X the reply is measured. Prints p50 and the worst (target: within a minute, as #41 asks)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select

from common import ROOT, percentile
from publisher.engine.storage.schema import posts
from publisher.engine.storage.store import open_engine
from publisher.web.signing import sign
from standins import contracts
from standins.base import StandIn, free_port

ARTICLES = 20
SECRET = "bench-secret"
GONE_WITHIN = 60.0


def wait(check: Any, seconds: float = 60.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.01)
    raise TimeoutError("the platforms did not show it in time")


def release(base: str, article: dict[str, Any]) -> None:
    body = json.dumps(article).encode()
    stamp = int(time.time())
    headers = {
        "X-Publisher-Timestamp": str(stamp),
        "X-Publisher-Signature": sign(SECRET, stamp, body),
    }
    requests.post(
        f"{base}/hooks/articles", data=body, headers=headers, timeout=10
    ).raise_for_status()


def main() -> None:
    running: dict[type, StandIn] = {}
    platforms = {}
    for platform in contracts():
        stand_in = running.get(platform.stand_in) or platform.stand_in()
        running[platform.stand_in] = stand_in
        platforms[platform.type] = (platform, stand_in)
    folder = Path(tempfile.mkdtemp())
    database = f"sqlite:///{folder / 'bench.db'}"
    port = free_port()
    lines = [f'database_url = "{database}"', f"[serve]\nenabled = true\nport = {port}"]
    secrets: dict[str, str] = {}
    for name, (platform, stand_in) in platforms.items():
        options = {"type": name, "api_base": stand_in.url} | platform.options(stand_in)
        lines.append(f"[channels.{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in options.items()]
        secrets |= platform.env
    (folder / "publisher.toml").write_text("\n".join(lines) + "\n")
    environment = (
        os.environ | secrets | {"PUBLISHER_WEBHOOK_SECRET": SECRET, "PYTHONPATH": str(ROOT)}
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "publisher", "run"],
        cwd=folder,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    engine = open_engine(database)
    base = f"http://127.0.0.1:{port}"
    try:
        wait(lambda: _answers(base), 20)
        gone, corrected = [], []
        for number in range(ARTICLES):
            fixed, went = one_article(base, engine, platforms, number)
            corrected.append(fixed)
            gone.append(went)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        engine.dispose()
        for stand_in in running.values():
            stand_in.close()
    measured = (("withdrawn -> gone from 7 platforms", gone), ("corrected -> edited", corrected))
    for name, times in measured:
        print(
            f"{name:36} p50 {percentile(times, 0.5) * 1000:6.0f} ms   "
            f"worst {max(times) * 1000:6.0f} ms   ({len(times)} articles; goal under "
            f"{GONE_WITHIN:g} s)"
        )


def one_article(
    base: str, engine: Any, platforms: dict[str, Any], number: int
) -> tuple[float, float]:
    """Release one article, correct it, withdraw it: the seconds until the correction shows
    (Telegram and Mastodon edited, X replied under) and until the post is gone everywhere."""
    headline = f"Meldung {number}"
    article = {"id": f"b{number}", "url": f"https://e.de/b/{number}", "headline": headline}
    release(base, article)
    out = wait(lambda: _out(engine, headline))
    telegram, mastodon, x = (platforms[n][1] for n in ("telegram", "mastodon", "x"))
    note = f"Die Zahl {number} war falsch."
    started = time.perf_counter()
    release(base, article | {"correction": note})
    wait(lambda: telegram.text_of(out["telegram"]).endswith(note))
    wait(lambda: note in mastodon.text_of(out["mastodon"]))
    wait(lambda: any(t.get("in_reply_to_tweet_id") == out["x"] for t in x.timeline))
    fixed = time.perf_counter() - started
    started = time.perf_counter()
    release(base, article | {"withdrawn": True})
    removable = {name: post for name, post in out.items() if name != "whatsapp"}
    wait(lambda: not any(platforms[n][1].holds(post) for n, post in removable.items()))
    return fixed, time.perf_counter() - started


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=1).ok
    except requests.ConnectionError:
        return False


def _out(engine: Any, headline: str) -> dict[str, str] | None:
    """The article's posts out, by channel, once it is out on all eight platforms."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(posts.c.channel, posts.c.remote_id).where(
                posts.c.state == "sent", posts.c.text.contains(headline)
            )
        ).all()
    return {row.channel: row.remote_id for row in rows} if len(rows) == 8 else None


if __name__ == "__main__":
    main()

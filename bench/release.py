"""Benchmark: release-to-platform latency. `publisher run` serves the webhook and watches a feed
(1 s poll interval), with X, Facebook, WhatsApp and Telegram adapters pointed at local stand-ins
that speak each platform's API. Measured:
- webhook: from sending the signed request to each stand-in receiving that channel's post,
  p50 and p99 over 200 releases (target: p99 under 200 ms for all four channels);
- feed: from the feed changing to the stand-ins receiving the posts (target: under 2 s).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote_plus

import requests

from common import ROOT, percentile
from publisher.web.signing import sign
from standins.base import StandIn, free_port
from standins.config import channels_toml
from standins.graph import GRAPH_TOKEN, GraphStandIn
from standins.telegram import TELEGRAM_TOKEN, TelegramStandIn
from standins.x import X_KEYS, XStandIn

RELEASES = 200
FEED_CHANGES = 10
SECRET = "bench-secret"


class FeedServer:
    """An RSS feed whose items the benchmark adds."""

    def __init__(self) -> None:
        self.items: list[str] = []
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                entries = "".join(
                    f"<item><guid>{i}</guid><title>Feed {i}</title>"
                    f"<link>https://e.de/feed/{i}</link></item>"
                    for i in feed.items
                )
                body = (
                    '<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>'
                    f"{entries}</channel></rss>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/rss"


def wait_all(points: dict[str, tuple[StandIn, str]], needle: str, seconds: float = 10) -> dict:
    """When each channel's stand-in received a POST holding `needle` (time.monotonic)."""
    deadline = time.monotonic() + seconds
    found: dict[str, float] = {}
    scanned = dict.fromkeys(points, 0)
    while len(found) < len(points) and time.monotonic() < deadline:
        for channel, (stand_in, path) in points.items():
            if channel in found:
                continue
            with stand_in.arrived:
                calls = stand_in.calls[scanned[channel] :]
            scanned[channel] += len(calls)
            for call in calls:
                text = unquote_plus(call.body.decode())
                if call.method == "POST" and path in call.path and needle in text:
                    found[channel] = call.received_at
        if len(found) < len(points):
            waiting = next(s for c, (s, _) in points.items() if c not in found)
            with waiting.arrived:
                waiting.arrived.wait(0.05)
    return found


def main() -> None:
    x, graph, telegram = XStandIn(), GraphStandIn(), TelegramStandIn()
    feed = FeedServer()
    feed.items.append("0")
    points = {
        "x": (x, "/2/tweets"),
        "facebook": (graph, "/feed"),
        "whatsapp": (graph, "/messages"),
        "telegram": (telegram, "/sendMessage"),
    }
    port = free_port()
    env = (
        os.environ
        | X_KEYS
        | {
            "FACEBOOK_PAGE_TOKEN": GRAPH_TOKEN,
            "WHATSAPP_TOKEN": GRAPH_TOKEN,
            "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
            "PUBLISHER_WEBHOOK_SECRET": SECRET,
            "PYTHONPATH": str(ROOT),
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "publisher.toml").write_text(
            f'database_url = "sqlite:///{folder}/release.db"\n'
            f"[serve]\nenabled = true\nport = {port}\n"
            "[fetch]\nallow_private_networks = true\n"
            f'[feeds.bench]\nurl = "{feed.url}"\nevery = 1\nfetch_pages = false\n'
            + channels_toml(x, graph, telegram, x_name="x")
        )
        worker = subprocess.Popen(
            [sys.executable, "-m", "publisher", "run"],
            cwd=folder,
            env=env,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        session = requests.Session()
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if session.get(f"{base}/healthz", timeout=1).ok:
                        break
                except requests.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                time.sleep(0.1)
            time.sleep(1.5)  # the feed's first poll only remembers its backlog
            latencies: dict[str, list[float]] = {channel: [] for channel in points}
            slowest: list[float] = []
            for number in range(RELEASES):
                headline = f"Release {number:04d} zum Messen"
                body = json.dumps(
                    {"id": f"b-{number}", "url": f"https://e.de/r/{number}", "headline": headline}
                ).encode()
                stamp = int(time.time())
                headers = {
                    "X-Publisher-Timestamp": str(stamp),
                    "X-Publisher-Signature": sign(SECRET, stamp, body),
                }
                sent = time.monotonic()
                answer = session.post(f"{base}/hooks/articles", data=body, headers=headers)
                answer.raise_for_status()
                found = wait_all(points, headline)
                if len(found) < len(points):
                    raise SystemExit(f"release {number}: only {sorted(found)} arrived")
                for channel, at in found.items():
                    latencies[channel].append((at - sent) * 1000)
                slowest.append((max(found.values()) - sent) * 1000)
            print(f"webhook release -> platform request, {RELEASES} releases (ms):")
            for channel, values in latencies.items():
                print(
                    f"  {channel:<9} p50 {percentile(values, 0.5):6.1f}"
                    f"  p99 {percentile(values, 0.99):6.1f}  max {max(values):6.1f}"
                )
            p50, p99 = percentile(slowest, 0.5), percentile(slowest, 0.99)
            print(f"  all four  p50 {p50:6.1f}  p99 {p99:6.1f}  (target p99 < 200)")
            feed_latencies = []
            for change in range(1, FEED_CHANGES + 1):
                time.sleep(0.37)  # changes land at different points of the poll interval
                changed = time.monotonic()
                feed.items.insert(0, str(change))
                found = wait_all(points, f"Feed {change}", seconds=10)
                if len(found) < len(points):
                    raise SystemExit(f"feed change {change}: only {sorted(found)} arrived")
                feed_latencies.append((max(found.values()) - changed) * 1000)
            print(f"feed change -> platform request, 1 s poll, {FEED_CHANGES} changes (ms):")
            print(
                f"  p50 {percentile(feed_latencies, 0.5):6.1f}  p99 "
                f"{percentile(feed_latencies, 0.99):6.1f}  max {max(feed_latencies):6.1f}"
                "  (target < 2000)"
            )
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(20)
            for stand_in in (x, graph, telegram):
                stand_in.close()


if __name__ == "__main__":
    main()

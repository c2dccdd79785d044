"""Benchmark: a WhatsApp fan-out at each of Meta's throughput tiers. For each run `publisher run`
(with its HTTP side, for the WhatsApp webhook) sends one post through the WhatsApp adapter to a
stand-in of the Cloud API that enforces the phone number's messages per second strictly (the
message over `mps` within any one second is refused with 130429) and answers each message after
0 to twice `--latency` seconds. Measured per run:
- the pace: messages a second from the first to the last, and over the middle 80 % (target:
  at least 90 % of the channel's `mps`);
- the throughput refusals (130429) the round met and rode out;
- the peak memory of `publisher run` (VmHWM; target: under 300 MB);
- a reader's STOP sent to the webhook while the fan-out runs: whether any message reached that
  number after the webhook answered (target: none), and duplicates (target: none).

    python bench/whatsapp.py [--runs 80:2000 1000:20000] [--latency 0.3] [--postgres]

Each run is `mps:subscribers`.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from common import ROOT, fresh_postgres
from standins.base import free_port
from standins.graph import GRAPH_TOKEN, GraphStandIn

SECRET = "bench-app-secret"
ARTICLE = {
    "id": "bench-wa-1",
    "url": "https://www.news.de/politik/857/eilmeldung/",
    "headline": "Eilmeldung: Bundestag beschließt Haushalt",
    "bullets": ["Die Abstimmung fiel knapp aus", "Der Haushalt gilt ab Januar"],
}


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stop_message(number_id: str, phone: str) -> bytes:
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"phone_number_id": number_id},
                                "messages": [
                                    {
                                        "from": phone.lstrip("+"),
                                        "id": "wamid.stop",
                                        "timestamp": str(int(time.time())),
                                        "type": "text",
                                        "text": {"body": "STOP"},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", default=["80:2000", "1000:20000"])
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--postgres", action="store_true")
    options = parser.parse_args()
    for run in options.runs:
        mps, subscribers = (int(part) for part in run.split(":"))
        fan_out(mps, subscribers, options.latency, options.postgres)


def fan_out(mps: int, subscribers: int, latency: float, postgres: bool) -> None:
    """One post to `subscribers` readers on a channel of `mps`, measured."""
    folder = Path(tempfile.mkdtemp(prefix="publisher-bench-wa-"))
    drop = None
    if postgres:
        database_url, drop = fresh_postgres()
    else:
        database_url = f"sqlite:///{folder / 'bench.db'}"
    graph = GraphStandIn()
    graph.mps = mps
    graph.latency = (0.0, 2 * latency)
    port = free_port()
    (folder / "publisher.toml").write_text(
        f'database_url = "{database_url}"\n'
        f"[serve]\nenabled = true\nport = {port}\n"
        f'[channels.whatsapp]\ntype = "whatsapp"\napi_base = "{graph.url}"\n'
        f'phone_number_id = "{graph.phone_number_id}"\nmps = {mps}\n'
    )
    numbers = [f"+49170{n:07d}" for n in range(subscribers)]
    (folder / "subscribers.txt").write_text("\n".join(numbers))
    (folder / "article.json").write_text(json.dumps(ARTICLE))
    env = os.environ | {
        "PYTHONPATH": str(ROOT),
        "WHATSAPP_TOKEN": GRAPH_TOKEN,
        "WHATSAPP_APP_SECRET": SECRET,
    }

    def cli(*args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "publisher", *args], cwd=folder, env=env, check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip

    cli("subscribers", "import", "whatsapp", "subscribers.txt", "--source", "bench")
    worker = subprocess.Popen(
        [sys.executable, "-m", "publisher", "run"], cwd=folder, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        cli("queue", "add", "article.json", "--channels", "whatsapp", "--now")
        # Sent in the order of the numbers: one near the end is still owed when STOP arrives.
        stopping = numbers[-len(numbers) // 10]
        stop_answered = None
        expected = subscribers - 1
        deadline = time.monotonic() + subscribers / mps * 10 + 60
        while time.monotonic() < deadline:
            sent = len(graph.taken)
            if stop_answered is None and sent >= subscribers // 3:
                body = stop_message(graph.phone_number_id, stopping)
                signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                answer = requests.post(
                    f"http://127.0.0.1:{port}/hooks/whatsapp",
                    data=body,
                    headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"},
                    timeout=10,
                )
                stop_answered = time.monotonic()
                assert answer.status_code == 200, answer.text
            if sent >= expected:
                break
            time.sleep(0.2)
        calls = list(graph.taken)
        memory = peak_memory_mb(worker.pid)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            # A round still under way is not waited for (a second signal stops at once).
            worker.send_signal(signal.SIGINT)
            worker.wait(30)
        graph.close()
        if drop:
            drop()
    arrivals = sorted(c.received_at for c in calls)
    recipients = [c.json["to"] for c in calls]
    total = arrivals[-1] - arrivals[0]
    middle = arrivals[len(arrivals) // 10 : len(arrivals) * 9 // 10]
    after_stop = [
        c
        for c in calls
        if c.json["to"] == stopping and stop_answered and c.received_at > stop_answered
    ]
    store = "PostgreSQL" if drop else "SQLite"
    refused = graph.throughput_refusals
    print(f"mps {mps}: {len(calls):,} messages to {len(set(recipients)):,} numbers ({store}), "
          f"0-{2 * latency * 1000:.0f} ms a call, {refused:,} refused with 130429")  # fmt: skip
    print(f"pace, first to last:   {(len(arrivals) - 1) / total:.1f} messages/s")
    print(f"pace, middle 80 %:     {(len(middle) - 1) / (middle[-1] - middle[0]):.1f} messages/s "
          f"(target >= {0.9 * mps:.0f})")  # fmt: skip
    print(f"duplicates:            {len(recipients) - len(set(recipients))}")
    print(f"peak memory of run:    {memory:.0f} MB (target < 300)")
    print(f"messages to the number after its STOP was answered: {len(after_stop)} (target 0); "
          f"it got {recipients.count(stopping)} in all")  # fmt: skip


if __name__ == "__main__":
    main()

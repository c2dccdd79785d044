"""Benchmark: memory and idle CPU of `publisher run` with 100,000 queued posts (all due tomorrow),
on SQLite. Targets: under 1 % CPU and under 200 MB."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, add_posts

COUNT = 100_000
WARM_UP = 5
MEASURE = 30


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/idle.db"
        config = Path(folder) / "publisher.toml"
        config.write_text(f'database_url = "{url}"\n')
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        add_posts(url, COUNT, due=[tomorrow + timedelta(seconds=n) for n in range(COUNT)])
        worker = subprocess.Popen(
            [sys.executable, "-m", "publisher", "--config", str(config), "run"],
            cwd=ROOT,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(WARM_UP)
            before = cpu_seconds(worker.pid)
            time.sleep(MEASURE)
            used = cpu_seconds(worker.pid) - before
            memory = rss_mb(worker.pid)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
    print(f"`publisher run` idle with {COUNT:,} queued posts on SQLite:")
    print(
        f"CPU {used / MEASURE:.2%} over {MEASURE} s (target < 1 %),"
        f" RSS {memory:.0f} MB (target < 200 MB)"
    )


if __name__ == "__main__":
    main()

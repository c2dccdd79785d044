"""Start-up time of the command line, side by side with the imports it cannot do without:
`publisher --help` against importing typer and rich, `publisher compose --json` on the bundled
sample against importing twitter-text and pydantic. Prints the medians and their ratios
(goals: --help within 3x, compose within 1.5x)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "publisher" / "samples" / "newsde-assad-putin.txt"
RUNS = 21


def seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - started


def medians(first: list[str], second: list[str]) -> tuple[float, float]:
    """Median wall times of two commands over RUNS runs each, taken in turns so that a busy
    moment of the machine weighs on both alike (after one warm-up run each)."""
    seconds(first), seconds(second)
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(RUNS):
        times[0].append(seconds(first))
        times[1].append(seconds(second))
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    python = sys.executable
    pairs = [
        (
            "--help",
            [python, "-c", "import typer, rich.console, rich.table"],
            [python, "-m", "publisher", "--help"],
            3.0,
        ),
        (
            "compose --json",
            [python, "-c", "import twitter_text, pydantic"],
            [python, "-m", "publisher", "compose", str(SAMPLE), "--json"],
            1.5,
        ),
    ]
    for name, baseline, command, goal in pairs:
        base, ours = medians(baseline, command)
        print(
            f"{name:15} {ours * 1000:6.0f} ms   imports alone {base * 1000:6.0f} ms   "
            f"ratio {ours / base:4.2f} (goal {goal:g}x)"
        )


if __name__ == "__main__":
    main()

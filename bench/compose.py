"""Benchmark: articles composed per second for all four platforms, on one core.

Articles are distinct (numbered variants of the bundled sample, some with emoji, CJK and long
headlines), so nothing is served from a cache. Prints the figure; the target is 2,000 articles/s.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from publisher import roster  # noqa: E402
from publisher.config import Settings  # noqa: E402
from publisher.intake.textdump import article_from_text  # noqa: E402
from publisher.teasers import compose  # noqa: E402

VARIANTS = ["", " 🇩🇪", " – 東京で会談", " " + "sehr lange Schlagzeile " * 12]


def articles(count: int) -> list:
    base = article_from_text(
        (ROOT / "publisher" / "samples" / "newsde-assad-putin.txt").read_text(encoding="utf-8"),
        source="sample",
        url="https://www.news.de/politik/857/assad/?ref=home#kommentare",
    )
    made = []
    for number in range(count):
        suffix = VARIANTS[number % len(VARIANTS)]
        made.append(
            base.model_copy(
                update={
                    "headline": f"{base.headline} ({number}){suffix}",
                    "bullets": tuple(f"{b} #{number}" for b in base.bullets),
                    "url": f"https://www.news.de/politik/{number}/assad/?ref=home#kommentare",
                }
            )
        )
    return made


def main(count: int = 5000) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    settings = Settings()
    channels = roster.resolve(settings)
    batch = articles(count)
    compose(batch[0], channels, settings)  # warm caches of imported libraries, not of articles
    started = time.perf_counter()
    for article in batch:
        compose(article, channels, settings)
    elapsed = time.perf_counter() - started
    print(f"composed {count} articles x {len(channels)} channels in {elapsed:.2f} s")
    print(f"{count / elapsed:,.0f} articles/s on one core (target: 2,000)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)

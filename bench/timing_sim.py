"""Benchmark: does the timing `best` earn what a newsroom's audience would give? A simulated
audience per curve shape (clicks by hour of the week in Europe/Berlin, a peak away from the
configured slots, log-normal noise, fatigue when posts come close together) and a stream of
articles over 8 simulated weeks (six a day between 06:00 and 23:00, one in twenty breaking).
Each article is queued once by each of three timings, on a channel with `min_gap` and the same
24-hour horizon:
- slots: the channel's next free configured slot (07:00 to 17:00, every two hours);
- best: `publisher.engine.planning.besttime` as the engine runs it (the estimate learned from
  the posts measured so far, a day after each went out; the slots until the history is long enough);
- oracle: the free time whose hour the true curve says is best.
Breaking news goes now in all three. Printed per curve: clicks over weeks 5 to 8 (the mean of
`--seeds` runs), best against the oracle and against the slots, and the breaking posts delayed.

    python bench/timing_sim.py [--seeds 3] [--weeks 8]

Goal: best reaches at least 90 % of the oracle's clicks over weeks 5-8 and beats the slots by at
least 15 %; with a flat curve it loses nothing; no breaking post is delayed.
"""

from __future__ import annotations

import argparse
import math
import random
from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from publisher.engine.learning.estimate import Estimate, Sample, estimate, hour_of_week
from publisher.engine.planning.besttime import best_time, candidates
from publisher.engine.planning.slots import next_slot

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 9, 7, tzinfo=BERLIN)  # a Monday
SLOTS = tuple(time(hour) for hour in (7, 9, 11, 13, 15, 17))
GAP = timedelta(minutes=60)
HORIZON = timedelta(hours=24)
PER_DAY = 6
# A post's clicks are known a day after it went out (the 24-hour measurement).
MEASURED_AFTER = timedelta(hours=24)

Curve = Callable[[int], float]


def evening(hour: int) -> float:
    """Most readers at 21:00, more at weekends."""
    day, clock = divmod(hour, 24)
    weekend = 1.3 if day >= 5 else 1.0
    return weekend * (30 + 300 * math.exp(-((clock - 21) ** 2) / 5))


def lunch_and_late(hour: int) -> float:
    """Two peaks between the slots: 13:30 and 22:00."""
    clock = hour % 24
    lunch = 160 * math.exp(-((clock - 13.5) ** 2) / 2)
    return 25 + lunch + 220 * math.exp(-((clock - 22) ** 2) / 3)


def flat(hour: int) -> float:
    """No hour better than another."""
    return 100.0


CURVES: dict[str, Curve] = {"evening": evening, "lunch and late": lunch_and_late, "flat": flat}


def clicks(curve: Curve, at: datetime, others: list[datetime], rng: random.Random) -> float:
    """What a post at `at` earns: the curve's hour, noise, and less when another post came
    shortly before (readers already saw one)."""
    fatigue = 1.0
    for other in others:
        if timedelta(0) < at - other < timedelta(hours=3):
            fatigue *= 1 - 0.4 * math.exp(-(at - other) / timedelta(minutes=90))
    return curve(hour_of_week(at, BERLIN)) * fatigue * rng.lognormvariate(0, 0.35)


def oracle_pick(curve: Curve, free: list[datetime]) -> datetime | None:
    if not free:
        return None
    return max(free, key=lambda c: (curve(hour_of_week(c, BERLIN)), -c.timestamp()))


def run(curve: Curve, seed: int, weeks: int) -> dict[str, tuple[float, int]]:
    """Clicks over weeks 5 to the end, and breaking posts delayed, per timing."""
    rng = random.Random(seed)
    arrivals = []
    for day in range(7 * weeks):
        for _ in range(PER_DAY):
            at = START + timedelta(days=day, minutes=rng.randrange(6 * 60, 23 * 60))
            arrivals.append((at.astimezone(BERLIN), rng.random() < 0.05))
    arrivals.sort()
    counted_from = START + timedelta(weeks=4)
    found = {}
    for name in ("slots", "best", "oracle"):
        noise = random.Random(seed * 1000 + 1)
        picker = random.Random(seed * 1000 + 2)
        sent: list[tuple[datetime, float]] = []
        taken: list[datetime] = []
        total, delayed = 0.0, 0
        learned: Estimate | None = None
        learned_on: datetime | None = None
        for now, breaking in arrivals:
            if breaking:
                at = now
            else:
                free = candidates(now, HORIZON, taken, GAP, None, BERLIN)
                at = None
                if name == "oracle":
                    at = oracle_pick(curve, free)
                elif name == "best":
                    if learned_on is None or now - learned_on >= timedelta(hours=1):
                        known = [Sample(t, v) for t, v in sent if t + MEASURED_AFTER <= now]
                        learned, learned_on = estimate(known, BERLIN, "clicks"), now
                    if learned is not None and learned.enough:
                        at = best_time(learned, free, BERLIN, picker)
                if at is None:
                    at = next_slot(now, SLOTS, BERLIN, taken, GAP)
            if breaking and at > now:
                delayed += 1
            earned = clicks(curve, at, taken, noise)
            taken.append(at)
            sent.append((at, earned))
            if at >= counted_from:
                total += earned
        found[name] = (total, delayed)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--weeks", type=int, default=8)
    args = parser.parse_args()
    print(f"{args.weeks} weeks, {PER_DAY} articles a day, clicks over weeks 5-{args.weeks}, "
          f"mean of {args.seeds} seeds")  # fmt: skip
    print(f"{'curve':<16}{'slots':>10}{'best':>10}{'oracle':>10}{'best/oracle':>13}"
          f"{'best/slots':>12}{'breaking delayed':>18}")  # fmt: skip
    for label, curve in CURVES.items():
        runs = [run(curve, seed, args.weeks) for seed in range(1, args.seeds + 1)]
        mean = {n: sum(r[n][0] for r in runs) / len(runs) for n in ("slots", "best", "oracle")}
        delayed = sum(r[n][1] for r in runs for n in r)
        print(
            f"{label:<16}{mean['slots']:>10,.0f}{mean['best']:>10,.0f}{mean['oracle']:>10,.0f}"
            f"{mean['best'] / mean['oracle']:>12.0%} {mean['best'] / mean['slots'] - 1:>+11.0%}"
            f"{delayed:>18}"
        )


if __name__ == "__main__":
    main()

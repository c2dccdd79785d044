"""What a post earns a channel by hour of the week, learned from its own history (pure: no
database). Each past post's result (first-party clicks where the channel's posts are counted so,
else interactions on the network) is taken on a log scale; an hour's estimate is the mean of the
posts sent in it and its neighbouring hours, drawn towards the channel's overall mean by one
post's weight, with its uncertainty (When-To-Post, KDD 2015, learns weekly slots the same way).
`best` picks among free times by Thompson sampling: one draw from each hour's belief, the
highest wins, so hours little is known of still get tried."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

HOURS = 7 * 24
# Below this many posts a channel's history says too little: it keeps to its slots.
ENOUGH_POSTS = 30
# How much a neighbouring hour's posts count towards an hour's estimate.
NEIGHBOUR = 0.5
# The least spread of a single post's result (log scale) assumed, however alike posts were.
LEAST_SPREAD = 0.25
# Posts beyond the first of each hour it takes to measure the spread within hours.
MIN_WITHIN = 10
# The interval shown around an estimate: 80 % of the belief.
Z80 = 1.2816

Measure = Literal["clicks", "interactions"]


@dataclass(frozen=True)
class Sample:
    """One past post: when it went out (aware) and what it earned."""

    at: datetime
    value: float


@dataclass(frozen=True)
class Hour:
    """The belief about one hour of the week (0: Monday 00:00 in the channel's zone): its mean
    and spread on the log scale, what that means for a post (a typical result and an 80 %
    interval), and how many posts were sent in it."""

    hour: int
    centre: float
    spread: float
    posts: int

    @property
    def typical(self) -> float:
        return math.expm1(self.centre)

    @property
    def low(self) -> float:
        return max(0.0, math.expm1(self.centre - Z80 * self.spread))

    @property
    def high(self) -> float:
        return math.expm1(self.centre + Z80 * self.spread)

    def draw(self, rng: random.Random) -> float:
        """One Thompson draw from the belief."""
        return rng.gauss(self.centre, self.spread)


@dataclass(frozen=True)
class Estimate:
    """A channel's hours of the week, what they were measured in, and how many posts stand
    behind the whole; `enough` when the history is long enough to choose times by."""

    measure: Measure
    posts: int
    hours: tuple[Hour, ...]

    @property
    def enough(self) -> bool:
        return self.posts >= ENOUGH_POSTS

    def at(self, moment: datetime, zone: ZoneInfo) -> Hour:
        return self.hours[hour_of_week(moment, zone)]

    def pick(self, candidates: Sequence[datetime], zone: ZoneInfo, rng: random.Random) -> datetime:
        """The candidate time whose hour's draw is highest (the earliest among equals)."""
        draws = {hour: self.hours[hour].draw(rng) for hour in range(HOURS)}
        return max(candidates, key=lambda c: (draws[hour_of_week(c, zone)], -c.timestamp()))


def hour_of_week(moment: datetime, zone: ZoneInfo) -> int:
    """The hour of the week `moment` falls in, in `zone` (0: Monday 00:00–01:00)."""
    local = moment.astimezone(zone)
    return local.weekday() * 24 + local.hour


def estimate(samples: Iterable[Sample], zone: ZoneInfo, measure: Measure) -> Estimate:
    """Every hour's belief from a channel's past posts (in its zone)."""
    counts = [0] * HOURS
    sums = [0.0] * HOURS
    logged: list[tuple[int, float]] = []
    for sample in samples:
        value = math.log1p(max(sample.value, 0.0))
        hour = hour_of_week(sample.at, zone)
        counts[hour] += 1
        sums[hour] += value
        logged.append((hour, value))
    if not logged:
        flat = tuple(Hour(h, 0.0, 1.0, 0) for h in range(HOURS))
        return Estimate(measure, 0, flat)
    overall = sum(value for _, value in logged) / len(logged)
    spread = max(LEAST_SPREAD, _spread(logged, counts, sums, overall))
    hours = []
    for hour in range(HOURS):
        near = ((hour - 1) % HOURS, (hour + 1) % HOURS)
        weight = counts[hour] + NEIGHBOUR * sum(counts[n] for n in near)
        total = sums[hour] + NEIGHBOUR * sum(sums[n] for n in near)
        # The channel's mean counts as one post: an hour with few posts stays near it.
        centre = (overall + total) / (1 + weight)
        hours.append(Hour(hour, centre, spread / math.sqrt(1 + weight), counts[hour]))
    return Estimate(measure, len(logged), tuple(hours))


def _spread(
    logged: list[tuple[int, float]], counts: list[int], sums: list[float], overall: float
) -> float:
    """How much posts sent in one hour differ (log scale): around their hour's mean once there
    are enough to tell, else around the channel's mean (wider, so more is tried)."""
    hours = sum(1 for count in counts if count)
    within = len(logged) - hours
    if within >= MIN_WITHIN:
        residual = sum((value - sums[hour] / counts[hour]) ** 2 for hour, value in logged)
        return math.sqrt(residual / within)
    around = sum((value - overall) ** 2 for _, value in logged)
    return math.sqrt(around / max(len(logged) - 1, 1))

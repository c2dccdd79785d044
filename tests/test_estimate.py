"""Learning a channel's hours of the week: a known audience curve is recovered from synthetic
history, hours little is known of stay near the channel's mean with a wide belief, and Thompson
sampling picks the best hour when the history is clear."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from publisher.engine.learning.estimate import HOURS, Sample, estimate, hour_of_week

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2026, 10, 5, tzinfo=BERLIN)


def curve(hour: int) -> float:
    """An audience that clicks most at 20:00 every day, least at night."""
    return 40 + 200 * math.exp(-(((hour % 24) - 20) ** 2) / 8)


def history(weeks: int, per_day: int, seed: int = 7) -> list[Sample]:
    rng = random.Random(seed)
    samples = []
    for day in range(7 * weeks):
        for _ in range(per_day):
            at = MONDAY + timedelta(days=day, hours=rng.randrange(6, 24))
            hour = hour_of_week(at, BERLIN)
            samples.append(Sample(at, curve(hour) * rng.lognormvariate(0, 0.3)))
    return samples


def test_a_known_curve_is_recovered_from_history() -> None:
    found = estimate(history(weeks=12, per_day=6), BERLIN, "clicks")
    best = max(found.hours, key=lambda h: h.typical)
    assert best.hour % 24 in (19, 20, 21)
    evening, morning = found.hours[3 * 24 + 20], found.hours[3 * 24 + 7]
    assert evening.low > morning.high


def test_an_hour_without_posts_stays_near_the_mean_with_a_wide_belief() -> None:
    found = estimate(history(weeks=12, per_day=6), BERLIN, "clicks")
    night, evening = found.hours[3 * 24 + 3], found.hours[3 * 24 + 20]
    assert night.posts == 0 and night.spread > 2 * evening.spread


def test_no_history_is_a_flat_belief_and_not_enough() -> None:
    found = estimate([], BERLIN, "interactions")
    assert found.posts == 0 and not found.enough
    assert {h.centre for h in found.hours} == {0.0}


def test_thompson_sampling_picks_the_best_hour_of_a_clear_history() -> None:
    found = estimate(history(weeks=20, per_day=8), BERLIN, "clicks")
    day = datetime(2026, 12, 3, tzinfo=BERLIN)
    candidates = [day + timedelta(hours=h) for h in range(8, 24)]
    picks = [found.pick(candidates, BERLIN, random.Random(seed)) for seed in range(50)]
    assert sum(p.astimezone(BERLIN).hour in (19, 20, 21) for p in picks) >= 45


@given(st.datetimes(timezones=st.just(UTC)))
def test_every_moment_falls_in_one_hour_of_the_week(moment: datetime) -> None:
    hour = hour_of_week(moment, BERLIN)
    local = moment.astimezone(BERLIN)
    assert 0 <= hour < HOURS and hour == local.weekday() * 24 + local.hour

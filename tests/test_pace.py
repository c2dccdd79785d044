"""The fan-out's pace: spaced calls, never more than the aim in any one second, one slow-down
per burst of throughput refusals."""

from __future__ import annotations

import asyncio
import bisect
import time

from publisher.engine.delivery.pace import MARGIN, WINDOW, Pace


def busiest_second(moments: list[float]) -> int:
    moments = sorted(moments)
    return max(bisect.bisect_left(moments, m + 1.0) - i for i, m in enumerate(moments))


def test_a_loop_that_wakes_callers_late_still_puts_no_more_than_the_aim_into_one_second() -> None:
    pace = Pace(400)

    async def calls() -> list[float]:
        waiting = [asyncio.create_task(pace.wait()) for _ in range(600)]
        await asyncio.sleep(0.05)
        # The loop is held up: every caller due meanwhile wakes at once afterwards.
        time.sleep(0.4)
        return list(await asyncio.gather(*waiting))

    moments = asyncio.run(calls())
    assert busiest_second(moments) <= 400 * MARGIN


def test_the_refusals_of_one_burst_halve_the_pace_once() -> None:
    pace = Pace(100)
    called = time.monotonic()
    pace.slow_down(called)
    pace.slow_down(called)
    assert pace.rate == 100 * MARGIN / 2


def test_a_refusal_within_a_second_of_the_slow_down_belongs_to_the_same_burst() -> None:
    pace = Pace(100)
    pace.slow_down(time.monotonic())
    pace.slow_down(pace.slowed_at + WINDOW / 2)
    assert pace.rate == 100 * MARGIN / 2


def test_a_refusal_a_second_after_the_slow_down_halves_the_pace_again() -> None:
    pace = Pace(100)
    pace.slow_down(time.monotonic())
    pace.slow_down(pace.slowed_at + WINDOW)
    assert pace.rate == 100 * MARGIN / 4


def test_each_message_taken_brings_the_pace_back_towards_the_aim() -> None:
    pace = Pace(100)
    pace.slow_down(time.monotonic())
    for _ in range(60):
        pace.taken()
    assert pace.rate == 100 * MARGIN

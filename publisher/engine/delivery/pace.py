"""The pace of a fan-out: calls spaced at the moment they are made to stay under a platform's
messages per second with a margin, never more than that in any one second however late the
event loop runs, halved at each burst of throughput refusals and raised again step by step
(additive increase, multiplicative decrease)."""

from __future__ import annotations

import asyncio
import time
from collections import deque

# The share of the platform's messages per second a round aims at: calls reach the platform a
# little early or late, and it counts any one second strictly.
MARGIN = 0.95
# A throughput refusal halves the pace; each message taken raises it by this share of the aim,
# and never below this share of it.
RECOVERY = 0.01
FLOOR = 0.05
# The platform's counting period, in seconds.
WINDOW = 1.0


class Pace:
    """Spaces the calls of one event loop apart: at most `per_second` × MARGIN a second, slowed
    down by half at each burst of throughput refusals and sped up again by a step at each
    message taken."""

    def __init__(self, per_second: float) -> None:
        self.aim = per_second * MARGIN
        self.rate = self.aim
        self.next = time.monotonic()
        self.slowed_at = self.next - WINDOW
        # When the calls of the last second were made: a loop that wakes several callers late
        # at once must still not put more than the aim into one second.
        self.calls: deque[float] = deque()

    async def wait(self) -> float:
        """Wait for this call's moment (right before the platform is asked); returns it, in
        monotonic time."""
        now = time.monotonic()
        at = max(self.next, now)
        self.next = at + 1.0 / self.rate
        if at > now:
            await asyncio.sleep(at - now)
        while True:
            now = time.monotonic()
            while self.calls and self.calls[0] <= now - WINDOW:
                self.calls.popleft()
            if len(self.calls) < self.aim:
                self.calls.append(now)
                return now
            await asyncio.sleep(self.calls[0] + WINDOW - now)

    def slow_down(self, called_at: float) -> None:
        """Halve the pace for a throughput refusal of a call made at `called_at`, once per
        burst: a call made before the last slow-down, or within the platform's second after
        it, met a second that still held the calls made before it."""
        if called_at < self.slowed_at + WINDOW:
            return
        now = time.monotonic()
        self.slowed_at = now
        self.rate = max(self.aim * FLOOR, self.rate / 2)
        self.next = max(self.next, now) + 1.0 / self.rate

    def taken(self) -> None:
        self.rate = min(self.aim, self.rate + self.aim * RECOVERY)

"""Sign-in throttling: failed attempts counted per user name and per client address within a
window, and a bound on how many password hashes run at once (argon2 takes 64 MiB each, so
unbounded parallel sign-ins would exhaust the server's memory)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager


class SigninGuard:
    """Counts failures in a sliding window and admits a limited number of hashes at once. One
    per process: each instance of the HTTP side keeps its own counts."""

    def __init__(
        self, *, per_user: int = 5, per_address: int = 20, window: float = 900, concurrent: int = 2
    ) -> None:
        self.per_user = per_user
        self.per_address = per_address
        self.window = window
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._hashing = threading.BoundedSemaphore(concurrent)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures[key]
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return deque()
        return times

    def wait(self, name: str, address: str, now: float | None = None) -> float:
        """Seconds until this user or this address may try again (0: now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            waits = [0.0]
            for key, limit in (
                (("user", name), self.per_user),
                (("address", address), self.per_address),
            ):
                times = self._recent(key, now)
                if len(times) >= limit:
                    waits.append(times[len(times) - limit] + self.window - now)
        return max(waits)

    def failed(self, name: str, address: str, now: float | None = None) -> None:
        """Count a wrong password for this user and this address."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._failures[("user", name)].append(now)
            self._failures[("address", address)].append(now)

    def succeeded(self, name: str) -> None:
        """A right password clears the user's failures (the address keeps its count)."""
        with self._lock:
            self._failures.pop(("user", name), None)

    @contextmanager
    def hashing(self, timeout: float) -> Iterator[bool]:
        """Admission to compute a password hash; yields False when the server is busy with as
        many as it allows for `timeout` seconds."""
        admitted = self._hashing.acquire(timeout=timeout)
        try:
            yield admitted
        finally:
            if admitted:
                self._hashing.release()

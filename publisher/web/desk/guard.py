"""Sign-in throttling: failed attempts counted per user name and per client address within a
window, each failure past the first few making the next try wait longer (a delay that grows, not
a lockout: a newsroom behind one proxy shares an address); and a bound on how many password
hashes run at once (argon2 takes 64 MiB each, so unbounded parallel sign-ins would exhaust the
server's memory). What it remembers is bounded: names are short, old entries are pruned, and
the number of entries has a ceiling."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from threading import Lock

import anyio

# Longer names are no user's (the desk's names are at most 200 characters) and are not kept.
MAX_NAME = 200
# The most names and addresses remembered at once; beyond it the oldest are forgotten first.
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class Throttle:
    """How one kind of key is throttled: `free` failures in the window cost nothing, each one
    after waits `first` seconds, doubling, at most `longest`."""

    free: int
    first: float
    longest: float

    def wait(self, failures: int) -> float:
        """The wait after the last of `failures` failures within the window."""
        if failures < self.free:
            return 0.0
        return min(self.longest, self.first * 2.0 ** (failures - self.free))


# A user's password is guessed at most a few times an hour; people behind one address wait at
# most a minute however many of them mistype.
PER_USER = Throttle(free=5, first=2.0, longest=900.0)
PER_ADDRESS = Throttle(free=20, first=1.0, longest=60.0)


class SigninGuard:
    """Counts failures in a sliding window and admits a limited number of hashes at once. One
    per process: each instance of the HTTP side keeps its own counts."""

    def __init__(
        self,
        *,
        per_user: Throttle = PER_USER,
        per_address: Throttle = PER_ADDRESS,
        window: float = 900,
        concurrent: int = 2,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.throttles = {"user": per_user, "address": per_address}
        self.window = window
        self.max_entries = max_entries
        # Key -> (failures within the window, time of the last); oldest first.
        self._failures: OrderedDict[tuple[str, str], tuple[int, float]] = OrderedDict()
        self._lock = Lock()
        self._hashing = anyio.CapacityLimiter(concurrent)

    def _keys(self, name: str, address: str) -> list[tuple[str, str]]:
        keys = [("address", address)]
        if len(name) <= MAX_NAME:
            keys.append(("user", name))
        return keys

    def _prune(self, now: float) -> None:
        """Forget failures older than the window; past the ceiling, those whose wait ends
        soonest, so that a flood of cheap failures from many addresses never wipes out a
        penalty still running (it once reset a name's 256 s wait to nothing)."""
        while self._failures:
            key, (_, last) = next(iter(self._failures.items()))
            if last > now - self.window:
                break
            del self._failures[key]
        if len(self._failures) > self.max_entries:
            # A tenth below the ceiling at once: sorting is paid for once per many failures.
            ending = sorted(self._failures, key=self._wait_ends)
            for key in ending[: len(self._failures) - self.max_entries * 9 // 10]:
                del self._failures[key]

    def _wait_ends(self, key: tuple[str, str]) -> float:
        """When the wait this key's failures earned runs out."""
        failures, last = self._failures[key]
        return last + self.throttles[key[0]].wait(failures)

    def wait(self, name: str, address: str, now: float | None = None) -> float:
        """Seconds until this user or this address may try again (0: now)."""
        now = time.monotonic() if now is None else now
        waits = [0.0]
        with self._lock:
            self._prune(now)
            for key in self._keys(name, address):
                failures, last = self._failures.get(key, (0, now))
                waits.append(last + self.throttles[key[0]].wait(failures) - now)
        return max(waits)

    def failed(self, name: str, address: str, now: float | None = None) -> None:
        """Count a wrong password for this user and this address."""
        now = time.monotonic() if now is None else now
        with self._lock:
            for key in self._keys(name, address):
                failures, _ = self._failures.pop(key, (0, now))
                self._failures[key] = (failures + 1, now)
            self._prune(now)

    def succeeded(self, name: str) -> None:
        """A right password clears the user's failures (the address keeps its count)."""
        with self._lock:
            self._failures.pop(("user", name), None)

    def __len__(self) -> int:
        """How many names and addresses are remembered."""
        return len(self._failures)

    @asynccontextmanager
    async def hashing(self, timeout: float) -> AsyncIterator[bool]:
        """Admission to compute a password hash; yields False when the server is busy with as
        many as it allows for `timeout` seconds. Waiting never blocks the event loop, so the
        hashes it waits for can finish."""
        admitted = False
        with anyio.move_on_after(timeout):
            await self._hashing.acquire()
            admitted = True
        try:
            yield admitted
        finally:
            if admitted:
                self._hashing.release()

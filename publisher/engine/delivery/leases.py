"""Leases kept while a worker sends: every post it holds in `sending` has its lease renewed while
the platform call runs, so a slow call never makes a live worker's post look abandoned; a dead
worker renews nothing, and its posts' leases run out as they should."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from publisher.engine.delivery.claimed import Claimed
from publisher.engine.delivery.claims import Claims

logger = logging.getLogger(__name__)


class LeaseKeeper:
    """Renews this worker's lease on every post it is sending, every `every` seconds, while
    the platform call runs (a thread started with the first post): a live worker's post never
    becomes uncertain because its call took longer than the lease; a dead worker renews
    nothing, and its posts' leases run out as they should."""

    def __init__(self, claims: Claims, every: float) -> None:
        self.claims = claims
        self.every = every
        self._held: dict[tuple[int, int], Claimed] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @contextmanager
    def holding(self, claimed: Claimed) -> Iterator[None]:
        """Keep renewing `claimed`'s lease for the duration of the block."""
        key = (claimed.post_id, claimed.attempt)
        with self._lock:
            self._held[key] = claimed
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="leases", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._held.pop(key, None)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            with self._lock:
                held = list(self._held.values())
            try:
                self.claims.renew_all(held)
            except Exception:  # the database away: the next round tries again
                logger.exception("renewing leases failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

"""`publisher run`: a clock that wakes exactly when the next post falls due (not a slow poll),
hands due posts to a thread pool of senders, hears about queue changes made by other processes,
runs the interval jobs (feeds, reconcile, the change poll) on APScheduler, and stops cleanly on
SIGTERM/SIGINT, finishing or releasing what is in flight."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.delivery.amendments import Amendment
from publisher.engine.delivery.claimed import Claimed
from publisher.engine.delivery.dispatch import Delivered, Dispatcher
from publisher.engine.delivery.overrun import SCHEDULER_LOG, Overruns
from publisher.engine.delivery.reconcile import reconcile
from publisher.engine.learning.results import Measurer
from publisher.engine.releases.feedwatch import FeedWatcher
from publisher.engine.releases.resurface import resurface
from publisher.engine.storage.changes import ChangeWatcher, WakeListener

logger = logging.getLogger(__name__)
# How often the main thread looks for a signal while it waits for the worker to stop.
SIGNAL_CHECK = 0.5

# Even with nothing due, look again this often (cheap, and a safety net for missed wake-ups).
MAX_SLEEP = timedelta(seconds=60)
# How often uncertain posts are looked up on platforms that can tell.
RECONCILE_EVERY = timedelta(minutes=2)
# How often posts due a measurement of their results are measured (engine/learning/results.py).
MEASURE_EVERY = timedelta(minutes=5)
# Archive articles are offered another turn this often (each rule keeps to its per_day).
RESURFACE_EVERY = timedelta(hours=1)
# After a failed dispatch run (the database away), try again this soon.
RETRY_SOON = timedelta(seconds=1)


class WakeClock:
    """A thread that runs `tick` when woken or when the time `tick` last asked for comes.
    `tick` returns when it next wants to run (None: MAX_SLEEP from now); `wake(at)` brings a
    run forward to `at` (default: now), never back."""

    def __init__(self, tick: Callable[[], datetime | None]) -> None:
        self.tick = tick
        self._condition = threading.Condition()
        self._due: datetime | None = None
        self._stopped = False
        # When the last run ended (None: not yet), for whoever watches the worker.
        self.last_tick: datetime | None = None
        self.thread = threading.Thread(target=self._loop, name="clock", daemon=True)

    def start(self) -> None:
        self.wake()
        self.thread.start()

    def wake(self, at: datetime | None = None) -> None:
        at = at or utcnow()
        with self._condition:
            if self._due is None or at < self._due:
                self._due = at
                self._condition.notify()

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            self._condition.notify()
        if threading.current_thread() is not self.thread:
            self.thread.join(30)

    def _loop(self) -> None:
        while True:
            with self._condition:
                while not self._stopped:
                    wait = (self._due - utcnow()).total_seconds() if self._due else None
                    if wait is not None and wait <= 0:
                        break
                    self._condition.wait(wait)
                if self._stopped:
                    return
                # Wake-ups from here on ask for another run after this one.
                self._due = None
            upcoming = self.tick()
            now = self.last_tick = utcnow()
            self.wake(min(upcoming or now + MAX_SLEEP, now + MAX_SLEEP))


class Daemon:
    """One worker process: the clock, the senders and the shutdown protocol."""

    def __init__(self, engine: Engine, settings: Settings, dispatcher: Dispatcher) -> None:
        self.engine = engine
        self.settings = settings
        self.dispatcher = dispatcher
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            logger=SCHEDULER_LOG,
        )
        self.overruns = Overruns()
        self.scheduler.add_listener(self.overruns.heard, EVENT_JOB_MAX_INSTANCES)
        self.senders = ThreadPoolExecutor(settings.engine.threads, thread_name_prefix="sender")
        self.clock = WakeClock(self._dispatch)
        self.stopping = threading.Event()
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self._in_flight = 0
        self.watcher = ChangeWatcher(engine)
        self.wakes = WakeListener(engine, self.wake)
        self.feeds = FeedWatcher(engine, settings, on_queued=self.wake)
        self.measurer = Measurer(engine, settings)

    def start(self) -> None:
        """Start the clock and the interval jobs (returns at once)."""
        jobs: list[tuple[str, float, Callable[..., None]]] = [
            ("watch", self.settings.engine.watch_interval, self._watch),
            ("reconcile", RECONCILE_EVERY.total_seconds(), self._reconcile),
            ("results", MEASURE_EVERY.total_seconds(), self._measure),
        ]
        if self.settings.resurface:
            jobs.append(("resurface", RESURFACE_EVERY.total_seconds(), self._resurface))
        for job_id, seconds, job in jobs:
            self._every(job_id, seconds, job)
        for name, feed in self.settings.feeds.items():
            self._every(f"feed:{name}", feed.every, self._poll_feed, name, first=utcnow())
        self.scheduler.start()
        self.clock.start()
        self.wakes.start()
        logger.info("worker %s started", self.dispatcher.worker)

    def _every(
        self,
        job_id: str,
        seconds: float,
        job: Callable[..., None],
        *args: str,
        first: datetime | None = None,
    ) -> None:
        """Run `job` every `seconds` (first at `first`, else after `seconds`), timed by
        `overruns`."""
        options = {"next_run_time": first} if first else {}
        self.scheduler.add_job(
            self.overruns.timed(job_id, seconds, job),
            "interval",
            args=list(args),
            seconds=seconds,
            id=job_id,
            **options,
        )

    def wake(self, at: datetime | None = None) -> None:
        """Dispatch at `at` (default now) unless a run is due earlier anyway."""
        if not self.stopping.is_set():
            self.clock.wake(at)

    def _dispatch(self) -> datetime | None:
        """One run of the clock: expire leases, hand due posts to the senders; returns when the
        next run is due."""
        if self.stopping.is_set():
            return None
        try:
            self.dispatcher.claims.expire_leases()
            self.dispatcher.amendments.expire()
            for claimed in self.dispatcher.claims.claim():
                self._submit(self._deliver, claimed)
            # Only as many as there are free senders: one claimed to wait in line would
            # outlast its lease, and another worker would take it down a second time.
            with self._lock:
                free = self.settings.engine.threads - self._in_flight
            for amendment in self.dispatcher.amendments.claim(limit=free) if free > 0 else []:
                self._submit(self._amend, amendment)
            found = [self.dispatcher.claims.next_wakeup(), self.dispatcher.amendments.next_due()]
            return min((t for t in found if t is not None), default=None)
        except Exception:
            logger.exception("dispatch failed; trying again shortly")
            return utcnow() + RETRY_SOON

    def _submit(self, job: Callable[[Any], object], item: object) -> None:
        with self._lock:
            self._in_flight += 1
        self.senders.submit(self._done_after, job, item)

    def _done_after(self, job: Callable[[Any], object], item: object) -> None:
        try:
            job(item)
        finally:
            with self._lock:
                self._in_flight -= 1
                idle = self._in_flight == 0
            if idle:
                self.wake()

    def _deliver(self, claimed: Claimed) -> Delivered | None:
        # A sender's exception would vanish into its future: each one is logged here.
        try:
            if self.stopping.is_set():
                self.dispatcher.claims.release(claimed)
                return None
            return self.dispatcher.deliver(claimed)
        except Exception:
            logger.exception("post %s: sending failed unexpectedly", claimed.post_id)
            return None

    def _amend(self, amendment: Amendment) -> None:
        # A stopping worker leaves it to its lease: the next worker does it.
        try:
            if not self.stopping.is_set():
                self.dispatcher.amendments.carry_out(amendment)
        except Exception:
            logger.exception("post %s: amending it failed unexpectedly", amendment.post_id)

    def _reconcile(self) -> None:
        if self.stopping.is_set():
            return
        try:
            reconcile(self.engine, self.settings)
        except Exception:  # a platform or database hiccup: the next run tries again
            logger.exception("looking up uncertain posts failed")

    def _measure(self) -> None:
        if self.stopping.is_set():
            return
        try:
            self.measurer.run()
        except Exception:  # a platform or database hiccup: the next run tries again
            logger.exception("measuring results failed")

    def _resurface(self) -> None:
        if self.stopping.is_set():
            return
        try:
            if resurface(self.engine, self.settings):
                self.wake()
        except Exception:  # a database hiccup: the next run tries again
            logger.exception("resurfacing archive articles failed")

    def _poll_feed(self, name: str) -> None:
        if self.stopping.is_set():
            return
        try:
            self.feeds.poll(name)
        except Exception:  # one feed's trouble must not stop its job or the others
            logger.exception("feed %s: poll failed", name)

    def _watch(self) -> None:
        if self.watcher.changed():
            self.wake()

    def stop(self) -> None:
        """Stop claiming, let calls in progress finish and release claimed posts not yet sent."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        self.wakes.stop()
        logger.info("worker %s stopping", self.dispatcher.worker)
        self.clock.stop()
        self.scheduler.shutdown(wait=False)
        # A fan-out to thousands would hold the stop for minutes: it ends with its calls in
        # flight, and the recipients still owed wait for the next worker.
        self.dispatcher.draining.set()
        self.senders.shutdown(wait=True)
        self.watcher.close()
        self.dispatcher.close()
        logger.info("worker %s stopped", self.dispatcher.worker)
        self.stopped.set()

    def run_forever(self) -> None:
        """Run until SIGTERM or SIGINT. A second signal stops at once: posts being sent then
        become uncertain when their lease runs out, as when a worker dies."""

        signalled: list[int] = []

        def on_signal(signum: int, _frame: object) -> None:
            # Handlers run in the main thread, one after the other: the list is enough.
            signalled.append(signum)
            if len(signalled) > 1:
                logger.warning("stopped at once; posts being sent become uncertain for an editor")
                logging.shutdown()
                os._exit(128 + signum)
            with self._lock:
                in_flight = self._in_flight
            if in_flight:
                logger.warning(
                    "stopping: waiting for %s being sent (up to %d s); "
                    "press Ctrl-C again to stop at once",
                    "1 post" if in_flight == 1 else f"{in_flight} posts",
                    self._longest_call(),
                )
            threading.Thread(target=self.stop).start()

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, on_signal)
        self.start()
        # Waking every half second: a signal the system hands to another of the process's
        # threads runs its handler only when the main thread next runs, and a wait without end
        # never would (SIGTERM was then left unanswered).
        while not self.stopped.wait(SIGNAL_CHECK):
            pass

    def _longest_call(self) -> int:
        """Seconds the slowest channel's call may take (its timeout), for the stop message."""
        timeouts = [
            float(getattr(adapter.config, "timeout", 0) or 0)
            for adapter in self.dispatcher.adapters.values()
        ]
        return round(max([*timeouts, 1.0]) * 3)

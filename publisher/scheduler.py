"""`publisher run`: an APScheduler clock that wakes exactly when the next post falls due (not a
slow poll), hands due posts to a thread pool of senders, notices queue changes made by other
processes, polls each feed as a job of its own, and stops cleanly on SIGTERM/SIGINT, finishing or
releasing what is in flight."""

from __future__ import annotations

import logging
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from publisher.config import Settings
from publisher.dispatch import Claimed, Delivered, Dispatcher
from publisher.feedwatch import FeedWatcher
from publisher.queue import CHANGE_CHANNEL, utcnow
from publisher.reconcile import reconcile

logger = logging.getLogger("publisher.run")

# Even with nothing due, look again this often (cheap, and a safety net for missed wake-ups).
MAX_SLEEP = timedelta(seconds=60)
# How often uncertain posts are looked up on platforms that can tell.
RECONCILE_EVERY = timedelta(minutes=2)


class ChangeWatcher:
    """Notices commits by other processes: SQLite's data_version, PostgreSQL's LISTEN/NOTIFY."""

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.raw_connection()
        self.dialect = engine.dialect.name
        if self.dialect == "postgresql":
            driver = self.connection.driver_connection
            driver.autocommit = True
            driver.execute(f"LISTEN {CHANGE_CHANNEL}")
            self._version: Any = None
        else:
            self._version = self._data_version()

    def _data_version(self) -> int:
        return self.connection.driver_connection.execute("PRAGMA data_version").fetchone()[0]

    def changed(self) -> bool:
        if self.dialect == "postgresql":
            return any(True for _ in self.connection.driver_connection.notifies(timeout=0))
        version = self._data_version()
        changed, self._version = version != self._version, version
        return changed

    def close(self) -> None:
        self.connection.close()


class Daemon:
    """One worker process: the clock, the senders and the shutdown protocol."""

    def __init__(self, engine: Engine, settings: Settings, dispatcher: Dispatcher) -> None:
        self.engine = engine
        self.settings = settings
        self.dispatcher = dispatcher
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.senders = ThreadPoolExecutor(settings.engine.threads, thread_name_prefix="sender")
        self.stopping = threading.Event()
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        # Held for a whole dispatch run: stop() takes it so that no run is halfway through
        # rescheduling while APScheduler shuts down (its shutdown holds the job store lock).
        self._dispatch_lock = threading.Lock()
        self._running = False
        self._rerun = False
        self._next_run: datetime | None = None
        self._in_flight = 0
        self.watcher = ChangeWatcher(engine)
        self.feeds = FeedWatcher(engine, settings, on_queued=self.wake)

    def start(self) -> None:
        """Start the clock (returns at once)."""
        self.scheduler.add_job(self._dispatch, "date", run_date=utcnow(), id="dispatch")
        self.scheduler.add_job(
            self._watch, "interval", seconds=self.settings.engine.watch_interval, id="watch"
        )
        self.scheduler.add_job(
            self._reconcile, "interval", seconds=RECONCILE_EVERY.total_seconds(), id="reconcile"
        )
        for name, feed in self.settings.feeds.items():
            self.scheduler.add_job(
                self._poll_feed,
                "interval",
                args=[name],
                seconds=feed.every,
                next_run_time=utcnow(),
                id=f"feed:{name}",
            )
        self.scheduler.start()
        logger.info("worker %s started", self.dispatcher.worker)

    def wake(self, at: datetime | None = None) -> None:
        """Run dispatch at `at` (default now) unless it is due to run earlier anyway."""
        if self.stopping.is_set():
            return
        at = at or utcnow()
        with self._lock:
            if self._running:
                self._rerun = self._rerun or at <= utcnow()
                return
            if self._next_run is not None and self._next_run <= at:
                return
            self._next_run = at
        if not self.stopping.is_set():
            self.scheduler.add_job(
                self._dispatch, "date", run_date=at, id="dispatch", replace_existing=True
            )

    def _dispatch(self) -> None:
        with self._dispatch_lock:
            if not self.stopping.is_set():
                self._dispatch_run()

    def _dispatch_run(self) -> None:
        with self._lock:
            self._running, self._rerun, self._next_run = True, False, None
        try:
            self.dispatcher.expire_leases()
            for claimed in self.dispatcher.claim():
                with self._lock:
                    self._in_flight += 1
                self.senders.submit(self._deliver, claimed)
        except Exception:
            logger.exception("dispatch failed; trying again shortly")
            with self._lock:
                self._rerun = False
            self._reschedule(utcnow() + timedelta(seconds=1))
            return
        finally:
            with self._lock:
                self._running = False
        self._reschedule(None)

    def _reschedule(self, at: datetime | None) -> None:
        if self.stopping.is_set():
            return
        now = utcnow()
        with self._lock:
            rerun = self._rerun
        if at is None:
            upcoming = None if rerun else self.dispatcher.next_wakeup(now)
            at = now if rerun else min(upcoming or now + MAX_SLEEP, now + MAX_SLEEP)
        with self._lock:
            self._next_run = at
        self.scheduler.add_job(
            self._dispatch, "date", run_date=max(at, now), id="dispatch", replace_existing=True
        )

    def _deliver(self, claimed: Claimed) -> Delivered | None:
        try:
            if self.stopping.is_set():
                self.dispatcher.release(claimed)
                return None
            return self.dispatcher.deliver(claimed)
        finally:
            with self._lock:
                self._in_flight -= 1
                idle = self._in_flight == 0
            if idle:
                self.wake()

    def _reconcile(self) -> None:
        if self.stopping.is_set():
            return
        try:
            reconcile(self.engine, self.settings)
        except Exception:  # a platform or database hiccup: the next run tries again
            logger.exception("looking up uncertain posts failed")

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
        logger.info("worker %s stopping", self.dispatcher.worker)
        with self._dispatch_lock:
            self.scheduler.shutdown(wait=False)
        self.senders.shutdown(wait=True)
        self.watcher.close()
        self.dispatcher.close()
        logger.info("worker %s stopped", self.dispatcher.worker)
        self.stopped.set()

    def run_forever(self) -> None:
        """Run until SIGTERM or SIGINT. A second signal stops at once: posts being sent then
        become uncertain when their lease runs out, as when a worker dies."""

        def on_signal(signum: int, _frame: object) -> None:
            if self.stopping.is_set():
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
        self.stopped.wait()

    def _longest_call(self) -> int:
        """Seconds the slowest channel's call may take (its timeout), for the stop message."""
        timeouts = [
            float(getattr(adapter.config, "timeout", 0) or 0)
            for adapter in self.dispatcher.adapters.values()
        ]
        return round(max([*timeouts, 1.0]) * 3)

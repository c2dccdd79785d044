"""The worker's interval jobs (feeds, lookups, results) falling behind: when a run is still going
at its next turn, say once which job, how long its run has taken and how often it is meant to
run, in the project's words, instead of APScheduler's line at every skipped turn."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent

logger = logging.getLogger(__name__)

# APScheduler's own scheduler logs here; its line for a skipped turn is told by `Overruns`.
SCHEDULER_LOG = logging.getLogger(f"{__name__}.apscheduler")

# What editors and operators call each job (a feed's job is "feed:NAME").
JOB_WORDS = {
    "watch": "looking for queue changes",
    "reconcile": "looking up unclear posts on their platforms",
    "results": "measuring what posts achieved",
    "resurface": "offering archive articles another turn",
}


def _not_skipped_turns(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith('Execution of job "%s" skipped')


SCHEDULER_LOG.addFilter(_not_skipped_turns)


def job_words(job_id: str) -> str:
    """A job as the log names it."""
    if job_id.startswith("feed:"):
        return f"polling feed {job_id.removeprefix('feed:')}"
    return JOB_WORDS.get(job_id, job_id)


class Overruns:
    """Times each job's runs (`timed`) and hears of skipped turns (`heard`, an APScheduler
    listener): a run that outlasts its interval is told once, and its end after that."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._began: dict[str, float] = {}
        self._told: set[str] = set()
        self._every: dict[str, float] = {}

    def timed(self, job_id: str, every: float, job: Callable[..., None]) -> Callable[..., None]:
        """`job` as the scheduler runs it, its runs timed under `job_id`."""
        self._every[job_id] = every

        def run(*args: Any) -> None:
            with self._lock:
                self._began[job_id] = time.monotonic()
            try:
                job(*args)
            finally:
                self._ended(job_id)

        return run

    def heard(self, event: JobSubmissionEvent) -> None:
        """A turn of a job skipped because its last run is still going."""
        if event.code != EVENT_JOB_MAX_INSTANCES:
            return
        job_id = event.job_id
        with self._lock:
            began = self._began.get(job_id)
            if began is None or job_id in self._told:
                return
            self._told.add(job_id)
        logger.warning(
            "%s fell behind: its run has taken %.0f s so far and it is meant to run every "
            "%.0f s; its next turn waits until this run ends",
            job_words(job_id),
            time.monotonic() - began,
            self._every.get(job_id, 0),
            extra={"job": job_id},
        )

    def _ended(self, job_id: str) -> None:
        with self._lock:
            began = self._began.pop(job_id, time.monotonic())
            told = job_id in self._told
            self._told.discard(job_id)
        if told:
            logger.info(
                "%s caught up: its run took %.0f s",
                job_words(job_id),
                time.monotonic() - began,
                extra={"job": job_id},
            )

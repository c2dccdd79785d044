"""The newsroom's redirect links (`GET /r/{code}`): each leads to its article's tracked address,
and a reader's request is counted as one click of its code in its hour. Not counted: `HEAD`,
and link-preview fetchers and crawlers (they still get the redirect, so cards keep working).
Nothing about the reader is kept: no address, no user agent, no cookie, no referrer.

Clicks are added up in memory and written every few seconds (and when the server stops), so a
redirect never waits for the database; targets are kept in memory once read, and the recent
links' targets are mirrored there, so a post's link keeps leading to its article while the
database restarts (its clicks are written once it is back)."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from publisher.catalogue import translator
from publisher.channels import channel_classes
from publisher.clock import hour_of, utcnow
from publisher.config import Settings
from publisher.engine.learning.clicks import add_clicks, target_of, targets_since
from publisher.links import CODE_PATTERN

logger = logging.getLogger(__name__)

# Seconds between two writings of the clicks counted.
FLUSH_EVERY = 5.0
# Codes whose target is kept in memory at most; unknown codes remembered, and for how long (a
# code may be made a moment after someone tried it: an editor following a preview's link).
KNOWN_AT_MOST = 100_000
UNKNOWN_AT_MOST = 10_000
UNKNOWN_FOR = 5.0
# A code's clicks counted in one minute at most: twenty a second is more than any post of a
# newsroom draws, and a script repeating a link cannot steer the learning past it.
MOST_PER_MINUTE = 1_200
# Seconds a code's target is kept before it is read again.
KNOWN_FOR = 60.0
# The links mirrored for a database outage: those made in the last days, refreshed this often
# (with an overlap, for a link made in a transaction that committed late).
MIRRORED_DAYS = 30
MIRROR_EVERY = 60.0
MIRROR_OVERLAP = timedelta(minutes=5)
# Crawlers and link-preview fetchers of places that are not our channels, by their user agents;
# each channel names its platform's own (`card_fetchers`). A bare "bot" is not enough: phones
# named "Cubot" would count as machines.
CRAWLERS = (
    r"bot/|crawl|spider|slurp|slackbot|discordbot|googlebot|google-inspectiontool|bingbot|"
    r"bingpreview|applebot|yandex|duckduckbot|baiduspider|pinterest|redditbot|skypeuripreview|"
    r"embedly|iframely|outbrain|quora link preview|vkshare|w3c_validator|python-requests|"
    r"curl/|wget/|headlesschrome|preview"
)


@cache
def _machines() -> re.Pattern[str]:
    fetchers = {name for kind in channel_classes() for name in kind.card_fetchers}
    alternatives = "|".join([CRAWLERS, *map(re.escape, sorted(fetchers))])
    return re.compile(alternatives, re.IGNORECASE)


def is_crawler(user_agent: str) -> bool:
    """Whether a request with this user agent comes from a machine, not a reader (a request
    without one is taken for a machine's too)."""
    return not user_agent.strip() or _machines().search(user_agent) is not None


class ClickCounter:
    """Clicks per code and hour, added up in memory and written to the store from a thread of
    its own every FLUSH_EVERY seconds; what a failed writing held is kept for the next."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._counted: Counter[tuple[str, datetime]] = Counter()
        # Clicks per code in the minute under way (only codes clicked in it are kept).
        self._minute: datetime | None = None
        self._this_minute: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def count(self, code: str, at: datetime) -> None:
        """Count a reader's click; past MOST_PER_MINUTE in one minute, a code's clicks are led
        on but not counted (anyone can repeat a link, and the counts steer the best time and
        what resurfaces)."""
        minute = at.replace(second=0, microsecond=0)
        with self._lock:
            if minute != self._minute:
                self._minute, self._this_minute = minute, Counter()
            self._this_minute[code] += 1
            if self._this_minute[code] <= MOST_PER_MINUTE:
                self._counted[(code, hour_of(at))] += 1

    def flush(self) -> None:
        with self._lock:
            taken, self._counted = self._counted, Counter()
        try:
            add_clicks(self.engine, taken)
        except SQLAlchemyError as exc:
            logger.warning("clicks not written yet (%s): kept for the next try", type(exc).__name__)
            with self._lock:
                self._counted.update(taken)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="clicks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=FLUSH_EVERY * 2)
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_EVERY):
            self.flush()


class Targets:
    """Where codes lead, read from the store and kept a minute (a link follows its article's
    corrected address within it); unknown codes remembered briefly so a flood of made-up ones
    does not reach the database. While the database cannot be read, a code known before, or
    one of the links made in the last MIRRORED_DAYS, keeps leading where it led: a link in a
    post must not break because the database restarts."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._known: dict[str, tuple[str, float]] = {}
        self._unknown: dict[str, float] = {}
        self._mirror: dict[str, str] = {}
        self._mirrored_until: datetime | None = None
        # Set once the mirror was first read (for whoever waits for it: a test, a health check).
        self.mirrored = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    async def of(self, code: str) -> str | None:
        if not CODE_PATTERN.fullmatch(code):
            return None
        now = time.monotonic()
        kept = self._known.get(code)
        if kept is not None and kept[1] > now:
            return kept[0]
        if self._unknown.get(code, 0.0) > now:
            return None
        try:
            found = await run_in_threadpool(target_of, self.engine, self.settings, code)
        except SQLAlchemyError:
            led = kept[0] if kept is not None else self._mirror.get(code)
            if led is None:
                raise
            logger.warning("redirect targets cannot be read: code %s leads where it led", code)
            return led
        if found is None:
            if len(self._unknown) >= UNKNOWN_AT_MOST:
                self._unknown.clear()
            self._unknown[code] = now + UNKNOWN_FOR
            return None
        if len(self._known) >= KNOWN_AT_MOST:
            self._known.clear()
        self._known[code] = (found, now + KNOWN_FOR)
        return found

    def mirror(self) -> None:
        """Read the targets of links made since the last reading (at first: in the last
        MIRRORED_DAYS) into the mirror, keeping the newest KNOWN_AT_MOST."""
        started = utcnow()
        since = (
            self._mirrored_until - MIRROR_OVERLAP
            if self._mirrored_until
            else started - timedelta(days=MIRRORED_DAYS)
        )
        try:
            found = targets_since(self.engine, self.settings, since, KNOWN_AT_MOST)
        except SQLAlchemyError as exc:
            logger.warning("redirect targets not mirrored (%s): tried again", type(exc).__name__)
            return
        for code in found:
            self._mirror.pop(code, None)
        self._mirror.update(found)
        for code in list(self._mirror)[: max(len(self._mirror) - KNOWN_AT_MOST, 0)]:
            del self._mirror[code]
        self._mirrored_until = started
        self.mirrored.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="link-mirror", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        self.mirror()
        while not self._stop.wait(MIRROR_EVERY):
            self.mirror()


@dataclass(frozen=True)
class Redirects:
    """The redirect's clicks and targets, for the app to start and stop with it."""

    clicks: ClickCounter
    targets: Targets

    def start(self) -> None:
        self.clicks.start()
        self.targets.start()

    def stop(self) -> None:
        self.targets.stop()
        self.clicks.stop()


def mount_redirect(app: FastAPI, engine: Engine, settings: Settings) -> Redirects:
    """Add `GET /r/{code}` (and `HEAD`) to the app; what it counts and leads with, for the app
    to start and stop."""
    counter = ClickCounter(engine)
    targets = Targets(engine, settings)
    words = translator(settings.language, "desk")
    unknown, away = words("link_unknown"), words("link_database_away")

    @app.api_route("/r/{code}", methods=["GET", "HEAD"], include_in_schema=False)
    async def follow(code: str, request: Request) -> Response:
        headers = {"Cache-Control": "no-store"}
        try:
            target = await targets.of(code)
        except SQLAlchemyError as exc:
            # A code this server has not led anyone by yet, while the database is away.
            logger.warning("redirect %s answered 503: %s", code, type(exc).__name__)
            return PlainTextResponse(away, status_code=503, headers=headers | {"Retry-After": "5"})
        if target is None:
            return PlainTextResponse(unknown, status_code=404, headers=headers)
        if request.method == "GET" and not is_crawler(request.headers.get("user-agent", "")):
            counter.count(code, utcnow())
        return RedirectResponse(target, status_code=302, headers=headers)

    return Redirects(counter, targets)

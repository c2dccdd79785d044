"""The feed watcher: polls each configured RSS/Atom feed (conditional GET with ETag and
Last-Modified), releases items it has not seen before, and remembers them across restarts.

The first poll of a new feed only remembers its backlog (except the newest `backfill` items).
A failing feed backs off (doubling its wait up to `max_backoff`) and is reported in the log and
by `publisher feeds`; the other feeds carry on. Each item's article page is fetched for the full
teaser when it can be; otherwise the entry's own title, summary and link make the teaser."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, update

from publisher.articles import MAX_TAGS, Article, ArticleError
from publisher.clock import utcnow
from publisher.config import FeedSettings, Settings
from publisher.engine.releases.release import release
from publisher.engine.storage.schema import feed_items, feeds, upsert
from publisher.intake.feeds import FeedEntry, parse_feed
from publisher.intake.fetch import fetch
from publisher.intake.sources import fetch_limits, load_article

logger = logging.getLogger(__name__)


class FeedFailure(Exception):
    """A poll that yielded nothing usable; the message names the feed and the reason."""


@dataclass(frozen=True)
class Poll:
    """What one poll of a feed came to."""

    feed: str
    status: str  # "new items", "nothing new", "not modified", "failed", "backing off"
    released: int = 0
    remembered: int = 0
    error: str | None = None


class FeedWatcher:
    """Polls the configured feeds; `poll(name)` is one APScheduler job run."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.on_queued = on_queued

    def poll(self, name: str, now: datetime | None = None, *, asked: bool = False) -> Poll:
        """Poll feed `name` once: unless it is backing off after failures, or when `asked` (an
        editor polls it by hand), at once."""
        feed = self.settings.feeds[name]
        now = now or utcnow()
        state = self._state(name, feed)
        backing_off = state["backoff_until"] is not None and now < state["backoff_until"]
        if backing_off and not asked:
            return Poll(name, "backing off", error=state["last_error"])
        try:
            result = self._poll(name, feed, state, now)
        except FeedFailure as exc:
            return self._failed(name, feed, state, now, str(exc))
        return result

    def _poll(self, name: str, feed: FeedSettings, state: dict[str, Any], now: datetime) -> Poll:
        conditional = {}
        if state["etag"]:
            conditional["If-None-Match"] = state["etag"]
        if state["last_modified"]:
            conditional["If-Modified-Since"] = state["last_modified"]
        try:
            fetched = fetch(feed.url, fetch_limits(self.settings), conditional)
        except ArticleError as exc:
            raise FeedFailure(str(exc)) from None
        if fetched.status == 304:
            self._save(name, now, failures=0, last_error=None, backoff_until=None, ok_at=now)
            return Poll(name, "not modified")
        if not 200 <= fetched.status < 300:
            raise FeedFailure(f"{feed.url}: the server answered HTTP {fetched.status}")
        # What was wrong with single items: shown as the feed's last error, the feed goes on.
        faults: list[str] = []
        try:
            entries = parse_feed(fetched.body, source=name, language=feed.language, left_out=faults)
        except ArticleError as exc:
            raise FeedFailure(str(exc)) from None
        # Only a poll that read the feed counts: after a first poll that failed, the next one
        # still only remembers the backlog.
        first_poll = state["ok_at"] is None
        unseen = self._unseen(name, entries)
        chosen = unseen[: min(feed.backfill, feed.max_items)] if first_poll else unseen
        if len(chosen) > feed.max_items:
            logger.warning(
                "feed %s: %d new items at once; releasing the newest %d, remembering the rest",
                name,
                len(chosen),
                feed.max_items,
                extra={"feed": name},
            )
            chosen = chosen[: feed.max_items]
        released = 0
        # Oldest first, as the newsroom published them. Each is released before it is
        # remembered: a crash in between releases it again, which the release turns into nothing.
        for entry in reversed(chosen):
            try:
                article = self._article(entry, feed)
                result = release(self.engine, self.settings, article, name, now=now)
            except (ArticleError, ValueError) as exc:
                logger.warning("feed %s: item %s left out: %s", name, entry.key[:200], exc)
                faults.append(f"item {entry.key[:200]}: {exc}")
            else:
                released += bool(result.queued)
            self._remember(name, [entry.key], now)
        self._remember(name, [e.key for e in unseen if e not in chosen], now)
        headers = {k.lower(): v for k, v in fetched.headers.items()}
        self._save(
            name,
            now,
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            failures=0,
            last_error="; ".join(faults)[:1000] or None,
            backoff_until=None,
            ok_at=now,
        )
        if released and self.on_queued is not None:
            self.on_queued()
        if unseen:
            logger.info(
                "feed %s: %d new items, %d released",
                name,
                len(unseen),
                released,
                extra={"feed": name},
            )
        status = "new items" if unseen else "nothing new"
        return Poll(name, status, released=released, remembered=len(unseen))

    def _article(self, entry: FeedEntry, feed: FeedSettings) -> Article:
        """The article page's own teaser material, else the feed entry's. Keyed by URL, so an
        article the CMS webhook already released is not released again."""
        article = entry.article.model_copy(update={"id": None})
        if not feed.fetch_pages:
            return article
        try:
            page = load_article(article.url, self.settings)
        except (ArticleError, ValueError) as exc:
            logger.info("feed item %s: page not used (%s)", article.url, exc)
            return article
        # The feed's own category is the newsroom's section, which the release rules match on.
        return page.model_copy(
            update={
                "id": None,
                "url": article.url,
                "published_at": page.published_at or article.published_at,
                "language": page.language or article.language,
                "section": article.section or page.section,
                "tags": tuple(dict.fromkeys((*article.tags, *page.tags)))[:MAX_TAGS],
            }
        )

    def _failed(
        self, name: str, feed: FeedSettings, state: dict[str, Any], now: datetime, error: str
    ) -> Poll:
        failures = state["failures"] + 1
        wait = min(feed.max_backoff, feed.every * 2 ** (failures - 1))
        self._save(
            name,
            now,
            failures=failures,
            last_error=error,
            backoff_until=now + timedelta(seconds=wait) if failures > 1 else None,
        )
        logger.warning(
            "feed %s failed (%d in a row): %s; next try in %d s",
            name,
            failures,
            error,
            max(wait, feed.every),
            extra={"feed": name},
        )
        return Poll(name, "failed", error=error)

    def _state(self, name: str, feed: FeedSettings) -> dict[str, Any]:
        fresh = {
            "url": feed.url,
            "etag": None,
            "last_modified": None,
            "polled_at": None,
            "ok_at": None,
            "failures": 0,
            "last_error": None,
            "backoff_until": None,
        }
        with self.engine.begin() as connection:
            # Workers starting together each make a new feed's row: the first one does.
            connection.execute(
                upsert(connection, feeds)
                .values(name=name, **fresh)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            row = connection.execute(
                select(feeds).where(feeds.c.name == name).with_for_update()
            ).one()
            if row.url != feed.url:
                # A feed the newsroom pointed elsewhere: start afresh.
                connection.execute(update(feeds).where(feeds.c.name == name).values(fresh))
                return fresh
            return dict(row._mapping)

    def _save(self, name: str, now: datetime, **values: Any) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(feeds).where(feeds.c.name == name).values(polled_at=now, **values)
            )

    def _unseen(self, name: str, entries: list[FeedEntry]) -> list[FeedEntry]:
        keys = [e.key[:1024] for e in entries]
        with self.engine.connect() as connection:
            seen = set(
                connection.execute(
                    select(feed_items.c.key).where(
                        feed_items.c.feed == name, feed_items.c.key.in_(keys)
                    )
                ).scalars()
            )
        fresh, taken = [], set()
        for entry in entries:
            key = entry.key[:1024]
            if key not in seen and key not in taken:
                fresh.append(entry)
                taken.add(key)
        return fresh

    def _remember(self, name: str, keys: list[str], now: datetime) -> None:
        if not keys:
            return
        with self.engine.begin() as connection:
            connection.execute(
                insert(feed_items),
                [{"feed": name, "key": key[:1024], "seen_at": now} for key in keys],
            )


def feed_states(engine: Engine, settings: Settings) -> list[dict[str, Any]]:
    """Each configured feed with its last poll, failures and error, for `publisher feeds`."""
    with engine.connect() as connection:
        rows = {row.name: row for row in connection.execute(select(feeds))}
    states = []
    for name, feed in settings.feeds.items():
        row = rows.get(name)
        states.append(
            {
                "feed": name,
                "url": feed.url,
                "every": feed.every,
                "polled_at": row.polled_at.isoformat() if row and row.polled_at else None,
                "ok_at": row.ok_at.isoformat() if row and row.ok_at else None,
                "failures": row.failures if row else 0,
                "last_error": row.last_error if row else None,
            }
        )
    return states

"""Bringing the back catalogue in (`publisher articles import`): the articles a sitemap, a feed's
history or JSON lines list are stored without being posted, so that resurfacing and the desk's
search know the archive from the first day. Nothing is queued, and an import never replaces
what the CMS, a feed or an editor brought. Bounded (articles, documents) and resumable: an
article already stored is passed over without fetching its page, so a run that stopped is
started again as it was."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from publisher.articles import Article, ArticleError
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.posts import identity
from publisher.engine.posts.queue import upsert_article
from publisher.intake.archive import Listed, read_listing
from publisher.intake.sources import load_article, source_bytes

logger = logging.getLogger(__name__)

# Documents one import reads at most (an index's sitemaps, a feed's history pages).
MOST_DOCUMENTS = 1_000
# Reasons kept to tell (the count of articles left out is whole).
REASONS_KEPT = 20


@dataclass
class Imported:
    """What an import came to so far: articles stored, already there, older than asked for,
    left out (with the first reasons), and documents read."""

    stored: int = 0
    known: int = 0
    older: int = 0
    left_out: int = 0
    reasons: list[str] = field(default_factory=list)
    documents: int = 0

    def leave_out(self, why: str) -> None:
        self.left_out += 1
        if len(self.reasons) < REASONS_KEPT:
            self.reasons.append(why)


class ArchiveImport:
    """One import: `most` articles stored at most, none published before `since`; pages are
    fetched for articles the listing gives no headline of when `fetch_pages`. `progress` hears
    of every article."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        most: int,
        since: datetime | None = None,
        fetch_pages: bool = True,
        progress: Callable[[Imported], None] | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.most = most
        self.since = since
        self.fetch_pages = fetch_pages
        self.progress = progress or (lambda _: None)
        self.done = Imported()

    def run(self, source: str) -> Imported:
        """Import what `source` (a file or an http(s) address) lists, and the documents it
        names in turn."""
        waiting, seen = [source], {source}
        while waiting and self.done.stored < self.most:
            if self.done.documents >= MOST_DOCUMENTS:
                self.done.leave_out(f"more than {MOST_DOCUMENTS:,} documents: the rest not read")
                break
            document = waiting.pop(0)
            try:
                listing = read_listing(
                    source_bytes(document, self.settings), document, default_tz=self.settings.tz
                )
            except ArticleError as exc:
                if document == source:
                    raise
                # One sitemap of an index unreadable: the others are still imported.
                self.done.leave_out(str(exc))
                continue
            self.done.documents += 1
            for why in listing.left_out:
                self.done.leave_out(why)
            waiting += [more for more in listing.more if more not in seen]
            seen.update(listing.more)
            for item in listing.items:
                if self.done.stored >= self.most:
                    break
                self._take(item)
                self.progress(self.done)
        return self.done

    def _take(self, item: Listed) -> None:
        if self.since and item.published_at and item.published_at < self.since:
            self.done.older += 1
            return
        with self.engine.connect() as connection:
            if identity.is_stored(connection, item.url):
                self.done.known += 1
                return
        try:
            article = self._article(item)
        except (ArticleError, ValueError) as exc:
            self.done.leave_out(f"{item.url[:200]}: {exc}")
            return
        if article is None:
            self.done.leave_out(f"{item.url[:200]}: the listing gives no headline")
            return
        if self.since and article.published_at and article.published_at < self.since:
            self.done.older += 1
            return
        with self.engine.begin() as connection:
            stored = upsert_article(connection, article, utcnow(), "archive")
        if stored.kept:
            self.done.known += 1
        else:
            self.done.stored += 1

    def _article(self, item: Listed) -> Article | None:
        listed = item.as_article(self.settings.tz)
        if listed is not None or not self.fetch_pages:
            return listed
        page = load_article(item.url, self.settings)
        return page.model_copy(
            update={
                "id": None,
                "url": item.url,
                "published_at": page.published_at or item.published_at,
                "language": page.language or item.language,
            }
        )

"""One article, one identity, whatever the source: an article is its CMS id, else its canonical
URL, across the CMS's webhook, an editor's desk, bot or command line, the feeds and the archive
brought in. Which source may replace what another brought (the CMS over everything, then an
editor, a feed, the archive) and which stored article a new arrival is decided here, once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine, Select, select

from publisher.articles import Article, whole_number
from publisher.engine.storage.rowids import is_row_id
from publisher.engine.storage.schema import articles

# Where an article came from: the CMS's webhook, a feed, an editor (desk, bot, command line),
# or the back catalogue brought in (`publisher articles import`).
Origin = Literal["cms", "feed", "editor", "archive"]

# Who may replace whom: a source replaces what it or a lower one brought, never a higher one.
RANK: dict[str, int] = {"archive": -1, "feed": 0, "editor": 1, "cms": 2}


def _rows(lock: bool) -> Select[Any]:
    """The stored articles as identity reads them (their row: id, key, headline, data,
    origin)."""
    query = select(
        articles.c.id, articles.c.key, articles.c.headline, articles.c.data, articles.c.origin
    )
    return query.with_for_update() if lock else query


def origin_of(row: Any) -> str:
    """Where a stored article came from; rows from before origins were kept count as an
    editor's."""
    return str(row.origin or "editor")


def find(connection: Connection, article: Article, *, lock: bool = False) -> Any:
    """The stored article `article` is (its row: id, key, data, origin), else None: the one
    with its CMS id; else, for an article without an id, the one at its address whatever its
    source; for one with an id, an article at its address that has none (the CMS's id is then
    the one it is known by)."""
    query = _rows(lock)
    key = article.id or article.url
    row = connection.execute(query.where(articles.c.key == key)).first()
    if row is not None:
        return row
    same_address = query.where(articles.c.url == article.url)
    if article.id:
        same_address = same_address.where(articles.c.key == articles.c.url)
    return connection.execute(same_address.order_by(articles.c.id).limit(1)).first()


def is_stored(connection: Connection, url: str) -> bool:
    """Whether an article at `url` is stored (under its address, or the CMS's id for it)."""
    found = select(articles.c.id).where((articles.c.url == url) | (articles.c.key == url))
    return connection.execute(found.limit(1)).first() is not None


def outranks(stored_origin: str, origin: str) -> bool:
    """Whether what `stored_origin` brought stands above what `origin` brings: then the stored
    article is kept as it is, and the newcomer neither replaces nor releases it again."""
    return RANK[stored_origin] > RANK[origin]


def conflicts(stored: Article, given: Article, in_use: bool) -> bool:
    """Whether an editor brings, under the identity of a stored article that has posts
    (`in_use`: queued or out, so the log and the results name it), another article (another
    headline): a file beside a mistyped address, say. It is said, and the stored one kept; an
    article nothing was posted of yet is the editor's to change."""
    return in_use and stored.headline.casefold() != given.headline.casefold()


def find_named(connection: Connection, name: str, *, lock: bool = False) -> Any:
    """The stored article an editor names by its CMS id, its number at the desk (the row's,
    where no CMS id is that number) or its address, else None."""
    query = _rows(lock)
    row = connection.execute(query.where(articles.c.key == name)).first()
    number = whole_number(name)
    if row is None and number is not None and is_row_id(number):
        row = connection.execute(query.where(articles.c.id == number)).first()
    if row is None:
        row = connection.execute(
            query.where(articles.c.url == name).order_by(articles.c.id).limit(1)
        ).first()
    return row


@dataclass(frozen=True)
class Named:
    """A stored article an editor named: its number, its key (which names it and no other)
    and its headline."""

    id: int
    key: str
    headline: str


def named(engine: Engine, name: str) -> Named | None:
    """The stored article an editor names (as `find_named` reads the name), else None."""
    with engine.connect() as connection:
        row = find_named(connection, name)
    return None if row is None else Named(row.id, row.key, row.headline)


def numbered(engine: Engine, article_id: int) -> Named | None:
    """The article stored under this number (the desk's), else None."""
    with engine.connect() as connection:
        row = connection.execute(_rows(False).where(articles.c.id == article_id)).first()
    return None if row is None else Named(row.id, row.key, row.headline)


@dataclass(frozen=True)
class RecentArticle:
    """An article stored lately: its row id, headline and when it was last stored."""

    id: int
    headline: str
    updated_at: datetime


def recent_articles(engine: Engine, limit: int) -> list[RecentArticle]:
    """The articles stored or updated last, newest first."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(articles.c.id, articles.c.headline, articles.c.updated_at)
            .order_by(articles.c.updated_at.desc())
            .limit(limit)
        )
        return [RecentArticle(*row) for row in rows]

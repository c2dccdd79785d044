"""What a calendar shows of a stretch of time, worked out by the database so that a busy month
costs what a quiet one does: for each of its cells (an hour or a day, given by the instants
they begin at) the first few posts and how many there are, and the times a channel's posts
take near the slots it may still offer."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from itertools import pairwise
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    DateTime,
    Engine,
    Select,
    String,
    and_,
    bindparam,
    column,
    func,
    lateral,
    literal,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY

from publisher.engine.lifecycle import TAKING_TIME, State
from publisher.engine.storage.schema import UTCDateTime, articles, posts

# Windows around slots asked about in one statement (a month's slots are about a hundred).
WINDOWS_AT_ONCE = 200
# SQLite: up to this many cells (a month's days), each is asked for in its own part of a
# statement; more (a week's hours) are placed from one reading of the stretch.
ASKED_CELL_BY_CELL = 50
_COLUMNS = (posts.c.id, posts.c.channel, posts.c.state, posts.c.article_id, posts.c.queued_by)


class _Shown(NamedTuple):
    """A post as a calendar cell shows it."""

    id: int
    channel: str
    state: str
    article_id: int
    at: datetime
    headline: str
    queued_by: str


@dataclass(frozen=True)
class CellPosts:
    """A cell's first posts (id, channel, state, article_id, `at`, and once found, headline),
    soonest first, and how many posts it holds in all."""

    first: list[Any]
    count: int


def _at() -> ColumnElement[datetime]:
    # When a post went out, else when it is due: where a calendar shows it.
    return type_coerce(func.coalesce(posts.c.sent_at, posts.c.due_at), UTCDateTime)


def cells(
    engine: Engine,
    bounds: Sequence[datetime],
    limit: int,
    channel: str | None = None,
) -> list[CellPosts]:
    """The posts (of `channel`, or all; cancelled ones left out) of each cell: cell n runs
    from `bounds[n]` to `bounds[n + 1]`; at most `limit` of them each, with the count."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            found = _beside_each_cell(connection, bounds, limit, channel)
        elif len(bounds) <= ASKED_CELL_BY_CELL:
            found = _cell_by_cell(connection, bounds, limit, channel)
        else:
            found = _placed_here(connection, bounds, limit, channel)
        shown = [row.article_id for cell in found for row in cell.first]
        headlines = dict(
            connection.execute(
                select(articles.c.id, func.substr(articles.c.headline, 1, 80)).where(
                    articles.c.id.in_(set(shown))
                )
            ).all()
        )
    return [CellPosts([_shown(row, headlines) for row in cell.first], cell.count) for cell in found]


def _shown(row: Any, headlines: dict[int, str]) -> _Shown:
    headline = headlines.get(row.article_id, "")
    return _Shown(row.id, row.channel, row.state, row.article_id, row.at, headline, row.queued_by)


def _conditions(
    at: ColumnElement[datetime],
    since: datetime | ColumnElement[datetime],
    until: datetime | ColumnElement[datetime],
    channel: str | ColumnElement[str] | None,
) -> list[ColumnElement[bool]]:
    conditions = [at >= since, at < until, posts.c.state != State.CANCELLED]
    if channel is not None:
        conditions.append(posts.c.channel == channel)
    return conditions


def _cell_by_cell(
    connection: Connection, bounds: Sequence[datetime], limit: int, channel: str | None
) -> list[CellPosts]:
    """A few cells (a month's days) asked one by one in two statements: each count and each
    first few are read from the index, however many posts a day holds."""
    spans = len(bounds) - 1
    counts, firsts = _by_cell_statements(spans, limit, channel is not None)
    values: dict[str, Any] = {"channel": channel}
    values |= {f"since{n}": since for n, since in enumerate(bounds[:-1])}
    values |= {f"until{n}": until for n, until in enumerate(bounds[1:])}
    counted: dict[int, int] = {cell: number for cell, number in connection.execute(counts, values)}
    first: list[list[Any]] = [[] for _ in range(spans)]
    for row in connection.execute(firsts, values):
        first[row.cell].append(row)
    return [CellPosts(first[n], counted.get(n, 0)) for n in range(spans)]


@cache
def _by_cell_statements(
    spans: int, limit: int, one_channel: bool
) -> tuple[CompoundSelect, CompoundSelect]:
    """The two statements of `_cell_by_cell` for so many cells, their instants (and channel)
    left as parameters: built once, as building a month's 31 parts costs more than running
    them."""
    at = _at()
    channel: ColumnElement[str] | None = bindparam("channel", type_=String) if one_channel else None

    def within(n: int) -> list[ColumnElement[bool]]:
        since = bindparam(f"since{n}", type_=UTCDateTime)
        until = bindparam(f"until{n}", type_=UTCDateTime)
        return _conditions(at, since, until, channel)

    counts = union_all(
        *(
            select(literal(n).label("cell"), func.count().label("count")).where(*within(n))
            for n in range(spans)
        )
    )
    firsts = union_all(
        *(
            select(literal(n).label("cell"), *_COLUMNS, at.label("at"))
            .where(*within(n))
            .order_by(at, posts.c.id)
            .limit(limit)
            .subquery()
            .select()
            for n in range(spans)
        )
    )
    return counts, firsts


def _beside_each_cell(
    connection: Connection, bounds: Sequence[datetime], limit: int, channel: str | None
) -> list[CellPosts]:
    """PostgreSQL: the cells given as two arrays, and each cell's count and first few asked
    beside it (a lateral join), read from the index: one small statement to plan however many
    cells there are, where the statement of many parts takes longer to plan than to run."""
    instants = ARRAY(DateTime(timezone=True))
    spans = (
        func.unnest(
            bindparam("since", list(bounds[:-1]), type_=instants),
            bindparam("until", list(bounds[1:]), type_=instants),
        )
        .table_valued(
            column("since", UTCDateTime), column("until", UTCDateTime), with_ordinality="cell"
        )
        .render_derived(name="spans")
    )
    at = _at()
    conditions = _conditions(at, spans.c.since, spans.c.until, channel)
    counted = select(func.count()).where(*conditions).scalar_subquery()
    firsts = lateral(
        select(*_COLUMNS, at.label("at")).where(*conditions).order_by(at, posts.c.id).limit(limit)
    )
    first: list[list[Any]] = [[] for _ in bounds[1:]]
    # Ordinality counts from one.
    for row in connection.execute(
        select(spans.c.cell, firsts)
        .select_from(spans.join(firsts, true()))
        .order_by(spans.c.cell, firsts.c.at, firsts.c.id)
    ):
        first[row.cell - 1].append(row)
    counts = dict(connection.execute(select(spans.c.cell, counted)).all())
    return [CellPosts(cell, counts.get(n, 0)) for n, cell in enumerate(first, start=1)]


def _placed_here(
    connection: Connection, bounds: Sequence[datetime], limit: int, channel: str | None
) -> list[CellPosts]:
    """Many small cells (a week's hours): every post of the stretch read once, soonest first,
    and each cell's found by bisection."""
    at = _at()
    rows = connection.execute(
        select(*_COLUMNS, at.label("at"))
        .where(*_conditions(at, bounds[0], bounds[-1], channel))
        .order_by(at, posts.c.id)
    ).all()
    moments = [row.at for row in rows]
    found = []
    for since, until in pairwise(bounds):
        first = bisect_left(moments, since)
        end = bisect_left(moments, until, first)
        found.append(CellPosts(list(rows[first : min(end, first + limit)]), end - first))
    return found


def taken_near(
    engine: Engine,
    channels: Collection[str],
    windows: Iterable[tuple[datetime, datetime]],
    besides: Collection[int] = (),
) -> dict[str, list[datetime]]:
    """For each of `channels`, the times its posts (other than those `besides`) are out at or
    due at that lie within one of the `windows` (open intervals around the slots it may offer):
    all a search for its free slots needs to know. Channels sharing slot times share windows:
    asked for once."""
    shared = sorted(set(windows))
    found: dict[str, list[datetime]] = {name: [] for name in channels}
    with engine.connect() as connection:
        for start in range(0, len(shared), WINDOWS_AT_ONCE):
            part = shared[start : start + WINDOWS_AT_ONCE]
            values = {f"lo{n}": lo for n, (lo, _) in enumerate(part)}
            values |= {f"hi{n}": hi for n, (_, hi) in enumerate(part)}
            for post_id, channel, moment, state in connection.execute(
                _near_statement(len(part)), values
            ):
                if channel in found and state in TAKING_TIME and post_id not in besides:
                    found[channel].append(moment)
    return found


@cache
def _near_statement(windows: int) -> Select[Any]:
    """The posts within any of so many windows, their bounds left as parameters: built once
    for each number of windows (up to `WINDOWS_AT_ONCE`)."""
    at = _at()
    near = [
        and_(
            at > bindparam(f"lo{n}", type_=UTCDateTime), at < bindparam(f"hi{n}", type_=UTCDateTime)
        )
        for n in range(windows)
    ]
    # Channel and state are left to the caller: asked for, they draw the planner to an index it
    # then reads whole, rather than to the times'.
    return select(posts.c.id, posts.c.channel, at, posts.c.state).where(or_(*near))

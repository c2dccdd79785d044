"""Reading what posts achieved (`publisher stats`): each sent post with its latest measurement
and the clicks on its redirect link, and the totals per article (with each channel inside) or
per channel (with medians). A number no network of a total offered stays null; where some did,
the total is theirs."""

from __future__ import annotations

import csv
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import Any, Literal, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, and_, func, select

from publisher.channels import METRICS
from publisher.clock import hour_of
from publisher.engine.learning.clicks import clicks_of
from publisher.engine.lifecycle import State
from publisher.engine.storage.schema import articles, link_clicks, measurements, posts
from publisher.links import code_at_end

By = Literal["post", "article", "channel"]
# The networks' numbers and the newsroom's own: clicks on its redirect links (null for a post
# that carried no such link).
SHOWN = (*METRICS, "clicks")


# What readers did with a post on its network, added up: the numbers of an interaction.
ENGAGING = ("likes", "reposts", "replies", "quotes", "shares")


def measured_stamp(engine: Engine) -> tuple[Any, ...]:
    """A stamp that changes whenever a measurement or an hour's clicks come in: the results
    page works its lists out again only then."""
    with engine.connect() as connection:
        return (
            *connection.execute(select(func.max(measurements.c.id))).one(),
            *connection.execute(
                select(func.count(), func.max(link_clicks.c.hour)).select_from(link_clicks)
            ).one(),
        )


def engagement(metrics: dict[str, int | None]) -> int | None:
    """A post's interactions on its network (likes, reposts, replies, quotes, shares), null
    where the network told none of them."""
    told = [value for name in ENGAGING if (value := metrics.get(name)) is not None]
    return sum(told) if told else None


def ranked(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Posts best first: by the newsroom's own clicks, then by interactions on the network."""
    return sorted(
        items,
        key=lambda item: (item["metrics"].get("clicks") or 0, engagement(item["metrics"]) or 0),
        reverse=True,
    )


def by_post(
    engine: Engine,
    since: datetime | None = None,
    channel: str | None = None,
    article: str | None = None,
    post: int | None = None,
) -> list[dict[str, Any]]:
    """Every sent post (newest first) with its latest measurement: `post`, `article`,
    `headline`, `channel`, `type`, `sent_at`, `permalink`, `measured_at` and `metrics` (every
    name of METRICS; all null before a first measurement)."""
    latest = (
        select(measurements.c.post_id, func.max(measurements.c.measured_at).label("at"))
        .group_by(measurements.c.post_id)
        .subquery()
    )
    query = (
        select(
            posts.c.id,
            articles.c.key,
            articles.c.headline,
            posts.c.channel,
            posts.c.channel_type,
            posts.c.sent_at,
            posts.c.permalink,
            posts.c.link,
            measurements.c.measured_at,
            measurements.c.metrics,
        )
        .join(articles, articles.c.id == posts.c.article_id)
        .outerjoin(latest, latest.c.post_id == posts.c.id)
        .outerjoin(
            measurements,
            and_(measurements.c.post_id == posts.c.id, measurements.c.measured_at == latest.c.at),
        )
        .where(posts.c.state == State.SENT)
        .order_by(posts.c.sent_at.desc(), posts.c.id.desc())
    )
    if since is not None:
        query = query.where(posts.c.sent_at >= since)
    if channel is not None:
        query = query.where(posts.c.channel == channel)
    if article is not None:
        query = query.where(articles.c.key == article)
    if post is not None:
        query = query.where(posts.c.id == post)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
        codes = {row.id: code_at_end(row.link or "") for row in rows}
        clicked = _clicks(connection, rows, codes)
    found: dict[int, dict[str, Any]] = {}
    for row in rows:
        # Two measurements at one moment (points taken together) are one post's: keep one.
        found.setdefault(
            row.id,
            {
                "post": row.id,
                "article": row.key,
                "headline": row.headline,
                "channel": row.channel,
                "type": row.channel_type,
                "sent_at": row.sent_at.isoformat() if row.sent_at else None,
                "permalink": row.permalink,
                "measured_at": row.measured_at.isoformat() if row.measured_at else None,
                "metrics": {name: (row.metrics or {}).get(name) for name in METRICS}
                | {"clicks": clicked.get(row.id) if codes[row.id] else None},
            },
        )
    return list(found.values())


def _clicks(
    connection: Connection, rows: Sequence[Any], codes: dict[int, str | None]
) -> dict[int, int]:
    """Each post's clicks on its redirect link. Posts of one article on one channel share their
    code: an hour's clicks go to the latest of them sent by that hour."""
    sharing: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for row in rows:
        code = codes[row.id]
        if code and row.sent_at is not None:
            sharing[code].append((hour_of(row.sent_at), row.id))
    counted: dict[int, int] = {}
    for code, buckets in clicks_of(connection, sharing).items():
        sent = sorted(sharing[code])
        for post_id in (post_id for _, post_id in sent):
            counted[post_id] = 0
        for hour, number in buckets:
            by_then = [post_id for at, post_id in sent if at <= hour]
            if by_then:
                counted[by_then[-1]] += number
    return counted


def _total(items: list[dict[str, Any]]) -> dict[str, int | None]:
    """Each metric summed over the posts that offer it; null where none does."""
    totals: dict[str, int | None] = {}
    for name in SHOWN:
        offered = [item["metrics"][name] for item in items if item["metrics"][name] is not None]
        totals[name] = sum(offered) if offered else None
    return totals


def by_article(posts_found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per article (the most recently posted first): its totals across channels, and each
    channel's totals inside."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in posts_found:
        grouped[item["article"]].append(item)
    result = []
    for key, items in grouped.items():
        channels: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for item in items:
            channels[item["channel"]].append(item)
        result.append(
            {
                "article": key,
                "headline": items[0]["headline"],
                "posts": len(items),
                "metrics": _total(items),
                "channels": {name: _total(group) for name, group in channels.items()},
            }
        )
    return result


def by_channel(posts_found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per channel: how many posts, each metric's total and its median per post (over the
    posts measured for it)."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in posts_found:
        grouped[item["channel"]].append(item)
    result = []
    for name, items in sorted(grouped.items()):
        medians: dict[str, float | None] = {}
        for metric in SHOWN:
            offered = [i["metrics"][metric] for i in items if i["metrics"][metric] is not None]
            medians[metric] = median(offered) if offered else None
        result.append(
            {
                "channel": name,
                "type": items[0]["type"],
                "posts": len(items),
                "metrics": _total(items),
                "medians": medians,
            }
        )
    return result


def weekly(
    posts_found: list[dict[str, Any]], mondays: list[datetime], metric: str
) -> dict[str, list[int | None]]:
    """Per channel, a metric (or "engagement") added up per week, the weeks starting at
    `mondays` (aware, in order; a post counts in the last week begun when it was sent); a week
    whose posts told no such number is null."""
    found: dict[str, list[int | None]] = {}
    for item in posts_found:
        sent = datetime.fromisoformat(item["sent_at"])
        week = bisect_right(mondays, sent) - 1
        if week < 0:
            continue
        value = (
            engagement(item["metrics"]) if metric == "engagement" else item["metrics"].get(metric)
        )
        row = found.setdefault(item["channel"], [None] * len(mondays))
        if value is not None:
            row[week] = (row[week] or 0) + value
    return found


def _flat(item: dict[str, Any]) -> dict[str, Any]:
    """A row of CSV: the item's own fields, its metrics (and medians) as columns."""
    row = {k: v for k, v in item.items() if k not in ("metrics", "medians", "channels")}
    row |= item["metrics"]
    row |= {f"median_{k}": v for k, v in item.get("medians", {}).items()}
    return row


@dataclass(frozen=True)
class Spreadsheet:
    """How a spreadsheet program of one language opens a CSV file by a double click: German
    Excel splits at semicolons and writes 1,5; times are read as local ones, so they are given
    in the newsroom's `zone` (named in their column's heading)."""

    delimiter: str
    decimal: str
    zone: ZoneInfo


def write_csv(
    items: list[dict[str, Any]], out: TextIO, spreadsheet: Spreadsheet | None = None
) -> None:
    """The items (of any grouping) as CSV, one column per field and metric: plain (ISO 8601
    times in UTC, commas), or as `spreadsheet` opens it."""
    rows = [_flat(item) for item in items]
    if not rows:
        return
    if spreadsheet is not None:
        rows = [_for_spreadsheet(row, spreadsheet) for row in rows]
    delimiter = spreadsheet.delimiter if spreadsheet else ","
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n", delimiter=delimiter)
    writer.writeheader()
    writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)


def _for_spreadsheet(row: dict[str, Any], sheet: Spreadsheet) -> dict[str, Any]:
    """A row with its times local ("2026-12-08 10:00", the zone in the heading) and its
    fractions written with the spreadsheet's decimal mark."""
    shown: dict[str, Any] = {}
    for name, value in row.items():
        if name.endswith("_at"):
            local = datetime.fromisoformat(value).astimezone(sheet.zone) if value else None
            shown[f"{name} ({sheet.zone.key})"] = local.strftime(LOCAL_TIME) if local else None
        elif isinstance(value, float):
            shown[name] = f"{value:g}".replace(".", sheet.decimal)
        else:
            shown[name] = value
    return shown


# A local time as spreadsheets of every language read it as one.
LOCAL_TIME = "%Y-%m-%d %H:%M"


# What makes a spreadsheet read a cell as a formula (or start one after a tab or line end).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A cell a spreadsheet shows as it is: a text that would start a formula (a headline
    "=HYPERLINK(…)") gets a leading apostrophe, as OWASP advises; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value

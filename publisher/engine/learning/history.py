"""A channel's history to learn its hours from: every sent post's latest numbers, and the results
a newsroom brought from before the install (`publisher stats import`: a CSV of `channel`,
`sent_at` with its offset, and `clicks` and/or `engagement` or the networks' own `likes`,
`reposts`, `replies`, `quotes`, `shares`; all or nothing, again without doubles)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TextIO

from sqlalchemy import Engine, select

from publisher.articles import whole_number
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.learning import scorecard
from publisher.engine.learning.estimate import Estimate, Measure, Sample, estimate
from publisher.engine.storage.schema import imported_results, upsert
from publisher.errors import EditorError

# Lines an import takes at most (years of a busy channel).
MOST_LINES = 200_000


class HistoryError(EditorError):
    """A file that cannot be imported; nothing of it was."""


@dataclass(frozen=True)
class Past:
    """One past post of a channel: when it went out, and what it earned (either may be
    unknown)."""

    at: datetime
    clicks: int | None
    engagement: int | None


def past_posts(engine: Engine, channel: str) -> list[Past]:
    """Every sent post of the channel with its latest numbers, and every imported one."""
    found = [
        Past(
            datetime.fromisoformat(item["sent_at"]),
            item["metrics"]["clicks"],
            scorecard.engagement(item["metrics"]),
        )
        for item in scorecard.by_post(engine, channel=channel)
        if item["sent_at"] and item["measured_at"]
    ]
    with engine.connect() as connection:
        rows = connection.execute(
            select(imported_results).where(imported_results.c.channel == channel)
        ).all()
    found += [Past(row.sent_at, row.clicks, row.engagement) for row in rows]
    return found


def learned(engine: Engine, settings: Settings, channel: str) -> Estimate:
    """The channel's hours of the week as its history says: in first-party clicks where most of
    its posts were counted so, else in interactions on the network."""
    latest = utcnow() + timedelta(days=1)
    # Rows stored before times were bounded on import may lie anywhere: they are left out.
    past = [p for p in past_posts(engine, channel) if EARLIEST <= p.at <= latest]
    clicked = sum(p.clicks is not None for p in past)
    measure: Measure = "clicks" if past and clicked * 2 >= len(past) else "interactions"
    samples = [
        Sample(p.at, float(value))
        for p in past
        if (value := p.clicks if measure == "clicks" else p.engagement) is not None
    ]
    return estimate(samples, settings.channel_tz(channel), measure)


# No newsroom posted on a network before this; a time after tomorrow is a slip.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def read_history(lines: TextIO, settings: Settings) -> list[dict[str, object]]:
    """The rows of an import file; an HistoryError naming every bad line (by its number) when
    any line is bad, so that nothing of a broken file is kept."""
    reader = csv.DictReader(lines)
    columns = set(reader.fieldnames or ())
    numbers = {"clicks", "engagement", *scorecard.ENGAGING}
    if not {"channel", "sent_at"} <= columns or not columns & numbers:
        raise HistoryError(
            "the file needs the columns channel and sent_at, and clicks, engagement or the "
            "networks' numbers (likes, reposts, replies, quotes, shares)"
        )
    rows: list[dict[str, object]] = []
    bad: list[str] = []
    for number, line in enumerate(reader, start=2):
        if number > MOST_LINES + 1:
            raise HistoryError(f"the file has more than {MOST_LINES:,} lines")
        try:
            rows.append(_row(line, settings))
        except ValueError as exc:
            bad.append(f"line {number}: {exc}")
    if bad:
        shown = "; ".join(bad[:10]) + (f"; and {len(bad) - 10} more" if len(bad) > 10 else "")
        raise HistoryError(f"nothing imported: {shown}")
    return rows


def _row(line: dict[str, str | None], settings: Settings) -> dict[str, object]:
    channel = (line.get("channel") or "").strip()
    if channel not in settings.channels:
        raise ValueError(f"no channel {channel[:40]!r} in the configuration")
    written = (line.get("sent_at") or "").strip()
    try:
        sent_at = datetime.fromisoformat(written)
    except ValueError:
        raise ValueError(f"{written[:40]!r} is no time (ISO 8601 with its offset)") from None
    if sent_at.tzinfo is None:
        raise ValueError(f"{written[:40]!r} has no offset (+01:00, Z)")
    try:
        sent_at = sent_at.astimezone(UTC)
    except OverflowError:
        sent_at = EARLIEST - timedelta(days=1)
    if not EARLIEST <= sent_at <= utcnow() + timedelta(days=1):
        raise ValueError(f"{written[:40]!r} is not between 2000 and tomorrow")
    clicks = _count(line, "clicks")
    parts = [_count(line, name) for name in ("engagement", *scorecard.ENGAGING)]
    told = [part for part in parts[1:] if part is not None]
    engagement = parts[0] if parts[0] is not None else (sum(told) if told else None)
    if clicks is None and engagement is None:
        raise ValueError("neither clicks nor interactions")
    return {"channel": channel, "sent_at": sent_at, "clicks": clicks, "engagement": engagement}


def _count(line: dict[str, str | None], name: str) -> int | None:
    written = (line.get(name) or "").strip()
    if not written:
        return None
    count = whole_number(written, 12)
    if count is None:
        raise ValueError(f"{name} {written[:20]!r} is no whole number of at most 12 digits")
    return count


def import_history(engine: Engine, rows: Iterable[dict[str, object]]) -> int:
    """Keep the rows (a post already imported is replaced, not doubled): how many."""
    now = utcnow()
    values = [row | {"imported_at": now} for row in rows]
    if not values:
        return 0
    with engine.begin() as connection:
        insert = upsert(connection, imported_results)
        for start in range(0, len(values), 1000):
            connection.execute(
                insert.on_conflict_do_update(
                    index_elements=["channel", "sent_at"],
                    set_={c: insert.excluded[c] for c in ("clicks", "engagement", "imported_at")},
                ),
                values[start : start + 1000],
            )
    return len(values)

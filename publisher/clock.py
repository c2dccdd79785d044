"""The time: now in UTC, and the one rule for showing a time to an editor — in the newsroom's
zone, to the minute, with the zone's name beside it ("2026-11-25 21:03 CET"). Times are stored
and exchanged (JSON) in UTC with their offset; only what an editor reads is local."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

# The days a time read from outside (an article's date, a day in a desk address) may fall on:
# wide enough for any newsroom's archive and plans, narrow enough that a day either side and
# any time zone's offset stay within what datetime can hold.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


def hour_of(moment: datetime) -> datetime:
    """The start of the hour `moment` falls in (clicks are counted per hour)."""
    return moment.replace(minute=0, second=0, microsecond=0)


def shown(moment: datetime | None, zone: ZoneInfo, *, seconds: bool = False) -> str:
    """`moment` as an editor reads it: local date and time in `zone` with the zone's name."""
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")

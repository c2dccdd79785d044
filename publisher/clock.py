"""The time: now in UTC, and the one rule for showing a time to an editor — in the newsroom's
zone, to the minute, with the zone's name beside it ("2026-11-25 21:03 CET"). Times are stored
and exchanged (JSON) in UTC with their offset; only what an editor reads is local."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


def shown(moment: datetime | None, zone: ZoneInfo, *, seconds: bool = False) -> str:
    """`moment` as an editor reads it: local date and time in `zone` with the zone's name."""
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")

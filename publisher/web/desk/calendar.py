"""The desk's calendar: a week (hours by day) or a month of every channel's posts, coloured by
channel, with the slots still free; a post moves by drag and drop (`/api/posts/{id}/move`) or,
from the keyboard, by the move form on its own page. On a phone the same page is an agenda."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from publisher import actions
from publisher.clock import utcnow
from publisher.engine.lifecycle import HOLDABLE, RESCHEDULE, TAKING_TIME
from publisher.engine.listings import timetable
from publisher.engine.queue import open_slots
from publisher.engine.slots import free_slots, local_slot
from publisher.errors import EditorError
from publisher.web.bodies import json_request
from publisher.web.desk.auth import check_csrf
from publisher.web.desk.base import Pages, RowId, day_in_address

VIEWS = ("week", "month")
# Posts shown in one hour of the week or one day of the month; the rest are a link to the
# day's queue, so that a busy day keeps the page small.
PER_HOUR = 4
PER_HOUR_COMPACT = 12
PER_DAY = 6
# Hours before this one are shown only when something is in them.
DAY_STARTS = 6
# Channel colours are a palette of this many (desk.css `.ch-0` …), assigned in configured order.
COLOURS = 8


@dataclass(frozen=True)
class Entry:
    """One post as the calendar shows it."""

    id: int
    channel: str
    colour: int
    time: str
    headline: str
    state: str
    movable: bool


@dataclass(frozen=True)
class FreeSlot:
    """A channel's slot that no post of the channel is within `min_gap` of."""

    channel: str
    colour: int
    at: str
    time: str


@dataclass
class Cell:
    """An hour of a day (week view) or a whole day (month view): a place to drop a post."""

    day: date
    hour: int | None
    entries: list[Entry] = field(default_factory=list)
    free: list[FreeSlot] = field(default_factory=list)
    more: int = 0


class Calendar:
    """The calendar page and the move it offers."""

    def __init__(self, desk: Pages) -> None:
        self.desk = desk
        self.engine = desk.engine
        self.settings = desk.settings
        self.colours = {name: n % COLOURS for n, name in enumerate(self.settings.channels)}

    def _days(self, view: str, start: str | None) -> tuple[list[date], date, date, date]:
        """The days shown, the day the view is about, and the first days before and after."""
        anchor = day_in_address(start) or datetime.now(self.settings.tz).date()
        if view == "month":
            first = anchor.replace(day=1)
            after = (first + timedelta(days=32)).replace(day=1)
            before = (first - timedelta(days=1)).replace(day=1)
            grid_start = first - timedelta(days=first.weekday())
            weeks = ((after - grid_start).days + 6) // 7
            return [grid_start + timedelta(days=n) for n in range(weeks * 7)], first, before, after
        monday = anchor - timedelta(days=anchor.weekday())
        days = [monday + timedelta(days=n) for n in range(7)]
        return days, monday, monday - timedelta(days=7), monday + timedelta(days=7)

    def _entry(self, row: Any, local: datetime, paused: set[str]) -> Entry:
        t = self.desk.t
        held = row.state in HOLDABLE and row.channel in paused
        return Entry(
            id=row.id,
            channel=row.channel,
            colour=self.colours.get(row.channel, COLOURS - 1),
            time=local.strftime("%H:%M"),
            headline=row.headline[:70],
            state=t("state_held") if held else t(f"state_{row.state}"),
            movable=RESCHEDULE.allows(row.state),
        )

    def _free(
        self, days: list[date], taken_by: dict[str, list[datetime]], only: str | None = None
    ) -> list[tuple[datetime, FreeSlot]]:
        now = utcnow()
        found = []
        for name, channel in self.settings.channels.items():
            if not channel.slots or only not in (None, name):
                continue
            taken = taken_by.get(name, [])
            zone = self.settings.channel_tz(name)
            gap = timedelta(minutes=channel.min_gap)
            for moment in free_slots(days, channel.slots, zone, taken, gap, now):
                local = moment.astimezone(self.settings.tz).replace(tzinfo=None)
                slot = FreeSlot(
                    name,
                    self.colours[name],
                    moment.astimezone(zone).isoformat(timespec="minutes"),
                    local.strftime("%H:%M"),
                )
                found.append((local, slot))
        return found

    async def page(
        self,
        request: Request,
        view: str = "week",
        start: str | None = None,
        channel: str | None = None,
        compact: str | None = None,
    ) -> Response:
        """The week or month; `channel` shows one channel alone, `compact` a busy week's posts
        as their times and channels only (more of them to an hour)."""
        self.desk.user(request)
        view = view if view in VIEWS else "week"
        only = channel if channel in self.settings.channels else None
        tight = compact == "1"
        days, anchor, before, after = self._days(view, start)
        tz = self.settings.tz
        # Posts due within the view, with a day either side: other posts of a channel near its
        # first or last slot keep those slots taken.
        since = datetime.combine(days[0], time(), tz).astimezone(UTC) - timedelta(days=1)
        until = datetime.combine(days[-1], time(), tz).astimezone(UTC) + timedelta(days=2)
        context = await run_in_threadpool(self._grid, view, days, since, until, only, tight)
        context |= {
            "view": view,
            "days": days,
            "anchor": anchor,
            "today": datetime.now(tz).date(),
            "before": before.isoformat(),
            "after": after.isoformat(),
            "legend": {n: c for n, c in self.colours.items() if only in (None, n)},
            "next_free": await run_in_threadpool(self._next_free, only),
            "channel": only or "",
            "compact": tight,
            "channels": list(self.settings.channels),
            "keep": urlencode(
                {k: v for k, v in (("channel", only), ("compact", tight and "1")) if v}
            ),
        }
        return self.desk.render(request, "plan.html.j2", context)

    def _next_free(self, only: str | None) -> dict[str, str]:
        """Each channel's next free slot, as the legend hints it (channels with slots)."""
        hints = {}
        for name, configured in self.settings.channels.items():
            if configured.slots and only in (None, name):
                slots = open_slots(self.engine, self.settings, name, utcnow(), days=14)
                if slots:
                    hints[name] = self.desk.words.when(slots[0], name)
        return hints

    def _grid(
        self,
        view: str,
        days: list[date],
        since: datetime,
        until: datetime,
        only: str | None = None,
        compact: bool = False,
    ) -> dict[str, Any]:
        """The view's cells, each with its posts (up to a few) and its free slots."""
        rows, paused = timetable(self.engine, since, until)
        if only is not None:
            rows = [row for row in rows if row.channel == only]
        tz = self.settings.tz
        hours: list[int | None] = list(range(24)) if view == "week" else [None]
        keys = [(day, hour) for day in days for hour in hours]
        # Where each cell begins, as an instant: a post's cell is found by bisection, so that a
        # month of thousands of posts is placed without converting each one's time.
        bounds = [local_slot(day, time(hour or 0), tz) for day, hour in keys]
        bounds.append(local_slot(days[-1] + timedelta(days=1), time(), tz))
        cells = {key: Cell(*key) for key in keys}
        limit = PER_DAY if view == "month" else PER_HOUR_COMPACT if compact else PER_HOUR
        taken_by: dict[str, list[datetime]] = {}
        for row in rows:
            if row.state in TAKING_TIME:
                taken_by.setdefault(row.channel, []).append(row.at)
            index = bisect_right(bounds, row.at) - 1
            if not 0 <= index < len(keys):
                continue
            cell = cells[keys[index]]
            if len(cell.entries) < limit:
                cell.entries.append(self._entry(row, row.at.astimezone(tz), paused))
            else:
                cell.more += 1
        for moment, slot in self._free(days, taken_by, only):
            near = cells.get((moment.date(), moment.hour if view == "week" else None))
            if near is not None:
                near.free.append(slot)
        if view == "week":
            # Early hours are shown only when something is in them.
            used = [c.hour for c in cells.values() if c.hour is not None and (c.entries or c.free)]
            hours = list(range(min([DAY_STARTS, *used]), 24))
        return {
            "hours": hours,
            "by_day": {day: [cells[(day, hour)] for hour in hours] for day in days},
            "first_hour": hours[0] or 0,
        }

    async def move(self, request: Request, post_id: RowId) -> Response:
        """Move a post dropped on another time; a refusal is a sentence in the editor's words."""
        user = self.desk.user(request)
        check_csrf(request, request.headers.get("x-csrf-token"))
        body = await json_request(request)
        if not isinstance(body, dict) or not isinstance(body.get("at"), str):
            return JSONResponse({"error": self.desk.t("pick_time")}, status_code=400)
        try:
            moved = await run_in_threadpool(
                lambda: actions.move(self.engine, self.settings, post_id, body["at"], by=user.name)
            )
        except EditorError as exc:
            return JSONResponse({"error": self.desk.reason(exc)}, status_code=422)
        shown = self.desk.words.when(moved)
        return JSONResponse({"moved": post_id, "message": self.desk.t("moved", due=shown)})

"""The desk's calendar: a week (hours by day) or a month of every channel's posts, coloured by
channel, with the slots still free; a post moves by drag and drop (`/api/posts/{id}/move`) or,
from the keyboard, by the move form on its own page. On a phone the same page is an agenda."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from publisher import actions
from publisher.actions import ApproversOnly
from publisher.catalogue import number
from publisher.channels.text import truncate
from publisher.clock import utcnow
from publisher.engine.lifecycle import RESCHEDULE, RESURFACED, held
from publisher.engine.planning.besttime import recently_learned
from publisher.engine.planning.planner import free_times
from publisher.engine.planning.slots import local_slot
from publisher.engine.planning.timetable import cells
from publisher.engine.posts import verbs
from publisher.engine.posts.pauses import active_pauses
from publisher.errors import EditorError
from publisher.web.bodies import Move
from publisher.web.desk.auth import ApiUser
from publisher.web.desk.base import PageGroup, Pages, RowId, day_in_address
from publisher.web.desk.words import COLOURS

VIEWS = ("week", "month")
# Posts shown in one hour of the week or one day of the month; the rest are a link to the
# day's queue, so that a busy day keeps the page small.
PER_HOUR = 4
PER_HOUR_COMPACT = 6
PER_DAY = 8
# A headline in the calendar, cut at a word and marked "…" beyond this many characters.
HEADLINE_SHOWN = 70
# Hours before this one are shown only when something is in them.
DAY_STARTS = 6
# The legend hints a channel's next free slot within so many days.
HINTED_DAYS = 14


@dataclass(frozen=True)
class Entry:
    """One post as the calendar shows it."""

    id: int
    channel: str
    label: str
    colour: int
    time: str
    headline: str
    state: str
    movable: bool
    # An archive article's another turn (`[[resurface]]`).
    resurfaced: bool = False


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
    # How strongly the one channel shown answers in this hour (0 to 3, as learned), and whether
    # it is the day's suggested time for its next post.
    shade: int = 0
    suggested: bool = False


class Calendar(PageGroup):
    """The calendar page and the move it offers."""

    def __init__(self, desk: Pages) -> None:
        super().__init__(desk)
        self.colours = desk.words.colours
        self.router.add_api_route("/plan", self.page, methods=["GET"], response_class=HTMLResponse)
        self.router.add_api_route("/api/posts/{post_id}/move", self.move, methods=["POST"])

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

    def _entry(self, row: Any, paused: set[str]) -> Entry:
        t = self.desk.t
        is_held = held(row.state, row.channel, paused)
        return Entry(
            id=row.id,
            channel=row.channel,
            label=self.settings.label(row.channel),
            colour=self.colours.get(row.channel, COLOURS - 1),
            time=row.at.astimezone(self.settings.tz).strftime("%H:%M"),
            headline=truncate(row.headline, lambda shown: len(shown) <= HEADLINE_SHOWN),
            state=t("state_held") if is_held else t(f"state_{row.state}"),
            movable=RESCHEDULE.allows(row.state),
            resurfaced=row.queued_by.startswith(RESURFACED),
        )

    def _open(self, days: list[date], only: str | None = None) -> dict[str, list[datetime]]:
        """Each channel's slots on `days` (all channels with slots, or `only`) still free from
        now on."""
        wanted = {
            name: days
            for name, channel in self.settings.channels.items()
            if channel.slots and only in (None, name)
        }
        return free_times(self.engine, self.settings, wanted, utcnow())

    def _free(self, days: list[date], only: str | None = None) -> list[tuple[datetime, FreeSlot]]:
        found = []
        for name, moments in self._open(days, only).items():
            zone = self.settings.channel_tz(name)
            for moment in moments:
                local = moment.astimezone(self.settings.tz).replace(tzinfo=None)
                slot = FreeSlot(
                    name,
                    self.colours[name],
                    moment.astimezone(zone).isoformat(timespec="minutes"),
                    local.strftime("%H:%M"),
                )
                found.append((local, slot))
        return found

    def page(
        self,
        request: Request,
        view: str = "week",
        start: str | None = None,
        channel: str | None = None,
        compact: str | None = None,
    ) -> Response:
        """The week or month; `channel` shows one channel alone, `compact` a busy week's posts
        as their times and channels only (more of them to an hour)."""
        view = view if view in VIEWS else "week"
        only = channel if channel in self.settings.channels else None
        tight = compact == "1"
        days, anchor, before, after = self._days(view, start)
        tz = self.settings.tz
        context = self._grid(view, days, only, tight)
        learned = self._shade(context, only) if view == "week" and only else None
        context |= {
            "learned": number(learned, self.desk.language) if learned else None,
            "view": view,
            "days": days,
            "anchor": anchor,
            "today": datetime.now(tz).date(),
            "before": before.isoformat(),
            "after": after.isoformat(),
            "legend": {n: c for n, c in self.colours.items() if only in (None, n)},
            "next_free": self._next_free(only),
            "channel": only or "",
            "compact": tight,
            "channels": list(self.settings.channels),
            "keep": urlencode(
                {k: v for k, v in (("channel", only), ("compact", tight and "1")) if v}
            ),
        }
        return self.desk.render(request, "plan.html.j2", context)

    def _shade(self, context: dict[str, Any], channel: str) -> int | None:
        """Shade each hour of the week by what the channel's history says a post earns then
        (the best tenth, quarter and half of its hours), and mark each day's best hour still
        ahead and free as the suggested time. The number of posts behind it, or None while its
        history is too short to tell."""
        estimate = recently_learned(self.engine, self.settings, channel)
        if not estimate.enough:
            return None
        ranked = sorted((hour.typical for hour in estimate.hours), reverse=True)
        bars = [ranked[len(ranked) // 10], ranked[len(ranked) // 4], ranked[len(ranked) // 2]]
        zone, now = self.settings.channel_tz(channel), utcnow()
        for cells_of_day in context["by_day"].values():
            ahead = []
            for cell in cells_of_day:
                start = local_slot(cell.day, time(cell.hour), self.settings.tz)
                typical = estimate.at(start, zone).typical
                cell.shade = sum(typical >= bar for bar in bars)
                if start >= now - timedelta(hours=1) and not cell.entries:
                    ahead.append((typical, cell))
            if ahead:
                max(ahead, key=lambda found: found[0])[1].suggested = True
        return estimate.posts

    def _next_free(self, only: str | None) -> dict[str, str]:
        """Each channel's next free slot, as the legend hints it (channels with slots and a
        free one within the next two weeks)."""
        today = datetime.now(self.settings.tz).date()
        # From yesterday: a channel in a time zone behind the desk's may still be there.
        days = [today + timedelta(days=n) for n in range(-1, HINTED_DAYS)]
        return {
            name: self.desk.words.when(min(moments), name)
            for name, moments in self._open(days, only).items()
            if moments
        }

    def _grid(
        self,
        view: str,
        days: list[date],
        only: str | None = None,
        compact: bool = False,
    ) -> dict[str, Any]:
        """The view's cells, each with its posts (up to a few) and its free slots."""
        tz = self.settings.tz
        hours: list[int | None] = list(range(24)) if view == "week" else [None]
        keys = [(day, hour) for day in days for hour in hours]
        bounds = [local_slot(day, time(hour or 0), tz) for day, hour in keys]
        bounds.append(local_slot(days[-1] + timedelta(days=1), time(), tz))
        limit = PER_DAY if view == "month" else PER_HOUR_COMPACT if compact else PER_HOUR
        found = cells(self.engine, bounds, limit, only)
        with self.engine.connect() as connection:
            paused = set(active_pauses(connection, utcnow()))
        grid = {key: Cell(*key) for key in keys}
        for key, posts in zip(keys, found, strict=True):
            grid[key].entries = [self._entry(row, paused) for row in posts.first]
            grid[key].more = posts.count - len(posts.first)
        for moment, slot in self._free(days, only):
            near = grid.get((moment.date(), moment.hour if view == "week" else None))
            if near is not None:
                near.free.append(slot)
        for cell in grid.values():
            # Free slots in time order, whatever their channel.
            cell.free.sort(key=lambda slot: (slot.time, slot.channel))
        if view == "week":
            # Early hours are shown only when something is in them.
            used = [c.hour for c in grid.values() if c.hour is not None and (c.entries or c.free)]
            hours = list(range(min([DAY_STARTS, *used]), 24))
        return {
            "hours": hours,
            "by_day": {day: [grid[(day, hour)] for hour in hours] for day in days},
            "first_hour": hours[0] or 0,
        }

    def move(self, post_id: RowId, body: Move, user: ApiUser) -> Response:
        """Move a post dropped on another time; a refusal is a sentence in the editor's words."""
        if not body.at:
            return JSONResponse({"error": self.desk.t("pick_time")}, status_code=400)
        try:
            before = verbs.due_of(self.engine, post_id)
            moved = actions.apply(
                self.engine, self.settings, "reschedule", post_id, user, at=body.at
            )
        except ApproversOnly:
            raise
        except EditorError as exc:
            return JSONResponse({"error": self.desk.reason(exc)}, status_code=422)
        shown = self.desk.words.when(moved)
        # Where it stood, for the page's undo (a move back to there).
        return JSONResponse(
            {
                "moved": post_id,
                "message": self.desk.t("moved", due=shown),
                "before": before.isoformat(),
                "undo": self.desk.t("undo_moves"),
            }
        )

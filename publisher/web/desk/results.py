"""The desk's Results page: the best posts of the day and of the week, each article's scorecard
across networks, every channel's trend over the last weeks (a chart drawn here as SVG, its
numbers in a table beside it), and the numbers as CSV for a spreadsheet."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta
from time import monotonic
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from publisher.catalogue import moment, number
from publisher.clock import hour_of, utcnow
from publisher.engine.learning import scorecard
from publisher.engine.posts.listings import queue_version
from publisher.web.desk.base import PageGroup, Pages
from publisher.web.desk.chart import trend_svg
from publisher.web.desk.words import COLOURS

# The best posts shown, the articles scored, and the weeks a trend goes back.
BEST = 5
ARTICLES = 10
WEEKS = 8
# The numbers the page shows for a post, in its columns' order.
COLUMNS = ("clicks", "impressions", "engagement", "platform_clicks", "reads")
# Seconds the numbers read are shown again while nothing else changed.
FRESH_FOR = 60.0


def _sent(item: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(item["sent_at"])


def _with_engagement(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for item in items:
        item["metrics"]["engagement"] = scorecard.engagement(item["metrics"])
    return items


class Results(PageGroup):
    """The Results page of one desk."""

    def __init__(self, desk: Pages) -> None:
        super().__init__(desk)
        route = self.router.add_api_route
        route("/results", self.page, methods=["GET"], response_class=HTMLResponse)
        route("/results.csv", self.csv, methods=["GET"])
        route("/results-excel.csv", self.excel_csv, methods=["GET"])
        self._kept: tuple[tuple[Any, ...], float, dict[str, Any]] | None = None

    def page(self, request: Request) -> Response:
        """What the last day, week and weeks achieved."""
        zone, language = self.settings.tz, self.desk.language
        context = {
            **self._summary(hour_of(utcnow())),
            "columns": COLUMNS,
            "shown": lambda value: "–" if value is None else number(value, language),
            "sent": lambda item: moment(_sent(item), zone, language),
        }
        return self.desk.render(request, "results.html.j2", context)

    def _summary(self, hour: datetime) -> dict[str, Any]:
        """The page's lists and charts as of `hour`: worked out again when a post, a
        measurement or an hour's clicks changed, or the hour did, and at least once a minute
        (clicks within one hour)."""
        stamp = (hour, queue_version(self.engine), *scorecard.measured_stamp(self.engine))
        kept = self._kept
        if kept is not None and kept[0] == stamp and monotonic() - kept[1] < FRESH_FOR:
            return kept[2]
        summary = self._work_out(hour)
        self._kept = (stamp, monotonic(), summary)
        return summary

    def _work_out(self, hour: datetime) -> dict[str, Any]:
        zone, language = self.settings.tz, self.desk.language
        today = datetime.combine(hour.astimezone(zone).date(), time(), zone)
        monday = today - timedelta(days=today.weekday())
        mondays = [monday - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]
        found = _with_engagement(scorecard.by_post(self.engine, since=mondays[0]))
        week = [item for item in found if _sent(item) >= hour - timedelta(days=7)]
        day = [item for item in week if _sent(item) >= today]
        articles = sorted(
            _with_engagement(scorecard.by_article(week)),
            key=lambda a: (a["metrics"]["clicks"] or 0, a["metrics"]["engagement"] or 0),
            reverse=True,
        )[:ARTICLES]
        labels = [self.desk.words.day_month(m) for m in mondays]
        colours = self.desk.words.colours
        trends = []
        for metric in ("clicks", "engagement"):
            rows = scorecard.weekly(found, mondays, metric)
            if not any(v is not None for row in rows.values() for v in row):
                continue
            title = self.desk.t("results_trend", metric=self.desk.t(f"metric_{metric}"))
            series = {
                name: (self.settings.label(name), colours.get(name, COLOURS - 1), row)
                for name, row in rows.items()
            }
            svg = trend_svg(title, labels, series, lambda v: number(v, language))
            trends.append({"title": title, "svg": svg, "rows": series})
        return {
            "best_day": scorecard.ranked(day)[:BEST],
            "best_week": scorecard.ranked(week)[:BEST],
            "articles": articles,
            "trends": trends,
            "labels": labels,
        }

    def csv(self) -> Response:
        """Every post of the last weeks with its numbers, for scripts and any spreadsheet."""
        return self._csv("results.csv")

    def excel_csv(self) -> Response:
        """The same for Excel in the desk's language, opened by a double click: its separator
        and decimal mark, local times, and the byte order mark by which it reads UTF-8."""
        german = self.desk.language == "de"
        sheet = scorecard.Spreadsheet(
            ";" if german else ",", "," if german else ".", self.settings.tz
        )
        return self._csv("results-excel.csv", sheet, "\ufeff")

    def _csv(
        self, name: str, sheet: scorecard.Spreadsheet | None = None, start: str = ""
    ) -> Response:
        since = utcnow() - timedelta(weeks=WEEKS)
        out = io.StringIO()
        out.write(start)
        scorecard.write_csv(scorecard.by_post(self.engine, since=since), out, sheet)
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

"""Charts the desk draws itself, as SVG on the server: no script, no library from elsewhere.
A chart names what it shows for screen readers; the page puts its numbers in a table too."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

WIDTH, HEIGHT = 640, 240
# Room at the left for the axis' numbers as a phone writes them (larger: see desk.css).
LEFT, RIGHT, TOP, BOTTOM = 76, 32, 14, 30
# Lines are told apart by their dash as well as by their colour (desk.css `.ch-0` …).
DASHES = ("", "6 3", "2 3", "8 3 2 3")


def ticks(highest: int) -> list[int]:
    """The marks of an axis from 0 that reaches `highest`: round steps (1, 2, 2.5 or 5 times a
    power of ten, whole numbers), at most five of them above 0, the last at or above it."""
    rough = max(highest, 1) / 4
    power = 10 ** max(len(str(int(rough))) - 1, 0)
    step = next(
        step
        for step in (power * m for m in (1, 2, 2.5, 5, 10))
        if step == int(step) and step >= rough
    )
    count = -(-max(highest, 1) // int(step))
    return [int(step) * n for n in range(count + 1)]


def trend_svg(
    title: str,
    labels: list[str],
    series: dict[str, tuple[str, int, list[int | None]]],
    shown: Callable[[int], str] = str,
) -> str:
    """A line per series over the `labels` (weeks): `series` maps a name to (label, colour
    index, values); a null value leaves a gap. `shown` formats the axis' numbers."""
    values = [v for _, _, row in series.values() for v in row if v is not None]
    marks = ticks(max(values, default=0))
    top = marks[-1]
    span_x = max(len(labels) - 1, 1)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + inner_w * i / span_x

    def y(v: int) -> float:
        return TOP + inner_h * (1 - v / top)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for mark in marks:
        level = y(mark)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
            f'y1="{level:.1f}" y2="{level:.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{level + 4:.1f}" text-anchor="end">'
            f"{escape(shown(mark))}</text>"
        )
    for i, label in enumerate(labels):
        # Every other week's name gives way on a narrow screen, where the names grow.
        odd = " odd" if i % 2 else ""
        parts.append(
            f'<text class="axis week{odd}" x="{x(i):.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    for n, (label, colour, row) in enumerate(series.values()):
        dash = DASHES[n % len(DASHES)]
        runs: list[list[str]] = [[]]
        for i, value in enumerate(row):
            if value is None:
                runs.append([])
            else:
                runs[-1].append(f"{x(i):.1f},{y(value):.1f}")
        for run in (r for r in runs if r):
            points = " ".join(run)
            parts.append(
                f'<polyline class="line ch-{colour}" points="{points}"'
                + (f' stroke-dasharray="{dash}"' if dash else "")
                + f"><title>{escape(label)}</title></polyline>"
            )
        # A dot at every value: a week alone between gaps is a line of no length.
        for i, value in enumerate(row):
            if value is not None:
                parts.append(
                    f'<circle class="dot ch-{colour}" cx="{x(i):.1f}" cy="{y(value):.1f}" r="3.5">'
                    f"<title>{escape(label)} {escape(labels[i])}: {escape(shown(value))}</title>"
                    "</circle>"
                )
    parts.append("</svg>")
    return "".join(parts)

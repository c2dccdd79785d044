"""The desk's own charts: an axis counts in round steps from 0 past the highest value."""

from __future__ import annotations

import math
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from publisher.web.desk.chart import ticks, trend_svg


@given(st.integers(min_value=0, max_value=10**12))
def test_an_axis_reaches_the_highest_value_in_at_most_five_round_steps(highest: int) -> None:
    marks = ticks(highest)
    step = marks[1]
    leading = step / 10 ** int(math.log10(step))
    assert marks[0] == 0 and marks[-1] >= highest and len(marks) <= 6
    assert leading in (1, 2, 2.5, 5) and all(b - a == step for a, b in pairwise(marks))


def test_the_axis_of_a_chart_is_marked_in_round_numbers() -> None:
    svg = trend_svg("Klicks", ["1. Dez.", "8. Dez."], {"x": ("X", 0, [926, 310])})
    assert ">250<" in svg and ">1000<" in svg and ">308<" not in svg

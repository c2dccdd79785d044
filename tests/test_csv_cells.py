"""Results as CSV open in a spreadsheet as text: a headline that would start a formula
("=HYPERLINK(…)", "+", "-", "@", a tab or a line end first) is written with a leading
apostrophe, and numbers stay numbers."""

from __future__ import annotations

import csv
import io

import pytest

from publisher.engine.learning.scorecard import write_csv


def written(headline: str) -> dict[str, str]:
    out = io.StringIO()
    item = {"headline": headline, "channel": "x", "metrics": {"clicks": 12}, "medians": {}}
    write_csv([item], out)
    return next(csv.DictReader(io.StringIO(out.getvalue())))


@pytest.mark.parametrize(
    "headline",
    ['=HYPERLINK("https://evil.example","Klick")', "+1 Tor", "-5 Grad", "@mention", "\tTab"],
)
def test_a_headline_that_would_start_a_formula_is_written_as_text(headline: str) -> None:
    assert written(headline)["headline"] == "'" + headline


def test_an_ordinary_headline_and_its_numbers_are_written_as_they_are() -> None:
    row = written("Bayern gewinnt 4:0")
    assert (row["headline"], row["clicks"]) == ("Bayern gewinnt 4:0", "12")

"""Tracking parameters on posted links."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from hypothesis import given
from hypothesis import strategies as st

from publisher.links import with_tracking

UTM = {"utm_source": "x", "utm_medium": "social"}


def test_tracking_goes_before_the_fragment() -> None:
    assert with_tracking("https://e.de/a#kommentare", UTM) == (
        "https://e.de/a?utm_source=x&utm_medium=social#kommentare"
    )


def test_tracking_keeps_the_urls_own_query_as_it_was() -> None:
    assert with_tracking("https://e.de/a?b=%C3%BC&a=1", UTM) == (
        "https://e.de/a?b=%C3%BC&a=1&utm_source=x&utm_medium=social"
    )


def test_parameters_the_url_already_has_are_not_overridden() -> None:
    assert with_tracking("https://e.de/a?utm_source=cms", UTM) == (
        "https://e.de/a?utm_source=cms&utm_medium=social"
    )


def test_empty_values_add_nothing() -> None:
    assert with_tracking("https://e.de/a", {"utm_campaign": ""}) == "https://e.de/a"


query_part = st.text(alphabet="abcxyz019=&%-_.~", max_size=20)
fragment_part = st.text(alphabet="abc019-_/?=&", max_size=12)


@given(query=query_part, fragment=fragment_part)
def test_original_query_survives_and_fragment_stays_last(query: str, fragment: str) -> None:
    url = "https://e.de/p" + (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")
    tracked = urlsplit(with_tracking(url, UTM))
    original = urlsplit(url)
    assert tracked.fragment == original.fragment
    assert tracked.query.startswith(original.query)
    assert dict(parse_qsl(tracked.query))["utm_medium"] == "social"

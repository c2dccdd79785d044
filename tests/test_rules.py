"""Release rules: which channels an article goes to, and the quiet hours and embargo every
release keeps."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from publisher.articles import Article
from publisher.config import ChannelSettings, Match, Rule, Settings
from publisher.engine.planning.slots import after_quiet_hours
from publisher.engine.releases.rules import not_before_embargo, route

BERLIN = ZoneInfo("Europe/Berlin")


def settings(*rules: Rule) -> Settings:
    channels = {
        name: ChannelSettings(type="log", slots=("07:00",))
        for name in ("x_main", "telegram", "facebook")
    }
    return Settings(channels=channels, rules=rules)


def article(**fields) -> Article:
    return Article(url="https://e.de/a", headline="Schlagzeile", **fields)


def test_without_rules_every_configured_channel_gets_it_at_once() -> None:
    routed = route(article(), "webhook", settings())
    assert [(r.channel, r.timing) for r in routed] == [
        ("x_main", "now"),
        ("telegram", "now"),
        ("facebook", "now"),
    ]


def test_breaking_news_rule_routes_only_breaking_articles() -> None:
    rules = (Rule(name="eilmeldung", match=Match(breaking=True), channels=("telegram",)),)
    assert [r.channel for r in route(article(breaking=True), "webhook", settings(*rules))] == [
        "telegram"
    ]
    assert route(article(), "webhook", settings(*rules)) == []


def test_section_matches_the_kicker_case_insensitively() -> None:
    rules = (Rule(name="politik", match=Match(sections=("politik",)), channels=("x_main",)),)
    assert route(article(kicker="Politik"), "webhook", settings(*rules))
    assert not route(article(kicker="Sport"), "webhook", settings(*rules))


def test_tags_language_and_source_must_all_match() -> None:
    rule = Rule(
        name="feed-en",
        match=Match(tags=("ukraine",), languages=("en",), sources=("wire",)),
        channels=("x_main",),
    )
    matching = article(tags=["Ukraine", "Krieg"], language="en")
    assert route(matching, "wire", settings(rule))
    assert not route(matching, "webhook", settings(rule))
    assert not route(article(tags=["Ukraine"], language="de"), "wire", settings(rule))


def test_first_matching_rule_decides_a_channels_timing() -> None:
    rules = (
        Rule(name="breaking", match=Match(breaking=True), channels=("x_main",)),
        Rule(name="all", channels=("x_main", "facebook"), timing="next_slot", approval=True),
    )
    routed = {r.channel: r for r in route(article(breaking=True), "webhook", settings(*rules))}
    assert (routed["x_main"].rule, routed["x_main"].timing) == ("breaking", "now")
    assert (routed["facebook"].timing, routed["facebook"].approval) == ("next_slot", True)


def test_quiet_hours_across_midnight_move_a_post_to_their_end() -> None:
    due = datetime(2026, 11, 25, 23, 30, tzinfo=BERLIN)
    moved = after_quiet_hours(due, (time(23), time(6)), BERLIN)
    assert moved == datetime(2026, 11, 26, 6, 0, tzinfo=BERLIN)


def test_quiet_hours_keep_the_end_right_across_a_dst_change() -> None:
    # Night of 2026-03-29: clocks go from 02:00 to 03:00 in Berlin.
    due = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # 00:00 in Berlin
    moved = after_quiet_hours(due, (time(23), time(6)), BERLIN)
    assert moved.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 3, 29, 6, 0)
    assert moved.utcoffset() is not None


@given(
    minute=st.integers(0, 7 * 24 * 60),
    start=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    end=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
def test_quiet_hours_never_bring_a_post_forward_or_leave_it_inside(minute, start, end) -> None:
    due = datetime(2026, 6, 1, tzinfo=UTC) + timedelta(minutes=minute)
    moved = after_quiet_hours(due, (start, end), BERLIN)
    assert moved >= due
    assert moved - due <= timedelta(hours=25)
    clock = moved.astimezone(BERLIN).time().replace(tzinfo=None)
    inside = start <= clock < end if start <= end else clock >= start or clock < end
    assert not inside or (moved == due and start == end)


def test_embargo_holds_an_article_published_in_the_future() -> None:
    now = datetime(2026, 11, 25, 10, tzinfo=UTC)
    embargoed = article(published_at="2026-11-25T12:00:00+01:00")
    assert not_before_embargo(now, embargoed) == datetime(2026, 11, 25, 11, tzinfo=UTC)
    assert not_before_embargo(now, article()) == now


def test_every_matching_rule_adds_its_channels() -> None:
    rules = (
        Rule(name="politik", match=Match(sections=("Politik",)), channels=("x_main",)),
        Rule(name="alles", channels=("telegram",), timing="delay", delay=10),
    )
    routed = route(article(kicker="Politik"), "webhook", settings(*rules))
    assert [(r.channel, r.rule) for r in routed] == [("x_main", "politik"), ("telegram", "alles")]


def test_a_matching_rule_with_stop_keeps_later_rules_from_the_article() -> None:
    rules = (
        Rule(name="politik", match=Match(sections=("Politik",)), channels=("x_main",), stop=True),
        Rule(name="alles", channels=("telegram",)),
    )
    assert [r.channel for r in route(article(kicker="Politik"), "webhook", settings(*rules))] == [
        "x_main"
    ]


def test_a_rule_with_stop_that_does_not_match_leaves_the_later_rules_reading() -> None:
    rules = (
        Rule(name="politik", match=Match(sections=("Politik",)), channels=("x_main",), stop=True),
        Rule(name="alles", channels=("telegram",)),
    )
    assert [r.channel for r in route(article(kicker="Sport"), "webhook", settings(*rules))] == [
        "telegram"
    ]

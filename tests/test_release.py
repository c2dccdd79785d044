"""Releases on SQLite and PostgreSQL: rules decide channels and timing, an article that arrives
again updates what has not gone out and is not posted twice, and two releases of one article at
the same moment queue it once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from publisher.articles import Article
from publisher.config import ChannelSettings, Match, Rule, Settings
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.planning import planner
from publisher.engine.planning.planner import taken_times
from publisher.engine.posts import verbs
from publisher.engine.releases.release import release
from publisher.engine.storage import store
from publisher.engine.storage.schema import posts
from tests.engine_helpers import approve_as_read, at_once

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def desk(database_url: str, *rules: Rule, **channel_options) -> Settings:
    channels = {
        "x_main": ChannelSettings(type="x", dry_run=True, **channel_options),
        "telegram": ChannelSettings(type="telegram", dry_run=True),
    }
    return Settings(database_url=database_url, channels=channels, rules=rules)


def article(**fields) -> Article:
    return Article(
        id="cms-4711", url="https://e.de/a", headline="Erste Fassung", bullets=["Punkt"], **fields
    )


def rows(engine: Engine) -> Sequence[Any]:
    with engine.connect() as connection:
        return connection.execute(select(posts).order_by(posts.c.id)).all()


def test_release_without_rules_queues_every_channel_now(engine, database_url) -> None:
    result = release(engine, desk(database_url), article(), "webhook", now=NOW)
    assert len(result.queued) == 2
    assert {(r.channel, r.state, r.due_at) for r in rows(engine)} == {
        ("x_main", "queued", NOW),
        ("telegram", "queued", NOW),
    }
    assert {r.queued_by for r in rows(engine)} == {"release:webhook"}


def test_rule_timing_delay_and_approval_apply(engine, database_url) -> None:
    rule = Rule(name="later", channels=("x_main",), timing="delay", delay=15, approval=True)
    release(engine, desk(database_url, rule), article(), "webhook", now=NOW)
    (row,) = rows(engine)
    assert (row.channel, row.state, row.due_at) == (
        "x_main",
        "awaiting_approval",
        NOW + timedelta(minutes=15),
    )


def test_unmatched_article_queues_nothing(engine, database_url) -> None:
    rule = Rule(name="breaking", match=Match(breaking=True), channels=("telegram",))
    result = release(engine, desk(database_url, rule), article(), "webhook", now=NOW)
    assert result.queued == [] and rows(engine) == []


def test_article_arriving_again_updates_unsent_posts_and_queues_nothing(
    engine, database_url
) -> None:
    settings = desk(database_url)
    release(engine, settings, article(), "webhook", now=NOW)
    again = release(
        engine, settings, article().model_copy(update={"headline": "Zweite Fassung"}), "webhook"
    )
    assert again.queued == [] and len(again.updated) == 2
    assert all("Zweite Fassung" in r.text for r in rows(engine))
    assert set(again.skipped.values()) == {"already queued"}


def test_an_editors_edit_survives_an_update(engine, database_url) -> None:
    settings = desk(database_url)
    first = release(engine, settings, article(), "webhook", now=NOW).queued[0]
    verbs.edit(engine, settings, first, "Von Hand geschrieben https://e.de/a", by="test")
    release(engine, settings, article().model_copy(update={"headline": "Neu"}), "webhook")
    assert next(r for r in rows(engine) if r.id == first).text.startswith("Von Hand")


def test_sent_article_is_not_posted_again_unless_updates_repost(engine, database_url) -> None:
    quiet = desk(database_url)
    release(engine, quiet, article(), "webhook")
    Dispatcher(engine, quiet).run_once()
    assert release(engine, quiet, article(), "webhook").queued == []
    reposting = desk(database_url, Rule(name="all", channels=("x_main",), repost_updates=True))
    assert len(release(engine, reposting, article(), "webhook").queued) == 1


def test_embargo_sets_the_due_time_to_the_publication_time(engine, database_url) -> None:
    later = NOW + timedelta(hours=2)
    release(engine, desk(database_url), article(published_at=later.isoformat()), "webhook", now=NOW)
    assert {r.due_at for r in rows(engine)} == {later}


def test_quiet_hours_hold_released_posts_till_morning(engine, database_url) -> None:
    night = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)  # 00:30 in Berlin
    settings = desk(database_url, quiet_hours=["23:00", "06:00"])
    release(engine, settings, article(), "webhook", now=night)
    due = {r.channel: r.due_at for r in rows(engine)}
    assert due["x_main"] == datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
    assert due["telegram"] == night


def test_two_releases_of_one_article_at_once_queue_it_once(engine, database_url) -> None:
    settings = desk(database_url)
    assert at_once(lambda: release(engine, settings, article(), "webhook"), 4) == []
    assert sorted(r.channel for r in rows(engine)) == ["telegram", "x_main"]


def test_a_channel_without_a_free_slot_is_skipped_and_the_others_are_queued(
    engine, database_url
) -> None:
    rule = Rule(name="plan", channels=("x_main", "telegram"), timing="next_slot", max_wait=72)
    channels = {
        "x_main": ChannelSettings(type="x", dry_run=True, slots=("07:00",), min_gap=57_600),
        "telegram": ChannelSettings(type="telegram", dry_run=True, slots=("08:00",)),
    }
    settings = Settings(database_url=database_url, channels=channels, rules=(rule,))
    first = Article(id="first", url="https://e.de/first", headline="Vorher")
    release(engine, settings, first, "webhook", now=NOW)
    result = release(engine, settings, article(), "webhook", now=NOW)
    assert "no free slot" in result.skipped["x_main"]
    assert [r.channel for r in rows(engine)] == ["x_main", "telegram", "telegram"]


def test_a_channel_that_cannot_carry_the_article_is_skipped_alone(
    engine, database_url, monkeypatch
) -> None:
    from publisher.channels.base import ComposeError
    from publisher.channels.whatsapp import WhatsApp

    def refuse(self, article, options):
        raise ComposeError(f"{self.name}: the link alone exceeds the limit of 4096")

    monkeypatch.setattr(WhatsApp, "compose", refuse)
    channels = {
        "whatsapp": ChannelSettings(type="whatsapp", dry_run=True),
        "telegram": ChannelSettings(type="telegram", dry_run=True),
    }
    settings = Settings(database_url=database_url, channels=channels)
    result = release(engine, settings, article(), "webhook", now=NOW)
    assert "limit" in result.skipped["whatsapp"]
    assert [r.channel for r in rows(engine)] == ["telegram"]


def test_a_cms_update_of_an_approved_post_needs_approval_again(engine, database_url) -> None:
    rule = Rule(name="held", channels=("x_main",), approval=True)
    settings = desk(database_url, rule)
    (post_id,) = release(engine, settings, article(), "webhook", now=NOW).queued
    approve_as_read(engine, post_id, by="anna")
    release(engine, settings, article().model_copy(update={"headline": "Korrigiert"}), "webhook")
    (row,) = rows(engine)
    assert (row.state, row.approved_by) == ("awaiting_approval", None)
    assert row.text.startswith("Korrigiert")


def test_a_cms_update_that_changes_no_text_keeps_the_approval(engine, database_url) -> None:
    rule = Rule(name="held", channels=("x_main",), approval=True)
    settings = desk(database_url, rule)
    (post_id,) = release(engine, settings, article(), "webhook", now=NOW).queued
    approve_as_read(engine, post_id, by="anna")
    release(engine, settings, article().model_copy(update={"tags": ("neu",)}), "webhook")
    (row,) = rows(engine)
    assert (row.state, row.approved_by) == ("queued", "anna")


def test_released_posts_keep_the_channels_gap_from_each_other(engine, database_url) -> None:
    settings = desk(database_url, min_gap=45)
    release(engine, settings, article(), "webhook", now=NOW)
    other = Article(id="cms-4712", url="https://e.de/b", headline="Zweite Meldung")
    result = release(engine, settings, other, "webhook", now=NOW)
    assert result.planned["x_main"] == NOW + timedelta(minutes=45)
    assert result.planned["telegram"] == NOW


def test_two_embargoes_at_one_time_keep_the_channels_gap(engine, database_url) -> None:
    settings = desk(database_url, min_gap=30)
    at_five = NOW.replace(hour=16)
    for number in (1, 2):
        embargoed = Article(
            id=f"cms-{number}", url=f"https://e.de/{number}", headline="H", published_at=at_five
        )
        release(engine, settings, embargoed, "webhook", now=NOW)
    x_times = sorted(r.due_at for r in rows(engine) if r.channel == "x_main")
    assert x_times == [at_five, at_five + timedelta(minutes=30)]


def test_a_post_that_could_go_out_only_days_later_is_not_queued_and_says_why(
    engine, database_url
) -> None:
    rule = Rule(name="plan", channels=("telegram",), timing="next_slot", max_wait=12)
    channels = {"telegram": ChannelSettings(type="telegram", dry_run=True, slots=("08:00",))}
    settings = Settings(database_url=database_url, channels=channels, rules=(rule,))
    result = release(engine, settings, article(), "webhook", now=NOW)
    assert rows(engine) == []
    assert "the first free time is 2026-11-26 08:00 CET" in result.skipped["telegram"]
    assert "more than 12 hours after the article is out" in result.skipped["telegram"]


def test_the_release_says_when_each_channel_posts(engine, database_url) -> None:
    result = release(engine, desk(database_url), article(), "webhook", now=NOW)
    assert result.to_json()["planned"] == {
        "x_main": NOW.isoformat(),
        "telegram": NOW.isoformat(),
    }


def test_a_release_reads_only_the_posts_near_its_time(engine, database_url, monkeypatch) -> None:
    windows = []

    def spied(connection, channel, since, until=None, besides=()):
        windows.append((since, until))
        return taken_times(connection, channel, since, until, besides)

    monkeypatch.setattr(planner, "taken_times", spied)
    release(engine, desk(database_url, min_gap=45), article(), "webhook", now=NOW)
    assert windows and all(until is not None for _, until in windows)
    assert max(until for _, until in windows) <= NOW + planner.PLAN_AHEAD + timedelta(days=1)


def test_a_post_pushed_past_the_days_first_read_still_keeps_its_gap(engine, database_url) -> None:
    waits = Rule(name="waits", channels=("x_main",), max_wait=100)
    settings = desk(database_url, waits, min_gap=60)
    hours = int(planner.PLAN_AHEAD / timedelta(hours=1)) + 12
    for number in range(hours):
        one = Article(id=f"cms-{number}", url=f"https://e.de/{number}", headline="H")
        release(engine, settings, one, "webhook", now=NOW)
    last = Article(id="cms-last", url="https://e.de/last", headline="H")
    result = release(engine, settings, last, "webhook", now=NOW)
    assert result.planned["x_main"] == NOW + timedelta(hours=hours)


def test_releases_at_once_on_sqlite_wait_their_turn_rather_than_fail(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite's own wait made short, so that only the engine's turns keep writers apart (and
    # the turns' wait long, so that a busy machine's slow releases are waited out).
    monkeypatch.setattr(store, "SQLITE_BUSY_TIMEOUT_MS", 1)
    monkeypatch.setattr(store, "SQLITE_TURN_SECONDS", 120.0)
    engine = store.open_engine(f"sqlite:///{tmp_path / 'busy.db'}")
    settings = desk(f"sqlite:///{tmp_path / 'busy.db'}")
    numbers = iter(range(1_000))

    def release_some() -> None:
        for _ in range(5):
            number = next(numbers)
            story = Article(id=f"n{number}", url=f"https://e.de/{number}", headline="Viele")
            release(engine, settings, story, "webhook")

    try:
        assert at_once(release_some, 4) == []
        assert len(rows(engine)) == 40
    finally:
        engine.dispose()

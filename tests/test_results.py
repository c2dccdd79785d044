"""What sent posts achieved: measured at 1 hour, 24 hours and 7 days (then no more, and never
twice at one point), from the platform's own numbers under the same names on every network
(null where a network offers none), a rate limit waited out and a refused token pausing the
measuring, never the posting. Against the Mastodon stand-in, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from publisher import roster
from publisher.channels import METRICS
from publisher.channels.whatsapp_events import StatusUpdate
from publisher.clock import utcnow
from publisher.engine.audiences.inbox import take_status
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.learning.results import FIRST, Measurer, reached
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.posts.pauses import active_pauses
from publisher.engine.storage.schema import deliveries, measurements
from standins.mastodon import MASTODON_TOKEN, MastodonStandIn
from tests.engine_helpers import article, make_settings, post

SENT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def mastodon_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[MastodonStandIn]:
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", MASTODON_TOKEN)
    stand_in = MastodonStandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture
def settings(database_url: str, mastodon_api: MastodonStandIn):
    return make_settings(database_url, toots={"type": "mastodon", "instance": mastodon_api.url})


@pytest.fixture
def sent(engine: Engine, settings) -> tuple[int, datetime]:
    """A post gone out to the stand-in: its number and when it went out."""
    (post_id,) = queue.add(
        engine, settings, article(), roster.chosen(settings, ["toots"]), When(), queued_by="test"
    )
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    dispatcher.close()
    return post_id, post(engine, post_id).sent_at


def rows(engine: Engine) -> list:
    with engine.connect() as connection:
        return list(connection.execute(select(measurements).order_by(measurements.c.id)))


@pytest.mark.parametrize(
    ("after", "point"),
    [
        (timedelta(minutes=59), None),
        (timedelta(hours=1), "1h"),
        (timedelta(hours=23), "1h"),
        (timedelta(hours=24), "24h"),
        (timedelta(days=7), "7d"),
        (timedelta(days=90), "7d"),
    ],
)
def test_a_post_is_due_at_the_latest_point_it_has_reached(after, point) -> None:
    assert reached(SENT, SENT + after) == point


def test_a_post_an_hour_out_is_measured_with_the_platforms_numbers(
    engine, settings, sent, mastodon_api
) -> None:
    post_id, at = sent
    mastodon_api.react(post(engine, post_id).remote_id, favourites_count=12, reblogs_count=3)
    done = Measurer(engine, settings).run(now=at + timedelta(hours=1, minutes=5))
    (row,) = rows(engine)
    assert done.measured == {"toots": 1}
    assert (row.post_id, row.point, row.metrics["likes"], row.metrics["reposts"]) == (
        post_id,
        "1h",
        12,
        3,
    )
    assert row.raw["favourites_count"] == 12


def test_a_number_the_network_does_not_offer_is_null_not_zero(engine, settings, sent) -> None:
    _, at = sent
    Measurer(engine, settings).run(now=at + timedelta(hours=2))
    (row,) = rows(engine)
    assert set(row.metrics) == set(METRICS)
    assert row.metrics["impressions"] is None and row.metrics["platform_clicks"] is None
    assert row.metrics["replies"] == 0


def test_nothing_is_measured_twice_at_one_point(engine, settings, sent, mastodon_api) -> None:
    _, at = sent
    measurer = Measurer(engine, settings)
    measurer.run(now=at + timedelta(hours=1))
    measurer.run(now=at + timedelta(hours=2))
    assert [row.point for row in rows(engine)] == ["1h"]
    assert len([c for c in mastodon_api.calls if c.method == "GET"]) == 1


def test_each_point_is_measured_once_and_after_a_week_no_more(engine, settings, sent) -> None:
    _, at = sent
    measurer = Measurer(engine, settings)
    for later in (timedelta(hours=1), timedelta(hours=24), timedelta(days=7), timedelta(days=30)):
        measurer.run(now=at + later)
    assert [row.point for row in rows(engine)] == ["1h", "24h", "7d"]


def test_a_post_first_measured_after_a_week_is_measured_once_at_the_week(
    engine, settings, sent
) -> None:
    _, at = sent
    Measurer(engine, settings).run(now=at + timedelta(days=9))
    assert [row.point for row in rows(engine)] == ["7d"]


def test_collecting_measures_a_post_before_its_first_hour(engine, settings, sent) -> None:
    _, at = sent
    measurer = Measurer(engine, settings)
    assert measurer.run(now=at + timedelta(minutes=10)).measured == {}
    measurer.run(now=at + timedelta(minutes=10), every_unmeasured=True)
    assert [row.point for row in rows(engine)] == [FIRST]


def test_a_rate_limit_while_measuring_waits_and_records_nothing(
    engine, settings, sent, mastodon_api
) -> None:
    post_id, at = sent
    reset = (utcnow() + timedelta(minutes=10)).isoformat()
    mastodon_api.fail_next(
        "/api/v1/statuses/", 429, {"error": "Too many requests"}, {"X-RateLimit-Reset": reset}
    )
    measurer = Measurer(engine, settings)
    done = measurer.run(now=at + timedelta(hours=1))
    assert "rate limited" in done.waiting["toots"] and rows(engine) == []
    # Still resting at the next round: the platform is not asked again before its time.
    asked = len(mastodon_api.calls)
    assert "rate limited" in measurer.run(now=at + timedelta(hours=1, minutes=1)).waiting["toots"]
    assert len(mastodon_api.calls) == asked
    assert post(engine, post_id).state == "sent"


def test_a_refused_token_pauses_the_measuring_and_never_the_posting(
    engine, settings, sent, mastodon_api
) -> None:
    _, at = sent
    mastodon_api.revoked = True
    done = Measurer(engine, settings).run(now=at + timedelta(hours=1))
    assert "token was refused" in done.waiting["toots"] and rows(engine) == []
    with engine.connect() as connection:
        assert active_pauses(connection, utcnow()) == {}


def test_a_post_deleted_on_the_platform_is_left_out(engine, settings, sent, mastodon_api) -> None:
    post_id, at = sent
    del mastodon_api.statuses[post(engine, post_id).remote_id]
    done = Measurer(engine, settings).run(now=at + timedelta(hours=1))
    assert done.measured == {"toots": 0} and rows(engine) == []


def test_a_dry_run_channel_is_not_asked(engine, database_url, mastodon_api) -> None:
    settings = make_settings(
        database_url, toots={"type": "mastodon", "instance": mastodon_api.url, "dry_run": True}
    )
    (post_id,) = queue.add(
        engine, settings, article(), roster.chosen(settings, ["toots"]), When(), queued_by="test"
    )
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    dispatcher.close()
    at = post(engine, post_id).sent_at
    done = Measurer(engine, settings).run(now=at + timedelta(hours=1))
    assert "dry run" in done.waiting["toots"] and mastodon_api.calls == []


def test_a_whatsapp_post_counts_its_messages_read_from_the_statuses_recorded(
    engine, database_url, graph_api, credentials
) -> None:
    recipients = ["+4917600000001", "+4917600000002", "+4917600000003"]
    settings = make_settings(
        database_url,
        wa={"type": "whatsapp", "phone_number_id": graph_api.phone_number_id,
            "recipients": recipients, "api_base": graph_api.url},
    )  # fmt: skip
    (post_id,) = queue.add(
        engine, settings, article(), roster.chosen(settings, ["wa"]), When(), queued_by="test"
    )
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    dispatcher.close()
    with engine.connect() as connection:
        sent = connection.execute(
            select(deliveries.c.remote_id, deliveries.c.recipient).where(
                deliveries.c.post_id == post_id
            )
        ).all()
    assert len(sent) == 3
    (first, one), (second, two) = sent[0], sent[1]
    for remote_id, phone, status in ((first, one, "read"), (second, two, "delivered")):
        update = StatusUpdate(graph_api.phone_number_id, remote_id, status, phone, utcnow())
        assert take_status(engine, settings, update)
    at = post(engine, post_id).sent_at
    done = Measurer(engine, settings).run(now=at + timedelta(hours=1))
    (row,) = rows(engine)
    assert done.measured == {"wa": 1}
    assert [c for c in graph_api.calls if c.method == "GET" and "ids" in c.query] == []
    assert row.metrics["reads"] == 1 and row.metrics["impressions"] is None
    assert row.raw == {"sent": 3, "delivered": 2, "read": 1, "failed": 0}

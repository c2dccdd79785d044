"""The engine with the real adapters, on SQLite and PostgreSQL: each platform's rate-limit,
transient, permanent and auth answers lead to waiting, retrying, failing and pausing, and an
answer lost after the platform acted never makes a second post (found, taken again under the
same key, or left for an editor); WhatsApp keeps one delivery per recipient and resumes with
those not yet reached."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import pytest
from sqlalchemy import Engine

from publisher import roster
from publisher.channels.text import masked
from publisher.clock import utcnow
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.delivery.fanout import SLOWED_TRIES
from publisher.engine.delivery.reconcile import reconcile
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue, verbs
from publisher.engine.posts.pauses import active_pauses
from standins import contracts
from standins.base import Answer, Contract, StandIn
from standins.graph import READER, graph_error
from tests.engine_helpers import article, delivery_rows, make_settings, post

RECIPIENTS = [READER, "+4917600000001", "+4917600000002"]

# The contract table: one row per platform, each declared by the platform's stand-in module.
PLATFORMS: list[Contract] = contracts()
BY_TYPE = {platform.type: platform for platform in PLATFORMS}


@pytest.fixture
def deliver(
    engine: Engine, database_url: str, x_api, graph_api, telegram_api, credentials, monkeypatch
):
    """Queue one article on one platform's channel, script its next answer, run dispatch."""
    dispatchers: list[Dispatcher] = []
    # The stand-ins a test asked for by name are the ones its platform's channel speaks to.
    running: dict[type[StandIn], StandIn] = {type(s): s for s in (x_api, graph_api, telegram_api)}
    started: list[StandIn] = []

    def run(
        platform: Contract, answer: str | int | None = None, **options: Any
    ) -> tuple[int, Any, Any]:
        stand_in = running.get(platform.stand_in)
        if stand_in is None:
            stand_in = running[platform.stand_in] = platform.stand_in()
            started.append(stand_in)
        for name, value in platform.env.items():
            monkeypatch.setenv(name, value)
        settings = make_settings(
            database_url,
            social={"type": platform.type, "api_base": stand_in.url, "retry_base": 30}
            | platform.options(stand_in)
            | options,
        )
        channels = roster.chosen(settings, ["social"])
        (post_id,) = queue.add(engine, settings, article(), channels, When(), queued_by="test")
        if answer == "lost":
            stand_in.lose_next_answer(platform.lost_path or platform.path)
        elif isinstance(answer, int):
            stand_in.fail_next(platform.path, answer, {"error": HTTPStatus(answer).phrase})
        elif answer:
            stand_in.fail_next(platform.path_of(answer), *platform.answers()[answer])
        dispatcher = Dispatcher(engine, settings)
        dispatchers.append(dispatcher)
        dispatcher.run_once()
        return post_id, dispatcher, stand_in

    yield run
    for dispatcher in dispatchers:
        dispatcher.close()
    for stand_in in started:
        stand_in.close()


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.type)
def test_success_records_the_platforms_remote_id(deliver, engine, platform) -> None:
    post_id, _, _ = deliver(platform)
    row, (delivery,) = post(engine, post_id), delivery_rows(engine, post_id)
    assert (row.state, delivery.outcome) == ("sent", "sent")
    assert row.remote_id and row.remote_id == delivery.remote_id
    if platform.permalink:
        assert row.permalink.startswith("https://")


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.type)
def test_rate_limit_requeues_after_the_platforms_wait_and_pauses_until_then(
    deliver, engine, platform
) -> None:
    post_id, _, _ = deliver(platform, "rate_limited")
    row = post(engine, post_id)
    assert row.state == "queued"
    assert row.due_at > utcnow() + timedelta(seconds=60)
    with engine.connect() as connection:
        pause = active_pauses(connection, utcnow())["social"]
    assert pause.until == row.due_at


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.type)
def test_transient_error_retries_later_with_backoff(deliver, engine, platform) -> None:
    post_id, _, _ = deliver(platform, "transient")
    row, (delivery,) = post(engine, post_id), delivery_rows(engine, post_id)
    assert (row.state, row.retries, delivery.outcome) == ("queued", 1, "transient")
    assert utcnow() + timedelta(seconds=10) < row.due_at < utcnow() + timedelta(seconds=31)


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.type)
def test_permanent_error_fails_with_the_platforms_reason(deliver, engine, platform) -> None:
    post_id, _, _ = deliver(platform, "permanent")
    row = post(engine, post_id)
    assert (row.state, row.error_class) == ("failed", "permanent")
    assert platform.reason.lower() in row.error.lower()


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.type)
def test_auth_error_pauses_the_channel_and_keeps_the_post(deliver, engine, platform) -> None:
    post_id, _, _ = deliver(platform, "auth")
    assert post(engine, post_id).state == "queued"
    with engine.connect() as connection:
        pause = active_pauses(connection, utcnow())["social"]
    assert pause.until is None


def test_whatsapp_keeps_one_delivery_per_recipient(deliver, engine, graph_api) -> None:
    post_id, _, _ = deliver(BY_TYPE["whatsapp"], recipients=RECIPIENTS)
    rows = delivery_rows(engine, post_id)
    assert sorted(r.recipient for r in rows) == sorted(RECIPIENTS)
    assert {r.outcome for r in rows} == {"sent"}
    assert sorted(c.json["to"] for c in graph_api.posts("/messages")) == sorted(RECIPIENTS)
    assert post(engine, post_id).state == "sent"


def test_whatsapp_retry_resumes_with_recipients_not_yet_reached(deliver, engine, graph_api) -> None:
    platform = BY_TYPE["whatsapp"]
    graph_api.fail_next("/messages", *platform.answers()["permanent"])
    graph_api.fail_next("/messages", *platform.answers()["transient"])
    post_id, dispatcher, _ = deliver(platform, recipients=RECIPIENTS)
    row = post(engine, post_id)
    # The first message goes alone; the other two in parallel, either may meet the failure.
    first_round = [c.json["to"] for c in graph_api.posts("/messages")]
    refused = first_round[1]
    assert (row.state, row.pending) == ("queued", [refused])
    dispatcher.run_once(now=row.due_at + timedelta(seconds=1))
    sent_to = [c.json["to"] for c in graph_api.posts("/messages")]
    assert sent_to[0] == RECIPIENTS[0] and sorted(sent_to[1:3]) == sorted(RECIPIENTS[1:])
    assert sent_to[3:] == [refused]
    final = post(engine, post_id)
    assert final.state == "failed"
    assert final.error.startswith(f"1 of 3 recipients not reached; {masked(RECIPIENTS[0])}: ")


def test_editor_retry_of_a_fan_out_reaches_only_those_not_sent(deliver, engine, graph_api) -> None:
    platform = BY_TYPE["whatsapp"]
    graph_api.fail_next("/messages", *platform.answers()["permanent"])
    post_id, dispatcher, _ = deliver(platform, recipients=RECIPIENTS)
    assert post(engine, post_id).state == "failed"
    verbs.retry(engine, post_id, by="test")
    dispatcher.run_once()
    sent_to = [c.json["to"] for c in graph_api.posts("/messages")]
    # The first message goes alone; the other two in parallel, in either order.
    assert sent_to[0] == RECIPIENTS[0] and sorted(sent_to[1:3]) == sorted(RECIPIENTS[1:])
    assert sent_to[3:] == [RECIPIENTS[0]]
    assert post(engine, post_id).state == "sent"


def test_rate_limit_on_one_recipient_stops_the_fan_out_and_keeps_the_rest_owed(
    deliver, engine, graph_api
) -> None:
    platform = BY_TYPE["whatsapp"]
    graph_api.fail_next("/messages", *platform.answers()["rate_limited"])
    post_id, _, _ = deliver(platform, recipients=RECIPIENTS)
    assert len(graph_api.posts("/messages")) == 1
    row = post(engine, post_id)
    assert (row.state, row.pending) == ("queued", RECIPIENTS)
    # The recipients never tried have no delivery yet.
    assert [r.outcome for r in delivery_rows(engine, post_id)] == ["rate_limited"]


def test_a_pair_rate_limit_holds_back_one_recipient_for_seconds_and_not_the_others(
    deliver, engine, graph_api
) -> None:
    graph_api.fail_next(
        "/messages", 400, graph_error(131056, "(Business Account, Consumer Account) pair rate")
    )
    post_id, _, _ = deliver(BY_TYPE["whatsapp"], recipients=RECIPIENTS)
    assert len(graph_api.posts("/messages")) == 3
    row = post(engine, post_id)
    assert (row.state, row.pending) == ("queued", RECIPIENTS[:1])
    assert row.due_at < utcnow() + timedelta(seconds=11)
    with engine.connect() as connection:
        assert "social" not in active_pauses(connection, utcnow())


THROUGHPUT: Answer = (400, graph_error(130429, "(#130429) Rate limit hit"), {})
TAKEN: Answer = (200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.A"}]}, {})


def test_a_throughput_refusal_in_the_middle_of_a_round_slows_it_without_ending_it(
    deliver, engine, graph_api
) -> None:
    many = [f"+49176{n:08d}" for n in range(12)]
    # The first message goes alone; the refusal meets one of the wave after it.
    graph_api.fail_next(
        "/messages", 200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.A"}]}
    )
    graph_api.fail_next("/messages", *THROUGHPUT)
    post_id, _, _ = deliver(BY_TYPE["whatsapp"], recipients=many)
    reached = [c.json["to"] for c in graph_api.posts("/messages")]
    assert len(reached) == len(many) + 1 and sorted(set(reached)) == sorted(many)
    assert (post(engine, post_id).state, post(engine, post_id).pending) == ("sent", [])
    outcomes = Counter(r.outcome for r in delivery_rows(engine, post_id))
    assert outcomes == {"sent": len(many), "rate_limited": 1}


def test_a_round_faster_than_the_platform_allows_reaches_everyone_once(
    deliver, engine, graph_api
) -> None:
    many = [f"+49176{n:08d}" for n in range(40)]
    graph_api.mps = 12
    post_id, _, _ = deliver(BY_TYPE["whatsapp"], recipients=many, mps=20)
    taken = [c.json["to"] for c in graph_api.posts("/messages") if c.json["to"] in many]
    sent = [r.recipient for r in delivery_rows(engine, post_id) if r.outcome == "sent"]
    assert graph_api.throughput_refusals > 0
    assert sorted(sent) == sorted(many) and post(engine, post_id).state == "sent"
    assert len(taken) == len(many) + graph_api.throughput_refusals


def test_a_token_refused_mid_round_gives_back_the_messages_written_ahead_unsent(
    deliver, engine, graph_api
) -> None:
    many = [f"+49176{n:08d}" for n in range(40)]
    graph_api.fail_next("/messages", *TAKEN)
    graph_api.fail_next("/messages", *BY_TYPE["whatsapp"].answers()["auth"])
    post_id, _, _ = deliver(BY_TYPE["whatsapp"], recipients=many)
    rows = delivery_rows(engine, post_id)
    sent = {r.recipient for r in rows if r.outcome == "sent"}
    # Nothing is left unclear: what was written ahead and not sent is given back, and owed.
    assert not {r.outcome for r in rows} & {"pending", "uncertain"}
    assert sorted(post(engine, post_id).pending) == sorted(set(many) - sent)
    assert len(graph_api.posts("/messages")) == len(sent) + 1


def test_a_throughput_limit_that_persists_puts_the_post_off_longer_each_time(
    deliver, engine, graph_api
) -> None:
    graph_api.fail_next("/messages", *THROUGHPUT, times=SLOWED_TRIES)
    post_id, dispatcher, _ = deliver(BY_TYPE["whatsapp"])

    def wait() -> timedelta:
        """How far the post was put off when its last attempt was recorded."""
        return post(engine, post_id).due_at - delivery_rows(engine, post_id)[-1].finished_at

    first = wait()
    assert abs(first - timedelta(seconds=1)) < timedelta(milliseconds=100)
    graph_api.fail_next("/messages", *THROUGHPUT, times=SLOWED_TRIES)
    dispatcher.run_once(post(engine, post_id).due_at + timedelta(milliseconds=1))
    # The second wait is drawn from 1 to 2 s (half of twice the first, plus jitter).
    assert timedelta(milliseconds=999) <= wait() <= timedelta(seconds=2, milliseconds=100)


def test_a_recipients_number_never_appears_whole_in_what_editors_read(
    deliver, engine, graph_api, caplog
) -> None:
    from publisher.config import Settings
    from publisher.engine.posts.listings import list_deliveries, list_posts

    caplog.set_level("DEBUG")
    graph_api.fail_next("/messages", 400, graph_error(131026, "Message undeliverable"))
    post_id, _, _ = deliver(BY_TYPE["whatsapp"], recipients=RECIPIENTS)
    shown = json.dumps(list_posts(engine, Settings(), include_done=True)) + json.dumps(
        list_deliveries(engine)
    )
    logged = " ".join(r.getMessage() for r in caplog.records)
    for number in RECIPIENTS:
        assert number not in shown and number not in logged
    assert "+4915••••••678" in post(engine, post_id).error


def test_a_pause_for_a_wrong_chat_says_to_check_the_channels_settings(
    deliver, engine, telegram_api
) -> None:
    deliver(BY_TYPE["telegram"], chat_id="@woanders")
    with engine.connect() as connection:
        pause = active_pauses(connection, utcnow())["social"]
    assert pause.cause == "settings"


# What a plain HTTP answer to the call that makes a post comes to, the same on every platform
# (channels/http.py `by_status`) but for a platform's declared quirks: the delivery's outcome.
STATUSES = {403: "auth", 408: "transient", 500: "transient", 503: "transient", 502: "uncertain"}


# What an answer comes to is the channels' business, not the database's: one database proves it.
@pytest.mark.one_database
@pytest.mark.parametrize("status", [*STATUSES, 504])
@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.type)
def test_one_http_answer_means_one_outcome_on_every_platform(
    deliver, engine, platform, status
) -> None:
    post_id, _, _ = deliver(platform, status)
    expected = STATUSES.get(status, "uncertain")
    if expected == "uncertain" and platform.retry_safe:
        expected = "transient"
    (delivery, *_) = delivery_rows(engine, post_id)
    assert delivery.outcome == platform.quirks.get(status, expected)


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.type)
def test_a_refused_permission_pauses_the_channel_for_an_editor_to_grant_it(
    deliver, engine, platform
) -> None:
    if 403 in platform.quirks:
        pytest.skip(f"a plain 403 means {platform.quirks[403]} on {platform.type}")
    deliver(platform, 403)
    with engine.connect() as connection:
        assert active_pauses(connection, utcnow())["social"].cause == "permissions"


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.type)
def test_a_lost_answer_never_makes_a_second_post(deliver, engine, platform) -> None:
    post_id, dispatcher, stand_in = deliver(platform, "lost", timeout=1)
    # The engine's next steps: the retry when it falls due, and the lookup of unclear posts.
    dispatcher.run_once(now=utcnow() + timedelta(minutes=5))
    reconcile(engine, dispatcher.settings)
    ends = platform.lost_path or platform.path
    calls = [c for c in stand_in.calls if c.method == "POST" and c.path.endswith(ends)]
    made = platform.made(stand_in) if platform.made else len(calls)
    assert (post(engine, post_id).state, made) == (platform.after_lost_answer, 1)

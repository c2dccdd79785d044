"""Uncertain posts looked up on the platforms that can tell (X, Facebook Pages), on SQLite and
PostgreSQL: found, a post becomes sent with its remote id; not found or unsupported, it stays
uncertain for an editor; nothing is ever sent again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, update

from publisher import roster
from publisher.channels import Outgoing
from publisher.channels.facebook import Facebook
from publisher.channels.x import X
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.delivery.reconcile import reconcile
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.storage.schema import posts
from tests.engine_helpers import article, delivery_rows, make_settings, post


def uncertain_post(engine: Engine, settings: Settings, channel: str, force: bool = False) -> Any:
    """A post whose worker claimed it and vanished: sending, lease run out, now uncertain."""
    channels = roster.chosen(settings, [channel])
    (post_id,) = queue.add(
        engine, settings, article(), channels, When(), force=force, queued_by="test"
    )
    dispatcher = Dispatcher(engine, settings)
    dispatcher.claims.claim()
    with engine.begin() as connection:
        connection.execute(update(posts).values(lease_until=utcnow()))
    dispatcher.claims.expire_leases(utcnow())
    return post(engine, post_id)


def settings_for(database_url: str, x_api, graph_api, telegram_api) -> Settings:
    return make_settings(
        database_url,
        x_main={"type": "x", "api_base": x_api.url, "image": False},
        facebook={"type": "facebook", "api_base": graph_api.url, "page_id": graph_api.page_id},
        telegram={"type": "telegram", "api_base": telegram_api.url, "chat_id": "@newsde"},
    )


def test_x_post_that_went_out_is_found_and_marked_sent(
    engine, database_url, x_api, graph_api, telegram_api, credentials
) -> None:
    settings = settings_for(database_url, x_api, graph_api, telegram_api)
    row = uncertain_post(engine, settings, "x_main")
    assert row.state == "uncertain"
    # The call reached X before the worker died.
    X("x_main", api_base=x_api.url).send(Outgoing(row.id, row.text, row.link, {}))
    (result,) = reconcile(engine, settings)
    assert result.found and result.remote_id == "1001"
    after = post(engine, row.id)
    assert (after.state, after.remote_id) == ("sent", "1001")
    assert [d.outcome for d in delivery_rows(engine, row.id)] == ["sent"]
    assert len(x_api.posts("/2/tweets")) == 1


def test_facebook_post_that_went_out_is_found(
    engine, database_url, x_api, graph_api, telegram_api, credentials
) -> None:
    settings = settings_for(database_url, x_api, graph_api, telegram_api)
    row = uncertain_post(engine, settings, "facebook")
    Facebook("facebook", {"page_id": graph_api.page_id}, api_base=graph_api.url).send(
        Outgoing(row.id, row.text, row.link, {})
    )
    (result,) = reconcile(engine, settings)
    assert result.found
    assert post(engine, row.id).permalink.startswith("https://www.facebook.com/")


def test_post_not_found_stays_uncertain_and_is_not_sent(
    engine, database_url, x_api, graph_api, telegram_api, credentials
) -> None:
    settings = settings_for(database_url, x_api, graph_api, telegram_api)
    row = uncertain_post(engine, settings, "x_main")
    (result,) = reconcile(engine, settings)
    assert not result.found
    assert post(engine, row.id).state == "uncertain"
    assert x_api.posts("/2/tweets") == []


def test_platform_that_cannot_tell_leaves_the_post_to_an_editor(
    engine, database_url, x_api, graph_api, telegram_api, credentials
) -> None:
    settings = settings_for(database_url, x_api, graph_api, telegram_api)
    row = uncertain_post(engine, settings, "telegram")
    (result,) = reconcile(engine, settings)
    assert not result.found and post(engine, row.id).state == "uncertain"
    assert telegram_api.posts("/sendMessage") == []


def test_lookup_failure_is_reported_and_changes_nothing(
    engine, database_url, x_api, graph_api, telegram_api, credentials
) -> None:
    settings = settings_for(database_url, x_api, graph_api, telegram_api)
    row = uncertain_post(engine, settings, "x_main")
    x_api.revoked = True
    (result,) = reconcile(engine, settings)
    assert not result.found and result.error
    assert post(engine, row.id).state == "uncertain"


def test_a_platform_that_cannot_be_asked_is_reported_as_such(
    engine, database_url, x_api, graph_api, telegram_api, credentials
) -> None:
    settings = settings_for(database_url, x_api, graph_api, telegram_api)
    uncertain_post(engine, settings, "telegram")
    (result,) = reconcile(engine, settings)
    assert (result.found, result.asked) == (False, False)


def test_a_platform_that_was_asked_and_did_not_show_the_post_says_so(
    engine, database_url, x_api, graph_api, telegram_api, credentials
) -> None:
    settings = settings_for(database_url, x_api, graph_api, telegram_api)
    uncertain_post(engine, settings, "x_main")
    (result,) = reconcile(engine, settings)
    assert (result.found, result.asked) == (False, True)


def test_a_duplicate_that_x_refused_is_not_taken_for_the_post_it_repeats(
    engine, database_url, x_api, graph_api, telegram_api, credentials
) -> None:
    settings = settings_for(database_url, x_api, graph_api, telegram_api)
    channels = roster.chosen(settings, ["x_main"])
    (first,) = queue.add(engine, settings, article(), channels, When(), queued_by="test")
    Dispatcher(engine, settings).run_once()
    assert post(engine, first).remote_id == "1001"
    # Queued again on purpose: X refuses the same text (403), but the answer never arrived.
    row = uncertain_post(engine, settings, "x_main", force=True)
    (result,) = reconcile(engine, settings)
    assert not result.found
    assert (post(engine, row.id).state, post(engine, row.id).remote_id) == ("uncertain", None)

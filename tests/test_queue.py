"""Queue rules on SQLite and PostgreSQL: timing, duplicates, approvals, edits, cancel and retry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, update

from publisher import roster
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue, verbs
from publisher.engine.posts.queue import QueueError
from publisher.engine.storage.schema import posts
from tests.engine_helpers import approve_as_read, article, make_settings, post

NOW = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
RIGHT_AWAY = When()


@pytest.fixture
def settings(database_url: str):
    return make_settings(
        database_url,
        x_main={"type": "x", "dry_run": True, "slots": ["07:00", "12:00", "17:00"], "min_gap": 60},
        facebook={"type": "facebook", "dry_run": True, "approval": True},
    )


def add(
    engine: Engine, settings, number: int = 1, names=None, timing=RIGHT_AWAY, **kw
) -> list[int]:
    channels = roster.chosen(settings, names)
    kw.setdefault("queued_by", "test")
    return queue.add(engine, settings, article(number), channels, timing, now=NOW, **kw)


def count_posts(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(posts)).scalar_one()


def test_add_queues_one_post_per_configured_channel(engine: Engine, settings) -> None:
    ids = add(engine, settings)
    assert [post(engine, i).channel for i in ids] == ["x_main", "facebook"]


def test_post_holds_the_channels_teaser_text_and_tracked_link(engine: Engine, settings) -> None:
    row = post(engine, add(engine, settings, names=["x_main"])[0])
    assert row.text.startswith("Schlagzeile Nummer 1\n\n• Erster Punkt")
    assert (
        row.link == "https://e.de/artikel/1?utm_source=x&utm_medium=social&utm_campaign=publisher"
    )


def test_now_is_due_immediately(engine: Engine, settings) -> None:
    assert post(engine, add(engine, settings, names=["x_main"])[0]).due_at == NOW


def test_at_time_is_kept(engine: Engine, settings) -> None:
    when = NOW + timedelta(hours=3)
    ids = add(engine, settings, names=["x_main"], timing=When("at", when))
    assert post(engine, ids[0]).due_at == when


def test_next_slot_uses_the_channels_schedule(engine: Engine, settings) -> None:
    ids = add(engine, settings, names=["x_main"], timing=When("next_slot"))
    assert post(engine, ids[0]).due_at == datetime(2025, 1, 15, 11, 0, tzinfo=UTC)


def test_next_slot_skips_a_slot_another_post_holds(engine: Engine, settings) -> None:
    add(engine, settings, 1, names=["x_main"], timing=When("next_slot"))
    ids = add(engine, settings, 2, names=["x_main"], timing=When("next_slot"))
    assert post(engine, ids[0]).due_at == datetime(2025, 1, 15, 16, 0, tzinfo=UTC)


def test_next_slot_on_a_channel_without_slots_is_refused(engine: Engine, settings) -> None:
    with pytest.raises(QueueError, match="facebook: the channel has no posting slots"):
        add(engine, settings, timing=When("next_slot"))
    assert count_posts(engine) == 0


def test_channel_with_approval_waits_for_it(engine: Engine, settings) -> None:
    assert post(engine, add(engine, settings, names=["facebook"])[0]).state == "awaiting_approval"


def test_approve_queues_the_post(engine: Engine, settings) -> None:
    post_id = add(engine, settings, names=["facebook"])[0]
    approve_as_read(engine, post_id, by="test")
    assert post(engine, post_id).state == "queued"


def test_same_article_twice_on_a_channel_is_refused_and_nothing_changes(
    engine: Engine, settings
) -> None:
    add(engine, settings, names=["x_main"])
    with pytest.raises(QueueError, match="already queued for x_main as post 1"):
        add(engine, settings)
    assert count_posts(engine) == 1


def test_force_queues_the_same_article_again(engine: Engine, settings) -> None:
    (first,) = add(engine, settings, names=["x_main"])
    (again,) = add(engine, settings, names=["x_main"], force=True)
    shown = [post(engine, post_id) for post_id in (first, again)]
    assert [(p.article_id, p.channel, p.state) for p in shown] == [(1, "x_main", "queued")] * 2


def test_cancelled_post_does_not_block_queueing_again(engine: Engine, settings) -> None:
    (cancelled,) = add(engine, settings, names=["x_main"])
    verbs.cancel(engine, cancelled, by="test")
    (again,) = add(engine, settings, names=["x_main"])
    assert [post(engine, i).state for i in (cancelled, again)] == ["cancelled", "queued"]


def test_edit_replaces_the_text_after_checking_the_rules(engine: Engine, settings) -> None:
    post_id = add(engine, settings, names=["x_main"])[0]
    verbs.edit(engine, settings, post_id, "Neuer Text https://e.de/a", without_link=True, by="test")
    assert (post(engine, post_id).text, post(engine, post_id).edited) == (
        "Neuer Text https://e.de/a",
        True,
    )


def test_edit_over_the_limit_is_refused_with_the_length(engine: Engine, settings) -> None:
    post_id = add(engine, settings, names=["x_main"])[0]
    with pytest.raises(QueueError, match="300 weighted characters, over the limit of 280"):
        verbs.edit(engine, settings, post_id, "a" * 300, by="test")
    assert not post(engine, post_id).edited


def test_sent_post_can_no_longer_be_edited(engine: Engine, settings) -> None:
    post_id = add(engine, settings, names=["x_main"])[0]
    with engine.begin() as connection:
        connection.execute(update(posts).where(posts.c.id == post_id).values(state="sent"))
    with pytest.raises(QueueError, match="sent and can no longer be edited"):
        verbs.edit(engine, settings, post_id, "x", by="test")


def test_cancel_of_a_sent_post_is_refused(engine: Engine, settings) -> None:
    post_id = add(engine, settings, names=["x_main"])[0]
    with engine.begin() as connection:
        connection.execute(update(posts).where(posts.c.id == post_id).values(state="sent"))
    with pytest.raises(QueueError, match="post 1 is sent"):
        verbs.cancel(engine, post_id, by="test")


def test_retry_only_takes_failed_or_uncertain_posts(engine: Engine, settings) -> None:
    post_id = add(engine, settings, names=["x_main"])[0]
    with pytest.raises(QueueError, match="only failed or uncertain posts can be retried"):
        verbs.retry(engine, post_id, by="test")


def test_retry_queues_a_failed_post_now(engine: Engine, settings) -> None:
    post_id = add(engine, settings, names=["x_main"])[0]
    with engine.begin() as connection:
        connection.execute(
            update(posts).where(posts.c.id == post_id).values(state="failed", retries=5)
        )
    verbs.retry(engine, post_id, now=NOW + timedelta(hours=1), by="test")
    row = post(engine, post_id)
    assert (row.state, row.retries, row.due_at) == ("queued", 0, NOW + timedelta(hours=1))


def test_unknown_post_is_reported(engine: Engine) -> None:
    with pytest.raises(QueueError, match="no post 99"):
        verbs.approve(engine, 99, by="test", seen="0123456789")


def test_approval_records_who_approved_and_when(engine: Engine, settings) -> None:
    (post_id,) = add(engine, settings, names=["facebook"])
    approve_as_read(engine, post_id, by="anna")
    row = post(engine, post_id)
    assert (row.state, row.approved_by) == ("queued", "anna") and row.approved_at is not None


def test_editing_an_approved_post_sends_it_back_for_approval(engine: Engine, settings) -> None:
    (post_id,) = add(engine, settings, names=["facebook"])
    approve_as_read(engine, post_id, by="anna")
    verbs.edit(engine, settings, post_id, "Anderer Text https://e.de/artikel/1", by="ed")
    row = post(engine, post_id)
    assert (row.state, row.approved_by, row.approved_at) == ("awaiting_approval", None, None)


def test_editing_a_post_that_needed_no_approval_keeps_it_queued(engine: Engine, settings) -> None:
    (post_id,) = add(engine, settings, names=["x_main"])
    verbs.edit(engine, settings, post_id, "Neuer Text https://e.de/artikel/1", by="ed")
    assert post(engine, post_id).state == "queued"


def test_every_editors_action_is_recorded_with_who_did_it(engine: Engine, settings) -> None:
    from publisher.engine.storage.schema import post_events

    (post_id,) = add(engine, settings, names=["facebook"], queued_by="ed")
    verbs.edit(engine, settings, post_id, "Text https://e.de/artikel/1", by="ed")
    approve_as_read(engine, post_id, by="anna")
    verbs.cancel(engine, post_id, by="anna")
    with engine.connect() as connection:
        events = connection.execute(
            select(post_events.c.actor, post_events.c.action)
            .where(post_events.c.post_id == post_id)
            .order_by(post_events.c.id)
        ).all()
    assert [tuple(e) for e in events] == [
        ("ed", "queued"),
        ("ed", "edited"),
        ("anna", "approved"),
        ("anna", "cancelled"),
    ]


def test_a_failed_approved_post_edited_waits_for_approval_on_retry(
    engine: Engine, settings
) -> None:
    (post_id,) = add(engine, settings, names=["facebook"])
    approve_as_read(engine, post_id, by="anna")
    with engine.begin() as connection:
        connection.execute(update(posts).where(posts.c.id == post_id).values(state="failed"))
    verbs.edit(engine, settings, post_id, "Neuer Text https://e.de/artikel/1", by="ed")
    assert post(engine, post_id).state == "failed"
    verbs.retry(engine, post_id, by="ed")
    assert post(engine, post_id).state == "awaiting_approval"


def test_an_edit_that_drops_the_articles_link_needs_a_confirmation(
    engine: Engine, settings
) -> None:
    (post_id,) = add(engine, settings, names=["x_main"])
    before = post(engine, post_id).text
    with pytest.raises(queue.LinkMissing, match="no longer holds the article's link"):
        verbs.edit(engine, settings, post_id, "Nur noch Text", by="ed")
    assert post(engine, post_id).text == before
    verbs.edit(engine, settings, post_id, "Nur noch Text", by="ed", without_link=True)
    assert post(engine, post_id).text == "Nur noch Text"


def test_an_edit_without_the_link_is_fine_where_the_link_goes_beside_the_text(
    engine: Engine, settings
) -> None:
    (post_id,) = add(engine, settings, names=["facebook"])
    verbs.edit(engine, settings, post_id, "Nur noch Text", by="ed")
    assert post(engine, post_id).text == "Nur noch Text"


def test_the_typed_listings_name_every_field_the_json_gives(engine: Engine, settings) -> None:
    from publisher.engine.delivery.dispatch import Dispatcher
    from publisher.engine.posts.listings import DeliveryListing
    from publisher.engine.posts.post_detail import PostDetail, show_post

    (post_id, *_) = queue.add(
        engine, settings, article(), roster.chosen(settings, None), When(), queued_by="t"
    )
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    dispatcher.close()
    shown = show_post(engine, settings, post_id)
    assert set(shown) == set(PostDetail.__required_keys__)
    assert set(shown["deliveries"][0]) == set(DeliveryListing.__required_keys__)

"""Withdrawing an article takes its posts down from every platform that allows it, through the
real adapters and each platform's stand-in: once, logged as a delivery, retried when the
platform is unwell, "already gone" counted as done, a refusal kept with the platform's reason;
kept on purpose where the channel or the editor says so, and said to stay where the platform
lets nothing be removed (WhatsApp)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from publisher import actions, roster
from publisher.actions import Someone
from publisher.catalogue import translator
from publisher.clock import utcnow
from publisher.engine.releases.release import release
from publisher.engine.releases.withdrawal import Withdrawal
from publisher.engine.storage.schema import amendments as takedowns
from publisher.engine.storage.schema import post_events
from standins import contracts
from tests.engine_helpers import article, delivery_rows, post
from tests.platform_helpers import Sent

REMOVABLE = [platform for platform in contracts() if platform.remove_call]
BY_TYPE = {platform.type: platform for platform in contracts()}
CHIEF = Someone("chefin", approver=True)


def removals(engine: Engine, post_id: int) -> list[Any]:
    return [row for row in delivery_rows(engine, post_id) if row.action == "remove"]


def takedown(engine: Engine, post_id: int) -> Any:
    with engine.connect() as connection:
        return connection.execute(
            select(takedowns).where(takedowns.c.post_id == post_id, takedowns.c.action == "remove")
        ).one()


def withdraw(engine: Engine, out: Sent, **options: Any) -> Withdrawal:
    return actions.withdraw_article(engine, out.settings, article().url, CHIEF, "falsch", **options)


@pytest.mark.parametrize("platform", REMOVABLE, ids=lambda p: p.type)
def test_a_withdrawn_articles_post_is_taken_down_from_its_platform(sent, engine, platform) -> None:
    out = sent(platform)
    remote_id = post(engine, out.post_id).remote_id
    assert withdraw(engine, out).taking_down == [out.post_id]
    out.dispatcher.run_once()
    assert not out.stand_in.holds(remote_id)
    assert post(engine, out.post_id).state == "taken_down"
    assert [r.outcome for r in removals(engine, out.post_id)] == ["removed"]


@pytest.mark.parametrize("platform", REMOVABLE, ids=lambda p: p.type)
def test_a_post_deleted_by_hand_already_counts_as_taken_down(sent, engine, platform) -> None:
    out = sent(platform)
    remote_id = post(engine, out.post_id).remote_id
    roster.sender(out.settings, "social").remove(remote_id)
    withdraw(engine, out)
    out.dispatcher.run_once()
    assert post(engine, out.post_id).state == "taken_down"
    assert [r.outcome for r in removals(engine, out.post_id)] == ["already_gone"]


@pytest.mark.parametrize("platform", REMOVABLE, ids=lambda p: p.type)
def test_a_takedown_the_platform_fails_for_now_is_tried_again_later(sent, engine, platform) -> None:
    out = sent(platform, retry_base=30)
    remote_id = post(engine, out.post_id).remote_id
    method, path = platform.remove_call
    out.stand_in.fail_next(path, *platform.answers()["transient"], method=method)
    withdraw(engine, out)
    out.dispatcher.run_once()
    waiting = takedown(engine, out.post_id)
    assert waiting.state == "due" and out.stand_in.holds(remote_id)
    assert utcnow() + timedelta(seconds=10) < waiting.due_at < utcnow() + timedelta(seconds=31)
    out.dispatcher.run_once(now=waiting.due_at + timedelta(seconds=1))
    assert not out.stand_in.holds(remote_id)
    assert [r.outcome for r in removals(engine, out.post_id)] == ["transient", "removed"]


@pytest.mark.parametrize("platform", REMOVABLE, ids=lambda p: p.type)
def test_a_takedown_over_the_platforms_limit_waits_for_it(sent, engine, platform) -> None:
    out = sent(platform)
    method, path = platform.remove_call
    out.stand_in.fail_next(path, *platform.answers()["rate_limited"], method=method)
    withdraw(engine, out)
    out.dispatcher.run_once()
    waiting = takedown(engine, out.post_id)
    assert waiting.state == "due" and waiting.due_at > utcnow() + timedelta(seconds=30)
    assert post(engine, out.post_id).state == "sent"


@pytest.mark.parametrize("platform", REMOVABLE, ids=lambda p: p.type)
def test_a_refused_takedown_keeps_the_platforms_reason_for_an_editor(
    sent, engine, platform
) -> None:
    out = sent(platform)
    method, path = platform.remove_call
    out.stand_in.fail_next(path, *platform.answers()["permanent"], method=method)
    withdraw(engine, out)
    out.dispatcher.run_once()
    refused = takedown(engine, out.post_id)
    assert refused.state == "failed" and platform.reason.lower() in refused.error.lower()
    assert post(engine, out.post_id).state == "sent"
    assert [r.outcome for r in removals(engine, out.post_id)] == ["failed"]


def test_a_second_withdrawal_takes_nothing_down_twice(sent, engine) -> None:
    out = sent(BY_TYPE["x"])
    withdraw(engine, out)
    out.dispatcher.run_once()
    assert withdraw(engine, out).taking_down == []
    out.dispatcher.run_once()
    assert len(removals(engine, out.post_id)) == 1


def test_a_withdrawal_asked_to_keep_the_posts_out_leaves_them_standing(sent, engine) -> None:
    out = sent(BY_TYPE["x"])
    done = withdraw(engine, out, keep_sent=True)
    out.dispatcher.run_once()
    assert (done.kept, done.taking_down) == ([out.post_id], [])
    assert out.stand_in.holds(post(engine, out.post_id).remote_id)


def test_a_channel_that_keeps_its_posts_leaves_them_standing(sent, engine) -> None:
    out = sent(BY_TYPE["x"], on_withdraw="keep")
    assert withdraw(engine, out).kept == [out.post_id]
    out.dispatcher.run_once()
    assert post(engine, out.post_id).state == "sent"


def test_whatsapp_messages_are_said_to_stay(sent, engine) -> None:
    out = sent(BY_TYPE["whatsapp"])
    done = withdraw(engine, out)
    assert (done.cannot, done.taking_down) == ([out.post_id], [])


def test_a_telegram_message_older_than_two_days_is_left_for_an_editor(sent, engine) -> None:
    out = sent(BY_TYPE["telegram"])
    remote_id = post(engine, out.post_id).remote_id
    out.stand_in.age(int(remote_id), hours=49)
    withdraw(engine, out)
    out.dispatcher.run_once()
    refused = takedown(engine, out.post_id)
    assert refused.state == "failed" and "by hand" in refused.error


def test_the_cms_withdrawing_an_article_takes_its_posts_down(sent, engine) -> None:
    out = sent(BY_TYPE["mastodon"])
    remote_id = post(engine, out.post_id).remote_id
    answer = release(engine, out.settings, article(withdrawn=True), "webhook")
    assert answer.withdrawn is not None and answer.withdrawn.taking_down == [out.post_id]
    out.dispatcher.run_once()
    assert not out.stand_in.holds(remote_id)


def test_the_takedown_is_in_the_posts_history_with_who_asked(sent, engine) -> None:
    out = sent(BY_TYPE["x"])
    withdraw(engine, out)
    out.dispatcher.run_once()
    with engine.connect() as connection:
        events = connection.execute(
            select(post_events.c.actor, post_events.c.action, post_events.c.detail).where(
                post_events.c.post_id == out.post_id
            )
        ).all()
    assert ("chefin", "taken down", None) in [tuple(e) for e in events]


READERS = ["+4915112345678", "+4917600000001", "+4917600000002"]
HEADLINE = article().headline


def test_whatsapp_readers_get_a_notice_where_the_channel_asks_for_it(sent, engine) -> None:
    out = sent(BY_TYPE["whatsapp"], recipients=READERS, withdraw_notice=True)
    done = withdraw(engine, out)
    assert (done.noticed, len(done.notices)) == ([out.post_id], 1)
    out.dispatcher.run_once()
    notices = [c.json for c in out.stand_in.posts("/messages")][len(READERS) :]
    assert sorted(n["to"] for n in notices) == sorted(READERS)
    said = translator(out.settings.language, "desk")("withdrawal_notice", headline=HEADLINE)
    assert all(n["text"] == {"body": said, "preview_url": False} for n in notices)
    assert post(engine, done.notices[0]).state == "sent"


def test_a_reader_outside_the_window_gets_the_notices_template(sent, engine) -> None:
    out = sent(
        BY_TYPE["whatsapp"],
        recipients=READERS[:1],
        withdraw_notice=True,
        notice_template={"name": "withdrawn_notice", "language": "de"},
    )
    out.stand_in.open_windows = set()
    withdraw(engine, out)
    out.dispatcher.run_once()
    template = out.stand_in.posts("/messages")[-1].json["template"]
    parameters = template["components"][0]["parameters"]
    assert (template["name"], parameters) == (
        "withdrawn_notice",
        [{"type": "text", "text": HEADLINE}],
    )


def test_readers_get_one_notice_however_often_the_article_is_withdrawn(sent, engine) -> None:
    out = sent(BY_TYPE["whatsapp"], recipients=READERS, withdraw_notice=True)
    withdraw(engine, out)
    assert withdraw(engine, out).notices == []
    out.dispatcher.run_once()
    assert withdraw(engine, out).notices == []
    out.dispatcher.run_once()
    assert len(out.stand_in.posts("/messages")) == 2 * len(READERS)


def test_without_a_notice_whatsapp_readers_hear_nothing_more(sent, engine) -> None:
    out = sent(BY_TYPE["whatsapp"], recipients=READERS)
    assert withdraw(engine, out).notices == []
    out.dispatcher.run_once()
    assert len(out.stand_in.posts("/messages")) == len(READERS)

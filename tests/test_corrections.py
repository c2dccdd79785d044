"""Correcting an article makes the fix where the error stood, through the real adapters and each
platform's stand-in: Telegram and Mastodon posts are edited in place (keeping their link, the
history holding old and new text), an X post gets a reply under it, WhatsApp's readers a
follow-up; posts not yet out wait for an editor; the CMS's correction counts once."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from publisher import actions, roster
from publisher.actions import Someone
from publisher.catalogue import translator
from publisher.channels import channel_class
from publisher.clock import utcnow
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.releases.correction import Correction
from publisher.engine.releases.release import release
from publisher.engine.storage.schema import amendments, post_events
from standins import contracts
from tests.engine_helpers import article, delivery_rows, post
from tests.platform_helpers import Sent

BY_TYPE = {platform.type: platform for platform in contracts()}
# The contract table's rows for corrections: the platforms that edit a post in place, and those
# that take a post as a reply under another.
EDITING = [platform for platform in contracts() if platform.edit_call]
REPLYING = [platform for platform in contracts() if channel_class(platform.type).replies]
CHIEF = Someone("chefin", approver=True)
NOTE = "Die Zahl war 12, nicht 21."
READERS = ["+4915112345678", "+4917600000001"]


def correct(engine: Engine, out: Sent, note: str = NOTE) -> Correction:
    return actions.correct_article(engine, out.settings, article().url, CHIEF, note)


def line(out: Sent, note: str = NOTE) -> str:
    return translator(out.settings.language, "desk")("correction_line", note=note)


def history(engine: Engine, post_id: int) -> list[tuple[str, str, str | None]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                select(post_events.c.actor, post_events.c.action, post_events.c.detail).where(
                    post_events.c.post_id == post_id
                )
            )
        ]


def test_a_telegram_post_is_edited_in_place_keeping_its_link(sent, engine) -> None:
    out = sent(BY_TYPE["telegram"])
    before = post(engine, out.post_id)
    assert correct(engine, out).edited == [out.post_id]
    out.dispatcher.run_once()
    shown = out.stand_in.contents[int(before.remote_id)]["text"]
    assert shown == f"{before.text}\n\n{line(out)}" and html.escape(before.link) in shown
    assert post(engine, out.post_id).text == shown


def test_a_mastodon_post_is_edited_in_place(sent, engine) -> None:
    out = sent(BY_TYPE["mastodon"])
    remote_id = post(engine, out.post_id).remote_id
    correct(engine, out)
    out.dispatcher.run_once()
    assert line(out) in out.stand_in.statuses[remote_id]["content"]
    assert out.stand_in.statuses[remote_id]["edited_at"]


def test_the_history_holds_the_old_and_the_new_text(sent, engine) -> None:
    out = sent(BY_TYPE["telegram"])
    old = post(engine, out.post_id).text
    correct(engine, out)
    out.dispatcher.run_once()
    with engine.connect() as connection:
        edit = connection.execute(select(amendments).where(amendments.c.action == "edit")).one()
    assert (edit.former, edit.text) == (old, f"{old}\n\n{line(out)}")
    assert ("chefin", "corrected", edit.text) in history(engine, out.post_id)


def test_an_x_post_gets_the_correction_as_a_reply_under_it(sent, engine) -> None:
    out = sent(BY_TYPE["x"])
    remote_id = post(engine, out.post_id).remote_id
    (reply,) = correct(engine, out).follow_ups
    out.dispatcher.run_once()
    (shown,) = [t for t in out.stand_in.timeline if t["id"] == post(engine, reply).remote_id]
    assert (shown["text"], shown["in_reply_to_tweet_id"]) == (line(out), remote_id)


def test_whatsapps_readers_get_the_correction_as_a_follow_up(sent, engine) -> None:
    out = sent(BY_TYPE["whatsapp"], recipients=READERS)
    (follow_up,) = correct(engine, out).follow_ups
    out.dispatcher.run_once()
    told = [c.json for c in out.stand_in.posts("/messages")][len(READERS) :]
    assert sorted(m["to"] for m in told) == READERS
    assert {m["text"]["body"] for m in told} == {line(out)}
    assert post(engine, follow_up).state == "sent"


def test_a_second_correction_adds_its_line_to_the_first(sent, engine) -> None:
    out = sent(BY_TYPE["telegram"])
    before = post(engine, out.post_id)
    correct(engine, out)
    correct(engine, out, "Und es war Dienstag.")
    out.dispatcher.run_once()
    shown = out.stand_in.contents[int(before.remote_id)]["text"]
    assert shown == f"{before.text}\n\n{line(out)}\n\n{line(out, 'Und es war Dienstag.')}"


def test_an_edit_too_long_for_the_platform_goes_out_as_a_reply(sent, engine) -> None:
    out = sent(BY_TYPE["mastodon"])
    remote_id = post(engine, out.post_id).remote_id
    done = correct(engine, out, "Richtig ist: " + "sehr lang " * 60)
    out.dispatcher.run_once()
    (reply,) = done.follow_ups
    assert done.edited == []
    assert out.stand_in.statuses[post(engine, reply).remote_id]["in_reply_to_id"] == remote_id


def test_a_channel_that_says_reply_replies_instead_of_editing(sent, engine) -> None:
    out = sent(BY_TYPE["telegram"], on_correct="reply")
    done = correct(engine, out)
    out.dispatcher.run_once()
    (reply,) = done.follow_ups
    parent = int(post(engine, out.post_id).remote_id)
    assert out.stand_in.contents[int(post(engine, reply).remote_id)]["reply_to"] == parent


def test_a_channel_that_says_none_is_left_as_it_is(sent, engine) -> None:
    out = sent(BY_TYPE["x"], on_correct="none")
    assert correct(engine, out).left == [out.post_id]
    out.dispatcher.run_once()
    assert len(out.stand_in.timeline) == 1


def test_posts_not_yet_out_wait_for_an_editor(sent, engine) -> None:
    out = sent(BY_TYPE["telegram"])
    channels = roster.chosen(out.settings, ["social"])
    at = When("at", utcnow() + timedelta(hours=3))
    (later,) = queue.add(engine, out.settings, article(), channels, at, force=True, queued_by="t")
    assert correct(engine, out).held == [later]
    assert post(engine, later).state == "awaiting_approval"


def test_a_refused_edit_keeps_the_platforms_reason(sent, engine) -> None:
    out = sent(BY_TYPE["telegram"])
    out.stand_in.fail_next("editMessageText", *BY_TYPE["telegram"].answers()["permanent"])
    correct(engine, out)
    out.dispatcher.run_once()
    with engine.connect() as connection:
        edit = connection.execute(select(amendments).where(amendments.c.action == "edit")).one()
    assert edit.state == "failed" and BY_TYPE["telegram"].reason.lower() in edit.error.lower()
    assert [d.outcome for d in delivery_rows(engine, out.post_id) if d.action == "edit"] == [
        "failed"
    ]


def test_the_cms_sending_a_correction_corrects_once(sent, engine) -> None:
    out = sent(BY_TYPE["x"])
    corrected: Any = article(correction=NOTE)
    first = release(engine, out.settings, corrected, "webhook")
    again = release(engine, out.settings, corrected, "webhook")
    out.dispatcher.run_once()
    assert first.corrected is not None and len(first.corrected.follow_ups) == 1
    assert again.corrected is None
    assert len(out.stand_in.timeline) == 2


def test_only_an_approver_corrects(sent, engine) -> None:
    out = sent(BY_TYPE["telegram"])
    with pytest.raises(actions.ApproversOnly):
        actions.correct_article(engine, out.settings, article().url, Someone("ed"), NOTE)
    with engine.connect() as connection:
        assert connection.execute(select(amendments)).first() is None


@pytest.mark.parametrize("platform", EDITING, ids=lambda p: p.type)
def test_a_correction_edits_the_post_in_place(sent, engine, platform) -> None:
    out = sent(platform)
    remote_id = post(engine, out.post_id).remote_id
    assert correct(engine, out).edited == [out.post_id]
    out.dispatcher.run_once()
    assert NOTE in out.stand_in.text_of(remote_id)
    assert [d.outcome for d in delivery_rows(engine, out.post_id) if d.action] == ["edited"]


@pytest.mark.parametrize("platform", EDITING, ids=lambda p: p.type)
def test_an_edit_the_platform_fails_for_now_is_tried_again_later(sent, engine, platform) -> None:
    out = sent(platform, retry_base=30)
    remote_id = post(engine, out.post_id).remote_id
    method, path = platform.edit_call
    out.stand_in.fail_next(path, *platform.answers()["transient"], method=method)
    correct(engine, out)
    out.dispatcher.run_once()
    with engine.connect() as connection:
        waiting = connection.execute(select(amendments)).one()
    assert waiting.state == "due" and NOTE not in out.stand_in.text_of(remote_id)
    out.dispatcher.run_once(now=waiting.due_at + timedelta(seconds=1))
    assert NOTE in out.stand_in.text_of(remote_id)


@pytest.mark.parametrize("platform", EDITING, ids=lambda p: p.type)
def test_a_refused_edit_is_kept_with_the_platforms_reason(sent, engine, platform) -> None:
    out = sent(platform)
    method, path = platform.edit_call
    out.stand_in.fail_next(path, *platform.answers()["permanent"], method=method)
    correct(engine, out)
    out.dispatcher.run_once()
    with engine.connect() as connection:
        refused = connection.execute(select(amendments)).one()
    assert refused.state == "failed" and platform.reason.lower() in refused.error.lower()


@pytest.mark.parametrize("platform", REPLYING, ids=lambda p: p.type)
def test_a_correction_goes_out_as_a_reply_under_the_post(sent, engine, platform) -> None:
    out = sent(platform, on_correct="reply")
    remote_id = post(engine, out.post_id).remote_id
    (reply,) = correct(engine, out).follow_ups
    out.dispatcher.run_once()
    answer = post(engine, reply)
    assert answer.state == "sent", answer.error
    assert out.stand_in.parent_of(answer.remote_id) == remote_id
    assert NOTE in out.stand_in.text_of(answer.remote_id)

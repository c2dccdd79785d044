"""The editors' Telegram bot: the real python-telegram-bot Application, long-polling a local
server that speaks the Bot API. Commands and button presses from allowed and unknown users, with
the bot's calls and the queue's state checked after each."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, insert, select, update

from publisher import roster
from publisher.articles import Article
from publisher.bot import BotThread
from publisher.catalogue import en
from publisher.channels import Result
from publisher.clock import utcnow
from publisher.config import BotSettings, ChannelSettings, Settings
from publisher.engine.audiences.subscribers import import_numbers
from publisher.engine.lifecycle import asked_by_editor
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue, verbs
from publisher.engine.posts.pauses import active_pauses
from publisher.engine.storage.schema import deliveries, measurements, posts
from publisher.logs import quiet_libraries
from standins.base import free_port, listening
from standins.bot_api import BotApiStandIn
from standins.telegram import TELEGRAM_TOKEN
from tests.conftest import wait_for

pytestmark = pytest.mark.one_database

EDITOR = 4242
JUNIOR = 4343
STRANGER = 6666
EDITORS_CHAT = -100500
ARTICLE = Article(
    id="cms-77",
    url="https://www.news.de/politik/77/",
    headline="Die Schlagzeile des Tages",
    bullets=["Erster Punkt", "Zweiter Punkt"],
)


def bot_settings(api: BotApiStandIn, language: str) -> BotSettings:
    """The newsroom's bot: two editors (one an approver) and the editors' chat."""
    return BotSettings(
        api_base=api.url,
        allowed_users=(EDITOR, JUNIOR),
        approvers=(EDITOR,),
        editors_chat_id=EDITORS_CHAT,
        notify_every=0.2,
        language=language,
    )


def one_channel(database_url: str, api: BotApiStandIn, language: str) -> Settings:
    """A newsroom with one X channel and the bot in `language`."""
    return Settings(
        database_url=database_url,
        channels={"x": ChannelSettings(type="x", dry_run=True)},
        bot=bot_settings(api, language),
    )


@pytest.fixture
def desk_settings(database_url: str, bot_api: BotApiStandIn) -> Settings:
    return Settings(
        database_url=database_url,
        channels={
            "x_main": ChannelSettings(type="x", dry_run=True),
            "telegram": ChannelSettings(type="telegram", dry_run=True),
        },
        bot=bot_settings(bot_api, "en"),
    )


@contextmanager
def bot_running(engine: Engine, settings: Settings, api: BotApiStandIn) -> Iterator[BotApiStandIn]:
    """The bot in a thread of its own, the article stored, until the block ends. Both editors
    have started a private chat with it."""
    api.started.update({EDITOR, JUNIOR})
    with engine.begin() as connection:
        queue.upsert_article(connection, ARTICLE, datetime.now(UTC), "cms")
    thread = BotThread(engine, settings)
    thread.start()
    wait_for(lambda: api.sent("getUpdates"))
    try:
        yield api
    finally:
        thread.stop()
    assert thread.failed is None


@pytest.fixture
def running(
    engine: Engine, desk_settings: Settings, bot_api: BotApiStandIn, monkeypatch
) -> Iterator[BotApiStandIn]:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    with bot_running(engine, desk_settings, bot_api) as api:
        yield api


def replies(api: BotApiStandIn, chat: int = EDITOR) -> list[str]:
    return [m["text"] for m in api.sent("sendMessage") if int(m["chat_id"]) == chat]


def reply_after(api: BotApiStandIn, command: str, user: int = EDITOR) -> str:
    """What the bot answered to a command, or to a plain message (one not starting with /)."""
    before = len(replies(api, user))
    if command.startswith("/"):
        api.push_command(user, user, command)
    else:
        api.push_text(user, user, command)
    answer = wait_for(lambda: replies(api, user)[before:])[-1]
    # The stand-in notes the call before it records the message with its buttons.
    wait_for(lambda: len(api.messages) >= len(api.sent("sendMessage")))
    return answer


def rows(engine: Engine) -> Sequence[Any]:
    with engine.connect() as connection:
        return connection.execute(select(posts).order_by(posts.c.id)).all()


def queue_post(
    engine: Engine, settings: Settings, channel: str = "x_main", *, held: bool = False
) -> int:
    """A post of ARTICLE queued on `channel` now; `held` waits for an approver, as an editor
    who holds it asks."""
    channels = roster.chosen(settings, [channel])
    approval = asked_by_editor(held)
    return queue.add(
        engine, settings, ARTICLE, channels, When(), force=True, queued_by="test", approval=approval
    )[0]


def press(api: BotApiStandIn, label: str, user: int = EDITOR, chat: int = EDITOR) -> None:
    """Press the button labelled `label` on the newest message that carries it now (a button
    an edit took away cannot be pressed)."""
    message = wait_for(lambda: _showing(api, label))
    data = next(
        b["callback_data"]
        for row in message["buttons"]["inline_keyboard"]
        for b in row
        if b["text"] == label
    )
    shown = {k: v for k, v in message.items() if k not in ("buttons", "html")}
    api.push_button(user, chat, data, shown)


def _showing(api: BotApiStandIn, label: str) -> dict | None:
    # The stand-in notes the call before it records the message, so a reply already seen
    # may not carry its buttons yet.
    for sent in reversed(api.messages):
        now = api.current[(sent["chat"]["id"], sent["message_id"])]
        if now.get("buttons") and _has(now["buttons"], label):
            return now
    return None


def _has(buttons: dict, label: str) -> bool:
    return any(b["text"] == label for row in buttons["inline_keyboard"] for b in row)


def test_command_list_is_registered_with_telegram(running) -> None:
    english = running.sent("setMyCommands")[0]
    names = [c["command"] for c in json.loads(english["commands"])]
    assert names == [
        "queue", "list", "log", "stats", "show", "edit", "approve", "cancel", "retry", "pause",
        "resume", "withdraw", "correct", "help",
    ]  # fmt: skip
    assert "language_code" not in english


def test_german_users_get_the_command_list_described_in_german(running) -> None:
    german = running.sent("setMyCommands")[1]
    described = {c["command"]: c["description"] for c in json.loads(german["commands"])}
    assert german["language_code"] == "de" and described["list"] == "Was eingeplant ist"


def test_help_answers_an_allowed_editor(running) -> None:
    assert "/queue" in reply_after(running, "/help")


@pytest.mark.parametrize(
    ("command", "usage"),
    [
        ("/show", "/show &lt;no.&gt;"),
        ("/edit 4", "/edit &lt;no.&gt; &lt;channel&gt; &lt;text&gt;"),
        ("/pause", "/pause &lt;channel&gt; [reason]"),
    ],
)
def test_a_command_without_what_it_takes_says_how_it_is_given(running, command, usage) -> None:
    assert f"Usage: {usage}" in reply_after(running, command)


def test_unknown_user_gets_one_polite_refusal_and_nothing_else(running, engine, caplog) -> None:
    assert "only for the newsroom" in reply_after(running, "/list", user=STRANGER)
    running.push_command(STRANGER, STRANGER, f"/queue {ARTICLE.id} now")
    # Updates are handled in order: once an editor's later command is answered, the
    # stranger's second one has been handled too.
    reply_after(running, "/help")
    assert len(replies(running, STRANGER)) == 1
    assert rows(engine) == []
    assert any("refused Telegram user 6666" in r.getMessage() for r in caplog.records)


def test_queue_previews_every_channel_with_buttons(running) -> None:
    preview = reply_after(running, f"/queue {ARTICLE.id}")
    assert "<b>X</b>" in preview and "<b>Telegram</b>" in preview and "Erster Punkt" in preview
    labels = [b["text"] for row in running.messages[-1]["buttons"]["inline_keyboard"] for b in row]
    assert labels == [
        "Add to queue", "Next slot", "In 15 min", "Tomorrow 08:00", "Post now", "Edit", "Cancel",
    ]  # fmt: skip


def test_the_queue_preview_says_whom_a_whatsapp_post_reaches(
    engine, desk_settings, bot_api, monkeypatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    whatsapp = ChannelSettings(type="whatsapp", dry_run=True, phone_number_id="1098765")
    settings = desk_settings.model_copy(
        update={"channels": {**desk_settings.channels, "wa": whatsapp}}
    )
    import_numbers(engine, "wa", "+4915112345678\n+4917600000001", "form")
    with bot_running(engine, settings, bot_api):
        preview = reply_after(bot_api, f"/queue {ARTICLE.id} wa")
    assert "reaches 2 readers: 0 with this text, 2 with the approved template" in preview


def test_post_now_on_two_channels_asks_once_then_queues_both_due_now(running, engine) -> None:
    reply_after(running, f"/queue {ARTICLE.id}")
    press(running, "Post now")
    asked = wait_for(lambda: running.sent("editMessageText"))[-1]["text"]
    assert "goes out at once" in asked and rows(engine) == []
    press(running, "Yes, send it so")
    wait_for(lambda: len(running.sent("editMessageText")) == 2)
    assert "Queued" in running.sent("editMessageText")[-1]["text"]
    assert running.sent("answerCallbackQuery")
    assert sorted((r.channel, r.state) for r in rows(engine)) == [
        ("telegram", "queued"),
        ("x_main", "queued"),
    ]


def test_queue_with_channels_and_a_time(running, engine, desk_settings) -> None:
    reply_after(running, f"/queue {ARTICLE.id} telegram 23:59")
    press(running, "Add to queue")
    wait_for(lambda: rows(engine))
    (row,) = rows(engine)
    local = row.due_at.astimezone(desk_settings.channel_tz("telegram"))
    assert (row.channel, local.strftime("%H:%M")) == ("telegram", "23:59")


def test_a_best_time_typed_in_the_bot_is_shown_as_such_not_as_now(running) -> None:
    preview = reply_after(running, f"/queue {ARTICLE.id} telegram best")
    # Telegram has no history here and no slots: its post would go now, and the preview says so.
    assert "each channel's best time" in preview and "now" in preview


def test_the_edit_button_asks_for_the_new_text_and_queues_nothing(running, engine) -> None:
    reply_after(running, f"/queue {ARTICLE.id} x_main 23:59")
    press(running, "Edit")
    asked = wait_for(lambda: running.sent("editMessageText"))[-1]["text"]
    assert "Please send the new text for X" in asked
    assert rows(engine) == []


def test_cancel_button_queues_nothing(running, engine) -> None:
    reply_after(running, f"/queue {ARTICLE.id}")
    press(running, "Cancel")
    wait_for(lambda: running.sent("editMessageText"))
    assert rows(engine) == []


def test_a_strangers_plain_message_and_unknown_command_get_nothing_but_the_one_refusal(
    running, engine
) -> None:
    assert "only for the newsroom" in reply_after(running, ARTICLE.url, user=STRANGER)
    running.push_text(STRANGER, STRANGER, ARTICLE.url)
    running.push_command(STRANGER, STRANGER, "/nosuchcommand")
    # Updates are handled in order: an editor's later command answered means the stranger's
    # were handled too.
    reply_after(running, "/help")
    assert len(replies(running, STRANGER)) == 1
    assert rows(engine) == []


def test_button_pressed_by_a_stranger_is_refused(running, engine) -> None:
    reply_after(running, f"/queue {ARTICLE.id}")
    press(running, "Post now", user=STRANGER)
    answer = wait_for(lambda: running.sent("answerCallbackQuery"))[-1]
    assert "only for the newsroom" in answer["text"]
    reply_after(running, "/help")
    assert rows(engine) == []


def test_unknown_article_is_one_clear_message(running, engine) -> None:
    assert "no stored article" in reply_after(running, "/queue gibts-nicht")


def test_edit_validates_and_shows_the_new_length(running, engine, desk_settings) -> None:
    post_id = queue_post(engine, desk_settings)
    answer = reply_after(running, f"/edit {post_id} x_main Neuer Text {ARTICLE.url}")
    assert "34/280 characters (as X counts them)" in answer  # 11 characters, a URL weighs 23
    assert rows(engine)[0].text == f"Neuer Text {ARTICLE.url}"


def test_edit_over_the_limit_is_refused_and_the_text_kept(running, engine, desk_settings) -> None:
    post_id = queue_post(engine, desk_settings)
    before = rows(engine)[0].text
    answer = reply_after(running, f"/edit {post_id} x_main {'Wort ' * 80}")
    assert "over the limit of 280" in answer
    assert rows(engine)[0].text == before


def test_approve_cancel_and_retry_change_the_queue(running, engine, desk_settings) -> None:
    post_id = queue_post(engine, desk_settings, held=True)
    assert "Approve post" in reply_after(running, f"/approve {post_id}")
    press(running, "Approve")
    wait_for(lambda: rows(engine)[0].state == "queued")
    assert "cancelled" in reply_after(running, f"/cancel {post_id}")
    assert rows(engine)[0].state == "cancelled"
    assert "only posts that are failed or unclear can be" in reply_after(
        running, f"/retry {post_id}"
    )


def test_pause_and_resume_a_channel(running, engine) -> None:
    assert "paused" in reply_after(running, "/pause x_main Token erneuern")
    with engine.connect() as connection:
        assert "x_main" in active_pauses(connection, utcnow())
    assert "resumed" in reply_after(running, "/resume x_main")
    with engine.connect() as connection:
        assert "x_main" not in active_pauses(connection, utcnow())


def test_list_show_and_log(running, engine, desk_settings) -> None:
    post_id = queue_post(engine, desk_settings)
    assert f"#{post_id}" in reply_after(running, "/list")
    assert "Die Schlagzeile" in reply_after(running, f"/show {post_id}")
    assert "No deliveries" in reply_after(running, "/log")


def sent_and_measured(engine: Engine, settings: Settings, channel: str, **numbers: int) -> int:
    """A post sent a moment ago on `channel`, its network's numbers measured."""
    post_id = queue_post(engine, settings, channel)
    with engine.begin() as connection:
        connection.execute(
            update(posts).where(posts.c.id == post_id).values(state="sent", sent_at=utcnow())
        )
        connection.execute(
            insert(measurements).values(
                post_id=post_id,
                channel=channel,
                point="first",
                measured_at=utcnow(),
                metrics=Result.of({}, **numbers).metrics,
                raw={},
            )
        )
    return post_id


def test_stats_lists_todays_best_posts_with_their_numbers(running, engine, desk_settings) -> None:
    few = sent_and_measured(engine, desk_settings, "x_main", likes=3)
    many = sent_and_measured(engine, desk_settings, "telegram", likes=40, reposts=12)
    answer = reply_after(running, "/stats")
    assert answer.index(f"#{many}") < answer.index(f"#{few}")
    assert "– clicks · 52 interactions" in answer


def test_stats_says_a_post_without_numbers_has_none_yet(running, engine, desk_settings) -> None:
    post_id = sent_and_measured(engine, desk_settings, "x_main")
    answer = reply_after(running, "/stats")
    assert f"#{post_id}" in answer and "no numbers yet" in answer and "– clicks" not in answer


def test_stats_before_anything_was_sent_today_says_so(running) -> None:
    assert reply_after(running, "/stats") == "No post has been sent today yet."


def test_failed_post_is_notified_with_buttons_that_work(running, engine, desk_settings) -> None:
    post_id = queue_post(engine, desk_settings)
    with engine.begin() as connection:
        connection.execute(
            update(posts).values(state="failed", error="x: duplicate", updated_at=utcnow())
        )
    note = wait_for(lambda: replies(running, EDITORS_CHAT))[-1]
    assert f"Post {post_id} on X failed" in note
    press(running, "Retry", chat=EDITORS_CHAT)
    wait_for(lambda: rows(engine)[0].state == "queued")


def test_post_waiting_for_approval_is_notified_and_approved_by_button(
    running, engine, desk_settings
) -> None:
    queue_post(engine, desk_settings, held=True)
    wait_for(lambda: any("waits for approval" in t for t in replies(running, EDITORS_CHAT)))
    press(running, "Approve", chat=EDITORS_CHAT)
    wait_for(lambda: rows(engine)[0].state == "queued")


def test_paused_channel_is_notified_with_a_resume_button(running, engine, desk_settings) -> None:
    verbs.pause(engine, desk_settings, "telegram", "token expired")
    wait_for(lambda: any("token expired" in t for t in replies(running, EDITORS_CHAT)))
    press(running, "Resume", chat=EDITORS_CHAT)

    def resumed() -> bool:
        with engine.connect() as connection:
            return "telegram" not in active_pauses(connection, utcnow())

    wait_for(resumed)


@pytest.fixture
def german(engine, desk_settings, bot_api, monkeypatch) -> Iterator[BotApiStandIn]:
    """The bot running with German as its language."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    settings = desk_settings.model_copy(
        update={"bot": desk_settings.bot.model_copy(update={"language": "de"})}
    )
    with bot_running(engine, settings, bot_api) as api:
        yield api


def test_replies_in_german_when_configured(german) -> None:
    assert "Nichts eingeplant" in reply_after(german, "/list")


def test_a_german_bot_says_in_german_that_an_article_is_unknown(german) -> None:
    answer = reply_after(german, "/queue cms-unbekannt")
    assert "Es gibt keinen gespeicherten Artikel „cms-unbekannt“" in answer


def test_bot_token_never_reaches_the_log(
    engine, desk_settings, bot_api, monkeypatch, caplog
) -> None:
    # Everything down to INFO, where httpx logs each request URL (and a Bot API URL holds the
    # token), with the libraries set up as every command sets them up.
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    caplog.set_level(logging.INFO)
    quiet_libraries()
    thread = BotThread(engine, desk_settings)
    thread.start()
    try:
        reply_after(bot_api, "/help")
    finally:
        thread.stop()
    assert len(caplog.records) > 0
    assert all(TELEGRAM_TOKEN not in r.getMessage() for r in caplog.records)


def test_webhook_mode_checks_telegrams_secret_token(
    engine, desk_settings, bot_api, monkeypatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "tg-secret-31")
    port = free_port()
    hooked = desk_settings.model_copy(
        update={
            "bot": desk_settings.bot.model_copy(
                update={
                    "mode": "webhook",
                    "webhook_url": "https://desk.example-news.de/telegram",
                    "webhook_port": port,
                }
            )
        }
    )
    # The editor started a private chat with the bot, so its answer can reach them (a failed
    # answer would be followed by a second, the error handler's, and the count would race).
    bot_api.started.add(EDITOR)
    thread = BotThread(engine, hooked)
    thread.start()
    try:
        (registered,) = wait_for(lambda: bot_api.sent("setWebhook"))
        assert registered["secret_token"] == "tg-secret-31"
        wait_for(lambda: listening(port))
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": EDITOR, "type": "private"},
                "from": {"id": EDITOR, "is_bot": False, "first_name": "E"},
                "text": "/help",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            },
        }
        url = f"http://127.0.0.1:{port}/telegram"
        forged = requests.post(
            url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}, timeout=30
        )
        assert forged.status_code == 403
        assert requests.post(url, json=update, timeout=30).status_code == 403
        genuine = requests.post(
            url,
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": "tg-secret-31"},
            timeout=30,
        )
        assert genuine.status_code == 200
        wait_for(lambda: replies(bot_api))
        assert len(replies(bot_api)) == 1
    finally:
        thread.stop()


def test_an_editor_who_is_no_approver_cannot_approve(running, engine, desk_settings) -> None:
    post_id = queue_post(engine, desk_settings, held=True)
    assert "Only approvers" in reply_after(running, f"/approve {post_id}", user=JUNIOR)
    assert rows(engine)[0].state == "awaiting_approval"


def test_an_editor_who_is_no_approver_cannot_pause_or_resume(running, engine) -> None:
    assert "Only approvers" in reply_after(running, "/pause x_main", user=JUNIOR)
    verbs.pause(engine, Settings(channels={"x_main": ChannelSettings(type="x")}), "x_main", "t")
    assert "Only approvers" in reply_after(running, "/resume x_main", user=JUNIOR)
    with engine.connect() as connection:
        assert "x_main" in active_pauses(connection, utcnow())


def test_the_approve_button_is_refused_to_an_editor_who_is_no_approver(
    running, engine, desk_settings
) -> None:
    queue_post(engine, desk_settings, held=True)
    wait_for(lambda: any("waits for approval" in t for t in replies(running, EDITORS_CHAT)))
    press(running, "Approve", user=JUNIOR, chat=EDITORS_CHAT)
    answer = wait_for(lambda: running.sent("answerCallbackQuery"))[-1]
    assert "Only approvers" in answer["text"]
    assert rows(engine)[0].state == "awaiting_approval"


def test_an_approval_by_bot_records_the_approvers_telegram_id(
    running, engine, desk_settings
) -> None:
    post_id = queue_post(engine, desk_settings, held=True)
    reply_after(running, f"/approve {post_id}")
    press(running, "Approve")
    wait_for(lambda: rows(engine)[0].approved_by == f"telegram:{EDITOR}")


def test_an_edit_that_drops_the_link_asks_before_it_is_saved(
    running, engine, desk_settings
) -> None:
    post_id = queue_post(engine, desk_settings)
    before = rows(engine)[0].text
    answer = reply_after(running, f"/edit {post_id} x_main Nur noch Text")
    assert "no longer holds the article's link" in answer
    assert rows(engine)[0].text == before
    press(running, "Post it without the link")
    wait_for(lambda: rows(engine)[0].text == "Nur noch Text")


@pytest.mark.parametrize(
    "data", ["zz", "p:abc:approve", "p:1:explode", "d", "c::", "p:" + "9" * 30 + ":retry"]
)
def test_a_malformed_button_is_answered_and_changes_nothing(running, engine, data: str) -> None:
    message = {"message_id": 1, "date": int(time.time()), "text": "alt"}
    running.push_button(EDITOR, EDITOR, data, message)
    answer = wait_for(lambda: running.sent("answerCallbackQuery"))[-1]
    assert "no longer works" in answer.get("text", "")
    assert not any(en.BOT["internal_error"] in r for r in replies(running))


def test_a_post_id_too_large_for_any_post_is_no_post(running) -> None:
    assert f"no post {'9' * 30}" in reply_after(running, f"/show {'9' * 30}")


def test_a_notification_that_could_not_be_sent_is_sent_later(
    running, engine, desk_settings
) -> None:
    post_id = queue_post(engine, desk_settings)
    running.fail_next(
        "/sendMessage", 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
    )
    with engine.begin() as connection:
        connection.execute(
            update(posts).values(state="failed", error="x: duplicate", updated_at=utcnow())
        )
    delivered = wait_for(
        lambda: [m["text"] for m in running.messages if m["chat"]["id"] == EDITORS_CHAT],
        seconds=10,
    )
    assert f"Post {post_id} on X failed" in delivered[-1]


def test_a_channel_without_slots_is_previewed_as_going_out_now_and_asked_again(
    running, engine
) -> None:
    preview = reply_after(running, f"/queue {ARTICLE.id} x_main next")
    assert "· now ·" in preview
    press(running, "Add to queue")
    asked = wait_for(lambda: running.sent("editMessageText"))[-1]["text"]
    assert "goes out at once" in asked and rows(engine) == []


def test_show_counts_what_became_of_a_post_to_many_recipients(running, engine, desk_settings):
    post_id = queue_post(engine, desk_settings)
    now = datetime.now(UTC)
    rows_of = [
        ("+4917600000001", "sent", "read", None),
        ("+4917600000002", "sent", "delivered", None),
        ("+4917600000003", "sent", "failed", "131026: Message undeliverable"),
    ]
    with engine.begin() as connection:
        connection.execute(
            insert(deliveries),
            [
                {
                    "post_id": post_id, "channel": "x_main", "attempt": 1, "worker": "w",
                    "started_at": now, "outcome": outcome, "recipient": recipient,
                    "status": status, "status_error": error, "payload": {},
                }
                for recipient, outcome, status, error in rows_of
            ],
        )  # fmt: skip
    answer = reply_after(running, f"/show {post_id}")
    assert "3 sent · 2 delivered · 1 read · 1 failed" in answer
    assert "1 × 131026: Message undeliverable" in answer


def test_a_command_telegram_delivers_again_after_a_restart_is_not_acted_on_twice(
    engine, desk_settings, bot_api, monkeypatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    with bot_running(engine, desk_settings, bot_api) as api:
        reply_after(api, "/help")
        handled = api.pushed[-1]
    # The bot stopped before Telegram had its confirmation: the update comes again.
    bot_api.deliver_again(handled)
    with bot_running(engine, desk_settings, bot_api) as api:
        reply_after(api, "/list")
    assert sum("/queue" in text for text in replies(bot_api)) == 1


def test_a_notice_settled_by_its_own_button_keeps_the_approvers_closing_line(
    running, engine, desk_settings
) -> None:
    queue_post(engine, desk_settings, held=True)
    wait_for(lambda: any("waits for approval" in t for t in replies(running, EDITORS_CHAT)))
    press(running, "Approve", chat=EDITORS_CHAT)
    wait_for(lambda: rows(engine)[0].state == "queued")
    notice = next(m for m in running.messages if "waits for approval" in m["text"])
    time.sleep(1)  # five of the notifier's rounds: it has seen the approval
    shown = running.current[(EDITORS_CHAT, notice["message_id"])]["text"]
    assert shown.endswith("Done: post 1 approved. Goes out now.")


def test_a_double_tap_on_a_notices_button_keeps_what_the_first_tap_said(
    running, engine, desk_settings
) -> None:
    queue_post(engine, desk_settings, held=True)
    wait_for(lambda: any("waits for approval" in t for t in replies(running, EDITORS_CHAT)))
    notice = wait_for(lambda: _showing(running, "Approve"))
    data = next(b["callback_data"] for b in notice["buttons"]["inline_keyboard"][0])
    shown = {k: v for k, v in notice.items() if k not in ("buttons", "html")}
    running.push_button(EDITOR, EDITORS_CHAT, data, shown)
    running.push_button(EDITOR, EDITORS_CHAT, data, shown)
    wait_for(lambda: len(running.sent("answerCallbackQuery")) == 2)
    now = running.current[(EDITORS_CHAT, notice["message_id"])]["text"]
    assert now.endswith("Done: post 1 approved. Goes out now.")

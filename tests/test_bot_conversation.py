"""The bot as a German newsroom's editors and approver use it from their phones (Europe/Berlin,
X with slots, Telegram with approval, WhatsApp subscribers without slots), each test one exchange
against the Bot API stand-in: what the editor sends, what the bot answers, what is queued."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, update

from publisher import roster
from publisher.articles import Image
from publisher.bot.commands import BotHandlers
from publisher.bot.notify import Notifier
from publisher.catalogue import moment
from publisher.config import ChannelSettings, FetchSettings, Settings
from publisher.engine.audiences.subscribers import import_numbers
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue, verbs
from publisher.engine.posts.pauses import active_pauses
from publisher.engine.storage.schema import deliveries, post_events, posts
from standins.bot_api import BotApiStandIn
from standins.telegram import TELEGRAM_TOKEN
from tests.conftest import LocalServer, wait_for
from tests.engine_helpers import approve_as_read
from tests.test_bot import (
    ARTICLE,
    EDITOR,
    EDITORS_CHAT,
    JUNIOR,
    bot_running,
    bot_settings,
    press,
    replies,
    reply_after,
    rows,
)

READERS = 1_200


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite alone: these are the bot's conversations; the queue's and the notices' SQL under
    them runs on both databases in `test_bot` and the engine's tests."""
    return f"sqlite:///{tmp_path / 'newsroom.db'}"


@pytest.fixture
def newsroom(database_url: str, bot_api: BotApiStandIn) -> Settings:
    slots = ["07:00", "12:00", "18:00"]
    return Settings(
        database_url=database_url,
        language="de",
        fetch=FetchSettings(allow_private_networks=True),
        channels={
            "x": ChannelSettings(type="x", dry_run=True, slots=slots),
            "telegram": ChannelSettings(type="telegram", dry_run=True, approval=True, slots=slots),
            "wa": ChannelSettings(type="whatsapp", dry_run=True, phone_number_id="1098765"),
        },
        bot=bot_settings(bot_api, "de"),
    )


@pytest.fixture
def bot(engine: Engine, newsroom: Settings, bot_api: BotApiStandIn, monkeypatch) -> Iterator[Any]:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    numbers = "\n".join(f"+49151{n:08d}" for n in range(READERS))
    import_numbers(engine, "wa", numbers, "form")
    with bot_running(engine, newsroom, bot_api) as api:
        yield api


def edited(api: BotApiStandIn, count: int = 1) -> str:
    """The text of the `count`th edit of a message by a button, once it is there."""
    return wait_for(lambda: api.sent("editMessageText")[count - 1 : count])[0]["text"]


def awaiting(engine: Engine, settings: Settings, by: int = JUNIOR) -> int:
    """A post on the Telegram channel (which needs approval), queued by an editor in the bot."""
    at = When("at", datetime.now(UTC) + timedelta(days=2))
    channels = roster.chosen(settings, ["telegram"])
    (post_id,) = queue.add(
        engine, settings, ARTICLE, channels, at, queued_by=f"telegram:{by}", force=True
    )
    return post_id


def notices(api: BotApiStandIn) -> list[dict[str, Any]]:
    return [m for m in api.messages if m["chat"]["id"] == EDITORS_CHAT]


def buttons_now(api: BotApiStandIn, message: dict[str, Any]) -> Any:
    return api.current[(message["chat"]["id"], message["message_id"])].get("buttons")


# --- 1. An approval is for the text the approver saw -------------------------------------


def test_an_approve_button_from_before_an_edit_is_refused_with_the_new_text_shown(
    bot, engine, newsroom
) -> None:
    post_id = awaiting(engine, newsroom)
    first = wait_for(lambda: notices(bot))[0]
    approve = next(b for row in first["buttons"]["inline_keyboard"] for b in row)["callback_data"]
    reply_after(bot, f"/edit {post_id} telegram Ganz anderer Text {ARTICLE.url}")
    # The approver taps the notice they had open before the edit.
    shown = {k: v for k, v in first.items() if k not in ("buttons", "html")}
    bot.push_button(EDITOR, EDITORS_CHAT, approve, shown)
    answer = wait_for(
        lambda: [
            e["text"] for e in bot.sent("editMessageText") if "nachdem um Freigabe" in e["text"]
        ]
    )
    assert "Ganz anderer Text" in answer[-1]
    assert rows(engine)[0].state == "awaiting_approval"


def test_an_edit_sends_a_fresh_notice_and_marks_the_old_one_out_of_date(
    bot, engine, newsroom
) -> None:
    post_id = awaiting(engine, newsroom)
    first = wait_for(lambda: notices(bot))[0]
    reply_after(bot, f"/edit {post_id} telegram Ganz anderer Text {ARTICLE.url}")
    fresh = wait_for(lambda: [m for m in notices(bot) if "Ganz anderer Text" in m["text"]])[0]
    wait_for(lambda: buttons_now(bot, first) is None)
    assert "Überholt" in bot.current[(EDITORS_CHAT, first["message_id"])]["text"]
    press(bot, "Freigeben", chat=EDITORS_CHAT)
    wait_for(lambda: rows(engine)[0].state == "queued")
    assert fresh["message_id"] != first["message_id"]


def test_the_author_hears_when_their_post_is_approved(bot, engine, newsroom) -> None:
    awaiting(engine, newsroom, by=JUNIOR)
    wait_for(lambda: notices(bot))
    press(bot, "Freigeben", chat=EDITORS_CHAT)
    heard = wait_for(lambda: replies(bot, JUNIOR))[-1]
    assert "ist freigegeben und geht" in heard and "MEZ" in heard


def test_the_author_hears_when_their_post_is_sent_back(bot, engine, newsroom) -> None:
    awaiting(engine, newsroom, by=JUNIOR)
    wait_for(lambda: notices(bot))
    press(bot, "Verwerfen", chat=EDITORS_CHAT)
    assert "nicht freigegeben" in wait_for(lambda: replies(bot, JUNIOR))[-1]


def test_approving_by_command_shows_the_text_before_it_is_approved(bot, engine, newsroom):
    post_id = awaiting(engine, newsroom)
    answer = reply_after(bot, f"/approve {post_id}")
    assert "So geht er hinaus" in answer and "Die Schlagzeile des Tages" in answer
    assert rows(engine)[0].state == "awaiting_approval"


# --- 2. A pasted address, plain words, unknown commands ----------------------------------


def test_a_pasted_article_address_is_previewed_as_queue_would(bot, server: LocalServer) -> None:
    page = '<html><head><meta property="og:title" content="Vom Server"></head></html>'
    url = server.serve("/artikel", page.encode())
    assert "<b>Vom Server</b>" in reply_after(bot, url)
    assert any(
        b["text"] == "Einplanen"
        for row in bot.messages[-1]["buttons"]["inline_keyboard"]
        for b in row
    )


def test_plain_words_get_a_short_german_help_with_buttons(bot) -> None:
    assert "nicht verstanden" in reply_after(bot, "Hallo, was geht?")
    labels = [b["text"] for row in bot.messages[-1]["buttons"]["inline_keyboard"] for b in row]
    assert labels == ["Eingeplant", "Zustellungen", "Hilfe"]


def test_an_unknown_command_is_named_with_help(bot) -> None:
    assert "Den Befehl /planen kenne ich nicht" in reply_after(bot, "/planen morgen")


# --- 3. Times as a German editor types them ----------------------------------------------


@pytest.mark.parametrize("typed", ["morgen 8 Uhr", "morgen 08:00", "morgen um 8"])
def test_tomorrow_at_eight_is_read_as_a_german_editor_means_it(bot, newsroom, typed) -> None:
    preview = reply_after(bot, f"/queue {ARTICLE.id} x {typed}")
    tomorrow = datetime.now(newsroom.tz).date() + timedelta(days=1)
    eight = datetime.combine(tomorrow, time(8), newsroom.tz)
    assert moment(eight, newsroom.tz, "de") in preview


def test_a_word_that_is_neither_channel_nor_time_names_the_channels(bot) -> None:
    answer = reply_after(bot, f"/queue {ARTICLE.id} twitter")
    assert "weder ein Kanal noch eine Zeit" in answer and "x (X)" in answer


def test_the_log_is_not_offered_to_editors_as_a_channel(bot) -> None:
    answer = reply_after(bot, f"/queue {ARTICLE.id} twitter")
    assert "Kanäle:" in answer and "log" not in answer.lower()


def test_the_tomorrow_button_sets_the_time_in_the_preview(bot, newsroom) -> None:
    reply_after(bot, f"/queue {ARTICLE.id} x")
    press(bot, "Morgen 08:00")
    tomorrow = datetime.now(newsroom.tz).date() + timedelta(days=1)
    eight = datetime.combine(tomorrow, time(8), newsroom.tz)
    assert moment(eight, newsroom.tz, "de") in edited(bot)


# --- 4. "Einplanen" never sends at once unasked ------------------------------------------


def test_queueing_to_subscribers_without_slots_asks_first_naming_how_many(bot, engine) -> None:
    preview = reply_after(bot, f"/queue {ARTICLE.id} wa")
    assert "sofort" in preview
    press(bot, "Einplanen")
    asked = edited(bot)
    assert "geht sofort hinaus" in asked and "1.200" in asked
    assert rows(engine) == []


def test_going_back_from_the_question_queues_nothing(bot, engine) -> None:
    reply_after(bot, f"/queue {ARTICLE.id} wa")
    press(bot, "Einplanen")
    edited(bot)
    press(bot, "Zurück")
    assert "Zeitpunkt" in edited(bot, 2)
    assert rows(engine) == []


# --- 5. and 10. Editing inside the draft, as the desk edits ------------------------------


def test_a_text_edited_in_the_draft_is_what_is_queued_and_nobody_is_asked_before(
    bot, engine
) -> None:
    reply_after(bot, f"/queue {ARTICLE.id} telegram")
    press(bot, "Bearbeiten")
    assert "**so**" in edited(bot)
    answer = reply_after(bot, f"**Eilmeldung** [Zum Artikel]({ARTICLE.url})")
    assert "<b>Eilmeldung</b>" in answer
    assert notices(bot) == [] and rows(engine) == []
    press(bot, "Einplanen")
    wait_for(lambda: rows(engine))
    assert rows(engine)[0].text.startswith("<b>Eilmeldung</b> <a href=")


def test_a_telegram_teaser_is_previewed_rendered_not_as_raw_html(bot) -> None:
    preview = reply_after(bot, f"/queue {ARTICLE.id} telegram")
    assert "<blockquote><b>Die Schlagzeile des Tages</b>" in preview
    assert "&lt;b&gt;" not in preview


def test_a_text_without_the_articles_link_is_refused_in_the_draft(bot, engine) -> None:
    reply_after(bot, f"/queue {ARTICLE.id} x")
    press(bot, "Bearbeiten")
    edited(bot)
    assert "fehlt der Link" in reply_after(bot, "Nur noch Text")


# --- 6. Times with their zone, a push to many as one line --------------------------------


def test_the_list_shows_newsroom_time_with_its_zone(bot, engine, newsroom) -> None:
    awaiting(engine, newsroom)
    assert "MEZ" in reply_after(bot, "/list")


def test_the_log_shows_a_push_to_many_readers_as_one_line(bot, engine, newsroom) -> None:
    channels = roster.chosen(newsroom, ["wa"])
    (post_id,) = queue.add(
        engine, newsroom, ARTICLE, channels, When(), force=True, queued_by="test"
    )
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(deliveries),
            [
                {"post_id": post_id, "channel": "wa", "attempt": 1, "worker": "w",
                 "started_at": now, "finished_at": now, "outcome": "sent",
                 "recipient": f"+49151{n:08d}", "payload": {}}
                for n in range(READERS)
            ],
        )  # fmt: skip
    log = reply_after(bot, "/log")
    assert log.count(f"#{post_id}") == 1 and "1.200 gesendet" in log and "MEZ" in log


# --- 9. and 11. One tap does one thing, and says what it did -----------------------------


def test_a_second_tap_on_post_now_keeps_the_confirmation(bot, engine) -> None:
    reply_after(bot, f"/queue {ARTICLE.id} x")
    press(bot, "Jetzt posten")
    done = edited(bot)
    bot.push_button(EDITOR, EDITOR, *_last_tapped(bot))
    wait_for(
        lambda: any(a.get("text") == "Schon erledigt." for a in bot.sent("answerCallbackQuery"))
    )
    assert len(bot.sent("editMessageText")) == 1 and "Eingeplant" in done
    assert len(rows(engine)) == 1


def _last_tapped(api: BotApiStandIn) -> tuple[str, dict[str, Any]]:
    update = api.pushed[-1]["callback_query"]
    return update["data"], {k: v for k, v in update["message"].items() if k != "chat"}


def test_the_confirmation_names_channel_time_and_approval(bot, engine, newsroom) -> None:
    reply_after(bot, f"/queue {ARTICLE.id} telegram")
    press(bot, "Einplanen")
    done = edited(bot)
    (row,) = rows(engine)
    when = moment(row.due_at, newsroom.tz, "de")
    assert f"#{row.id} Telegram – {when} – wartet auf Freigabe" in done


def test_a_queued_post_is_not_announced_for_approval_until_it_waits(bot, engine) -> None:
    reply_after(bot, f"/queue {ARTICLE.id} x")
    press(bot, "Einplanen")
    edited(bot)
    assert [r.state for r in rows(engine)] == ["queued"]
    verbs.cancel(engine, rows(engine)[0].id, by="test")
    with engine.begin() as connection:
        connection.execute(update(posts).values(updated_at=datetime.now(UTC)))
    assert notices(bot) == []


# --- 7. Failures: told afterwards, to the author too, with what can help -----------------


def failed(engine: Engine, post_id: int, error_class: str, error: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(posts)
            .where(posts.c.id == post_id)
            .values(
                state="failed", error=error, error_class=error_class, updated_at=datetime.now(UTC)
            )
        )


def test_a_failure_while_the_bot_was_down_is_told_when_it_starts(
    engine, newsroom, bot_api, monkeypatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    channels = roster.chosen(newsroom, ["x"])
    (post_id,) = queue.add(
        engine, newsroom, ARTICLE, channels, When(), force=True, queued_by="test"
    )
    failed(engine, post_id, "transient", "HTTP 503 from the platform")
    with bot_running(engine, newsroom, bot_api):
        note = wait_for(lambda: replies(bot_api, EDITORS_CHAT))[-1]
    assert f"Post {post_id} auf X ist gescheitert" in note


def test_the_author_hears_of_a_failure_with_the_headline_and_the_reason_in_german(
    bot, engine, newsroom
) -> None:
    post_id = awaiting(engine, newsroom, by=JUNIOR)
    failed(engine, post_id, "transient", "HTTP 503 from the platform")
    heard = wait_for(lambda: replies(bot, JUNIOR))[-1]
    assert "Die Schlagzeile des Tages" in heard and "nicht erreichbar oder gestört" in heard
    assert "Die Plattform sagte: HTTP 503 from the platform" in heard


def test_a_refused_text_is_not_offered_to_be_sent_again_unchanged(bot, engine, newsroom) -> None:
    post_id = awaiting(engine, newsroom, by=JUNIOR)
    failed(engine, post_id, "permanent", "Status is a duplicate")
    # The failure's notice (the approval's may come before it, told a moment earlier).
    notice = wait_for(lambda: [n for n in notices(bot) if "gescheitert" in n["html"]])[-1]
    labels = [b["text"] for row in notice["buttons"]["inline_keyboard"] for b in row]
    assert labels == ["Verwerfen"] and "/edit" in notice["html"]


# --- 8. Only articles are taken in ---------------------------------------------------------


def test_a_homepage_is_refused_as_no_article(bot, server: LocalServer, engine) -> None:
    page = (
        '<html><head><meta property="og:type" content="website"><title>News</title></head></html>'
    )
    answer = reply_after(bot, server.serve("/", page.encode()))
    assert "keine Artikelseite" in answer and rows(engine) == []


def test_a_pdf_is_refused_as_no_article(bot, server: LocalServer) -> None:
    url = server.serve("/bericht.pdf", b"%PDF-1.7\n...", "application/pdf")
    assert "keine Artikelseite" in reply_after(bot, url)


# --- Minor: no button outlives what it was for; long replies stay whole -------------------


def test_a_pause_notice_loses_its_button_once_the_channel_is_resumed(bot, engine) -> None:
    verbs.pause(engine, Settings(channels={"x": ChannelSettings(type="x")}), "x", "Token")
    notice = wait_for(lambda: [m for m in notices(bot) if "pausiert" in m["text"]])[0]
    reply_after(bot, "/resume x")
    wait_for(lambda: buttons_now(bot, notice) is None)
    assert "läuft wieder" in bot.current[(EDITORS_CHAT, notice["message_id"])]["text"]


def test_an_approval_notice_loses_its_buttons_once_approved_by_command(bot, engine, newsroom):
    post_id = awaiting(engine, newsroom)
    notice = wait_for(lambda: notices(bot))[0]
    approve_as_read(engine, post_id, by="desk")
    wait_for(lambda: buttons_now(bot, notice) is None)
    assert "Erledigt: eingeplant" in bot.current[(EDITORS_CHAT, notice["message_id"])]["text"]


def test_a_telegram_teaser_with_an_image_says_why_its_limit_is_shorter(bot, engine) -> None:
    picture = Image(url="https://e.de/b.jpg")
    pictured = ARTICLE.model_copy(update={"id": "cms-78", "image": picture})
    with engine.begin() as connection:
        queue.upsert_article(connection, pictured, datetime.now(UTC), "cms")
    preview = reply_after(bot, "/queue cms-78 telegram")
    assert "/1.024 " in preview and "Bildunterschrift" in preview


def test_one_post_is_shown_with_newsroom_time_and_zone(bot, engine, newsroom) -> None:
    post_id = awaiting(engine, newsroom)
    (row,) = rows(engine)
    shown = reply_after(bot, f"/show {post_id}")
    assert moment(row.due_at, newsroom.tz, "de") in shown and "<b>Telegram</b>" in shown


def test_an_approval_committed_after_a_later_one_is_still_told_to_its_author(engine, newsroom):
    notifier = Notifier(BotHandlers(engine, newsroom))
    notifier.messages()  # the first look: from here on
    late, early = awaiting(engine, newsroom), awaiting(engine, newsroom)
    with engine.begin() as connection:
        # An id handed out before the next approval's, to a row not yet seen as one.
        handed_out = connection.execute(
            insert(post_events).values(post_id=late, at=datetime.now(UTC), actor="t", action="-")
        ).inserted_primary_key[0]
    approve_as_read(engine, early, by=f"telegram:{EDITOR}")
    assert [m for m, _ in notifier.messages() if m[0] == "decision"]
    with engine.begin() as connection:
        # Committed last: the approval of the earlier id becomes visible only now.
        connection.execute(
            update(post_events)
            .where(post_events.c.id == handed_out)
            .values(actor=f"telegram:{EDITOR}", action="approved")
        )
    told = [notice.text for _, notice in notifier.messages()]
    assert any(f"Ihr Post {late} " in text for text in told)


# --- 11. An edit belongs to the editor who asked, in their chat, and can be left ----------


def in_group(api: BotApiStandIn, user: int, text: str) -> None:
    if text.startswith("/"):
        api.push_command(user, EDITORS_CHAT, text)
    else:
        api.push_text(user, EDITORS_CHAT, text)


def group_says(api: BotApiStandIn, words: str) -> list[str]:
    sent = [m["text"] for m in api.messages if m["chat"]["id"] == EDITORS_CHAT]
    edits = [e["text"] for e in api.sent("editMessageText") if int(e["chat_id"]) == EDITORS_CHAT]
    return [text for text in sent + edits if words in text]


def asked_for_text(api: BotApiStandIn, user: int, chat: int) -> None:
    """`user` presses "Bearbeiten" on the newest draft in `chat`, and is asked for the text."""
    press(api, "Bearbeiten", user=user, chat=chat)
    wait_for(lambda: [e for e in api.sent("editMessageText") if "neuen Text" in e["text"]])


def editing_privately(api: BotApiStandIn) -> None:
    """The editor drafts the article for X in their private chat and taps "Bearbeiten"."""
    api.push_command(EDITOR, EDITOR, f"/queue {ARTICLE.id} x")
    wait_for(lambda: replies(api, EDITOR))
    asked_for_text(api, EDITOR, EDITOR)


def test_an_edit_takes_the_text_of_the_editor_who_asked_not_of_the_drafts_author(bot) -> None:
    in_group(bot, JUNIOR, f"/queue {ARTICLE.id} x")
    wait_for(lambda: group_says(bot, "Die Schlagzeile des Tages"))
    asked_for_text(bot, EDITOR, EDITORS_CHAT)
    in_group(bot, JUNIOR, "… machst du das Wetter fertig?")
    in_group(bot, EDITOR, f"Neuer Text für X {ARTICLE.url}")
    taken = wait_for(lambda: group_says(bot, "Neuer Text für X übernommen"))
    assert "Wetter" not in taken[-1] and "Neuer Text für X " in taken[-1]


def test_the_edit_waits_in_the_chat_where_it_was_asked(bot) -> None:
    editing_privately(bot)
    in_group(bot, EDITOR, f"Ein Satz in der Gruppe {ARTICLE.url}")
    bot.push_text(EDITOR, EDITOR, f"Der neue Text {ARTICLE.url}")
    taken = wait_for(lambda: [r for r in replies(bot, EDITOR) if "übernommen" in r])
    assert "Der neue Text" in taken[-1] and "Ein Satz" not in taken[-1]


def test_typing_abbrechen_leaves_the_edit_and_shows_the_draft_again(bot) -> None:
    editing_privately(bot)
    bot.push_text(EDITOR, EDITOR, "abbrechen")
    again = wait_for(lambda: [r for r in replies(bot, EDITOR)[1:] if "Die Schlagzeile" in r])
    assert "übernommen" not in again[-1]


def test_the_request_for_a_text_offers_a_button_to_leave_it(bot) -> None:
    editing_privately(bot)
    press(bot, "Abbrechen")
    shown = wait_for(lambda: [e for e in bot.sent("editMessageText") if "Einplanen" in str(e)])
    assert shown


def test_cancel_typed_while_editing_leaves_the_edit_and_cancels_no_post(bot) -> None:
    editing_privately(bot)
    bot.push_command(EDITOR, EDITOR, "/cancel")
    again = wait_for(lambda: [r for r in replies(bot, EDITOR)[1:] if "Die Schlagzeile" in r])
    assert "Verwendung" not in again[-1]


def test_another_articles_address_is_not_taken_as_the_text_without_asking(bot) -> None:
    editing_privately(bot)
    bot.push_text(EDITOR, EDITOR, "https://www.news.de/sport/1/ Bayern gewinnt")
    asked = wait_for(lambda: [r for r in replies(bot, EDITOR) if "anderen Artikels" in r])
    assert asked and not [r for r in replies(bot, EDITOR) if "übernommen" in r]


def test_chat_between_editors_in_the_group_gets_no_answer(bot) -> None:
    in_group(bot, JUNIOR, "Wer macht heute das Wetter?")
    in_group(bot, EDITOR, "/help")
    wait_for(lambda: group_says(bot, "/queue"))
    assert group_says(bot, "nicht verstanden") == []


def test_editing_an_approved_post_says_it_waits_for_approval_again(bot, engine, newsroom) -> None:
    post_id = awaiting(engine, newsroom)
    approve_as_read(engine, post_id, by="telegram:4242")
    answer = reply_after(bot, f"/edit {post_id} telegram Neuer Wortlaut {ARTICLE.url}")
    assert "wartet wieder auf Freigabe" in answer


def test_a_second_editors_edit_names_the_text_it_replaces(bot, engine, newsroom) -> None:
    post_id = awaiting(engine, newsroom)
    reply_after(bot, f"/edit {post_id} telegram Erster Wortlaut {ARTICLE.url}", user=JUNIOR)
    answer = reply_after(bot, f"/edit {post_id} telegram Zweiter Wortlaut {ARTICLE.url}")
    assert "ersetzt den, den jemand im Bot" in answer


def test_a_post_committed_after_a_look_began_is_still_told(engine, newsroom) -> None:
    notifier = Notifier(BotHandlers(engine, newsroom))
    notifier.messages()  # the first look: from here on
    post_id = awaiting(engine, newsroom)
    # The next look began a moment after the post was stamped, before it was committed.
    notifier.since = datetime.now(UTC) + timedelta(seconds=1)
    told = [m for m, _ in notifier.messages() if m[:2] == ("post", post_id)]
    assert told
    for marker in told:
        notifier.told(marker)
    assert not [m for m, _ in notifier.messages() if m[:2] == ("post", post_id)]


def test_a_shared_headline_before_the_address_is_previewed_as_the_address_alone(
    bot, server: LocalServer
) -> None:
    page = '<html><head><meta property="og:title" content="Inflation sinkt"></head></html>'
    url = server.serve("/inflation", page.encode())
    assert "<b>Inflation sinkt</b>" in reply_after(bot, f"Inflation sinkt auf 1,9 Prozent {url}")


def test_a_time_button_tapped_twice_is_no_error(bot) -> None:
    reply_after(bot, f"/queue {ARTICLE.id} x")
    press(bot, "Morgen 08:00")
    edited(bot)
    press(bot, "Morgen 08:00")
    # Updates are handled one after another: once /help is answered, the tap was handled.
    reply_after(bot, "/help")
    assert not [r for r in replies(bot, EDITOR) if "schiefgegangen" in r]


def test_the_request_for_an_x_text_promises_no_bold_that_x_would_post_as_asterisks(bot) -> None:
    reply_after(bot, f"/queue {ARTICLE.id} x")
    press(bot, "Bearbeiten")
    asked = wait_for(
        lambda: [e["text"] for e in bot.sent("editMessageText") if "Bisher" in e["text"]]
    )
    assert "**so**" not in asked[-1]


def test_a_channel_is_named_by_its_label_as_well_as_its_name(bot, engine) -> None:
    assert "pausiert" in reply_after(bot, "/pause X Test")
    with engine.connect() as connection:
        assert "x" in active_pauses(connection, datetime.now(UTC))


def test_the_preview_names_every_channel_it_will_queue_at_its_top(bot) -> None:
    preview = reply_after(bot, f"/queue {ARTICLE.id} x,telegram morgen 8 Uhr")
    head = preview.split("\n\n")[0]
    assert "Wird eingeplant auf: X, Telegram" in head


def test_a_voice_note_gets_a_short_answer_that_only_text_is_read(bot) -> None:
    bot.push_media(
        EDITOR, EDITOR, {"voice": {"file_id": "v1", "file_unique_id": "u1", "duration": 3}}
    )
    answer = wait_for(lambda: [r for r in replies(bot, EDITOR) if "Sprachnachrichten" in r])
    assert answer


def test_a_text_over_the_limit_is_refused_in_german_with_german_numbers(bot) -> None:
    reply_after(bot, f"/queue {ARTICLE.id} telegram")
    press(bot, "Bearbeiten")
    wait_for(lambda: [e for e in bot.sent("editMessageText") if "Bisher" in e["text"]])
    answer = reply_after(bot, "a" * 4100 + f" {ARTICLE.url}")
    assert "mehr als die erlaubten 4.096" in answer and "over the limit" not in answer


def test_show_offers_an_approver_the_buttons_for_what_the_post_can_do_now(
    bot, engine, newsroom
) -> None:
    post_id = awaiting(engine, newsroom)
    reply_after(bot, f"/show {post_id}")
    shown = next(m for m in reversed(bot.messages) if m["chat"]["id"] == EDITOR)
    approve = next(
        b["callback_data"]
        for row in shown["buttons"]["inline_keyboard"]
        for b in row
        if b["text"] == "Freigeben"
    )
    message = {k: v for k, v in shown.items() if k not in ("buttons", "html")}
    bot.push_button(EDITOR, EDITOR, approve, message)
    wait_for(lambda: rows(engine)[0].state == "queued")


def test_show_offers_no_approval_to_an_editor_who_is_no_approver(bot, engine, newsroom) -> None:
    post_id = awaiting(engine, newsroom)
    reply_after(bot, f"/show {post_id}", user=JUNIOR)
    labels = [b["text"] for row in bot.messages[-1]["buttons"]["inline_keyboard"] for b in row]
    assert "Freigeben" not in labels and "Verwerfen" in labels


def test_a_draft_and_the_text_it_asked_for_outlive_a_restart_of_the_bot(
    engine, newsroom, bot_api, monkeypatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    with bot_running(engine, newsroom, bot_api) as api:
        editing_privately(api)
    with bot_running(engine, newsroom, bot_api) as api:
        answer = reply_after(api, f"Neuer Text nach dem Neustart {ARTICLE.url}")
        assert "übernommen" in answer and "Die Schlagzeile des Tages" in answer
        press(api, "Einplanen")
        wait_for(lambda: rows(engine))
    assert rows(engine)[0].text.startswith("Neuer Text nach dem Neustart")


def test_the_days_digest_lists_what_is_planned_today_and_what_waits_for_approval(
    engine, newsroom
) -> None:
    handlers = BotHandlers(engine, newsroom)
    soon = When("at", datetime.now(UTC) + timedelta(minutes=1))
    (planned,) = queue.add(
        engine, newsroom, ARTICLE, roster.chosen(newsroom, ["x"]), soon, force=True, queued_by="t"
    )
    waiting = awaiting(engine, newsroom)
    digest = handlers.digest()
    assert "Heute eingeplant (1):" in digest and f"#{planned} <b>X</b>" in digest
    assert "Wartet auf Freigabe (1):" in digest and f"#{waiting} <b>Telegram</b>" in digest


def test_the_days_digest_comes_at_its_time_to_the_editors_chat(
    engine, newsroom, bot_api, monkeypatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    at = (datetime.now(newsroom.tz) + timedelta(seconds=2)).time()
    settings = newsroom.model_copy(
        update={"bot": newsroom.bot.model_copy(update={"digest_at": at})}
    )
    with bot_running(engine, settings, bot_api) as api:
        wait_for(lambda: [m for m in notices(api) if "Der Tag am Desk" in m["text"]])


def test_list_offers_each_post_as_a_button_that_shows_it_with_its_own_buttons(
    bot, engine, newsroom
) -> None:
    post_id = awaiting(engine, newsroom)
    reply_after(bot, "/list")
    press(bot, f"#{post_id}")
    shown = wait_for(lambda: [e for e in bot.sent("editMessageText") if "Freigeben" in str(e)])
    assert ARTICLE.headline in shown[-1]["text"]


def test_show_offers_the_next_free_slots_and_moves_the_post_to_the_one_tapped(
    bot, engine, newsroom
) -> None:
    later = When("at", datetime.now(UTC) + timedelta(days=3))
    (post_id,) = queue.add(
        engine, newsroom, ARTICLE, roster.chosen(newsroom, ["x"]), later, force=True,
        queued_by="t",
    )  # fmt: skip
    reply_after(bot, f"/show {post_id}")
    shown = next(m for m in reversed(bot.messages) if m["chat"]["id"] == EDITOR)
    move = next(b for row in shown["buttons"]["inline_keyboard"] for b in row if "→" in b["text"])
    message = {k: v for k, v in shown.items() if k not in ("buttons", "html")}
    bot.push_button(EDITOR, EDITOR, move["callback_data"], message)
    wait_for(lambda: rows(engine)[0].due_at < later.at)
    assert wait_for(lambda: [e for e in bot.sent("editMessageText") if "geht jetzt" in e["text"]])
    due = rows(engine)[0].due_at.astimezone(newsroom.tz)
    assert due.time() in (time(7), time(12), time(18)) and move["text"].endswith(f"{due:%H:%M}")


def shown_button(api: BotApiStandIn, label: str) -> None:
    """Tap `label` on the newest message in the editor's private chat (a /show's)."""
    shown = next(m for m in reversed(api.messages) if m["chat"]["id"] == EDITOR)
    data = next(
        b["callback_data"]
        for row in shown["buttons"]["inline_keyboard"]
        for b in row
        if b["text"] == label
    )
    api.push_button(
        EDITOR, EDITOR, data, {k: v for k, v in shown.items() if k not in ("buttons", "html")}
    )


def test_a_posts_edit_button_takes_the_next_message_as_its_text(bot, engine, newsroom) -> None:
    post_id = awaiting(engine, newsroom)
    reply_after(bot, f"/show {post_id}")
    shown_button(bot, "Bearbeiten")
    wait_for(lambda: [e for e in bot.sent("editMessageText") if "Bisher" in e["text"]])
    answer = reply_after(bot, f"Ganz neuer Wortlaut {ARTICLE.url}")
    assert f"Post {post_id} auf Telegram" in answer
    assert "Ganz neuer Wortlaut" in rows(engine)[0].text


def test_a_posts_other_time_button_takes_the_next_message_as_its_time(
    bot, engine, newsroom
) -> None:
    post_id = awaiting(engine, newsroom)
    reply_after(bot, f"/show {post_id}")
    shown_button(bot, "Andere Zeit …")
    wait_for(lambda: [e for e in bot.sent("editMessageText") if "Wann soll" in e["text"]])
    answer = reply_after(bot, "morgen 8 Uhr")
    tomorrow = datetime.now(newsroom.tz).date() + timedelta(days=1)
    assert f"Post {post_id} geht jetzt" in answer
    assert rows(engine)[0].due_at == datetime.combine(tomorrow, time(8), newsroom.tz)

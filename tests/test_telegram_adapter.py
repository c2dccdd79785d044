"""The Telegram adapter (python-telegram-bot's Bot) against a local server speaking the Bot API."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from publisher.channels import ChannelError, Outgoing
from publisher.channels.base import REPLY_TO
from publisher.channels.telegram import Telegram
from standins.telegram import TELEGRAM_TOKEN, TelegramStandIn, telegram_flood

LINK = "https://e.de/a?utm_source=telegram"
TEXT = f'<b>Schlagzeile</b>\n\n• Punkt\n\n<a href="{LINK}">Weiterlesen</a>'


@pytest.fixture
def telegram(telegram_api: TelegramStandIn, credentials) -> Iterator[Telegram]:
    channel = Telegram("telegram", {"chat_id": "@newsde"}, api_base=telegram_api.url)
    yield channel
    channel.close()


def message(**fields: object) -> Outgoing:
    return Outgoing(5, TEXT, LINK, {"parse_mode": "HTML", **fields})


def error_of(send) -> ChannelError:
    with pytest.raises(ChannelError) as caught:
        send()
    return caught.value


def test_message_goes_to_the_channel_in_html_with_link_preview(telegram, telegram_api) -> None:
    receipt = telegram.send(message())
    call = telegram_api.posts("/sendMessage")[0]
    assert call.path == f"/bot{TELEGRAM_TOKEN}/sendMessage"
    assert call.form["chat_id"] == "@newsde"
    assert call.form["text"] == TEXT
    assert call.form["parse_mode"] == "HTML"
    preview = json.loads(call.form["link_preview_options"])
    assert preview["url"] == LINK and not preview.get("is_disabled")
    assert receipt.remote_id == "1001"
    assert receipt.permalink == "https://t.me/newsde/1001"


def test_article_image_is_sent_as_photo_with_the_caption(telegram, telegram_api) -> None:
    telegram.send(message(photo="https://e.de/bild.jpg"))
    (call,) = telegram_api.posts("/sendPhoto")
    assert call.form["photo"] == "https://e.de/bild.jpg"
    assert call.form["caption"] == TEXT
    assert not telegram_api.posts("/sendMessage")


def test_photo_telegram_cannot_fetch_falls_back_to_a_text_message(telegram, telegram_api) -> None:
    telegram_api.fail_next(
        "/sendPhoto",
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: wrong file identifier/HTTP URL specified",
        },
    )
    receipt = telegram.send(message(photo="https://e.de/kaputt.jpg"))
    assert telegram_api.posts("/sendMessage")
    assert receipt.note and "without the picture" in receipt.note


def test_flood_control_waits_retry_after(telegram, telegram_api) -> None:
    telegram_api.fail_next("/sendMessage", *telegram_flood(17))
    error = error_of(lambda: telegram.send(message()))
    assert (error.kind, error.retry_after) == ("rate_limited", 17)


def test_revoked_token_is_auth_and_never_shows_the_token(telegram, telegram_api) -> None:
    telegram_api.revoked = True
    error = error_of(lambda: telegram.send(message()))
    assert error.kind == "auth"
    assert TELEGRAM_TOKEN not in error.message


def test_bot_removed_from_the_channel_pauses_it(telegram, telegram_api) -> None:
    telegram_api.fail_next(
        "/sendMessage",
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot is not a member"},
    )
    assert error_of(lambda: telegram.send(message())).kind == "auth"


def test_unparseable_html_is_permanent_with_telegrams_reason(telegram, telegram_api) -> None:
    telegram_api.fail_next(
        "/sendMessage",
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": 'Bad Request: can\'t parse entities: Unsupported start tag "x"',
        },
    )
    error = error_of(lambda: telegram.send(message()))
    assert error.kind == "permanent"
    assert "can't parse entities" in error.message.lower()


def test_bot_api_outage_is_transient(telegram, telegram_api) -> None:
    telegram_api.fail_next(
        "/sendMessage",
        503,
        {"ok": False, "error_code": 503, "description": "Service Unavailable"},
    )
    assert error_of(lambda: telegram.send(message())).kind == "transient"


def test_a_bad_gateway_leaves_the_message_unclear_as_it_may_have_gone_out(
    telegram, telegram_api
) -> None:
    telegram_api.fail_next(
        "/sendMessage", 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
    )
    assert error_of(lambda: telegram.send(message())).kind == "uncertain"


def test_unreachable_bot_api_provably_never_sent(credentials) -> None:
    channel = Telegram("telegram", {"chat_id": "@newsde"}, api_base="http://127.0.0.1:9")
    try:
        error = error_of(lambda: channel.send(message()))
    finally:
        channel.close()
    assert (error.kind, error.never_sent) == ("transient", True)


def test_check_calls_get_me_and_get_chat(telegram, telegram_api) -> None:
    findings = telegram.check()
    assert [f.message for f in findings] == [
        "bot @newsde_desk_bot authorised",
        "chat News.de (channel) reachable",
    ]


def test_check_with_an_unknown_chat_is_an_auth_error(telegram_api, credentials) -> None:
    channel = Telegram("telegram", {"chat_id": "@woanders"}, api_base=telegram_api.url)
    try:
        error = error_of(channel.check)
    finally:
        channel.close()
    assert error.kind == "auth" and "chat not found" in error.message.lower()


def test_an_unknown_chat_is_a_matter_of_the_settings_not_the_credentials(
    telegram_api, credentials
) -> None:
    channel = Telegram("telegram", {"chat_id": "@woanders"}, api_base=telegram_api.url)
    try:
        error = error_of(lambda: channel.send(Outgoing(1, "Hallo", "https://e.de/a", {})))
    finally:
        channel.close()
    assert (error.kind, error.fix) == ("auth", "settings")


def test_a_refused_token_is_a_matter_of_the_credentials(telegram_api, credentials) -> None:
    telegram_api.revoked = True
    channel = Telegram("telegram", {"chat_id": "@newsde"}, api_base=telegram_api.url)
    try:
        error = error_of(lambda: channel.send(Outgoing(1, "Hallo", "https://e.de/a", {})))
    finally:
        channel.close()
    assert (error.kind, error.fix) == ("auth", "credentials")


def test_a_message_is_taken_down_with_delete_message(telegram, telegram_api) -> None:
    sent = telegram.send(message())
    assert telegram.remove(str(sent.remote_id)) == "removed"
    assert int(str(sent.remote_id)) not in telegram_api.sent


def test_a_message_the_channel_no_longer_has_is_gone_already(telegram, telegram_api) -> None:
    assert telegram.remove("4711") == "already_gone"


def test_a_message_older_than_48_hours_is_said_to_be_removed_by_hand(telegram, telegram_api):
    sent = telegram.send(message())
    telegram_api.age(int(str(sent.remote_id)), hours=49)
    refused = error_of(lambda: telegram.remove(str(sent.remote_id)))
    assert refused.kind == "permanent" and "within 48 hours" in refused.message


def test_a_correction_edits_the_message_in_place(telegram, telegram_api) -> None:
    remote_id = telegram.send(Outgoing(1, "Erst falsch", "https://e.de/a")).remote_id
    telegram.edit(remote_id, "Erst falsch\n\nKorrektur: richtig")
    assert telegram_api.contents[int(remote_id)]["text"] == "Erst falsch\n\nKorrektur: richtig"


def test_editing_to_the_same_text_again_counts_as_done(telegram, telegram_api) -> None:
    remote_id = telegram.send(Outgoing(1, "Erst falsch", "https://e.de/a")).remote_id
    telegram.edit(remote_id, "Neu")
    telegram.edit(remote_id, "Neu")
    assert telegram_api.contents[int(remote_id)]["text"] == "Neu"


def test_a_photo_post_is_corrected_in_its_caption(telegram, telegram_api) -> None:
    photo = {"photo": "https://e.de/bild.jpg"}
    remote_id = telegram.send(Outgoing(1, "Erst falsch", "https://e.de/a", photo)).remote_id
    telegram.edit(remote_id, "Korrigiert")
    assert telegram_api.contents[int(remote_id)]["caption"] == "Korrigiert"


def test_a_correction_can_go_out_as_a_reply_under_the_message(telegram, telegram_api) -> None:
    remote_id = telegram.send(Outgoing(1, "Erst falsch", "https://e.de/a")).remote_id
    reply = telegram.send(Outgoing(2, "Korrektur: richtig", "", {REPLY_TO: remote_id}))
    assert telegram_api.contents[int(reply.remote_id)]["reply_to"] == int(remote_id)

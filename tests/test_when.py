"""When posts go out, as editors say it: one reading of their words (`When.parse`), and "09:30"
meaning the same instant whether typed in the CLI, sent to the bot or picked in the desk."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from publisher.bot import BotThread
from publisher.config import BotSettings, ChannelSettings, DeskSettings, Settings
from publisher.engine.planning.slots import PastTime, TimeError, When
from publisher.engine.posts.users import add_user
from publisher.engine.storage.schema import articles, posts
from standins.bot_api import BotApiStandIn
from standins.telegram import TELEGRAM_TOKEN
from tests.conftest import run_cli, wait_for
from tests.test_bot import ARTICLE, EDITOR, press, reply_after
from tests.test_desk import PASSWORD, serving, signed_in

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # 08:00 in Berlin


def test_now_and_its_german_word_mean_now() -> None:
    assert When.parse("jetzt", BERLIN, NOW) == When.parse("now", BERLIN, NOW) == When("now")


def test_next_means_each_channels_next_free_slot() -> None:
    assert When.parse("next", BERLIN, NOW) == When("next_slot")


def test_a_clock_time_is_today_in_the_zone_given() -> None:
    assert When.parse("09:30", BERLIN, NOW).at == datetime(2026, 11, 25, 8, 30, tzinfo=UTC)


def test_a_time_with_its_own_offset_keeps_it() -> None:
    parsed = When.parse("2026-11-25T09:30+00:00", BERLIN, NOW)
    assert parsed.at == datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


@given(minutes=st.integers(min_value=1, max_value=9999))
def test_a_delay_counts_from_now(minutes: int) -> None:
    assert When.parse(f"+{minutes}m", BERLIN, NOW).at == NOW + timedelta(minutes=minutes)


def test_a_delay_in_hours_counts_from_now() -> None:
    assert When.parse("+2h", BERLIN, NOW).at == NOW + timedelta(hours=2)


def test_a_past_time_is_refused_with_the_time_it_was_read_as() -> None:
    with pytest.raises(PastTime, match="2026-11-25 07:30 CET"):
        When.parse("07:30", BERLIN, NOW)


@given(word=st.text(max_size=12))
def test_any_other_words_are_refused_or_read_as_a_time(word: str) -> None:
    try:
        parsed = When.parse(word, BERLIN, NOW)
    except TimeError:
        return
    assert parsed.mode in ("now", "next_slot") or (parsed.at and parsed.at >= NOW)


def zone_at(hour: int, hours_ahead: int = 0) -> str:
    """A fixed-offset zone where the clock now shows `hour` (plus `hours_ahead`) o'clock."""
    offset = (hour + hours_ahead - datetime.now(UTC).hour) % 24
    offset = offset - 24 if offset > 14 else offset
    # The POSIX-style names count the other way: Etc/GMT-3 is three hours ahead of UTC.
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC"


@pytest.mark.slow
def test_half_past_nine_is_one_instant_from_the_cli_the_bot_and_the_desk(
    engine: Engine, database_url: str, tmp_path: Path, monkeypatch
) -> None:
    # It is about 2 o'clock in the newsroom, so 09:30 is later today; every channel keeps a
    # zone five hours ahead, where 09:30 would be a different instant.
    newsroom, channel_zone = zone_at(2), zone_at(2, hours_ahead=5)
    config = tmp_path / "publisher.toml"
    channels = "".join(
        f'[channels.{name}]\ntype = "telegram"\ndry_run = true\ntimezone = "{channel_zone}"\n'
        for name in ("by_cli", "by_bot", "by_desk")
    )
    config.write_text(f'database_url = "{database_url}"\ntimezone = "{newsroom}"\n{channels}')
    source = tmp_path / "article.json"
    source.write_text(json.dumps(ARTICLE.to_json()))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")

    cli = run_cli("--config", str(config), "queue", "add", str(source), "--channels", "by_cli",
                  "--at", "09:30")  # fmt: skip
    assert cli.returncode == 0, cli.stderr

    bot_api = BotApiStandIn()
    loaded = Settings.model_validate(
        {
            "database_url": database_url,
            "timezone": newsroom,
            "channels": {
                name: ChannelSettings(type="telegram", dry_run=True, timezone=channel_zone)
                for name in ("by_cli", "by_bot", "by_desk")
            },
            "bot": BotSettings(api_base=bot_api.url, allowed_users=(EDITOR,), language="en"),
            "desk": DeskSettings(secure_cookies=False),
        }
    )
    bot = BotThread(engine, loaded)
    bot.start()
    try:
        wait_for(lambda: bot_api.sent("getUpdates"))
        reply_after(bot_api, f"/queue {ARTICLE.id} by_bot 09:30")
        press(bot_api, "Add to queue")
        wait_for(lambda: channel_posts(engine, "by_bot"))
    finally:
        bot.stop()
        bot_api.close()

    add_user(engine, "ed", PASSWORD, "editor")
    today = datetime.now(ZoneInfo(newsroom)).date()
    with serving(engine, loaded) as base:
        session, csrf = signed_in(base, "ed")
        with engine.connect() as connection:
            article_id = connection.execute(select(articles.c.id)).scalar_one()
        page = lxml.html.fromstring(session.get(f"/articles/{article_id}").text)
        text = page.cssselect("textarea[name=text_by_desk]")[0].text
        session.post(
            f"/articles/{article_id}/queue",
            data={"csrf": csrf, "include_by_desk": "1", "text_by_desk": text,
                  "timing": "at", "at": f"{today.isoformat()}T09:30"},
        )  # fmt: skip

    expected = datetime.combine(today, time(9, 30), ZoneInfo(newsroom))
    due = {name: channel_posts(engine, name) for name in ("by_cli", "by_bot", "by_desk")}
    assert due == {name: [expected] for name in due}


def channel_posts(engine: Engine, channel: str) -> list[datetime]:
    with engine.connect() as connection:
        return list(
            connection.execute(select(posts.c.due_at).where(posts.c.channel == channel)).scalars()
        )

"""Archive articles that deserve another turn: within the age window, matching the rule, never
withdrawn, not again within the cooldown nor past the cap, best results first, only into a free
time (no queued post moved), under an approver where the channel asks for one, and marked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, update

from publisher import roster
from publisher.articles import Article
from publisher.config import ChannelSettings, Settings
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.releases.resurface import resurface
from publisher.engine.storage.schema import measurements, posts
from publisher.sections import Resurface
from tests.engine_helpers import post

NOW = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # 07:00 in Berlin


def settings_for(database_url: str, **rule: object) -> Settings:
    channel = ChannelSettings(type="facebook", dry_run=True, slots=["09:00", "18:00"], min_gap=60)
    options = {"name": "evergreen", "channels": ("fb",)} | rule
    return Settings(
        database_url=database_url, channels={"fb": channel}, resurface=(Resurface(**options),)
    )


def stored(engine: Engine, number: int, days_old: int, **extra: object) -> Article:
    """An article the CMS sent `days_old` days ago."""
    article = Article(
        id=f"cms-{number}", url=f"https://e.de/{number}", headline=f"Archiv {number}",
        published_at=NOW - timedelta(days=days_old), **extra,
    )  # fmt: skip
    with engine.begin() as connection:
        queue.upsert_article(connection, article, NOW - timedelta(days=days_old), "cms")
    return article


def sent_before(
    engine: Engine, settings: Settings, article: Article, days_ago: int, likes: int = 0
) -> int:
    """A post of the article that went out on fb `days_ago` days ago, with its likes."""
    at = NOW - timedelta(days=days_ago)
    (post_id,) = queue.add(
        engine, settings, article, roster.chosen(settings, ["fb"]), When("at", at),
        force=True, queued_by="test", now=at,
    )  # fmt: skip
    with engine.begin() as connection:
        connection.execute(
            update(posts).where(posts.c.id == post_id).values(state="sent", sent_at=at)
        )
        connection.execute(
            measurements.insert().values(
                post_id=post_id, channel="fb", point="7d", measured_at=at + timedelta(days=7),
                metrics={"likes": likes}, raw={},
            )
        )  # fmt: skip
    return post_id


def turned(engine: Engine) -> list[tuple[str, str]]:
    """The resurfaced posts: their article's headline and who queued them."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(posts.c.text, posts.c.queued_by).where(posts.c.queued_by.like("resurface:%"))
        ).all()
    return [(row.text.split("\n")[0], row.queued_by) for row in rows]


def test_an_article_in_the_age_window_gets_another_turn_marked_as_such(
    engine, database_url
) -> None:
    settings = settings_for(database_url)
    stored(engine, 1, days_old=60)
    (turn,) = resurface(engine, settings, NOW)
    assert turned(engine) == [("Archiv 1", "resurface:evergreen")]
    assert turn.due.astimezone(settings.tz).strftime("%H:%M") == "09:00"


@pytest.mark.parametrize("days_old", [10, 400])
def test_articles_too_young_or_too_old_stay_in_the_archive(engine, database_url, days_old) -> None:
    stored(engine, 1, days_old=days_old)
    assert resurface(engine, settings_for(database_url), NOW) == []


def test_a_withdrawn_article_never_resurfaces(engine, database_url) -> None:
    stored(engine, 1, days_old=60, withdrawn=True)
    assert resurface(engine, settings_for(database_url), NOW) == []


def test_an_article_posted_within_the_cooldown_waits(engine, database_url) -> None:
    settings = settings_for(database_url)
    article = stored(engine, 1, days_old=60)
    sent_before(engine, settings, article, days_ago=10)
    assert resurface(engine, settings, NOW) == []


def test_an_article_that_had_its_turns_gets_no_more(engine, database_url) -> None:
    settings = settings_for(database_url, most_times=1)
    article = stored(engine, 1, days_old=200)
    resurfaced = sent_before(engine, settings, article, days_ago=100)
    with engine.begin() as connection:
        connection.execute(
            update(posts).where(posts.c.id == resurfaced).values(queued_by="resurface:evergreen")
        )
    assert resurface(engine, settings, NOW) == []


def test_the_article_whose_posts_did_best_goes_first(engine, database_url) -> None:
    settings = settings_for(database_url)
    sent_before(engine, settings, stored(engine, 1, days_old=90), days_ago=80, likes=5)
    sent_before(engine, settings, stored(engine, 2, days_old=90), days_ago=81, likes=500)
    resurface(engine, settings, NOW)
    assert turned(engine) == [("Archiv 2", "resurface:evergreen")]


def test_a_channel_gets_no_more_than_its_turns_a_day(engine, database_url) -> None:
    settings = settings_for(database_url, per_day=1)
    stored(engine, 1, days_old=60)
    stored(engine, 2, days_old=61)
    resurface(engine, settings, NOW)
    resurface(engine, settings, NOW + timedelta(hours=1))
    assert len(turned(engine)) == 1


def test_a_resurfaced_post_takes_only_a_free_time(engine, database_url) -> None:
    settings = settings_for(database_url)
    nine = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    fresh = Article(id="neu", url="https://e.de/neu", headline="Neu")
    (waiting,) = queue.add(
        engine, settings, fresh, roster.chosen(settings, ["fb"]), When("at", nine),
        queued_by="ed", now=NOW,
    )  # fmt: skip
    stored(engine, 1, days_old=60)
    (turn,) = resurface(engine, settings, NOW)
    assert post(engine, waiting).due_at == nine
    assert turn.due.astimezone(settings.tz).strftime("%H:%M") == "18:00"


def test_only_articles_of_the_rules_sections_and_evergreen_ones(engine, database_url) -> None:
    settings = settings_for(database_url, match={"sections": ("Ratgeber",)}, evergreen_only=True)
    stored(engine, 1, days_old=60, section="Politik", evergreen=True)
    stored(engine, 2, days_old=60, section="Ratgeber")
    stored(engine, 3, days_old=60, section="Ratgeber", evergreen=True)
    resurface(engine, settings, NOW)
    assert turned(engine) == [("Archiv 3", "resurface:evergreen")]


def test_a_channel_that_asks_for_an_approver_keeps_asking(engine, database_url) -> None:
    settings = settings_for(database_url)
    approving = settings.channels["fb"].model_copy(update={"approval": True})
    settings = settings.model_copy(update={"channels": {"fb": approving}})
    stored(engine, 1, days_old=60)
    (turn,) = resurface(engine, settings, NOW)
    assert post(engine, turn.post_id).state == "awaiting_approval"


def test_the_desks_queue_marks_a_post_from_the_archive(desk, engine, database_url) -> None:
    from tests.desk_helpers import desk_settings, signed_in

    settings = desk_settings(database_url)
    old = Article(id="alt", url="https://e.de/alt", headline="Aus dem Archiv geholt")
    later = When("at", NOW + timedelta(days=900))
    queue.add(
        engine, settings, old, roster.chosen(settings, ["x"]), later,
        queued_by="resurface:evergreen",
    )  # fmt: skip
    session, _ = signed_in(desk, "ed")
    row = session.get("/queue").text.split("Aus dem Archiv geholt")[1].split("</td>")[0]
    assert "from the archive" in row


def test_the_calendar_and_the_log_mark_a_post_from_the_archive(desk, engine, database_url) -> None:
    from publisher.clock import utcnow
    from publisher.engine.delivery.dispatch import Dispatcher
    from tests.desk_helpers import desk_settings, signed_in

    settings = desk_settings(database_url)
    old = Article(id="alt", url="https://e.de/alt", headline="Aus dem Archiv geholt")
    (post_id,) = queue.add(
        engine, settings, old, roster.chosen(settings, ["x"]), When("now"),
        queued_by="resurface:evergreen",
    )  # fmt: skip
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    dispatcher.close()
    day = utcnow().astimezone(settings.tz).date().isoformat()
    session, _ = signed_in(desk, "ed")
    calendar = session.get(f"/plan?start={day}").text
    entry = calendar.split(f'data-post="{post_id}"')[1].split("</a>")[0]
    log = session.get("/log").text.split("Aus dem Archiv geholt")[1].split("</td>")[0]
    assert "from the archive" in entry and "from the archive" in log


def test_an_article_updated_since_it_last_went_out_is_not_resurfaced(engine, database_url) -> None:
    settings = settings_for(database_url)
    article = stored(engine, 1, days_old=200)
    sent_before(engine, settings, article, days_ago=100)
    with engine.begin() as connection:
        # The CMS sent a correction weeks after the post.
        queue.upsert_article(
            connection, article.model_copy(update={"headline": "Korrigiert"}),
            NOW - timedelta(days=50), "cms",
        )  # fmt: skip
    assert resurface(engine, settings, NOW) == []


def test_an_article_sent_again_by_the_cms_soon_after_its_post_may_resurface(
    engine, database_url
) -> None:
    settings = settings_for(database_url)
    article = stored(engine, 1, days_old=200)
    sent_before(engine, settings, article, days_ago=100)
    with engine.begin() as connection:
        queue.upsert_article(connection, article, NOW - timedelta(days=100, hours=-2), "cms")
    assert len(resurface(engine, settings, NOW)) == 1


def test_an_archive_the_cms_sends_today_is_old_enough_by_its_publication_time(
    engine, database_url
) -> None:
    old = Article(
        id="cms-archiv", url="https://e.de/archiv", headline="Archiv heute gesendet",
        published_at=NOW - timedelta(days=60),
    )  # fmt: skip
    with engine.begin() as connection:
        queue.upsert_article(connection, old, NOW, "cms")
    resurface(engine, settings_for(database_url), NOW)
    assert turned(engine) == [("Archiv heute gesendet", "resurface:evergreen")]

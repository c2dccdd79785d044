"""The newsroom's redirect links: a post's link is `{redirect_base}/r/{code}` (the same in the
preview as in the post), `GET /r/{code}` leads to the article's tracked address and counts one
click in its hour; HEAD and link-preview fetchers are led there too but not counted, unknown
codes are 404, and nothing about the reader reaches the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import Engine, select

from publisher import roster
from publisher.config import ChannelSettings, Settings, Tracking
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.learning.scorecard import by_post
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue, verbs
from publisher.engine.releases.release import release
from publisher.engine.storage.schema import link_clicks, metadata, posts
from publisher.links import CODE_PATTERN, LINK_SECRET_ENV, redirect_code
from publisher.teasers import compose
from publisher.web.app import create_app
from publisher.web.redirect import MOST_PER_MINUTE, is_crawler
from tests.engine_helpers import article

BASE = "https://go.news.de"
SECRET = "a-secret-of-more-than-thirty-two-characters"
BROWSER = "Mozilla/5.0 (Linux; Android 14; CUBOT X30) AppleWebKit/537.36 Chrome/131.0 Mobile"
CRAWLERS = [
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "TelegramBot (like TwitterBot)",
    "WhatsApp/2.23.20.0 A",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "http.rb/5.1.1 (Mastodon/4.3.0; +https://social.example/)",
    "Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
]


@pytest.fixture
def settings(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv(LINK_SECRET_ENV, SECRET)
    return Settings(
        database_url=database_url,
        tracking=Tracking(redirect_base=BASE),
        channels={"tg": ChannelSettings(type="telegram", dry_run=True)},
    )


@pytest.fixture
def client(engine: Engine, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(engine, settings), follow_redirects=False) as client:
        yield client


def queued(engine: Engine, settings: Settings, number: int = 1) -> int:
    (post_id,) = queue.add(
        engine, settings, article(number), roster.chosen(settings, ["tg"]), When(), queued_by="t"
    )
    return post_id


def code_of(engine: Engine, post_id: int) -> str:
    with engine.connect() as connection:
        link = connection.execute(select(posts.c.link).where(posts.c.id == post_id)).scalar_one()
    return str(link).rsplit("/", 1)[-1]


def clicks(engine: Engine, client: TestClient) -> int:
    client.app.state.clicks.flush()  # type: ignore[attr-defined]
    with engine.connect() as connection:
        return sum(connection.execute(select(link_clicks.c.clicks)).scalars())


def test_a_posts_link_is_the_newsrooms_redirect_and_the_preview_shows_the_same(
    engine, settings
) -> None:
    shown = compose(article(), roster.chosen(settings, ["tg"]), settings)["tg"].link
    post_id = queued(engine, settings)
    assert shown == f"{BASE}/r/{code_of(engine, post_id)}"
    assert shown in compose(article(), roster.chosen(settings, ["tg"]), settings)["tg"].text


def test_a_click_leads_to_the_tracked_article_and_counts_once(engine, settings, client) -> None:
    code = code_of(engine, queued(engine, settings))
    answer = client.get(f"/r/{code}", headers={"User-Agent": BROWSER})
    assert answer.status_code == 302
    assert answer.headers["location"] == (
        "https://e.de/artikel/1?utm_source=telegram&utm_medium=social&utm_campaign=publisher"
    )
    assert clicks(engine, client) == 1


def test_head_is_led_there_but_not_counted(engine, settings, client) -> None:
    code = code_of(engine, queued(engine, settings))
    assert client.head(f"/r/{code}", headers={"User-Agent": BROWSER}).status_code == 302
    assert clicks(engine, client) == 0


@pytest.mark.parametrize("agent", CRAWLERS)
def test_a_link_preview_fetcher_is_led_there_but_not_counted(
    engine, settings, client, agent
) -> None:
    code = code_of(engine, queued(engine, settings))
    assert client.get(f"/r/{code}", headers={"User-Agent": agent}).status_code == 302
    assert clicks(engine, client) == 0


@pytest.mark.parametrize("code", ["a" * 24, "kurz", "abc-def", "A" * 24])
def test_an_unknown_code_is_404_in_the_newsrooms_words_and_counts_nothing(
    engine, client, code
) -> None:
    answer = client.get(f"/r/{code}", headers={"User-Agent": BROWSER})
    assert answer.status_code == 404 and answer.text == "Diesen Link gibt es nicht."
    assert clicks(engine, client) == 0


def test_nothing_about_the_reader_reaches_the_database(engine, settings, client) -> None:
    code = code_of(engine, queued(engine, settings))
    answer = client.get(
        f"/r/{code}",
        headers={
            "User-Agent": "Mozilla/5.0 Leser-Kennung-4711",
            "X-Forwarded-For": "203.0.113.77",
            "Referer": "https://t.co/leser-herkunft",
            "Cookie": "leser=kekswert-99",
        },
    )
    assert "set-cookie" not in answer.headers
    assert clicks(engine, client) == 1
    with engine.connect() as connection:
        everything = " ".join(
            str(row)
            for table in metadata.sorted_tables
            for row in connection.execute(table.select())
        )
    for trace in ("4711", "203.0.113.77", "testclient", "leser-herkunft", "kekswert"):
        assert trace not in everything


def test_a_posts_clicks_are_in_its_stats_and_a_post_without_the_redirect_has_none(
    engine, database_url, settings, client, monkeypatch
) -> None:
    post_id = queued(engine, settings)
    Dispatcher(engine, settings).run_once()
    for _ in range(3):
        client.get(f"/r/{code_of(engine, post_id)}", headers={"User-Agent": BROWSER})
    clicks(engine, client)
    plain = Settings(
        database_url=database_url,
        channels={"tg": ChannelSettings(type="telegram", dry_run=True)},
    )
    other = queued(engine, plain, number=2)
    Dispatcher(engine, plain).run_once()
    found = {item["post"]: item["metrics"]["clicks"] for item in by_post(engine)}
    assert found == {post_id: 3, other: None}


def test_without_redirect_base_a_post_links_to_the_tracked_article(database_url) -> None:
    plain = Settings(
        database_url=database_url, channels={"tg": ChannelSettings(type="telegram", dry_run=True)}
    )
    link = compose(article(), roster.chosen(plain, ["tg"]), plain)["tg"].link
    assert link.startswith("https://e.de/artikel/1?utm_source=telegram")


def test_redirect_base_without_the_secret_is_refused_saying_what_to_set(monkeypatch) -> None:
    monkeypatch.delenv(LINK_SECRET_ENV, raising=False)
    with pytest.raises(ValidationError, match=LINK_SECRET_ENV):
        Tracking(redirect_base=BASE)


@given(st.text(min_size=1, max_size=80), st.text(min_size=1, max_size=30))
def test_codes_are_24_unguessable_characters_one_per_article_and_channel(
    key: str, channel: str
) -> None:
    code = redirect_code(SECRET, key, channel)
    assert CODE_PATTERN.fullmatch(code)
    assert code != redirect_code(SECRET, key, channel + "x")
    assert code != redirect_code(SECRET + "x", key, channel)


@pytest.mark.parametrize("agent", [BROWSER, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1) Safari"])
def test_a_readers_browser_is_no_crawler(agent: str) -> None:
    assert not is_crawler(agent)


def test_clicks_are_counted_in_the_hour_they_came(engine, settings, client) -> None:
    code = code_of(engine, queued(engine, settings))
    counter = client.app.state.clicks
    counter.count(code, datetime(2026, 12, 3, 9, 59, 59, tzinfo=UTC))
    counter.count(code, datetime(2026, 12, 3, 10, 0, 1, tzinfo=UTC))
    counter.flush()
    with engine.connect() as connection:
        hours = connection.execute(select(link_clicks.c.hour, link_clicks.c.clicks)).all()
    assert sorted((h.hour, n) for h, n in hours) == [(9, 1), (10, 1)]


def test_one_codes_clicks_counted_in_a_minute_are_bounded(engine, settings, client) -> None:
    code = code_of(engine, queued(engine, settings))
    counter = client.app.state.clicks
    at = datetime(2026, 12, 3, 9, 30, 5, tzinfo=UTC)
    for _ in range(MOST_PER_MINUTE + 500):
        counter.count(code, at)
    counter.count(code, at.replace(minute=31))
    counter.flush()
    with engine.connect() as connection:
        counted = connection.execute(select(link_clicks.c.clicks)).scalars().all()
    assert sum(counted) == MOST_PER_MINUTE + 1


def test_a_link_leads_to_the_address_the_cms_released_for_an_id_uploaded_first(
    engine, settings, client
) -> None:
    forged = article(5000).model_copy(update={"id": "5000", "url": "https://evil.example/5000"})
    (post_id,) = queue.add(
        engine, settings, forged, roster.chosen(settings, ["tg"]), When(), queued_by="ed"
    )
    verbs.cancel(engine, post_id, "ed")
    release(engine, settings, forged.model_copy(update={"url": "https://e.de/5000"}), "webhook")
    answer = client.get(f"/r/{code_of(engine, post_id)}", headers={"User-Agent": BROWSER})
    assert answer.status_code == 302 and answer.headers["location"].startswith("https://e.de/5000")

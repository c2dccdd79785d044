"""Bluesky: graphemes counted as the app counts them, links shortened in the text and made facets
with UTF-8 byte offsets, the link card with the image uploaded as a blob, one session reused and
refreshed, a record key chosen before the call so that a retry after a lost answer finds the post
instead of posting twice, rate limits and a wrong app password, against a PDS stand-in."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from publisher import roster
from publisher.articles import Article
from publisher.channels.base import ChannelError, FetchedImage, Outgoing
from publisher.channels.bluesky import Bluesky, bluesky_length, tid
from publisher.channels.bluesky_richtext import facets, shown_link
from publisher.clock import utcnow
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.posts.pauses import active_pauses
from publisher.teasers import compose
from standins.bluesky import APP_PASSWORD, HANDLE, BlueskyStandIn
from tests.engine_helpers import article, delivery_rows, make_settings, post

LINK = "https://www.news.de/politik/857/baschar-al-assad?utm_source=bluesky&utm_medium=social"


@pytest.fixture
def pds() -> Iterator[BlueskyStandIn]:
    stand_in = BlueskyStandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", APP_PASSWORD)


@given(st.text(st.characters(codec="utf-8"), max_size=80))
def test_a_link_facet_covers_exactly_the_shortened_link(text: str) -> None:
    full = f"{text} {shown_link(LINK)}"
    (facet,) = [f for f in facets(full, LINK) if f["features"][0]["uri"] == LINK]
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert full.encode()[start:end].decode() == shown_link(LINK)


@pytest.mark.parametrize(
    ("text", "length"),
    [("Grüße", 5), ("e\u0301", 1), ("👩‍👩‍👧‍👦", 1), ("🇩🇪🇫🇷", 2), ("東京で会議", 5)],
)
def test_bluesky_counts_graphemes(text: str, length: int) -> None:
    assert bluesky_length(text) == length


def test_a_long_link_is_shown_short_and_counted_short() -> None:
    assert shown_link(LINK) == "news.de/politik/857/baschar-a…"
    assert bluesky_length(shown_link(LINK)) == 30


def test_record_keys_are_tids_that_sort_by_time() -> None:
    first, later = tid(1_700_000_000_000_000, 7), tid(1_700_000_000_000_001, 7)
    assert len(first) == 13 and first < later and first[0] in "234567abcdefghij"


def test_compose_fits_300_graphemes_with_a_long_url(database_url: str) -> None:
    settings = make_settings(database_url, sky={"type": "bluesky", "handle": HANDLE})
    news = Article(url=LINK, headline="Eilmeldung " * 40, bullets=["Punkt " * 60])
    teaser = compose(news, roster.chosen(settings, ["sky"]), settings)["sky"]
    assert teaser.length <= 300 and teaser.text.endswith("…")


def settings_for(database_url: str, pds: BlueskyStandIn, **options):
    return make_settings(
        database_url, sky={"type": "bluesky", "handle": HANDLE, "api_base": pds.url, **options}
    )


def deliver(engine, settings) -> tuple[int, Dispatcher]:
    news = article(language="de")
    (post_id,) = queue.add(
        engine, settings, news, roster.chosen(settings, ["sky"]), When(), queued_by="test"
    )
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    return post_id, dispatcher


def test_a_post_goes_out_with_its_link_facet_card_and_language(
    engine, database_url, pds, password
) -> None:
    post_id, dispatcher = deliver(engine, settings_for(database_url, pds))
    dispatcher.close()
    (record,) = pds.posted()
    row = post(engine, post_id)
    assert row.state == "sent" and row.permalink.startswith(
        f"https://bsky.app/profile/{HANDLE}/post/"
    )
    assert record["langs"] == ["de"] and record["embed"]["external"]["uri"].startswith(
        "https://e.de/artikel/1"
    )
    (facet,) = record["facets"]
    assert facet["features"][0]["uri"] == record["embed"]["external"]["uri"]


def test_one_session_serves_many_posts_and_is_refreshed_when_it_expires(pds, password) -> None:
    channel = Bluesky("sky", Bluesky.Options(handle=HANDLE), api_base=pds.url)
    channel.send(Outgoing(1, "Eins", "https://e.de/1", key="1-1700000000000000"))
    pds.expire()
    channel.send(Outgoing(2, "Zwei", "https://e.de/2", key="2-1700000000000001"))
    assert pds.sessions == 1 and [r["text"] for r in pds.posted()] == ["Eins", "Zwei"]


def test_a_retry_after_a_lost_answer_finds_the_post_instead_of_posting_twice(
    engine, database_url, password
) -> None:
    pds = BlueskyStandIn()
    pds.lose_next_answer("createRecord")
    try:
        settings = settings_for(database_url, pds, timeout=1.5, retry_base=30)
        post_id, dispatcher = deliver(engine, settings)
        assert post(engine, post_id).state == "queued"
        dispatcher.run_once(now=utcnow() + timedelta(minutes=5))
        dispatcher.close()
        assert post(engine, post_id).state == "sent" and len(pds.posted()) == 1
        assert [r.outcome for r in delivery_rows(engine, post_id)] == ["transient", "sent"]
    finally:
        pds.close()


def test_the_card_image_is_uploaded_as_a_blob(pds, password) -> None:
    channel = Bluesky(
        "sky",
        Bluesky.Options(handle=HANDLE),
        api_base=pds.url,
        fetch_image=lambda url, limit: FetchedImage(b"\xff\xd8\xff" * 10, "image/jpeg"),
    )
    fields = {"link": "https://e.de/a", "title": "Titel", "image": "https://e.de/bild.jpg"}
    channel.send(Outgoing(1, "Text e.de/a", "https://e.de/a", fields, key="1-1"))
    (record,) = pds.posted()
    assert record["embed"]["external"]["thumb"]["mimeType"] == "image/jpeg"


def test_a_rate_limit_waits_until_the_pds_resets(engine, database_url, pds, password) -> None:
    reset = str(int(time.time()) + 600)
    pds.fail_next(
        "createRecord",
        429,
        {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        {"ratelimit-reset": reset},
    )
    post_id, dispatcher = deliver(engine, settings_for(database_url, pds))
    dispatcher.close()
    row = post(engine, post_id)
    assert row.state == "queued" and row.due_at > utcnow() + timedelta(minutes=8)


def test_a_wrong_app_password_pauses_the_channel(engine, database_url, pds, monkeypatch) -> None:
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "not-the-password")
    _, dispatcher = deliver(engine, settings_for(database_url, pds))
    dispatcher.close()
    with engine.connect() as connection:
        assert "sky" in active_pauses(connection, utcnow())


def test_check_names_the_account(pds, password) -> None:
    (found,) = Bluesky("sky", Bluesky.Options(handle=HANDLE), api_base=pds.url).check()
    assert found.level == "ok" and HANDLE in found.message


def test_results_are_asked_for_25_posts_a_call_with_the_appviews_counts(pds, password) -> None:
    channel = Bluesky("sky", Bluesky.Options(handle=HANDLE), api_base=pds.url)
    uris = [
        channel.send(
            Outgoing(n, f"Post {n}", f"https://e.de/{n}", key=f"{n}-17000000000000{n:02d}")
        ).remote_id
        for n in range(30)
    ]
    pds.react(uris[0], likeCount=7, quoteCount=1)
    found = channel.results(uris[:25]) | channel.results(uris[25:])
    asked = [c for c in pds.calls if c.path.endswith("app.bsky.feed.getPosts")]
    assert [len(c.queried["uris"]) for c in asked] == [25, 5]
    assert set(found) == set(uris)
    first = found[uris[0]].metrics
    assert (first["likes"], first["quotes"], first["reposts"], first["impressions"]) == (
        7,
        1,
        0,
        None,
    )


def measured_channel(pds: BlueskyStandIn) -> tuple[Bluesky, str]:
    """A channel with one post out: the channel and the post's URI."""
    channel = Bluesky("sky", Bluesky.Options(handle=HANDLE), api_base=pds.url)
    uri = channel.send(Outgoing(1, "Post", "https://e.de/1", key="1-1700000000000001")).remote_id
    return channel, uri


def test_a_rate_limit_while_measuring_bluesky_is_a_rate_limit_until_the_reset(
    pds, password
) -> None:
    channel, uri = measured_channel(pds)
    reset = str(int(time.time()) + 300)
    rate_limited = {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
    pds.fail_next("getPosts", 429, rate_limited, {"ratelimit-reset": reset})
    with pytest.raises(ChannelError) as refused:
        channel.results([uri])
    assert refused.value.kind == "rate_limited" and 240 <= (refused.value.retry_after or 0) <= 300


def test_an_expired_session_while_measuring_is_renewed_and_the_numbers_read(pds, password) -> None:
    channel, uri = measured_channel(pds)
    pds.react(uri, likeCount=3)
    pds.expire()
    assert channel.results([uri])[uri].metrics["likes"] == 3


def test_a_revoked_app_password_while_measuring_is_an_auth_error(
    pds, password, monkeypatch
) -> None:
    channel, uri = measured_channel(pds)
    pds.expire()
    pds.refresh.clear()  # the app password was revoked: no session can be renewed
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "revoked")
    with pytest.raises(ChannelError) as refused:
        channel.results([uri])
    assert refused.value.kind == "auth"


def test_a_post_is_taken_down_by_deleting_its_record(pds, password) -> None:
    channel = Bluesky("sky", Bluesky.Options(handle=HANDLE), api_base=pds.url)
    sent = channel.send(Outgoing(1, "Eins", "https://e.de/1", key="1-1700000000000000"))
    assert channel.remove(str(sent.remote_id)) == "removed" and pds.posted() == []


def test_a_record_the_pds_no_longer_has_is_gone_already(pds, password) -> None:
    channel = Bluesky("sky", Bluesky.Options(handle=HANDLE), api_base=pds.url)
    sent = channel.send(Outgoing(1, "Eins", "https://e.de/1", key="1-1700000000000000"))
    channel.remove(str(sent.remote_id))
    assert channel.remove(str(sent.remote_id)) == "already_gone"

"""Threads: counting as Threads counts (characters, an emoji as its UTF-8 bytes), the two-step
publish with the article as link attachment, a permalink, an expired token, the token's expiry
in `channels check`, and a post left unclear found again by its text."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from publisher import roster
from publisher.articles import Article
from publisher.channels.base import ChannelError, Outgoing
from publisher.channels.threads import Threads, threads_length
from publisher.clock import utcnow
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.delivery.reconcile import reconcile
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.posts.pauses import active_pauses
from publisher.teasers import compose
from standins.graph import graph_error
from standins.threads import THREADS_TOKEN, USER_ID, ThreadsStandIn
from tests.engine_helpers import article, make_settings, post


@pytest.fixture
def threads_api() -> Iterator[ThreadsStandIn]:
    stand_in = ThreadsStandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THREADS_ACCESS_TOKEN", THREADS_TOKEN)


@pytest.mark.parametrize(
    ("text", "length"),
    [("Grüße", 5), ("東京", 2), ("😀", 4), ("👩‍👩‍👧‍👦", 25), ("🇩🇪", 8), ("e\u0301", 2)],
)
def test_threads_counts_emojis_as_their_bytes(text: str, length: int) -> None:
    assert threads_length(text) == length


def test_compose_keeps_the_link_out_of_the_text(database_url: str) -> None:
    settings = make_settings(database_url, th={"type": "threads", "user_id": USER_ID})
    news = Article(url="https://e.de/a", headline="Eilmeldung 🚨 " * 30, bullets=["Punkt"])
    teaser = compose(news, roster.chosen(settings, ["th"]), settings)["th"]
    assert teaser.length <= 500 and "https://e.de/a" not in teaser.text


def channel(api: ThreadsStandIn) -> Threads:
    return Threads("th", Threads.Options(user_id=USER_ID), api_base=api.url)


def test_a_post_is_published_with_its_link_attachment_and_permalink(threads_api, token) -> None:
    receipt = channel(threads_api).send(Outgoing(1, "Schlagzeile", "https://e.de/a?utm=th"))
    (published,) = threads_api.posted()
    assert published["link"] == "https://e.de/a?utm=th" and published["text"] == "Schlagzeile"
    assert receipt.permalink == f"https://www.threads.net/@newsde/post/{receipt.remote_id}"


def test_an_expired_token_pauses_the_channel(engine, database_url, threads_api, token) -> None:
    threads_api.revoked = True
    settings = make_settings(
        database_url, th={"type": "threads", "user_id": USER_ID, "api_base": threads_api.url}
    )
    queue.add(
        engine, settings, article(), roster.chosen(settings, ["th"]), When(), queued_by="test"
    )
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    dispatcher.close()
    with engine.connect() as connection:
        assert "th" in active_pauses(connection, utcnow())


def test_a_post_over_the_limit_is_refused_for_good(engine, database_url, threads_api, token):
    settings = make_settings(
        database_url, th={"type": "threads", "user_id": USER_ID, "api_base": threads_api.url}
    )
    chosen = roster.chosen(settings, ["th"])
    (post_id,) = queue.add(
        engine, settings, article(), chosen, When(), force=True, queued_by="test"
    )
    refusal = graph_error(100, "Param text must be at most 500 characters long.")
    threads_api.fail_next("/threads", 400, refusal)
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    dispatcher.close()
    assert post(engine, post_id).state == "failed"


def test_check_warns_when_the_long_lived_token_runs_out(threads_api, token) -> None:
    threads_api.expires_at = int(time.time()) + 3 * 86400
    found = channel(threads_api).check()
    assert found[0].message == "profile @newsde reachable"
    assert found[1].level == "warning" and "renew it" in found[1].message


def test_a_post_left_unclear_is_found_by_its_text(threads_api, token) -> None:
    threads = channel(threads_api)
    threads.send(Outgoing(1, "Schlagzeile 1", "https://e.de/1"))
    (found,) = threads.lookup(
        Outgoing(1, "Schlagzeile 1", "https://e.de/1"), utcnow() - timedelta(1)
    )
    assert found.permalink.startswith("https://www.threads.net/")


def test_a_post_made_before_the_attempt_is_not_taken_for_it(threads_api, token) -> None:
    threads = channel(threads_api)
    threads.send(Outgoing(1, "Schlagzeile 1", "https://e.de/1"))
    later = utcnow() + timedelta(minutes=5)
    assert threads.lookup(Outgoing(2, "Schlagzeile 1", "https://e.de/1"), later) == []


def threads_settings(database_url, api, **options):
    return make_settings(
        database_url, th={"type": "threads", "user_id": USER_ID, "api_base": api.url, **options}
    )


def test_the_call_limit_waits_and_keeps_the_post(engine, database_url, threads_api, token):
    settings = threads_settings(database_url, threads_api)
    (post_id,) = queue.add(
        engine, settings, article(), roster.chosen(settings, ["th"]), When(), queued_by="test"
    )
    threads_api.fail_next("/threads", 400, graph_error(4, "Application request limit reached"))
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    dispatcher.close()
    row = post(engine, post_id)
    assert row.state == "queued" and row.due_at > utcnow() + timedelta(seconds=30)


def test_a_post_whose_answer_was_lost_is_found_by_reconcile_not_sent_again(
    engine, database_url, token
) -> None:
    api = ThreadsStandIn()
    api.lose_next_answer("threads_publish")
    try:
        settings = threads_settings(database_url, api, timeout=1.5)
        news = article()
        (post_id,) = queue.add(
            engine, settings, news, roster.chosen(settings, ["th"]), When(), queued_by="test"
        )
        dispatcher = Dispatcher(engine, settings)
        dispatcher.run_once()
        dispatcher.close()
        assert post(engine, post_id).state == "uncertain"
        (found,) = reconcile(engine, settings)
        assert found.found and post(engine, post_id).state == "sent" and len(api.posted()) == 1
    finally:
        api.close()


def test_results_are_a_posts_insights_under_our_names(threads_api, token) -> None:
    out = channel(threads_api)
    media_id = out.send(Outgoing(1, "Schlagzeile", "https://e.de/a")).remote_id
    threads_api.react(media_id, views=900, likes=12, shares=2)
    metrics = out.results([media_id])[media_id].metrics
    assert (metrics["impressions"], metrics["likes"], metrics["shares"]) == (900, 12, 2)
    assert metrics["platform_clicks"] is None


def test_a_post_deleted_on_threads_is_left_out_of_the_results(threads_api, token) -> None:
    out = channel(threads_api)
    media_id = out.send(Outgoing(1, "Schlagzeile", "https://e.de/a")).remote_id
    assert set(out.results(["18000000000000999", media_id])) == {media_id}


def test_a_rate_limit_while_measuring_threads_is_a_rate_limit(threads_api, token) -> None:
    out = channel(threads_api)
    media_id = out.send(Outgoing(1, "Schlagzeile", "https://e.de/a")).remote_id
    threads_api.fail_next("/insights", 400, graph_error(4, "Application request limit reached"))
    with pytest.raises(ChannelError) as caught:
        out.results([media_id])
    assert caught.value.kind == "rate_limited"


def test_an_expired_token_while_measuring_threads_is_an_auth_error(threads_api, token) -> None:
    out = channel(threads_api)
    media_id = out.send(Outgoing(1, "Schlagzeile", "https://e.de/a")).remote_id
    threads_api.revoked = True
    with pytest.raises(ChannelError) as caught:
        out.results([media_id])
    assert caught.value.kind == "auth"


def test_a_post_is_taken_down_with_delete(threads_api, token) -> None:
    threads = channel(threads_api)
    sent = threads.send(Outgoing(1, "Schlagzeile", "https://e.de/a?utm=th"))
    assert threads.remove(str(sent.remote_id)) == "removed" and threads_api.published == {}


def test_a_post_threads_no_longer_has_is_gone_already(threads_api, token) -> None:
    assert channel(threads_api).remove("18000000000000999") == "already_gone"

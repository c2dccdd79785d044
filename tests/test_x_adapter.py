"""The X adapter against a local server speaking API v2: signed requests, media upload, threads,
and every kind of answer read as the engine needs it."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from publisher import roster
from publisher.articles import Article
from publisher.channels import ChannelError, ComposeOptions, Outgoing
from publisher.channels.base import REPLY_TO
from publisher.channels.x import X
from publisher.channels.x_errors import rate_wait
from publisher.config import FetchSettings, Settings
from standins.x import X_KEYS, XStandIn, x_rate_limited
from tests.conftest import LocalServer

LINK = "https://e.de/a?utm_source=x"


def channel(api: XStandIn, **options: object) -> X:
    # The stand-in serves the article images too, on 127.0.0.1.
    fetch_image = roster.image_fetcher(Settings(fetch=FetchSettings(allow_private_networks=True)))
    return X("x_main", options, api_base=api.url, fetch_image=fetch_image)


def message(text: str = "Schlagzeile https://e.de/a", **fields: object) -> Outgoing:
    return Outgoing(7, text, LINK, fields)


def test_post_is_signed_with_oauth1_and_returns_id_and_permalink(x_api, credentials) -> None:
    receipt = channel(x_api).send(message())
    (call,) = x_api.posts("/2/tweets")
    assert call.json == {"text": "Schlagzeile https://e.de/a"}
    assert call.headers["authorization"].startswith("OAuth ")
    assert f'oauth_consumer_key="{X_KEYS["X_API_KEY"]}"' in call.headers["authorization"]
    assert receipt.remote_id == "1001"
    assert receipt.permalink == "https://x.com/i/status/1001"


def test_oauth2_user_token_is_sent_as_bearer(x_api, credentials) -> None:
    channel(x_api, auth="oauth2").send(message())
    (call,) = x_api.posts("/2/tweets")
    assert call.headers["authorization"] == f"Bearer {credentials['X_OAUTH2_USER_TOKEN']}"


def test_image_goes_through_v2_media_upload_and_is_attached(
    x_api, credentials, server: LocalServer
) -> None:
    picture = b"\x89PNG\r\n\x1a\n" + b"0" * 500
    image = server.serve("/bild.png", picture, "image/png")
    channel(x_api).send(message(image=image))
    (upload,) = x_api.posts("/2/media/upload")
    assert upload.files["media"] == picture
    assert upload.form["media_category"] == "tweet_image"
    assert upload.headers["authorization"].startswith("OAuth ")
    (tweet,) = x_api.posts("/2/tweets")
    assert tweet.json["media"] == {"media_ids": ["1001"]}


def test_image_that_cannot_be_fetched_leaves_a_note_and_the_post_goes_out(
    x_api, credentials, server: LocalServer
) -> None:
    receipt = channel(x_api).send(message(image=server.base + "/missing.png"))
    assert receipt.remote_id
    assert receipt.note and "without the image" in receipt.note
    assert "media" not in x_api.posts("/2/tweets")[0].json


def test_thread_mode_posts_bullets_as_replies_to_the_headline() -> None:
    article = Article(
        url="https://e.de/a", headline="Schlagzeile", bullets=["Erster Punkt", "Zweiter Punkt"]
    )
    teaser = X("x", {"thread": True}).compose(article, ComposeOptions(link="https://e.de/a"))
    assert "Erster Punkt" not in teaser.text
    assert teaser.fields["thread"] == ["Erster Punkt", "Zweiter Punkt"]


def test_thread_replies_chain_to_the_post_before(x_api, credentials) -> None:
    channel(x_api, thread=True).send(message(thread=["Erster Punkt", "Zweiter Punkt"]))
    _first, second, third = x_api.posts("/2/tweets")
    assert second.json["reply"] == {"in_reply_to_tweet_id": "1001"}
    assert third.json["reply"] == {"in_reply_to_tweet_id": "1002"}


def test_rate_limit_waits_until_the_reset_header(x_api, credentials) -> None:
    x_api.fail_next("/2/tweets", *x_rate_limited(reset_in=600))
    with pytest.raises(ChannelError) as caught:
        channel(x_api).send(message())
    assert caught.value.kind == "rate_limited"
    assert 590 <= caught.value.retry_after <= 601


def test_revoked_credentials_are_an_auth_error(x_api, credentials) -> None:
    x_api.revoked = True
    with pytest.raises(ChannelError) as caught:
        channel(x_api).send(message())
    assert caught.value.kind == "auth"


def test_duplicate_content_is_permanent_with_xs_reason(x_api, credentials) -> None:
    channel(x_api).send(message("Gleicher Text"))
    with pytest.raises(ChannelError) as caught:
        channel(x_api).send(message("Gleicher Text"))
    assert caught.value.kind == "permanent"
    assert "duplicate content" in caught.value.message


def test_read_only_app_is_an_auth_error(x_api, credentials) -> None:
    x_api.fail_next(
        "/2/tweets",
        403,
        {
            "title": "Forbidden",
            "status": 403,
            "detail": "Your client app is not configured with the appropriate oauth1 app "
            "permissions for this endpoint.",
            "type": "https://api.twitter.com/2/problems/oauth1-permissions",
        },
    )
    with pytest.raises(ChannelError) as caught:
        channel(x_api).send(message())
    assert caught.value.kind == "auth"


def test_server_error_is_transient(x_api, credentials) -> None:
    x_api.fail_next("/2/tweets", 503, {"title": "Service Unavailable", "status": 503})
    with pytest.raises(ChannelError) as caught:
        channel(x_api).send(message())
    assert caught.value.kind == "transient"


def test_refused_connection_provably_never_sent(credentials) -> None:
    closed = X("x", api_base="http://127.0.0.1:9")
    with pytest.raises(ChannelError) as caught:
        closed.send(message())
    assert (caught.value.kind, caught.value.never_sent) == ("transient", True)


def test_missing_credential_names_the_variable_not_a_value(x_api, monkeypatch) -> None:
    monkeypatch.delenv("X_API_SECRET", raising=False)
    for key in ("X_API_KEY", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET"):
        monkeypatch.setenv(key, X_KEYS[key])
    with pytest.raises(ChannelError) as caught:
        channel(x_api).send(message())
    assert caught.value.kind == "auth"
    assert "X_API_SECRET" in caught.value.message


def test_errors_never_carry_a_credential(x_api, credentials) -> None:
    x_api.fail_next(
        "/2/tweets", 400, {"errors": [{"message": f"bad token {credentials['X_API_KEY']}"}]}
    )
    with pytest.raises(ChannelError) as caught:
        channel(x_api).send(message())
    assert credentials["X_API_KEY"] not in caught.value.message


def test_channels_own_variables_let_two_accounts_live_side_by_side(
    x_api, credentials, monkeypatch
) -> None:
    for key, value in X_KEYS.items():
        monkeypatch.setenv(f"DESK_{key}", value)
        monkeypatch.delenv(key)
    desk = channel(
        x_api,
        api_key_env="DESK_X_API_KEY",
        api_secret_env="DESK_X_API_SECRET",
        access_token_env="DESK_X_ACCESS_TOKEN",
        access_token_secret_env="DESK_X_ACCESS_TOKEN_SECRET",
    )
    assert desk.send(message()).remote_id


def test_check_names_the_signed_in_account(x_api, credentials) -> None:
    findings = channel(x_api).check()
    assert [f.message for f in findings] == ["signed in as @newsde"]


def test_the_channel_learns_the_account_it_posts_as(x_api, credentials) -> None:
    assert channel(x_api).learn() == {"account": "newsde", "account_name": "News.de"}


def test_the_preview_shows_the_account_learned_not_the_channels_name() -> None:
    learned = X("x_main", {}, facts={"account": "newsde", "account_name": "News.de"})
    shown = learned.preview("Text", Article(url="https://e.de/a", headline="Kopf"))
    assert "<b>News.de</b>" in shown and "@newsde" in shown and "x_main" not in shown


@given(
    resets=st.lists(st.integers(0, 200_000), min_size=1, max_size=3),
    exhausted=st.lists(st.booleans(), min_size=3, max_size=3),
)
def test_rate_wait_is_the_latest_reset_of_an_exhausted_limit(
    resets: list[int], exhausted: list[bool]
) -> None:
    now = time.time()
    names = ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour")
    headers = {}
    for name, reset, empty in zip(names, resets, exhausted, strict=False):
        headers[f"{name}-reset"] = str(int(now) + reset)
        headers[f"{name}-remaining"] = "0" if empty else "5"
    waits = [reset for reset, empty in zip(resets, exhausted, strict=False) if empty]
    wait = rate_wait(headers, now=now)
    assert wait >= 0
    if waits:
        assert abs(wait - max(waits)) <= 1
    else:
        assert wait == 900.0


def sent_posts(api: XStandIn, count: int) -> tuple[X, list[str]]:
    out = channel(api)
    return out, [out.send(message(f"Meldung {n} https://e.de/{n}")).remote_id for n in range(count)]


def test_results_are_asked_for_100_posts_a_call_with_public_and_private_numbers(
    x_api, credentials
) -> None:
    out, ids = sent_posts(x_api, 101)
    x_api.react(ids[0], like_count=12, retweet_count=3, impression_count=900, url_link_clicks=41)
    found = out.results(ids[:100]) | out.results(ids[100:])
    asked = [c for c in x_api.calls if c.method == "GET" and c.path == "/2/tweets"]
    assert [len(c.query["ids"].split(",")) for c in asked] == [100, 1]
    assert set(found) == set(ids)
    first = found[ids[0]].metrics
    assert (first["likes"], first["reposts"], first["impressions"], first["platform_clicks"]) == (
        12,
        3,
        900,
        41,
    )
    assert first["shares"] is None


def test_a_post_past_xs_30_days_is_measured_by_its_public_numbers_without_clicks(
    x_api, credentials
) -> None:
    out, (old, new) = sent_posts(x_api, 2)
    x_api.age(old, days=31)
    x_api.react(old, like_count=5, url_link_clicks=9)
    found = out.results([old, new])
    assert found[old].metrics["likes"] == 5
    assert found[old].metrics["platform_clicks"] is None
    assert found[new].metrics["platform_clicks"] == 0


def test_a_post_deleted_on_x_is_left_out_of_the_results(x_api, credentials) -> None:
    out, (kept,) = sent_posts(x_api, 1)
    assert set(out.results([kept, "999999"])) == {kept}


def test_a_rate_limit_while_measuring_is_a_rate_limit_until_the_reset(x_api, credentials) -> None:
    out, ids = sent_posts(x_api, 1)
    x_api.fail_next("/2/tweets", *x_rate_limited(reset_in=300))
    with pytest.raises(ChannelError) as caught:
        out.results(ids)
    assert caught.value.kind == "rate_limited"
    assert 290 <= caught.value.retry_after <= 301


def test_a_revoked_token_while_measuring_is_an_auth_error(x_api, credentials) -> None:
    out, ids = sent_posts(x_api, 1)
    x_api.revoked = True
    with pytest.raises(ChannelError) as caught:
        out.results(ids)
    assert caught.value.kind == "auth"


def test_the_stand_in_refuses_more_than_100_ids_as_x_does(x_api, credentials) -> None:
    import tweepy

    out, ids = sent_posts(x_api, 1)
    with pytest.raises(tweepy.BadRequest):
        out.client().get_tweets(ids * 101, tweet_fields=["public_metrics"], user_auth=True)


def test_a_post_is_taken_down_with_delete(x_api, credentials) -> None:
    out, (post_id,) = sent_posts(x_api, 1)
    assert out.remove(post_id) == "removed"
    assert post_id not in [tweet["id"] for tweet in x_api.timeline]


def test_a_post_x_no_longer_has_is_gone_already(x_api, credentials) -> None:
    out, (post_id,) = sent_posts(x_api, 1)
    out.remove(post_id)
    assert out.remove(post_id) == "already_gone"


def test_past_xs_fifty_deletions_a_window_a_takedown_waits_for_the_reset(x_api, credentials):
    out, ids = sent_posts(x_api, 51)
    for post_id in ids[:50]:
        out.remove(post_id)
    with pytest.raises(ChannelError) as refused:
        out.remove(ids[50])
    assert refused.value.kind == "rate_limited" and refused.value.retry_after > 0


def test_a_correction_goes_out_as_a_reply_under_the_post(x_api, credentials) -> None:
    out, (post_id,) = sent_posts(x_api, 1)
    reply = out.send(message("Korrektur: richtig", **{REPLY_TO: post_id}))
    (shown,) = [t for t in x_api.timeline if t["id"] == reply.remote_id]
    assert shown["in_reply_to_tweet_id"] == post_id


def test_a_reply_under_a_deleted_post_is_refused_for_good(x_api, credentials) -> None:
    out, (post_id,) = sent_posts(x_api, 1)
    out.remove(post_id)
    with pytest.raises(ChannelError) as refused:
        out.send(message("Korrektur: richtig", **{REPLY_TO: post_id}))
    assert refused.value.kind == "permanent"

"""LinkedIn: the commentary's reserved characters escaped as the "little text" format needs,
counted after escaping, an article share with title, description and uploaded thumbnail through
the versioned Posts API, an expired token and an old version pausing the channel, a post left
unclear found again, and `channels check`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from publisher import roster
from publisher.channels.base import ChannelError, FetchedImage, Outgoing
from publisher.channels.linkedin import LinkedIn, little_text, plain_text
from publisher.clock import utcnow
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.delivery.reconcile import reconcile
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.posts.pauses import active_pauses
from standins.linkedin import AUTHOR, LINKEDIN_TOKEN, LinkedInStandIn
from tests.engine_helpers import article, make_settings, post

RESERVED = r"\|{}@[]()<>#*_~"


@pytest.fixture
def linkedin_api() -> Iterator[LinkedInStandIn]:
    stand_in = LinkedInStandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKEDIN_ACCESS_TOKEN", LINKEDIN_TOKEN)


@given(st.text(st.sampled_from([*RESERVED, "a", " ", "ü", "😀"]), max_size=60))
def test_escaped_commentary_reads_as_written_and_leaves_no_markup(text: str) -> None:
    escaped = little_text(text)
    assert plain_text(escaped) == text
    assert not re.search(r"(?<!\\)(?:\\\\)*[|{}@\[\]()<>#*_~]", escaped)


def test_reserved_characters_count_with_their_escapes() -> None:
    channel = LinkedIn("li", LinkedIn.Options(author=AUTHOR))
    assert channel.measure("(Bild) #news") == len(r"\(Bild\) \#news")


def channel(api: LinkedInStandIn, **options) -> LinkedIn:
    return LinkedIn(
        "li",
        LinkedIn.Options(author=AUTHOR, **options),
        api_base=api.url,
        fetch_image=lambda url, limit: FetchedImage(b"\xff\xd8\xff", "image/jpeg"),
    )


def test_an_article_share_goes_out_with_its_thumbnail(linkedin_api, token) -> None:
    fields = {"title": "Haushalt", "description": "Der Bundestag …", "image": "https://e.de/b.jpg"}
    text = "Haushalt beschlossen (vorläufig) #Bundestag"
    receipt = channel(linkedin_api).send(Outgoing(1, text, "https://e.de/a", fields))
    (shared,) = linkedin_api.shares
    assert plain_text(shared["commentary"]) == text
    assert shared["content"]["article"]["thumbnail"].startswith("urn:li:image:")
    assert receipt.permalink == f"https://www.linkedin.com/feed/update/{receipt.remote_id}/"


def settings_for(database_url, api, **options):
    return make_settings(
        database_url, li={"type": "linkedin", "author": AUTHOR, "api_base": api.url, **options}
    )


def test_an_expired_token_pauses_the_channel(engine, database_url, linkedin_api, token) -> None:
    linkedin_api.revoked = True
    settings = settings_for(database_url, linkedin_api)
    queue.add(
        engine, settings, article(), roster.chosen(settings, ["li"]), When(), queued_by="test"
    )
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    dispatcher.close()
    with engine.connect() as connection:
        assert "li" in active_pauses(connection, utcnow())


def test_a_version_linkedin_no_longer_serves_asks_for_a_newer_one(linkedin_api, token) -> None:
    from publisher.channels.base import ChannelError

    with pytest.raises(ChannelError, match="set a newer version") as refused:
        channel(linkedin_api, version="202301").send(Outgoing(1, "Text", "https://e.de/a"))
    assert (refused.value.kind, refused.value.fix) == ("auth", "settings")


def test_a_post_is_sent_through_the_engine(engine, database_url, linkedin_api, token) -> None:
    settings = settings_for(database_url, linkedin_api)
    (post_id,) = queue.add(
        engine, settings, article(), roster.chosen(settings, ["li"]), When(), queued_by="test"
    )
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    dispatcher.close()
    (posted,) = linkedin_api.shares
    assert post(engine, post_id).state == "sent" and post(engine, post_id).remote_id == posted["id"]


def test_a_post_left_unclear_is_found_by_its_commentary(linkedin_api, token) -> None:
    linkedin = channel(linkedin_api)
    linkedin.send(Outgoing(1, "Eilmeldung (1)", "https://e.de/1"))
    (found,) = linkedin.lookup(
        Outgoing(1, "Eilmeldung (1)", "https://e.de/1"), utcnow() - timedelta(1)
    )
    assert found.remote_id.startswith("urn:li:share:")


def test_a_post_made_before_the_attempt_is_not_taken_for_it(linkedin_api, token) -> None:
    linkedin = channel(linkedin_api)
    linkedin.send(Outgoing(1, "Eilmeldung (1)", "https://e.de/1"))
    later = utcnow() + timedelta(minutes=5)
    assert linkedin.lookup(Outgoing(2, "Eilmeldung (1)", "https://e.de/1"), later) == []


def test_check_names_the_organization(linkedin_api, token) -> None:
    (found,) = channel(linkedin_api).check()
    assert found.level == "ok" and "News.de" in found.message


def test_a_throttled_share_waits_an_hour(engine, database_url, linkedin_api, token) -> None:
    settings = settings_for(database_url, linkedin_api)
    (post_id,) = queue.add(
        engine, settings, article(), roster.chosen(settings, ["li"]), When(), queued_by="test"
    )
    linkedin_api.fail_next("/rest/posts", 429, {"status": 429, "message": "Too Many Requests"})
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    dispatcher.close()
    row = post(engine, post_id)
    assert row.state == "queued" and row.due_at > utcnow() + timedelta(minutes=50)


def test_a_share_whose_answer_was_lost_is_found_by_reconcile_not_sent_again(
    engine, database_url, token
) -> None:
    api = LinkedInStandIn()
    api.lose_next_answer("/rest/posts")
    try:
        settings = settings_for(database_url, api, timeout=1.5)
        (post_id,) = queue.add(
            engine, settings, article(), roster.chosen(settings, ["li"]), When(), queued_by="test"
        )
        dispatcher = Dispatcher(engine, settings)
        dispatcher.run_once()
        dispatcher.close()
        assert post(engine, post_id).state == "uncertain"
        (found,) = reconcile(engine, settings)
        assert found.found and post(engine, post_id).state == "sent" and len(api.shares) == 1
    finally:
        api.close()


def test_results_are_the_shares_statistics_20_a_call(linkedin_api, token) -> None:
    out = channel(linkedin_api)
    urns = [out.send(Outgoing(n, f"Meldung {n}", f"https://e.de/{n}")).remote_id for n in range(21)]
    linkedin_api.react(urns[0], impressionCount=900, clickCount=40, likeCount=12, shareCount=2)
    found = out.results(urns[:20]) | out.results(urns[20:])
    asked = [c for c in linkedin_api.calls if "ShareStatistics" in c.path]
    assert [c.query["shares"].count("urn:li:share:") for c in asked] == [20, 1]
    assert set(found) == set(urns)
    first = found[urns[0]].metrics
    assert (first["impressions"], first["platform_clicks"], first["likes"], first["shares"]) == (
        900,
        40,
        12,
        2,
    )
    assert first["reposts"] is None


def test_a_share_linkedin_no_longer_counts_is_left_out(linkedin_api, token) -> None:
    out = channel(linkedin_api)
    urn = out.send(Outgoing(1, "Meldung", "https://e.de/1")).remote_id
    assert out.results(["urn:li:share:1", urn]).keys() == {urn}


def test_a_throttled_measurement_waits_an_hour(linkedin_api, token) -> None:
    out = channel(linkedin_api)
    urn = out.send(Outgoing(1, "Meldung", "https://e.de/1")).remote_id
    linkedin_api.fail_next("ShareStatistics", 429, {"status": 429, "message": "Throttled"})
    with pytest.raises(ChannelError) as caught:
        out.results([urn])
    assert caught.value.kind == "rate_limited" and caught.value.retry_after == 3600


def test_an_expired_token_while_measuring_is_an_auth_error(linkedin_api, token) -> None:
    out = channel(linkedin_api)
    urn = out.send(Outgoing(1, "Meldung", "https://e.de/1")).remote_id
    linkedin_api.revoked = True
    with pytest.raises(ChannelError) as caught:
        out.results([urn])
    assert caught.value.kind == "auth"


def test_a_post_is_taken_down_by_its_urn(linkedin_api, token) -> None:
    linkedin = channel(linkedin_api)
    sent = linkedin.send(Outgoing(1, "Eilmeldung https://e.de/1", "https://e.de/1"))
    assert linkedin.remove(str(sent.remote_id)) == "removed" and linkedin_api.shares == []


def test_a_post_linkedin_no_longer_has_is_gone_already(linkedin_api, token) -> None:
    assert channel(linkedin_api).remove("urn:li:share:4711") == "already_gone"

"""Mastodon: counting as the server counts (graphemes, a URL as 23, a remote mention as its local
part), statuses through the engine to a stand-in of the client API that refuses what an instance
refuses, a retry after a lost answer that posts nothing twice, rate limits, a revoked token,
`channels check`, and the stand-in checked against Mastodon.py."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from publisher import roster
from publisher.articles import Article
from publisher.channels import ChannelError
from publisher.channels.base import REPLY_TO, FetchedImage, Outgoing
from publisher.channels.mastodon import Mastodon
from publisher.channels.mastodon_length import mastodon_length
from publisher.clock import utcnow
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.delivery.facts import learn, stored, with_learned
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.posts.pauses import active_pauses
from publisher.engine.storage.store import open_engine
from publisher.teasers import compose
from standins.mastodon import MASTODON_TOKEN, MastodonStandIn
from tests.conftest import run_cli
from tests.engine_helpers import article, delivery_rows, make_settings, post

URLS = st.from_regex(r"https://[a-z]{1,20}\.de/[a-z0-9/_-]{0,200}", fullmatch=True)


@pytest.fixture
def mastodon_api() -> Iterator[MastodonStandIn]:
    stand_in = MastodonStandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", MASTODON_TOKEN)


@given(st.text(st.characters(codec="utf-8"), max_size=50), URLS)
def test_a_link_counts_23_characters_however_long(text: str, url: str) -> None:
    assert mastodon_length(f"x{text} {url}") == mastodon_length(f"x{text} ") + 23


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("Grüße", 5),
        ("e\u0301", 1),  # a combining accent is part of its letter
        ("👩‍👩‍👧‍👦", 1),  # one family, seven code points
        ("🇩🇪🇫🇷", 2),
        ("東京で会議", 5),
        ("Hallo @redaktion@social.example!", len("Hallo @redaktion!")),
    ],
)
def test_mastodon_counts_what_readers_see(text: str, length: int) -> None:
    assert mastodon_length(text) == length


# Mastodon's own cases (spec/validators/status_length_validator_spec.rb) and the server's rules
# for links (config/initializers/twitter_regex.rb) and mentions (Account::MENTION_RE and
# app/lib/extractor.rb): (text, its length as the server counts it).
SERVER_CASES = {
    "a URL counts 23 flat": ("a" * 476 + " http://" + "b" * 30 + ".com/example", 500),
    "a URL glued to a word is no link": ("a" * 476 + "http://" + "b" * 30 + ".com/example", 525),
    "an overly long URL is no link": ("http://example.com/valid?" + "#foo?" * 1000, 5025),
    "a remote mention counts its front part": ("a" * 475 + " @alice@" + "b" * 30 + ".com", 482),
    "a mention of an overly long domain counts whole": ("@alice@" + "b" * 500 + ".com", 511),
    "multi-byte emoji count one each": ("✨" * 500, 500),
    "ZWJ sequences count one each": ("🏳️‍⚧️" * 500, 500),
    "a mention with a dot in the name": ("Hallo @first.last@example.com!", 18),
    "a mention with a hyphen in the name": ("Hallo @a-b@example.com", 10),
    "a mention at a Unicode domain": ("Hi @alice@bücher.de", 9),
    "no mention right after a letter": ("mail@alice@example.com", 22),
    "no mention right after an accented letter": ("é@alice@example.com", 19),
    "no mention right after =": ("a=@alice@example.com", 20),
    "no mention cut before an accented letter": ("@noël@example.com", 17),
    "a path with letters beyond ASCII is all link": ("siehe https://example.com/straße.", 30),
    "a path in Japanese is all link": ("https://example.com/東京 ok", 26),
    "a query in Japanese is all link": ("https://example.com/?q=東京", 23),
    "a gemini link counts 23": ("siehe gemini://example.com/x", 29),
    "a link ending in parentheses keeps them": ("https://de.wikipedia.org/wiki/A_(B) ok", 26),
    "a mention inside a link is the link's": ("https://x.com/@alice@y.com", 23),
    "a link right after an emoji": ("Mehr👉https://example.com/artikel", 28),
    "a text of spaces counts nothing": ("   ", 0),
}


@pytest.mark.parametrize("case", SERVER_CASES)
def test_mastodon_counts_as_its_server_does(case: str) -> None:
    text, length = SERVER_CASES[case]
    assert mastodon_length(text) == length


def settings_for(database_url: str, api: MastodonStandIn, **options):
    return make_settings(database_url, toots={"type": "mastodon", "instance": api.url, **options})


def test_compose_fits_the_instance_limit_with_a_long_url(database_url: str) -> None:
    long_url = "https://www.news.de/politik/" + "a" * 300
    settings = make_settings(database_url, toots={"type": "mastodon", "instance": "https://s.de"})
    news = Article(url=long_url, headline="Eilmeldung " * 30, bullets=["Punkt " * 40])
    teaser = compose(news, roster.chosen(settings, ["toots"]), settings)["toots"]
    assert teaser.length <= 500 and teaser.text.endswith(teaser.link)


def deliver(engine: Engine, settings, language: str | None = None) -> tuple[int, Dispatcher]:
    news = article(language=language)
    (post_id,) = queue.add(
        engine, settings, news, roster.chosen(settings, ["toots"]), When(), queued_by="test"
    )
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    return post_id, dispatcher


def test_a_status_goes_out_with_its_language_and_permalink(
    engine, database_url, mastodon_api, token
) -> None:
    post_id, dispatcher = deliver(engine, settings_for(database_url, mastodon_api), "de")
    dispatcher.close()
    (status,) = mastodon_api.posted()
    row = post(engine, post_id)
    assert (row.state, row.permalink) == ("sent", status["url"])
    assert status["language"] == "de" and "https://e.de/artikel/1" in status["content"]
    # The key is the post's, unique across databases posting to one account.
    key = mastodon_api.posts("/api/v1/statuses")[0].headers["idempotency-key"]
    assert re.fullmatch(rf"publisher-{post_id}-\d{{16}}", key)


def test_a_retry_after_a_lost_answer_posts_nothing_twice(engine, database_url, token) -> None:
    api = MastodonStandIn()
    api.lose_next_answer("/api/v1/statuses")
    try:
        settings = settings_for(database_url, api, timeout=1.5, retry_base=30)
        post_id, dispatcher = deliver(engine, settings)
        assert post(engine, post_id).state == "queued"
        dispatcher.run_once(now=utcnow() + timedelta(minutes=5))
        dispatcher.close()
        assert post(engine, post_id).state == "sent" and len(api.posted()) == 1
        assert [r.outcome for r in delivery_rows(engine, post_id)] == ["transient", "sent"]
    finally:
        api.close()


def test_a_rate_limit_waits_until_the_instance_resets(
    engine, database_url, mastodon_api, token
) -> None:
    reset = "2099-01-01T00:00:00.000Z"
    mastodon_api.fail_next(
        "/api/v1/statuses", 429, {"error": "Too many requests"}, {"X-RateLimit-Reset": reset}
    )
    post_id, dispatcher = deliver(engine, settings_for(database_url, mastodon_api))
    dispatcher.close()
    row = post(engine, post_id)
    assert row.state == "queued" and row.due_at.year >= 2098


def test_a_revoked_token_pauses_the_channel(engine, database_url, mastodon_api, token) -> None:
    mastodon_api.revoked = True
    post_id, dispatcher = deliver(engine, settings_for(database_url, mastodon_api))
    dispatcher.close()
    with engine.connect() as connection:
        assert "toots" in active_pauses(connection, utcnow())
    assert post(engine, post_id).state == "queued"


def test_a_text_over_the_instance_limit_is_refused_for_good(
    engine, database_url, mastodon_api, token
) -> None:
    mastodon_api.max_characters = 50
    post_id, dispatcher = deliver(engine, settings_for(database_url, mastodon_api))
    dispatcher.close()
    row = post(engine, post_id)
    assert row.state == "failed" and "character limit of 50 exceeded" in row.error


def test_the_article_image_is_attached_once_processed(mastodon_api, token) -> None:
    channel = Mastodon(
        "toots",
        Mastodon.Options(instance=mastodon_api.url),
        fetch_image=lambda url, limit: FetchedImage(b"\xff\xd8\xff", "image/jpeg"),
    )
    fields = {"image": "https://e.de/bild.jpg", "alt": "Der Bundestag"}
    channel.send(Outgoing(1, "Text https://e.de/a", "https://e.de/a", fields))
    (status,) = mastodon_api.posted()
    assert status["media_attachments"] and mastodon_api.posts("/api/v2/media")[0].form == {
        "description": "Der Bundestag"
    }


def test_check_says_what_the_instance_allows(mastodon_api, token) -> None:
    mastodon_api.max_characters = 1000
    found = Mastodon("toots", Mastodon.Options(instance=mastodon_api.url)).check()
    assert found[0].level == "ok" and "@news" in found[0].message
    assert (found[1].level, found[1].message) == (
        "ok",
        "the instance allows 1000 characters a status",
    )


def test_check_says_when_the_configuration_overrides_the_instance(mastodon_api, token) -> None:
    mastodon_api.max_characters = 1000
    options = Mastodon.Options(instance=mastodon_api.url, max_characters=500)
    found = Mastodon("toots", options).check()
    assert found[1].level == "warning" and "max_characters = 500" in found[1].message


def mastodon_settings(database_url: str, api: MastodonStandIn, **options):
    return make_settings(
        database_url, toots={"type": "mastodon", "instance": api.url, "image": False, **options}
    )


LONG = Article(
    url="https://e.de/lang",
    headline="Schlagzeile " * 30,
    bullets=[f"Punkt {n}: " + "Wort " * 20 for n in range(6)],
)


def test_an_instance_of_400_characters_is_learned_and_composed_for(
    engine: Engine, database_url: str, token
) -> None:
    api = MastodonStandIn(max_characters=400, url_characters=30)
    try:
        settings = mastodon_settings(database_url, api)
        assert learn(engine, settings) == {"toots": {"max_characters": 400, "url_characters": 30}}
        settings = with_learned(settings, engine)
        teaser = compose(LONG, roster.chosen(settings, ["toots"]), settings)["toots"]
        assert 380 < teaser.length <= 400
        queue.add(
            engine, settings, LONG, roster.chosen(settings, ["toots"]), When(), queued_by="test"
        )
        dispatcher = Dispatcher(engine, settings)
        (delivered,) = dispatcher.run_once()
        dispatcher.close()
        assert delivered.outcome == "sent"
    finally:
        api.close()


def test_what_the_configuration_sets_wins_over_what_was_learned(
    engine: Engine, database_url: str, mastodon_api, token
) -> None:
    settings = mastodon_settings(database_url, mastodon_api, max_characters=300)
    learn(engine, settings)
    channel = roster.configured(with_learned(settings, engine), "toots")
    assert channel.limit_for() == 300


def test_a_status_refused_as_too_long_makes_the_channel_ask_the_instance_again(
    engine: Engine, database_url: str, mastodon_api, token
) -> None:
    settings = mastodon_settings(database_url, mastodon_api)
    learn(engine, settings)
    settings = with_learned(settings, engine)
    queue.add(engine, settings, LONG, roster.chosen(settings, ["toots"]), When(), queued_by="test")
    mastodon_api.max_characters = 400  # the instance lowered its limit since
    dispatcher = Dispatcher(engine, settings)
    (refused,) = dispatcher.run_once()
    assert refused.outcome == "failed"
    assert stored(engine)["toots"]["max_characters"] == 400
    assert dispatcher.adapters["toots"].limit_for() == 400
    dispatcher.close()


def test_the_stand_in_answers_mastodon_py_as_an_instance_does(mastodon_api) -> None:
    from mastodon import Mastodon as Client
    from mastodon import MastodonAPIError

    client = Client(
        access_token=MASTODON_TOKEN, api_base_url=mastodon_api.url, version_check_mode="none"
    )
    first = client.status_post("Hallo Welt", idempotency_key="k-1", language="de")
    again = client.status_post("Hallo Welt", idempotency_key="k-1", language="de")
    assert first["id"] == again["id"] and len(mastodon_api.posted()) == 1
    with pytest.raises(MastodonAPIError, match="character limit"):
        client.status_post("x" * 501)


@pytest.mark.parametrize("command", [("run", "--once"), ("channels", "check")])
def test_run_and_channels_check_learn_the_instances_limits(
    tmp_path, mastodon_api, command: tuple[str, ...]
) -> None:
    mastodon_api.max_characters = 420
    config = tmp_path / "publisher.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp_path}/p.db"\n'
        f'[channels.toots]\ntype = "mastodon"\ninstance = "{mastodon_api.url}"\n'
    )
    run_cli("--config", str(config), "db", "upgrade")
    ran = run_cli("--config", str(config), *command, env={"MASTODON_ACCESS_TOKEN": MASTODON_TOKEN})
    assert ran.returncode == 0, ran.stderr
    engine = open_engine(f"sqlite:///{tmp_path}/p.db")
    assert stored(engine)["toots"]["max_characters"] == 420
    engine.dispose()


def test_the_first_channels_check_of_a_new_installation_keeps_the_instances_limit(
    tmp_path, token
) -> None:
    api = MastodonStandIn(max_characters=400)
    try:
        config = tmp_path / "publisher.toml"
        config.write_text(
            f'database_url = "sqlite:///{tmp_path}/p.db"\n'
            f'[channels.toots]\ntype = "mastodon"\ninstance = "{api.url}"\nimage = false\n'
        )
        secret = {"MASTODON_ACCESS_TOKEN": MASTODON_TOKEN}
        checked = run_cli("--config", str(config), "channels", "check", env=secret)
        assert "the instance allows 400 characters a status" in checked.stdout
        composed = run_cli(
            "--config", str(config), "compose", "-", "--json", stdin=LONG.model_dump_json()
        )
        assert 380 < json.loads(composed.stdout)["teasers"]["mastodon"]["length"] <= 400
    finally:
        api.close()


def mastodon_channel(api: MastodonStandIn) -> Mastodon:
    return Mastodon("mastodon", {"instance": api.url})


def test_a_status_is_taken_down_with_delete(mastodon_api, token) -> None:
    out = mastodon_channel(mastodon_api)
    sent = out.send(Outgoing(post_id=1, text="Meldung https://e.de/1", link="https://e.de/1"))
    assert out.remove(str(sent.remote_id)) == "removed" and mastodon_api.posted() == []


def test_a_status_the_instance_no_longer_has_is_gone_already(mastodon_api, token) -> None:
    assert mastodon_channel(mastodon_api).remove("999") == "already_gone"


def test_past_thirty_deletions_in_half_an_hour_a_takedown_waits(mastodon_api, token) -> None:
    out = mastodon_channel(mastodon_api)
    for number in range(30):
        out.remove(str(number))
    with pytest.raises(ChannelError) as refused:
        out.remove("30")
    assert refused.value.kind == "rate_limited" and refused.value.retry_after > 60


def test_a_correction_edits_the_status_in_place(mastodon_api, token) -> None:
    out = mastodon_channel(mastodon_api)
    sent = out.send(Outgoing(1, "Erst falsch https://e.de/a", "https://e.de/a"))
    out.edit(str(sent.remote_id), "Erst falsch https://e.de/a\n\nKorrektur: richtig")
    status = mastodon_api.statuses[str(sent.remote_id)]
    assert "Korrektur: richtig" in status["content"] and status["edited_at"]


def test_an_edit_over_the_instances_limit_is_refused_for_good(mastodon_api, token) -> None:
    out = mastodon_channel(mastodon_api)
    sent = out.send(Outgoing(1, "Erst falsch", "https://e.de/a"))
    with pytest.raises(ChannelError) as refused:
        out.edit(str(sent.remote_id), "x" * 600)
    assert refused.value.kind == "permanent"


def test_a_correction_can_go_out_as_a_reply_under_the_status(mastodon_api, token) -> None:
    out = mastodon_channel(mastodon_api)
    sent = out.send(Outgoing(1, "Erst falsch", "https://e.de/a"))
    reply = out.send(Outgoing(2, "Korrektur: richtig", "", {REPLY_TO: str(sent.remote_id)}))
    assert mastodon_api.statuses[str(reply.remote_id)]["in_reply_to_id"] == str(sent.remote_id)

"""Facebook Pages and WhatsApp Cloud API adapters against a local server speaking the Graph API:
what goes over the wire, and how `error.code`/`error_subcode` and the usage headers are read."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Iterator

import aiohttp
import pytest
import requests
import trustme
from hypothesis import given
from hypothesis import strategies as st

from publisher.channels import ChannelError, Outgoing, Receipt
from publisher.channels.facebook import Facebook
from publisher.channels.graph import usage_wait
from publisher.channels.whatsapp import WhatsApp
from standins.base import free_port
from standins.graph import EXPIRED_TOKEN, GRAPH_TOKEN, GRAPH_VERSION, GraphStandIn, graph_error

LINK = "https://e.de/a?utm_source=facebook"
RECIPIENT = "+4915112345678"


def facebook(api: GraphStandIn, **options: object) -> Facebook:
    return Facebook("facebook", {"page_id": api.page_id, **options}, api_base=api.url)


def whatsapp(api: GraphStandIn, **options: object) -> WhatsApp:
    return WhatsApp(
        "whatsapp",
        {"phone_number_id": api.phone_number_id, "recipients": [RECIPIENT], **options},
        api_base=api.url,
    )


def fb_message(text: str = "Schlagzeile\n\n• Punkt", **fields: object) -> Outgoing:
    return Outgoing(3, text, LINK, {"message": text, **fields})


def wa_message(recipient: str = RECIPIENT) -> Outgoing:
    return Outgoing(
        4, "*Schlagzeile*\n\nWeiterlesen: " + LINK, LINK, {"headline": "Schlagzeile"}, recipient
    )


def error_of(send) -> ChannelError:
    with pytest.raises(ChannelError) as caught:
        send()
    return caught.value


def test_page_post_sends_message_and_link_with_the_page_token(graph_api, credentials) -> None:
    receipt = facebook(graph_api).send(fb_message())
    (call,) = graph_api.posts("/feed")
    assert call.path == f"/v26.0/{graph_api.page_id}/feed"
    assert call.headers["authorization"] == f"Bearer {GRAPH_TOKEN}"
    assert call.form == {"message": "Schlagzeile\n\n• Punkt", "link": LINK}
    assert receipt.remote_id == f"{graph_api.page_id}_1001"
    assert receipt.permalink == f"https://www.facebook.com/{graph_api.page_id}_1001"


def test_photo_post_when_configured_and_the_article_has_an_image(graph_api, credentials) -> None:
    receipt = facebook(graph_api, photo=True).send(fb_message(photo="https://e.de/bild.jpg"))
    (call,) = graph_api.posts("/photos")
    assert call.form["url"] == "https://e.de/bild.jpg"
    assert LINK in call.form["caption"]
    assert receipt.remote_id == f"{graph_api.page_id}_1001"


def test_api_version_is_pinned_and_configurable(graph_api, credentials) -> None:
    error = error_of(lambda: facebook(graph_api, api_version="v19.0").send(fb_message()))
    assert graph_api.calls[0].path.startswith("/v19.0/")
    assert error.kind == "permanent"


def test_expired_token_arriving_as_http_400_is_an_auth_error(graph_api, credentials) -> None:
    graph_api.revoked = True
    error = error_of(lambda: facebook(graph_api).send(fb_message()))
    assert (error.kind, error.code) == ("auth", "190/463")
    assert "Session has expired" in error.message


def test_duplicate_post_is_permanent(graph_api, credentials) -> None:
    facebook(graph_api).send(fb_message("Gleich"))
    error = error_of(lambda: facebook(graph_api).send(fb_message("Gleich")))
    assert (error.kind, error.code) == ("permanent", "506")


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80001])
def test_throttling_codes_wait_what_the_usage_header_says(graph_api, credentials, code) -> None:
    usage = {
        graph_api.page_id: [
            {"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 7}
        ]
    }
    graph_api.fail_next(
        "/feed",
        400,
        graph_error(code, f"(#{code}) Application request limit reached"),
        {"X-Business-Use-Case-Usage": json.dumps(usage)},
    )
    error = error_of(lambda: facebook(graph_api).send(fb_message()))
    assert error.kind == "rate_limited"
    assert error.retry_after == 7 * 60


def test_throttling_without_an_estimate_waits_the_rolling_hour(graph_api, credentials) -> None:
    graph_api.fail_next(
        "/feed",
        400,
        graph_error(4, "(#4) Application request limit reached"),
        {"X-App-Usage": json.dumps({"call_count": 100, "total_time": 20, "total_cputime": 10})},
    )
    assert error_of(lambda: facebook(graph_api).send(fb_message())).retry_after == 3600


def test_missing_permission_pauses_the_channel(graph_api, credentials) -> None:
    graph_api.fail_next(
        "/feed", 403, graph_error(200, "(#200) The user hasn't authorized the application")
    )
    assert error_of(lambda: facebook(graph_api).send(fb_message())).kind == "auth"


def test_invalid_parameter_is_permanent_with_the_reason(graph_api, credentials) -> None:
    graph_api.fail_next("/feed", 400, graph_error(100, "(#100) Invalid parameter"))
    error = error_of(lambda: facebook(graph_api).send(fb_message()))
    assert (error.kind, error.code) == ("permanent", "100")
    assert "Invalid parameter" in error.message


def test_policy_block_368_waits_an_hour(graph_api, credentials) -> None:
    graph_api.fail_next(
        "/feed", 400, graph_error(368, "The action attempted has been deemed abusive", 1390008)
    )
    error = error_of(lambda: facebook(graph_api).send(fb_message()))
    assert (error.kind, error.retry_after) == ("rate_limited", 3600)


def test_graph_outage_is_transient(graph_api, credentials) -> None:
    graph_api.fail_next("/feed", 500, graph_error(2, "An unexpected error has occurred."))
    assert error_of(lambda: facebook(graph_api).send(fb_message())).kind == "transient"


def test_whatsapp_text_message_with_link_preview_to_one_recipient(graph_api, credentials) -> None:
    receipt = whatsapp(graph_api).send(wa_message())
    (call,) = graph_api.posts("/messages")
    assert call.path == f"/v26.0/{graph_api.phone_number_id}/messages"
    assert call.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": RECIPIENT,
        "type": "text",
        "text": {"body": wa_message().text, "preview_url": True},
    }
    assert receipt.remote_id == "wamid.HBgL1001"


def test_whatsapp_fans_out_to_every_configured_recipient(graph_api) -> None:
    channel = whatsapp(graph_api, recipients=[RECIPIENT, "+4917600000001"])
    assert channel.targets() == (RECIPIENT, "+4917600000001")


def test_whatsapp_template_mode_sends_headline_and_link_as_parameters(
    graph_api, credentials
) -> None:
    channel = whatsapp(
        graph_api, message="template", template={"name": "news_teaser", "language": "de"}
    )
    channel.send(wa_message())
    (call,) = graph_api.posts("/messages")
    assert call.json["type"] == "template"
    assert call.json["template"] == {
        "name": "news_teaser",
        "language": {"code": "de"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Schlagzeile"},
                    {"type": "text", "text": LINK},
                ],
            }
        ],
    }


def test_outside_the_24_hour_window_falls_back_to_the_template(graph_api, credentials) -> None:
    graph_api.fail_next(
        "/messages",
        400,
        graph_error(
            131047,
            "Re-engagement message",
            error_data={
                "messaging_product": "whatsapp",
                "details": "Message failed to send because more than 24 hours have passed",
            },
        ),
    )
    channel = whatsapp(graph_api, template={"name": "news_teaser"})
    assert channel.send(wa_message()).remote_id
    first, second = graph_api.posts("/messages")
    assert (first.json["type"], second.json["type"]) == ("text", "template")


def test_outside_the_window_without_a_template_is_permanent(graph_api, credentials) -> None:
    graph_api.fail_next("/messages", 400, graph_error(131047, "Re-engagement message"))
    error = error_of(lambda: whatsapp(graph_api).send(wa_message()))
    assert (error.kind, error.code) == ("permanent", "131047")


def test_cloud_api_throughput_limit_is_rate_limited(graph_api, credentials) -> None:
    graph_api.fail_next("/messages", 400, graph_error(130429, "(#130429) Rate limit hit"))
    assert error_of(lambda: whatsapp(graph_api).send(wa_message())).kind == "rate_limited"


def test_whatsapp_expired_token_is_auth(graph_api, credentials) -> None:
    graph_api.fail_next("/messages", 401, EXPIRED_TOKEN)
    assert error_of(lambda: whatsapp(graph_api).send(wa_message())).kind == "auth"


def test_check_reports_page_and_token_expiry_within_a_week(graph_api, credentials) -> None:
    graph_api.expires_at = int(time.time() + 3 * 86400)
    findings = facebook(graph_api).check()
    assert findings[0].level == "ok" and "News.de" in findings[0].message
    assert findings[1].level == "warning" and "expires in 3.0 days" in findings[1].message


def test_check_reports_the_whatsapp_number(graph_api, credentials) -> None:
    findings = whatsapp(graph_api).check()
    assert "+49 30 1234567" in findings[0].message
    assert findings[1].message == "token does not expire"


@given(
    minutes=st.lists(st.integers(0, 1440), min_size=1, max_size=4),
    header=st.sampled_from(["X-Business-Use-Case-Usage", "X-Ad-Account-Usage"]),
)
def test_usage_wait_is_the_longest_estimate_in_the_header(minutes: list[int], header: str) -> None:
    response = requests.Response()
    entries = [{"type": "pages", "estimated_time_to_regain_access": m} for m in minutes]
    response.headers[header] = json.dumps({"123": entries})
    expected = max(minutes) * 60 if max(minutes) > 0 else 3600
    assert usage_wait(response.headers) == expected


def test_the_throughput_limit_is_a_wait_of_a_second_that_backs_off(graph_api, credentials) -> None:
    graph_api.fail_next("/messages", 400, graph_error(130429, "(#130429) Rate limit hit"))
    error = error_of(lambda: whatsapp(graph_api).send(wa_message()))
    assert (error.kind, error.retry_after, error.backoff) == ("rate_limited", 1.0, True)


def test_the_pair_rate_limit_is_a_wait_of_seconds_for_that_recipient_only(
    graph_api, credentials
) -> None:
    answer = graph_error(131056, "(Business Account, Consumer Account) pair rate limit hit")
    graph_api.fail_next("/messages", 400, answer)
    error = error_of(lambda: whatsapp(graph_api).send(wa_message()))
    assert (error.kind, error.recipient_only) == ("rate_limited", True)
    assert 6 <= error.retry_after <= 10


def test_the_accounts_hourly_limit_still_waits_the_hour(graph_api, credentials) -> None:
    graph_api.fail_next("/messages", 400, graph_error(80007, "(#80007) Rate limit issues"))
    error = error_of(lambda: whatsapp(graph_api).send(wa_message()))
    assert (error.kind, error.retry_after, error.backoff) == ("rate_limited", 3600.0, False)


def send_async(adapter: WhatsApp, message: Outgoing) -> Receipt:
    """One message the way a fan-out sends it: on an event loop, on an aiohttp session."""

    async def go() -> Receipt:
        async with aiohttp.ClientSession() as session:
            return await adapter.send_async(message, session)

    return asyncio.run(go())


@pytest.mark.parametrize("on_a_loop", [False, True], ids=["in a thread", "on a loop"])
def test_a_message_goes_through_the_proxy_the_environment_names(
    graph_api, credentials, monkeypatch, on_a_loop
) -> None:
    # The stand-in answers as the proxy: the Graph API's own address does not resolve here.
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", graph_api.url)
    adapter = WhatsApp(
        "whatsapp",
        {"phone_number_id": graph_api.phone_number_id, "recipients": [RECIPIENT]},
        api_base="http://graph.publisher-test.invalid",
    )
    receipt = send_async(adapter, wa_message()) if on_a_loop else adapter.send(wa_message())
    (call,) = graph_api.posts("/messages")
    assert call.headers["host"] == "graph.publisher-test.invalid"
    assert receipt.remote_id and receipt.remote_id.startswith("wamid.")


@pytest.fixture
def graph_over_tls(graph_api: GraphStandIn, tmp_path) -> Iterator[tuple[str, str]]:
    """The stand-in answering over TLS with a certificate of an authority of its own: its
    address, and the file of that authority's certificate."""
    authority = trustme.CA()
    authority.issue_cert("127.0.0.1").configure_cert(
        context := ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    )
    graph_api.httpd.socket = context.wrap_socket(graph_api.httpd.socket, server_side=True)
    bundle = tmp_path / "authority.pem"
    authority.cert_pem.write_to_path(str(bundle))
    yield graph_api.url.replace("http://", "https://"), str(bundle)


@pytest.mark.parametrize("on_a_loop", [False, True], ids=["in a thread", "on a loop"])
def test_a_message_trusts_the_certificate_authorities_the_environment_names(
    graph_api, graph_over_tls, credentials, monkeypatch, on_a_loop
) -> None:
    address, bundle = graph_over_tls
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
    options = {"phone_number_id": graph_api.phone_number_id, "recipients": [RECIPIENT]}
    adapter = WhatsApp("whatsapp", options, api_base=address)
    receipt = send_async(adapter, wa_message()) if on_a_loop else adapter.send(wa_message())
    assert receipt.remote_id and receipt.remote_id.startswith("wamid.")


def test_a_fan_out_message_answered_too_late_may_have_gone_out(graph_api, credentials) -> None:
    graph_api.latency = (0.5, 0.5)
    error = error_of(lambda: send_async(whatsapp(graph_api, timeout=0.1), wa_message()))
    assert (error.kind, error.never_sent) == ("uncertain", False)


def test_a_fan_out_message_to_a_platform_not_listening_never_went_out(credentials) -> None:
    adapter = WhatsApp(
        "whatsapp",
        {"phone_number_id": "1", "recipients": [RECIPIENT]},
        api_base=f"http://127.0.0.1:{free_port()}",
    )
    error = error_of(lambda: send_async(adapter, wa_message()))
    assert (error.kind, error.never_sent) == ("transient", True)


def test_a_fan_out_message_is_refused_for_throughput_as_a_call_in_a_thread_is(
    graph_api, credentials
) -> None:
    graph_api.fail_next("/messages", 400, graph_error(130429, "(#130429) Rate limit hit"))
    error = error_of(lambda: send_async(whatsapp(graph_api), wa_message()))
    assert (error.kind, error.retry_after, error.backoff) == ("rate_limited", 1.0, True)


def sent_page_posts(api: GraphStandIn, count: int) -> tuple[Facebook, list[str]]:
    page = facebook(api)
    return page, [page.send(fb_message(f"Meldung {n}")).remote_id for n in range(count)]


def test_page_results_are_asked_for_50_posts_a_call_with_views_clicks_and_reactions(
    graph_api, credentials
) -> None:
    page, ids = sent_page_posts(graph_api, 51)
    graph_api.react(
        ids[0],
        post_media_view=900,
        post_clicks=40,
        post_reactions_by_type_total={"like": 10, "love": 2},
        shares=3,
        comments=5,
    )
    found = page.results(ids[:50]) | page.results(ids[50:])
    asked = [c for c in graph_api.calls if c.method == "GET" and "ids" in c.query]
    assert [len(c.query["ids"].split(",")) for c in asked] == [50, 1]
    first = found[ids[0]].metrics
    assert (first["impressions"], first["platform_clicks"], first["likes"]) == (900, 40, 12)
    assert (first["shares"], first["replies"], first["reposts"]) == (3, 5, None)


def test_a_page_post_nobody_shared_counts_zero_shares_not_null(graph_api, credentials) -> None:
    page, ids = sent_page_posts(graph_api, 1)
    assert page.results(ids)[ids[0]].metrics["shares"] == 0


def test_a_page_post_deleted_on_facebook_leaves_the_others_measured(graph_api, credentials) -> None:
    page, ids = sent_page_posts(graph_api, 2)
    del graph_api.counts[ids[0]]
    assert set(page.results(ids)) == {ids[1]}


def test_throttling_while_measuring_the_page_is_a_rate_limit(graph_api, credentials) -> None:
    page, ids = sent_page_posts(graph_api, 1)
    graph_api.fail_next(f"/{GRAPH_VERSION}/", 400, graph_error(32, "Page request limit reached"))
    with pytest.raises(ChannelError) as caught:
        page.results(ids)
    assert caught.value.kind == "rate_limited"


def test_an_expired_page_token_while_measuring_is_an_auth_error(graph_api, credentials) -> None:
    page, ids = sent_page_posts(graph_api, 1)
    graph_api.revoked = True
    with pytest.raises(ChannelError) as caught:
        page.results(ids)
    assert caught.value.kind == "auth"


def test_the_stand_in_refuses_the_message_past_its_throughput_within_any_one_second(
    graph_api: GraphStandIn,
) -> None:
    graph_api.mps = 5
    url = f"{graph_api.url}/{GRAPH_VERSION}/{graph_api.phone_number_id}/messages"
    body = {"messaging_product": "whatsapp", "to": "+4917600000001", "type": "text",
            "text": {"body": "Hallo"}}  # fmt: skip
    headers = {"Authorization": f"Bearer {GRAPH_TOKEN}"}
    with requests.Session() as session:
        answers = [session.post(url, json=body, headers=headers, timeout=5) for _ in range(6)]
        time.sleep(1.05)
        later = session.post(url, json=body, headers=headers, timeout=5)
    codes = [a.json().get("error", {}).get("code") for a in answers]
    assert codes == [None] * 5 + [130429] and later.ok


def test_a_page_post_is_taken_down_with_delete(graph_api, credentials) -> None:
    channel = facebook(graph_api)
    sent = channel.send(Outgoing(1, "Schlagzeile", LINK))
    assert channel.remove(str(sent.remote_id)) == "removed" and graph_api.feed == []


def test_a_page_post_the_graph_api_no_longer_has_is_gone_already(graph_api, credentials) -> None:
    channel = facebook(graph_api)
    assert channel.remove(f"{graph_api.page_id}_4711") == "already_gone"

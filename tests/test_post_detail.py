"""One post to many recipients as `queue show --json` and the desk's post page give it: what
became of its messages, each message's receipt, and a page of its deliveries that says how many
there are (a WhatsApp push has one per subscriber)."""

from __future__ import annotations

import json
import logging
import statistics
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from publisher import roster
from publisher.channels.text import masked
from publisher.channels.whatsapp_events import StatusUpdate
from publisher.clock import utcnow
from publisher.config import ChannelSettings, Settings, load_settings
from publisher.engine.audiences.inbox import take_status
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.posts.listings import DeliveryListing, list_deliveries
from publisher.engine.posts.users import add_user
from publisher.engine.storage.schema import deliveries
from standins.graph import GraphStandIn
from tests.conftest import ROOT, run_cli
from tests.desk_helpers import PASSWORD, desk_settings, serving, signed_in
from tests.engine_helpers import article

RECIPIENTS = [f"+49176000{n:05d}" for n in range(1, 56)]


def push(engine: Engine, settings, graph_api: GraphStandIn) -> int:
    """A post sent to every recipient, the first read, the second delivered: its number."""
    (post_id,) = queue.add(
        engine, settings, article(), roster.chosen(settings, ["wa"]), When(), queued_by="test"
    )
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    dispatcher.close()
    with engine.connect() as connection:
        sent = dict(
            connection.execute(
                select(deliveries.c.recipient, deliveries.c.remote_id).where(
                    deliveries.c.post_id == post_id
                )
            ).all()
        )
    for phone, status in ((RECIPIENTS[0], "read"), (RECIPIENTS[1], "delivered")):
        update = StatusUpdate(graph_api.phone_number_id, sent[phone], status, phone, utcnow())
        assert take_status(engine, settings, update)
    return post_id


def whatsapp(graph_api: GraphStandIn) -> dict:
    return {
        "type": "whatsapp",
        "phone_number_id": graph_api.phone_number_id,
        "recipients": RECIPIENTS,
        "api_base": graph_api.url,
    }


@pytest.fixture
def newsroom(tmp_path: Path, database_url: str, graph_api: GraphStandIn, credentials) -> Path:
    (tmp_path / "publisher.toml").write_text(
        f'database_url = "{database_url}"\n[channels.wa]\n'
        + "".join(f"{key} = {json.dumps(value)}\n" for key, value in whatsapp(graph_api).items())
    )
    return tmp_path


def shown(newsroom: Path, post_id: int, *extra: str) -> dict:
    answer = run_cli("queue", "show", str(post_id), "--json", *extra, cwd=newsroom)
    assert answer.returncode == 0, answer.stderr
    return json.loads(answer.stdout)


@pytest.fixture
def pushed(newsroom: Path, engine: Engine, graph_api: GraphStandIn) -> int:
    return push(engine, load_settings(newsroom / "publisher.toml"), graph_api)


def test_show_json_sums_up_what_became_of_a_pushs_messages(newsroom: Path, pushed: int) -> None:
    fan_out = shown(newsroom, pushed)["fan_out"]
    assert fan_out == {
        "recipients": 55, "sent": 55, "delivered": 2, "read": 1, "failed": 0, "unclear": 0,
        "reasons": [],
    }  # fmt: skip


def test_each_delivery_in_show_json_says_what_the_platform_reported_of_its_message(
    newsroom: Path, pushed: int
) -> None:
    statuses = Counter(d["status"] for d in shown(newsroom, pushed)["deliveries"])
    assert statuses == {"read": 1, "delivered": 1, None: 53}


def test_show_json_gives_the_page_of_deliveries_asked_for_and_how_many_there_are(
    newsroom: Path, pushed: int
) -> None:
    first = shown(newsroom, pushed, "--limit", "20")
    rest = shown(newsroom, pushed, "--limit", "50", "--offset", "20")
    assert (len(first["deliveries"]), len(rest["deliveries"])) == (20, 35)
    assert first["deliveries_total"] == rest["deliveries_total"] == 55
    assert rest["deliveries_offset"] == 20
    ids = [d["id"] for d in first["deliveries"] + rest["deliveries"]]
    assert len(set(ids)) == 55


def test_show_says_when_its_table_of_deliveries_is_cut(newsroom: Path, pushed: int) -> None:
    answer = run_cli("queue", "show", str(pushed), "--limit", "20", cwd=newsroom)
    assert answer.returncode == 0, answer.stderr
    assert "20 of 55 deliveries" in answer.stdout and "--offset 20" in answer.stdout


def test_the_desk_lists_a_pushs_latest_deliveries_and_counts_the_rest(
    engine: Engine, database_url: str, graph_api: GraphStandIn, credentials, monkeypatch
) -> None:
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    base = desk_settings(database_url)
    wa = ChannelSettings(**whatsapp(graph_api))
    settings = base.model_copy(update={"channels": base.channels | {"wa": wa}})
    post_id = push(engine, settings, graph_api)
    add_user(engine, "anna", PASSWORD, "approver")
    with engine.connect() as connection:
        oldest = connection.execute(
            select(deliveries.c.recipient).where(deliveries.c.post_id == post_id)
            .order_by(deliveries.c.started_at, deliveries.c.id).limit(1)
        ).scalar_one()  # fmt: skip
    with serving(engine, settings) as desk:
        anna, _ = signed_in(desk, "anna")
        page = anna.get(f"/posts/{post_id}").text
    assert "5 earlier deliveries in the log" in page and masked(oldest) not in page


def test_the_worker_tells_a_pushs_message_time_as_publisher_log_has_it(
    engine: Engine, database_url: str, graph_api: GraphStandIn, credentials, caplog
) -> None:
    settings = Settings(
        database_url=database_url, channels={"wa": ChannelSettings(**whatsapp(graph_api))}
    )
    with caplog.at_level(logging.INFO, logger="publisher.engine.delivery.dispatch"):
        post_id = push(engine, settings, graph_api)
    (told,) = [r for r in caplog.records if getattr(r, "post_id", None) == post_id]
    logged = [d["latency_ms"] for d in list_deliveries(engine, post_ids=[post_id], limit=100)]
    assert told.messages == 55 and told.median_latency_ms == round(statistics.median(logged))
    assert f"each {told.median_latency_ms} ms at the median" in told.getMessage()


def test_the_readme_names_every_field_queue_show_json_gives() -> None:
    from publisher.engine.posts.post_detail import FanOut, PostDetail

    readme = (ROOT / "README.md").read_text()
    start = readme.index("`queue list --json` gives one object per post")
    contract = readme[start : readme.index("\n\n", start)]
    fields = {*PostDetail.__required_keys__, *DeliveryListing.__required_keys__}
    assert {f for f in fields | FanOut.__required_keys__ if f"`{f}`" not in contract} == set()


def test_the_desk_names_why_a_pushs_messages_failed(
    engine: Engine, database_url: str, graph_api: GraphStandIn, credentials, monkeypatch
) -> None:
    monkeypatch.setenv("PUBLISHER_SESSION_SECRET", "test-session-secret-0123456789")
    base = desk_settings(database_url)
    wa = ChannelSettings(**whatsapp(graph_api))
    settings = base.model_copy(update={"channels": base.channels | {"wa": wa}})
    post_id = push(engine, settings, graph_api)
    with engine.connect() as connection:
        remote_id = connection.execute(
            select(deliveries.c.remote_id).where(
                deliveries.c.post_id == post_id, deliveries.c.recipient == RECIPIENTS[2]
            )
        ).scalar_one()
    failed = StatusUpdate(
        graph_api.phone_number_id, remote_id, "failed", RECIPIENTS[2], utcnow(), "131026",
        "Message undeliverable",
    )  # fmt: skip
    assert take_status(engine, settings, failed)
    add_user(engine, "anna", PASSWORD, "approver")
    with serving(engine, settings) as desk:
        anna, _ = signed_in(desk, "anna")
        page = anna.get(f"/posts/{post_id}").text
    assert "1 × " in page and "Message undeliverable" in page

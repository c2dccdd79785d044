"""A WhatsApp channel's subscribers: numbers read in international format, imported from a file
(each bad line named, nobody who opted out subscribed again), listed, removed, and sent to."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, event, insert, update

from publisher import roster
from publisher.clock import utcnow
from publisher.config import Settings
from publisher.engine.audiences.subscribers import (
    ANALYZE_AFTER,
    Reach,
    heard_from,
    import_numbers,
    listing,
    phone_number,
    reach,
)
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.storage.schema import deliveries, posts, subscribers
from standins.graph import GraphStandIn
from tests.conftest import run_cli, wait_for
from tests.engine_helpers import article, delivery_rows, make_settings, post

NUMBERS = ["+4915112345678", "+4917600000001", "+4917600000002"]


# Valid numbers of many countries, as their numbering plans have them.
real_numbers = (
    st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS))
    .map(
        lambda region: phonenumbers.example_number_for_type(
            region, phonenumbers.PhoneNumberType.MOBILE
        )
    )
    .filter(lambda number: number is not None)
    .map(lambda number: phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
)


@given(real_numbers, st.sampled_from([" ", "-", "", "/"]))
def test_a_number_written_with_separators_reads_as_itself(number: str, separator: str) -> None:
    written = number[:4] + separator + number[4:8] + separator + number[8:]
    assert phone_number(written) == number
    assert phone_number("00" + number[1:]) == number


@pytest.mark.parametrize(
    "text",
    ["", "0170 1234567", "+49", "+0123456789", "abc", "+49170x123", "+1 555 0100", "+" + "9" * 50],
)
def test_what_is_no_international_number_is_refused(text: str) -> None:
    assert phone_number(text) is None


def test_an_import_of_millions_of_bad_lines_names_the_first_hundred_and_counts_the_rest(
    tmp_path, database_url
) -> None:
    listed = tmp_path / "list.txt"
    listed.write_text("keine Nummer\n" * 200_000)
    done = run_cli(
        "--config", str(config(tmp_path, database_url)), "subscribers", "import", "wa", str(listed)
    )
    assert done.returncode == 1
    assert done.stderr.count("not a phone number") == 100
    assert "… and 199,900 more lines refused" in done.stderr
    assert "200000 lines refused" in done.stdout


def test_a_csv_field_longer_than_any_field_is_refused_as_its_line(tmp_path, database_url) -> None:
    listed = tmp_path / "list.csv"
    listed.write_text(f"name,phone\nAnna,+4915112345678\nBen,{'9' * 200_000}\n")
    done = run_cli(
        "--config", str(config(tmp_path, database_url)), "subscribers", "import", "wa", str(listed)
    )
    assert done.returncode == 1 and "1 subscribed" in done.stdout
    assert f"{listed}:3: not a phone number" in done.stderr


def config(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "publisher.toml"
    path.write_text(
        f'database_url = "{database_url}"\n'
        '[channels.wa]\ntype = "whatsapp"\nphone_number_id = "1"\ndry_run = true\n'
        '[channels.tg]\ntype = "telegram"\nchat_id = "@news"\ndry_run = true\n'
    )
    return path


def test_an_import_names_each_bad_line_and_takes_the_rest(tmp_path, database_url) -> None:
    listed = tmp_path / "list.csv"
    listed.write_text("name,Phone\nAnna,+49 151 12345678\nBen,0151\n\nCem,0049 176 00000001\n")
    done = run_cli(
        "--config", str(config(tmp_path, database_url)), "subscribers", "import", "wa", str(listed)
    )
    assert done.returncode == 1
    assert f"{listed}:3: not a phone number: '0151'" in done.stderr
    assert "2 subscribed" in done.stdout


def test_importing_again_changes_nothing(tmp_path, engine, database_url) -> None:
    import_numbers(engine, "wa", "\n".join(NUMBERS), "form")
    again = import_numbers(engine, "wa", "\n".join(NUMBERS), "event")
    assert (again.added, again.already) == (0, 3)
    assert {row["source"] for row in listing(engine, "wa")} == {"form"}


def test_a_big_import_leaves_the_database_knowing_the_tables_new_size(engine) -> None:
    # Unanalysed, PostgreSQL read the whole table for each batch of a fan-out's readers.
    numbers = [f"+49170{n:07d}" for n in range(ANALYZE_AFTER)]
    import_numbers(engine, "wa", "\n".join(numbers), "form")
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            analysed = connection.exec_driver_sql(
                "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables "
                "WHERE relname = 'subscribers' AND schemaname = current_schema()"
            ).scalar_one()
        else:
            analysed = connection.exec_driver_sql(
                "SELECT count(*) > 0 FROM sqlite_stat1 WHERE tbl = 'subscribers'"
            ).scalar_one()
    assert analysed


def test_an_import_never_subscribes_someone_who_unsubscribed(engine) -> None:
    import_numbers(engine, "wa", NUMBERS[0], "form")
    with engine.begin() as connection:
        connection.execute(update(subscribers).values(state="unsubscribed"))
    again = import_numbers(engine, "wa", "\n".join(NUMBERS[:2]), "form")
    assert (again.added, again.opted_out) == (1, 1)
    assert [row["state"] for row in listing(engine, "wa")] == ["unsubscribed", "subscribed"]


def test_subscribers_are_listed_as_json_and_removed(tmp_path, engine, database_url) -> None:
    import_numbers(engine, "wa", "\n".join(NUMBERS), "form")
    path = str(config(tmp_path, database_url))
    removed = run_cli("--config", path, "subscribers", "remove", "wa", "+49 176 00000001")
    listed = run_cli("--config", path, "subscribers", "list", "wa", "--json")
    assert removed.returncode == 0
    assert [row["phone"] for row in json.loads(listed.stdout)] == [NUMBERS[0], NUMBERS[2]]


def test_the_subscriber_table_masks_numbers_and_shows_local_times(
    tmp_path, engine, database_url
) -> None:
    import_numbers(engine, "wa", NUMBERS[0], "form")
    listed = run_cli("--config", str(config(tmp_path, database_url)), "subscribers", "list", "wa")
    assert NUMBERS[0] not in listed.stdout and "+4915••••••678" in listed.stdout
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d (CET|CEST)", listed.stdout), listed.stdout


def test_only_a_channel_with_subscribers_takes_them(tmp_path, database_url) -> None:
    listed = tmp_path / "list.txt"
    listed.write_text(NUMBERS[0])
    done = run_cli(
        "--config", str(config(tmp_path, database_url)), "subscribers", "import", "tg", str(listed)
    )
    assert done.returncode == 2 and "tg is a telegram channel: it has no subscribers" in done.stderr


def whatsapp(database_url: str, graph_api: GraphStandIn, **options: Any) -> Settings:
    """Settings with one WhatsApp channel `wa` sending through the stand-in."""
    return make_settings(
        database_url,
        wa={
            "type": "whatsapp",
            "api_base": graph_api.url,
            "phone_number_id": graph_api.phone_number_id,
            **options,
        },
    )


def queued_to_subscribers(
    engine: Engine, database_url: str, graph_api: GraphStandIn
) -> tuple[Settings, int]:
    """A post due now on `wa`, whose subscribers are NUMBERS: the settings and the post's id."""
    settings = whatsapp(database_url, graph_api)
    import_numbers(engine, "wa", "\n".join(NUMBERS), "form")
    (post_id,) = queue.add(
        engine, settings, article(), roster.chosen(settings, ["wa"]), When(), queued_by="test"
    )
    return settings, post_id


def test_a_post_reaches_every_subscriber_and_the_configured_recipients(
    engine: Engine, database_url, graph_api, credentials
) -> None:
    settings = whatsapp(database_url, graph_api, recipients=[NUMBERS[0]])
    import_numbers(engine, "wa", "\n".join(NUMBERS), "form")
    with engine.begin() as connection:
        connection.execute(
            update(subscribers)
            .where(subscribers.c.phone == NUMBERS[2])
            .values(state="unsubscribed")
        )
    (post_id,) = queue.add(
        engine, settings, article(), roster.chosen(settings, ["wa"]), When(), queued_by="test"
    )
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    dispatcher.close()
    assert sorted(c.json["to"] for c in graph_api.posts("/messages")) == NUMBERS[:2]
    assert {r.outcome for r in delivery_rows(engine, post_id)} == {"sent"}


def test_the_channel_list_counts_subscribers_by_state(tmp_path, engine, database_url) -> None:
    import_numbers(engine, "wa", "\n".join(NUMBERS), "form")
    with engine.begin() as connection:
        connection.execute(
            update(subscribers)
            .where(subscribers.c.phone == NUMBERS[2])
            .values(state="unsubscribed")
        )
    listed = run_cli("--config", str(config(tmp_path, database_url)), "channels")
    assert "2 (1 unsubscribed)" in listed.stdout


def test_someone_who_unsubscribes_during_a_fan_out_gets_nothing_more(
    engine: Engine, database_url, graph_api, credentials
) -> None:
    settings, _ = queued_to_subscribers(engine, database_url, graph_api)
    dispatcher = Dispatcher(engine, settings)
    (claimed,) = dispatcher.claims.claim()
    assert claimed.recipients == tuple(NUMBERS)
    with engine.begin() as connection:
        connection.execute(
            update(subscribers)
            .where(subscribers.c.phone == NUMBERS[1])
            .values(state="unsubscribed")
        )
    dispatcher.deliver(claimed)
    dispatcher.close()
    assert sorted(c.json["to"] for c in graph_api.posts("/messages")) == [NUMBERS[0], NUMBERS[2]]


def test_a_worker_asked_to_stop_ends_its_fan_out_and_the_next_reaches_the_rest_once(
    engine: Engine, database_url, graph_api, credentials
) -> None:
    many = [f"+49176{n:08d}" for n in range(40)]
    settings = whatsapp(database_url, graph_api, mps=20)
    import_numbers(engine, "wa", "\n".join(many), "form")
    (post_id,) = queue.add(
        engine, settings, article(), roster.chosen(settings, ["wa"]), When(), queued_by="test"
    )
    graph_api.latency = (0.05, 0.05)
    stopping = Dispatcher(engine, settings)

    def stop_once_sending() -> None:
        # Asked to stop once the first message is out (a fixed delay fell before it on a busy
        # machine): at 20 a second, most of the 40 are still owed then.
        wait_for(lambda: graph_api.taken)
        stopping.draining.set()

    threading.Thread(target=stop_once_sending, daemon=True).start()
    stopping.run_once()
    stopping.close()
    first = [c.json["to"] for c in graph_api.taken]
    row = post(engine, post_id)
    assert 0 < len(first) < len(many)
    assert (row.state, sorted(row.pending)) == ("queued", sorted(set(many) - set(first)))
    following = Dispatcher(engine, settings)
    following.run_once()
    following.close()
    reached = [c.json["to"] for c in graph_api.taken]
    assert sorted(reached) == sorted(many) and post(engine, post_id).state == "sent"


def test_readers_who_wrote_within_a_day_get_the_text_and_the_others_the_template(
    engine: Engine, database_url, graph_api, credentials
) -> None:
    settings = whatsapp(database_url, graph_api, template={"name": "news_teaser", "language": "de"})
    import_numbers(engine, "wa", "\n".join(NUMBERS[:2]), "form")
    with engine.begin() as connection:
        heard_from(connection, "wa", NUMBERS[0], utcnow() - timedelta(hours=2))
    graph_api.open_windows = {NUMBERS[0]}
    assert reach(engine, "wa") == Reach(free_form=1, template=1)
    queue.add(
        engine, settings, article(), roster.chosen(settings, ["wa"]), When(), queued_by="test"
    )
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    dispatcher.close()
    kinds = {c.json["to"]: c.json["type"] for c in graph_api.posts("/messages")}
    assert kinds == {NUMBERS[0]: "text", NUMBERS[1]: "template"}
    assert {r.outcome for r in delivery_rows(engine, 1)} == {"sent"}


def test_queueing_says_whom_a_whatsapp_post_reaches(tmp_path, engine, database_url) -> None:
    import_numbers(engine, "wa", "\n".join(NUMBERS), "form")
    path = str(config(tmp_path, database_url))
    source = tmp_path / "a.json"
    source.write_text('{"url": "https://e.de/a", "headline": "Eilmeldung", "bullets": []}')
    done = run_cli("--config", path, "queue", "add", str(source), "--channels", "wa")
    assert "wa reaches 3 people: 0 with the text, 3 with the approved template" in done.stdout


def test_a_fan_out_whose_worker_died_after_the_last_message_ends_sent(
    engine: Engine, database_url, graph_api, credentials
) -> None:
    settings, _ = queued_to_subscribers(engine, database_url, graph_api)
    dying = Dispatcher(engine, settings)
    (claimed,) = dying.claims.claim()
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            insert(deliveries),
            [
                {
                    "post_id": claimed.post_id, "channel": "wa", "attempt": 1, "worker": "w",
                    "started_at": now, "outcome": outcome, "recipient": number, "payload": {},
                }
                for number, outcome in zip(NUMBERS, ("sent", "pending", "sent"), strict=True)
            ],
        )  # fmt: skip
        connection.execute(update(posts).values(lease_until=now - timedelta(seconds=1)))
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    dispatcher.close()
    row = post(engine, claimed.post_id)
    assert row.state == "sent" and "1 recipients unclear" in row.error
    assert graph_api.posts("/messages") == []


def test_a_round_whose_lease_ran_out_sends_nothing_more_once_its_worker_claimed_the_post_again(
    engine: Engine, database_url, graph_api, credentials, monkeypatch
) -> None:
    # A worker slower than its lease expires its own post and claims it again while the first
    # round still runs: both rounds are the same worker's, yet only the newer one may send.
    settings, post_id = queued_to_subscribers(engine, database_url, graph_api)
    dispatcher = Dispatcher(engine, settings)
    (stale,) = dispatcher.claims.claim()
    dispatcher.claims.expire_leases(utcnow() + timedelta(hours=1))
    (fresh,) = dispatcher.claims.claim()
    # A message of the stale round hangs at the platform until the fresh round is done.
    answer, gating, first, go = (
        graph_api.respond,
        threading.Event(),
        threading.Event(),
        threading.Event(),
    )

    def respond(call):
        if "/messages" in call.path and gating.is_set():
            first.set()
            go.wait(10)
        return answer(call)

    monkeypatch.setattr(graph_api, "respond", respond)
    gating.set()
    outcomes: list = []
    late = threading.Thread(target=lambda: outcomes.append(dispatcher.deliver(stale)))
    late.start()
    wait_for(lambda: first.is_set() or not late.is_alive())
    gating.clear()
    dispatcher.deliver(fresh)
    go.set()
    late.join(10)
    dispatcher.close()
    assert Counter(c.json["to"] for c in graph_api.posts("/messages")) == Counter(NUMBERS)
    assert post(engine, post_id).state == "sent"
    # The stale round reports nothing: the post's outcome was the fresh round's to record.
    assert outcomes == [None]


def test_a_recipient_taken_while_another_worker_expires_the_lease_gets_the_post_once(
    engine: Engine, database_url, graph_api, credentials
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time: the race cannot happen")
    settings, _ = queued_to_subscribers(engine, database_url, graph_api)
    slow, other = Dispatcher(engine, settings), Dispatcher(engine, settings)
    (claimed,) = slow.claims.claim()
    taken: list = []

    def take_over() -> None:
        other.claims.expire_leases(utcnow() + timedelta(hours=1))
        taken.extend(other.claims.claim())

    # The other worker expires the lease and claims the post just as the slow worker writes
    # the delivery row of its next recipient.
    fired = threading.Event()

    def in_between(connection, cursor, statement, *args) -> None:
        if not fired.is_set() and statement.lstrip().upper().startswith("INSERT INTO DELIVERIES"):
            fired.set()
            other_worker = threading.Thread(target=take_over)
            other_worker.start()
            other_worker.join(5)

    event.listen(engine, "before_cursor_execute", in_between)
    try:
        slow.deliver(claimed)
    finally:
        event.remove(engine, "before_cursor_execute", in_between)
    for late in taken:
        other.deliver(late)
    slow.close()
    other.close()
    assert Counter(c.json["to"] for c in graph_api.posts("/messages")) == Counter(NUMBERS)

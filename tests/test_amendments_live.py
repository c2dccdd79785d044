"""`publisher run` with the webhook, one channel on each of the eight platforms pointed at its
stand-in: an article the CMS released goes out everywhere; once the CMS withdraws it, it is gone
from the seven platforms that allow it within a minute (each stand-in shows it), WhatsApp's
readers get a notice, and `publisher log` shows one removal per post; once the CMS corrects it,
the Telegram and Mastodon posts are edited and the X post gets the correction under it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from publisher.engine.storage.schema import posts
from publisher.engine.storage.store import open_engine
from standins import contracts
from standins.base import StandIn, free_port
from tests.conftest import run_cli, wait_for
from tests.test_release_live import publisher_run, release

ARTICLE = {"id": "cms-41", "url": "https://e.de/falsch", "headline": "Falsche Zahlen"}

pytestmark = pytest.mark.slow


@pytest.fixture
def platforms() -> Iterator[dict[str, tuple[Any, StandIn]]]:
    """Each platform's contract and its running stand-in (Facebook and WhatsApp share one)."""
    running: dict[type, StandIn] = {}
    chosen = {}
    for platform in contracts():
        stand_in = running.get(platform.stand_in) or platform.stand_in()
        running[platform.stand_in] = stand_in
        chosen[platform.type] = (platform, stand_in)
    yield chosen
    for stand_in in running.values():
        stand_in.close()


def config(platforms: dict[str, tuple[Any, StandIn]], port: int, database: Path) -> str:
    lines = [f'database_url = "sqlite:///{database}"', f"[serve]\nenabled = true\nport = {port}"]
    for name, (platform, stand_in) in platforms.items():
        options = {"type": name, "api_base": stand_in.url} | platform.options(stand_in)
        if name == "whatsapp":
            options["withdraw_notice"] = True
        lines.append(f"[channels.{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in options.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def worker(tmp_path: Path, platforms) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    (tmp_path / "publisher.toml").write_text(config(platforms, port, tmp_path / "p.db"))
    secrets = {k: v for platform, _ in platforms.values() for k, v in platform.env.items()}
    with publisher_run(tmp_path, port, secrets) as base:
        yield base, secrets


def sent_ids(database: Path) -> dict[str, str]:
    engine = open_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        rows = connection.execute(
            select(posts.c.channel, posts.c.remote_id).where(posts.c.state == "sent")
        ).all()
    engine.dispose()
    return {row.channel: row.remote_id for row in rows}


def recorded_removals(cwd: Path, secrets: dict[str, str], expected: int) -> list[dict] | None:
    """The removals `publisher log --json` shows, once all `expected` have their outcome."""
    shown = json.loads(run_cli("log", "--json", cwd=cwd, env=secrets).stdout)
    removals = [d for d in shown if d["action"] == "remove" and d["outcome"] != "pending"]
    return removals if len(removals) >= expected else None


def out_everywhere(base: str, database: Path) -> dict[str, str]:
    """Release the article and wait until it is out on all eight platforms."""
    assert release(base, ARTICLE).status_code == 202
    return wait_for(lambda: (ids := sent_ids(database)) and len(ids) == 8 and ids, 30)


def test_a_withdrawal_by_the_cms_takes_the_article_down_everywhere(
    worker, platforms, tmp_path
) -> None:
    base, secrets = worker
    out = out_everywhere(base, tmp_path / "p.db")
    removable = {name: out[name] for name in platforms if name != "whatsapp"}
    assert all(platforms[n][1].holds(remote_id) for n, remote_id in removable.items())
    answer = release(base, ARTICLE | {"withdrawn": True}).json()
    assert len(answer["withdrawn"]["taking_down"]) == 7 and len(answer["withdrawn"]["notices"]) == 1
    wait_for(lambda: not any(platforms[n][1].holds(i) for n, i in removable.items()), seconds=60)
    graph = platforms["whatsapp"][1]
    wait_for(lambda: len(graph.posts("/messages")) == 2)
    assert "zurückgezogen" in graph.posts("/messages")[1].json["text"]["body"]
    # The platform has removed a post a moment before the worker records its answer.
    removals = wait_for(lambda: recorded_removals(tmp_path, secrets, len(removable)))
    assert sorted(d["channel"] for d in removals) == sorted(removable)
    assert {d["outcome"] for d in removals} == {"removed"}


def test_a_correction_by_the_cms_edits_telegram_and_mastodon_and_replies_on_x(
    worker, platforms, tmp_path
) -> None:
    base, _ = worker
    out = out_everywhere(base, tmp_path / "p.db")
    note = "Die Zahl war 12, nicht 21."
    answer = release(base, ARTICLE | {"correction": note}).json()
    assert sorted(answer["corrected"]["edited"]) and answer["corrected"]["follow_ups"]
    telegram, mastodon, x = (platforms[n][1] for n in ("telegram", "mastodon", "x"))
    wait_for(lambda: telegram.contents[int(out["telegram"])]["text"].endswith(note))
    wait_for(lambda: note in mastodon.statuses[out["mastodon"]]["content"])
    reply = wait_for(lambda: [t for t in x.timeline if t.get("in_reply_to_tweet_id") == out["x"]])
    assert reply[0]["text"] == f"Korrektur: {note}"

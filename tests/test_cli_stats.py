"""`publisher stats` and `publisher stats collect` as a script or an editor calls them: a post
measured on request, listed per post, article and channel as JSON, CSV or a table, and bad
options refused with one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from publisher import roster
from publisher.channels import METRICS
from publisher.config import load_settings
from publisher.engine.delivery.dispatch import Dispatcher
from publisher.engine.planning.slots import When
from publisher.engine.posts import queue
from publisher.engine.storage.store import open_engine
from standins.mastodon import MASTODON_TOKEN, MastodonStandIn
from tests.conftest import run_cli
from tests.engine_helpers import article

TOKEN = {"MASTODON_ACCESS_TOKEN": MASTODON_TOKEN}


@pytest.fixture
def newsroom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A newsroom with one Mastodon channel whose one post went out and was liked 5 times."""
    api = MastodonStandIn()
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", MASTODON_TOKEN)
    (tmp_path / "publisher.toml").write_text(
        f'database_url = "sqlite:///{tmp_path / "p.db"}"\n'
        f'[channels.toots]\ntype = "mastodon"\ninstance = "{api.url}"\n'
    )
    settings = load_settings(tmp_path / "publisher.toml")
    engine = open_engine(settings.database_url)
    queue.add(
        engine, settings, article(), roster.chosen(settings, ["toots"]), When(), queued_by="test"
    )
    dispatcher = Dispatcher(engine, settings)
    dispatcher.run_once()
    dispatcher.close()
    (status,) = api.posted()
    api.react(status["id"], favourites_count=5, replies_count=2)
    engine.dispose()
    yield tmp_path
    api.close()


def test_collect_measures_a_post_never_measured(newsroom: Path) -> None:
    done = run_cli("stats", "collect", cwd=newsroom, env=TOKEN)
    assert (done.returncode, done.stdout) == (0, "toots: 1 measured\n")


def test_stats_as_json_lists_each_post_with_every_metric(newsroom: Path) -> None:
    run_cli("stats", "collect", cwd=newsroom, env=TOKEN)
    (item,) = json.loads(run_cli("stats", "--json", cwd=newsroom, env=TOKEN).stdout)
    assert set(item) == {
        "post", "article", "headline", "channel", "type", "sent_at", "permalink",
        "measured_at", "metrics",
    }  # fmt: skip
    assert set(item["metrics"]) == {*METRICS, "clicks"}
    assert (item["channel"], item["metrics"]["likes"], item["metrics"]["impressions"]) == (
        "toots",
        5,
        None,
    )


def test_stats_by_channel_gives_totals_and_medians(newsroom: Path) -> None:
    run_cli("stats", "collect", cwd=newsroom, env=TOKEN)
    out = run_cli("stats", "--by", "channel", "--json", cwd=newsroom, env=TOKEN).stdout
    (item,) = json.loads(out)
    assert (item["posts"], item["metrics"]["replies"], item["medians"]["likes"]) == (1, 2, 5)


def test_stats_by_article_as_csv_has_a_column_per_metric(newsroom: Path) -> None:
    run_cli("stats", "collect", cwd=newsroom, env=TOKEN)
    lines = run_cli("stats", "--by", "article", "--csv", cwd=newsroom, env=TOKEN).stdout
    header, row = lines.splitlines()
    assert set(METRICS) <= set(header.split(",")) and ",5," in f"{row},"


def test_a_post_never_measured_is_listed_with_null_numbers(newsroom: Path) -> None:
    (item,) = json.loads(run_cli("stats", "--json", cwd=newsroom, env=TOKEN).stdout)
    assert item["measured_at"] is None and set(item["metrics"].values()) == {None}


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--by", "reader"], "--by 'reader': choose post, article or channel"),
        (["--json", "--csv"], "choose --json or --csv, not both"),
        (["--channel", "fax"], "no channel 'fax' in the configuration"),
        (["--since", "gestern"], "--since 'gestern' is not an ISO 8601 time"),
    ],
)
def test_a_bad_option_is_one_line_and_a_failing_exit(newsroom: Path, args, said) -> None:
    done = run_cli("stats", *args, cwd=newsroom, env=TOKEN)
    assert done.returncode == 2 and done.stderr.strip() == f"publisher: {said}"

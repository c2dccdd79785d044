"""A channel's history: past results imported from a CSV (all or nothing, bad lines named by
number, imported again without doubles) and learned from with the posts sent here;
`publisher timing` shows the hours with the posts behind them."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from publisher.config import ChannelSettings, Settings
from publisher.engine.learning.history import HistoryError, import_history, learned, read_history
from publisher.engine.storage.schema import imported_results
from tests.conftest import run_cli

GOOD = (
    "channel,sent_at,clicks,likes,reposts\n"
    "fb,2026-10-05T20:10:00+02:00,120,30,4\n"
    "fb,2026-10-06T08:00:00+02:00,15,,\n"
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    channels = {"fb": ChannelSettings(type="facebook", dry_run=True, timezone="Europe/Berlin")}
    return Settings(database_url=database_url, channels=channels)


def imported(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(imported_results)).scalar_one()


def test_a_file_is_read_with_interactions_added_up(settings) -> None:
    first, second = read_history(io.StringIO(GOOD), settings)
    assert (first["clicks"], first["engagement"]) == (120, 34)
    assert (second["clicks"], second["engagement"]) == (15, None)


def test_bad_lines_are_named_by_number_and_nothing_is_read(settings) -> None:
    broken = (
        GOOD + "tiktok,2026-10-07T08:00:00+02:00,3,,\nfb,gestern,4,,\nfb,2026-10-07T09:00:00,4,,\n"
    )
    with pytest.raises(HistoryError) as refused:
        read_history(io.StringIO(broken), settings)
    message = str(refused.value)
    assert "line 4: no channel 'tiktok'" in message
    assert "line 5: 'gestern' is no time" in message and "line 6:" in message
    assert "line 2" not in message and "line 3" not in message


def test_a_file_without_a_number_column_is_refused(settings) -> None:
    with pytest.raises(HistoryError):
        read_history(io.StringIO("channel,sent_at\nfb,2026-10-05T20:10:00+02:00\n"), settings)


def test_importing_a_file_twice_keeps_each_post_once(engine, settings) -> None:
    rows = read_history(io.StringIO(GOOD), settings)
    import_history(engine, rows)
    import_history(engine, rows)
    assert imported(engine) == 2


def test_imported_posts_are_learned_from(engine, settings) -> None:
    import_history(engine, read_history(io.StringIO(GOOD), settings))
    found = learned(engine, settings, "fb")
    assert (found.posts, found.measure) == (2, "clicks")
    # Monday 20:00 in Berlin is hour 20 of the week.
    assert found.hours[20].posts == 1 and found.hours[20].typical > found.hours[32].typical


@pytest.mark.one_database
def test_the_command_line_imports_and_shows_the_hours(
    engine, tmp_path: Path, database_url: str
) -> None:
    config = (
        f'database_url = "{database_url}"\n'
        '[channels.fb]\ntype = "facebook"\ndry_run = true\ntimezone = "Europe/Berlin"\n'
    )
    (tmp_path / "publisher.toml").write_text(config)
    (tmp_path / "past.csv").write_text(GOOD)
    done = run_cli("stats", "import", "past.csv", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "2 past posts imported\n")
    shown = json.loads(run_cli("timing", "fb", "--json", cwd=tmp_path).stdout)
    assert (shown["posts"], shown["enough"], shown["measure"]) == (2, False, "clicks")
    monday_eight_pm = shown["hours"][20]
    assert (monday_eight_pm["day"], monday_eight_pm["hour"], monday_eight_pm["posts"]) == (
        "Monday",
        20,
        1,
    )


@pytest.mark.one_database
def test_an_import_with_a_bad_line_exits_1_and_keeps_nothing(
    engine, tmp_path: Path, database_url: str
) -> None:
    config = f'database_url = "{database_url}"\n[channels.fb]\ntype = "facebook"\ndry_run = true\n'
    (tmp_path / "publisher.toml").write_text(config)
    (tmp_path / "past.csv").write_text(GOOD + "fb,morgen,1,,\n")
    done = run_cli("stats", "import", "past.csv", cwd=tmp_path)
    assert done.returncode == 1 and "line 4" in done.stderr
    assert imported(engine) == 0


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("9999-12-31T23:30:00+00:00", "not between 2000 and tomorrow"),
        ("0001-01-01T00:00:00+14:00", "not between 2000 and tomorrow"),
        ("1999-12-31T23:59:00+00:00", "not between 2000 and tomorrow"),
    ],
)
def test_a_time_outside_the_years_a_newsroom_posted_is_named_by_its_line(
    settings, written, said
) -> None:
    with pytest.raises(HistoryError, match=re.escape(f"line 2: '{written}' is {said}")):
        read_history(io.StringIO(f"channel,sent_at,clicks\nfb,{written},5\n"), settings)


def test_a_count_of_twenty_digits_is_named_by_its_line(settings) -> None:
    with pytest.raises(HistoryError, match=r"line 2: clicks '9{20}' is no whole number"):
        read_history(
            io.StringIO(f"channel,sent_at,clicks\nfb,2026-10-05T20:10:00+02:00,{'9' * 20}\n"),
            settings,
        )


def test_a_far_future_row_stored_before_the_bound_is_not_learned_from(engine, settings) -> None:
    far = datetime(9999, 12, 31, 23, 30, tzinfo=UTC)
    import_history(engine, [{"channel": "fb", "sent_at": far, "clicks": 5, "engagement": None}])
    import_history(engine, read_history(io.StringIO(GOOD), settings))
    assert learned(engine, settings, "fb").posts == 2

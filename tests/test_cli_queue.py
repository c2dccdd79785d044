"""`publisher queue`, `log`, `run --once`, `channels` and `demo` as editors run them: a real
process on a real SQLite file; refusals are one line, exit 2, and leave the queue as it was."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from publisher.channels import platform_types
from tests.conftest import SAMPLE, run_cli

URL = "https://www.news.de/politik/857/assad/"


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    (tmp_path / "publisher.toml").write_text(
        'timezone = "Europe/Berlin"\n'
        '[channels.x_main]\ntype = "x"\ndry_run = true\nslots = ["07:00", "12:00", "17:00"]\n'
        '[channels.telegram]\ntype = "telegram"\ndry_run = true\napproval = true\n'
    )
    return tmp_path


def run(cwd: Path, *args: str, tz: str = "UTC") -> subprocess.CompletedProcess:
    return run_cli(*args, cwd=cwd, tz=tz)


def queue_json(cwd: Path, *extra: str) -> list[dict]:
    result = run(cwd, "queue", "list", "--json", *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def nothing_queued(cwd: Path) -> bool:
    """No post in the queue: no database yet (a refused command creates none), or an empty one."""
    return not (cwd / "publisher.db").exists() or queue_json(cwd) == []


def assert_refused(result: subprocess.CompletedProcess, needle: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_queue_add_lists_one_post_per_channel(desk: Path) -> None:
    result = run(desk, "queue", "add", str(SAMPLE), "--url", URL, "--json")
    assert result.returncode == 0, result.stderr
    added = json.loads(result.stdout)
    assert [(p["channel"], p["state"]) for p in added] == [
        ("x_main", "queued"),
        ("telegram", "awaiting_approval"),
    ]


def test_queue_list_json_has_the_documented_fields(desk: Path) -> None:
    run(desk, "queue", "add", str(SAMPLE), "--url", URL)
    (first, _) = queue_json(desk)
    for key in (
        "id",
        "article_id",
        "channel",
        "state",
        "due_at",
        "remote_id",
        "permalink",
        "error_class",
        "error",
    ):
        assert key in first


def test_duplicate_is_refused_and_the_queue_is_unchanged(desk: Path) -> None:
    run(desk, "queue", "add", str(SAMPLE), "--url", URL)
    before = queue_json(desk)
    assert_refused(run(desk, "queue", "add", str(SAMPLE), "--url", URL), "already queued")
    assert queue_json(desk) == before


def test_a_duplicate_refused_on_the_command_line_names_the_flag_that_queues_it_anyway(
    desk: Path,
) -> None:
    run(desk, "queue", "add", str(SAMPLE), "--url", URL)
    assert_refused(run(desk, "queue", "add", str(SAMPLE), "--url", URL), "use --force")


def test_time_in_the_past_is_refused(desk: Path) -> None:
    result = run(desk, "queue", "add", str(SAMPLE), "--url", URL, "--at", "2020-01-01T10:00")
    assert_refused(result, "is in the past")
    assert nothing_queued(desk)


def test_malformed_time_is_refused(desk: Path) -> None:
    assert_refused(
        run(desk, "queue", "add", str(SAMPLE), "--url", URL, "--at", "soon"), "is not a time"
    )


def test_unknown_channel_is_refused(desk: Path) -> None:
    result = run(desk, "queue", "add", str(SAMPLE), "--url", URL, "--channels", "myspace")
    assert_refused(result, "unknown channel 'myspace'")


def test_next_slot_does_not_depend_on_the_machines_time_zone(desk: Path, tmp_path: Path) -> None:
    due: list[str] = []
    for tz in ("UTC", "America/Los_Angeles", ""):
        folder = tmp_path / f"tz{len(due)}"
        folder.mkdir()
        (folder / "publisher.toml").write_text((desk / "publisher.toml").read_text())
        run(
            folder,
            "queue",
            "add",
            str(SAMPLE),
            "--url",
            URL,
            "--channels",
            "x_main",
            "--next-slot",
            tz=tz,
        )
        due.append(queue_json(folder)[0]["due_local"][11:16])
    assert len(set(due)) == 1 and due[0] in ("07:00", "12:00", "17:00")


def test_run_once_delivers_and_log_shows_it(desk: Path) -> None:
    run(desk, "queue", "add", str(SAMPLE), "--url", URL, "--channels", "x_main")
    result = run(desk, "run", "--once")
    assert result.returncode == 0, result.stderr
    (delivery,) = json.loads(run(desk, "log", "--json").stdout)
    assert (delivery["channel"], delivery["outcome"]) == ("x_main", "sent")
    assert nothing_queued(desk)
    assert [p["state"] for p in queue_json(desk, "--all")] == ["sent"]


def test_approve_then_run_delivers_the_held_post(desk: Path) -> None:
    run(desk, "queue", "add", str(SAMPLE), "--url", URL, "--channels", "telegram")
    post_id = str(queue_json(desk)[0]["id"])
    run(desk, "run", "--once")
    assert queue_json(desk)[0]["state"] == "awaiting_approval"
    version = json.loads(run(desk, "queue", "show", post_id, "--json").stdout)["version"]
    assert run(desk, "queue", "approve", post_id, "--version", version).returncode == 0
    run(desk, "run", "--once")
    assert queue_json(desk, "--all")[0]["state"] == "sent"


def test_edit_validates_against_the_channel(desk: Path) -> None:
    run(desk, "queue", "add", str(SAMPLE), "--url", URL, "--channels", "telegram")
    post_id = str(queue_json(desk)[0]["id"])
    assert_refused(
        run(desk, "queue", "edit", post_id, "<div>nope</div>"), "does not support the <div> tag"
    )
    assert run(desk, "queue", "edit", post_id, "<b>Neu</b>", "--without-link").returncode == 0
    assert queue_json(desk)[0]["text"] == "<b>Neu</b>"


def test_an_edit_that_drops_the_link_is_refused_until_confirmed(desk: Path) -> None:
    run(desk, "queue", "add", str(SAMPLE), "--url", URL, "--channels", "x_main")
    post_id = str(queue_json(desk)[0]["id"])
    assert_refused(run(desk, "queue", "edit", post_id, "Nur Text"), "add --without-link")
    assert queue_json(desk)[0]["text"] != "Nur Text"


def test_paused_channel_shows_its_posts_as_held(desk: Path) -> None:
    run(desk, "queue", "add", str(SAMPLE), "--url", URL, "--channels", "x_main")
    assert run(desk, "channels", "pause", "x_main").returncode == 0
    run(desk, "run", "--once")
    (held,) = queue_json(desk)
    assert (held["state"], held["held"]) == ("queued", True)


def test_locked_database_is_one_line_and_exit_2(desk: Path) -> None:
    run(desk, "queue", "list")
    holder = sqlite3.connect(desk / "publisher.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert_refused(run(desk, "queue", "cancel", "1"), "database is locked")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_database_in_a_missing_folder_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "publisher.toml").write_text('database_url = "sqlite:////nonexistent/dir/p.db"\n')
    assert_refused(run(tmp_path, "queue", "list"), "does not exist")


def test_demo_delivers_the_sample_on_every_platform_and_shows_what_it_achieved(
    tmp_path: Path,
) -> None:
    result = run(tmp_path, "demo")
    assert result.returncode == 0, result.stderr
    for kind in platform_types():
        assert f"demo_{kind}" in result.stdout
    assert result.stdout.count(" sent ") == len(platform_types())
    assert "what each post achieved" in result.stdout


def test_tables_in_a_pipe_keep_every_column_whole(tmp_path: Path) -> None:
    # Standard output here is no terminal; 80 columns is what rich assumes for one.
    result = run_cli("demo", cwd=tmp_path, env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if "impressions" in line)
    assert header.rstrip().endswith("┃ platform clicks ┃ clicks ┃")
    assert "│ demo_linkedin │" in result.stdout


def test_withdraw_takes_the_posts_out_down_and_log_shows_the_removal(desk: Path) -> None:
    run(desk, "queue", "add", str(SAMPLE), "--url", URL, "--channels", "x_main")
    run(desk, "run", "--once")
    said = run(desk, "articles", "withdraw", URL, "--reason", "falsch")
    assert said.returncode == 0 and "being taken down" in said.stdout, said.stderr
    run(desk, "run", "--once")
    assert [p["state"] for p in queue_json(desk, "--all")] == ["taken_down"]
    removal = json.loads(run(desk, "log", "--json").stdout)[0]
    assert (removal["action"], removal["outcome"]) == ("remove", "removed")


def test_withdraw_with_keep_sent_leaves_the_posts_out_standing(desk: Path) -> None:
    run(desk, "queue", "add", str(SAMPLE), "--url", URL, "--channels", "x_main")
    run(desk, "run", "--once")
    done = json.loads(run(desk, "articles", "withdraw", URL, "--keep-sent", "--json").stdout)
    assert (done["taking_down"], len(done["kept"])) == ([], 1)


def out_on_telegram(desk: Path) -> str:
    """The sample article approved and sent on Telegram; its post's number."""
    run(desk, "queue", "add", str(SAMPLE), "--url", URL, "--channels", "telegram", "--now")
    post_id = str(queue_json(desk)[0]["id"])
    version = json.loads(run(desk, "queue", "show", post_id, "--json").stdout)["version"]
    run(desk, "queue", "approve", post_id, "--version", version)
    run(desk, "run", "--once")
    return post_id


def test_correct_edits_the_telegram_post_and_log_shows_the_edit(desk: Path) -> None:
    post_id = out_on_telegram(desk)
    done = run(desk, "articles", "correct", URL, "--note", "Die Zahl war 12.", "--json")
    assert json.loads(done.stdout)["edited"] == [int(post_id)], done.stderr
    run(desk, "run", "--once")
    (post,) = queue_json(desk, "--all")
    assert post["text"].endswith("Korrektur: Die Zahl war 12.")
    edit = json.loads(run(desk, "log", "--json").stdout)[0]
    assert (edit["action"], edit["outcome"]) == ("edit", "edited")


def test_a_correction_without_a_note_is_refused(desk: Path) -> None:
    run(desk, "queue", "add", str(SAMPLE), "--url", URL, "--channels", "x_main")
    assert_refused(run(desk, "articles", "correct", URL, "--note", "  "), "what was wrong")


def test_queue_show_gives_a_corrections_text_before_and_after(desk: Path) -> None:
    post_id = out_on_telegram(desk)
    before = json.loads(run(desk, "queue", "show", post_id, "--json").stdout)["text"]
    run(desk, "articles", "correct", URL, "--note", "Es war Dienstag.")
    (edit,) = json.loads(run(desk, "queue", "show", post_id, "--json").stdout)["edits"]
    assert (edit["former"], edit["state"]) == (before, "due")
    assert edit["text"] == f"{before}\n\nKorrektur: Es war Dienstag."

"""The command line as an editor meets it: refusals of names and ports in one line with the
names there are, times in one zone with its name, help without placeholders for flags, global
options anywhere, and read-only commands that create no database."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from standins.base import free_port
from tests.conftest import ROOT, SAMPLE, coming, run_cli, wait_for

URL = "https://www.news.de/politik/857/assad/"


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    (tmp_path / "publisher.toml").write_text(
        'timezone = "Europe/Berlin"\n'
        '[channels.x_main]\ntype = "x"\ndry_run = true\n'
        '[channels.telegram]\ntype = "telegram"\ndry_run = true\ntimezone = "America/New_York"\n'
    )
    return tmp_path


def one_line_refusal(result: subprocess.CompletedProcess, needle: str) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_a_port_out_of_range_is_one_line(desk: Path) -> None:
    one_line_refusal(run_cli("serve", "--port", "99999", cwd=desk), "99999 is not a port")


@pytest.mark.parametrize(
    ("command", "named"),
    [
        (("serve", "--port"), "--port, or [serve] port"),
        (("run", "--metrics-port"), "--metrics-port, or [engine] metrics_port"),
    ],
)
def test_a_taken_port_is_one_line_naming_its_setting(
    desk: Path, command: tuple[str, str], named: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(*command, str(port), cwd=desk)
    assert one_line_refusal(result, "is in use").startswith(
        f"publisher: port {port} is in use ({named}"
    )


def test_a_worker_serving_on_a_taken_port_is_one_line_and_exit_2(desk: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = desk / "publisher.toml"
        config.write_text(config.read_text() + f"[serve]\nenabled = true\nport = {port}\n")
        result = run_cli("run", cwd=desk)
    assert one_line_refusal(result, "is in use") == (
        f"publisher: port {port} is in use ([serve] port)"
    )


def serve_start(desk: Path, *options: str) -> tuple[int, list[str]]:
    """`publisher [OPTIONS] serve` on a free port: the port, and what it writes on stderr up to
    where it serves (its warnings first: no session secret, no webhook secret)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "publisher", *options, "serve", "--port", str(port)],
        cwd=desk,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)},
    )
    try:
        lines: list[str] = []
        while len(lines) < 3 and not any("serving on" in line for line in lines):
            lines.append(server.stderr.readline().strip())
    finally:
        server.terminate()
        server.wait(10)
    return port, lines


def test_serve_says_where_it_listens(desk: Path) -> None:
    port, lines = serve_start(desk)
    assert f"publisher: serving on http://127.0.0.1:{port} (Ctrl-C stops)" in lines


def test_in_json_logs_a_refusal_at_start_is_a_json_line(desk: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("--log-format", "json", "serve", "--port", str(port), cwd=desk)
    (line,) = result.stderr.strip().splitlines()
    assert result.returncode == 2
    assert f"port {port} is in use" in json.loads(line)["message"]


def test_in_json_logs_where_the_server_serves_is_a_json_line(desk: Path) -> None:
    port, lines = serve_start(desk, "--log-format", "json")
    records = [json.loads(line) for line in lines]
    assert f"serving on http://127.0.0.1:{port}" in records[-1]["message"]


def test_a_second_worker_on_one_sqlite_database_is_refused_in_one_line(desk: Path) -> None:
    first = subprocess.Popen(
        [sys.executable, "-m", "publisher", "run"],
        cwd=desk,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)},
    )
    try:
        wait_for(lambda: (desk / "publisher.db.wake").exists())
        # In a process of its own: a second worker that is not refused runs until stopped.
        second = run_cli("run", cwd=desk, process=True)
    finally:
        first.terminate()
        first.wait(10)
    assert "SQLite takes one worker" in one_line_refusal(second, "another publisher run")


def test_the_demo_keeps_to_its_own_database(desk: Path) -> None:
    run_cli("queue", "add", str(SAMPLE), "--channels", "x_main", cwd=desk)
    assert run_cli("demo", cwd=desk).returncode == 0
    posts = json.loads(run_cli("queue", "list", "--all", "--json", cwd=desk).stdout)
    assert [p["channel"] for p in posts] == ["x_main"]
    assert (desk / "publisher-demo.db").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("log", "--channel", "x_mian"), "unknown channel 'x_mian' (known: log, telegram, x_main)"),
        (("log", "--outcome", "ok"), "unknown outcome 'ok' (known: sent, failed,"),
        (("queue", "list", "--channel", "x_mian"), "unknown channel 'x_mian'"),
    ],
)
def test_unknown_names_in_filters_are_refused_with_the_known_ones(
    desk: Path, args: tuple[str, ...], needle: str
) -> None:
    run_cli("queue", "add", str(SAMPLE), "--channels", "x_main", cwd=desk)
    one_line_refusal(run_cli(*args, cwd=desk), needle)


def test_tables_show_times_in_the_newsrooms_zone_with_its_name(desk: Path) -> None:
    run_cli("queue", "add", str(SAMPLE), "--at", f"{coming(1, 15)}T09:30", cwd=desk)
    table = run_cli("queue", "list", cwd=desk, tz="Asia/Tokyo").stdout
    assert table.count(f"{coming(1, 15)} 09:30 CET") == 2
    run_cli("run", "--once", cwd=desk)
    run_cli("queue", "add", str(SAMPLE), "--channels", "x_main", "--force", cwd=desk)
    run_cli("run", "--once", cwd=desk)
    log = run_cli("log", cwd=desk, tz="Asia/Tokyo").stdout
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d CE[S]?T", log), log


def test_a_time_given_without_offset_is_read_in_the_newsrooms_zone(desk: Path) -> None:
    at = f"{coming(1, 15)}T09:30"
    added = run_cli("queue", "add", str(SAMPLE), "--at", at, "--json", cwd=desk)
    assert {p["due_at"] for p in json.loads(added.stdout)} == {f"{coming(1, 15)}T08:30:00+00:00"}


def test_help_shows_no_placeholders_for_flags() -> None:
    result = run_cli("queue", "add", "--help")
    assert result.returncode == 0 and "--next-slot" in result.stdout
    assert "<bool>" not in result.stdout


def test_global_options_work_after_the_command(desk: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_cli("compose", str(SAMPLE), "--json", "--config", str(desk / "publisher.toml"),
                     "--channels", "x_main", cwd=elsewhere)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert list(json.loads(result.stdout)["teasers"]) == ["x_main"]


def test_version_is_printed() -> None:
    result = run_cli("--version")
    assert result.returncode == 0 and re.fullmatch(r"publisher \d+\.\d+\.\d+\n", result.stdout)


def test_edit_without_text_says_what_is_missing(desk: Path) -> None:
    one_line_refusal(run_cli("queue", "edit", "1", cwd=desk), "give the new text, or --file")


def test_one_post_is_a_post(desk: Path) -> None:
    result = run_cli("queue", "add", str(SAMPLE), "--channels", "x_main", cwd=desk)
    assert "queued 1 post" in result.stdout and "1 posts" not in result.stdout


def test_long_headlines_are_cut_at_a_word_with_an_ellipsis(desk: Path) -> None:
    run_cli("queue", "add", str(SAMPLE), "--channels", "x_main", cwd=desk)
    table = run_cli("queue", "list", cwd=desk).stdout
    assert "Baschar al-Assad im Stich gelassen: Insider packt aus…" in table


@pytest.mark.parametrize("args", [("log",), ("queue", "list")])
def test_read_only_commands_create_no_database(tmp_path: Path, args: tuple[str, ...]) -> None:
    line = one_line_refusal(run_cli(*args, cwd=tmp_path), "there is no database at")
    assert "nothing has been queued here yet" in line
    assert not (tmp_path / "publisher.db").exists()


def test_a_permalink_that_is_no_web_address_is_refused(desk: Path) -> None:
    one_line_refusal(
        run_cli("queue", "mark-sent", "1", "--permalink", "javascript:alert(1)", cwd=desk),
        "must be an http(s) address",
    )


def test_posts_of_a_channel_gone_from_the_configuration_are_named(desk: Path) -> None:
    run_cli("queue", "add", str(SAMPLE), "--channels", "telegram", cwd=desk)
    (desk / "publisher.toml").write_text('[channels.x_main]\ntype = "x"\ndry_run = true\n')
    table = run_cli("queue", "list", cwd=desk).stdout
    assert "channel telegram is not in the configuration" in table
    ran = run_cli("run", "--once", cwd=desk)
    assert "wait on channel telegram, which is not in the configuration" in ran.stderr


def test_channels_on_a_new_install_lists_the_configured_channels(tmp_path: Path) -> None:
    (tmp_path / "publisher.toml").write_text(
        '[channels.x_main]\ntype = "x"\ndry_run = true\n'
        '[channels.telegram]\ntype = "telegram"\nchat_id = "@news"\ndry_run = true\n'
    )
    listed = run_cli("channels", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "x_main" in listed.stdout and "telegram" in listed.stdout
    assert not (tmp_path / "publisher.db").exists()


def test_adding_a_user_without_a_terminal_says_how_to_give_the_password(tmp_path: Path) -> None:
    added = run_cli("users", "add", "mia", cwd=tmp_path)
    assert added.returncode == 2
    assert "--password-stdin" in added.stderr and "Aborted" not in added.stderr + added.stdout


@pytest.mark.parametrize("command", [("compose",), ("demo",), ("queue", "reconcile")])
def test_help_names_no_count_of_platforms_long_outgrown(command: tuple[str, ...]) -> None:
    shown = run_cli(*command, "--help").stdout
    assert "four" not in shown and "(X, Facebook)" not in shown

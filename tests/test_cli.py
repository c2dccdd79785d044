"""The `publisher` command as editors and scripts run it: a real process, real files, real HTTP."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from publisher.channels import channel_class, platform_types
from publisher.cli import long_running
from tests.conftest import CORPUS, SAMPLE, LocalServer, run_cli

URL = "https://www.news.de/politik/857/assad/?ref=home#kommentare"


def run(
    *args: str, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess:
    return run_cli(*args, cwd=cwd, stdin=stdin)


def assert_one_line_error(result: subprocess.CompletedProcess, needle: str) -> None:
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0]
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def sample_json() -> dict:
    result = run("compose", str(SAMPLE), "--url", URL, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compose_json_has_the_article_and_a_teaser_per_platform(sample_json: dict) -> None:
    assert set(sample_json) == {"article", "teasers"}
    assert list(sample_json["teasers"]) == platform_types()
    assert platform_types()[:4] == ["x", "facebook", "whatsapp", "telegram"]


@pytest.mark.parametrize("kind", ["bluesky", "mastodon", "threads", "linkedin"])
def test_compose_json_counts_each_new_network_as_the_network_does(
    sample_json: dict, kind: str
) -> None:
    teaser = sample_json["teasers"][kind]
    counted = channel_class(kind)("check").measure(teaser["text"])
    assert teaser["length"] == counted <= teaser["limit"]
    assert "utm_source=" + kind in teaser["link"]


def test_compose_json_teasers_hold_text_and_tracked_link(sample_json: dict) -> None:
    x = sample_json["teasers"]["x"]
    assert x["link"] == (
        "https://www.news.de/politik/857/assad/?ref=home"
        "&utm_source=x&utm_medium=social&utm_campaign=publisher#kommentare"
    )
    assert x["text"].endswith(x["link"])
    assert x["length"] <= 280


def test_compose_json_article_is_the_normalised_article(sample_json: dict) -> None:
    article = sample_json["article"]
    assert (article["kicker"], article["url"], len(article["bullets"])) == ("Politik", URL, 3)


def test_compose_preview_shows_each_channel_and_its_length() -> None:
    result = run("compose", str(SAMPLE), "--url", URL)
    assert result.returncode == 0
    for channel in ("x", "facebook", "whatsapp", "telegram"):
        assert channel in result.stdout
    assert "/280 weighted characters" in result.stdout


def test_compose_channels_option_selects_channels() -> None:
    result = run("compose", str(SAMPLE), "--url", URL, "--json", "--channels", "telegram,log")
    assert list(json.loads(result.stdout)["teasers"]) == ["telegram", "log"]


def test_compose_uses_configured_channel_names(tmp_path: Path) -> None:
    (tmp_path / "publisher.toml").write_text(
        '[channels.x_sport]\ntype = "x"\ntracking = { utm_campaign = "sport" }\n'
    )
    result = run(
        "compose", str(SAMPLE), "--url", URL, "--json", "--channels", "x_sport", cwd=tmp_path
    )
    teaser = json.loads(result.stdout)["teasers"]["x_sport"]
    assert "utm_campaign=sport" in teaser["link"]


def test_compose_reads_article_json_from_stdin() -> None:
    body = json.dumps({"url": "https://e.de/a", "headline": "Von stdin", "language": "en"})
    result = run("compose", "-", "--json", stdin=body)
    assert json.loads(result.stdout)["teasers"]["whatsapp"]["text"].startswith("*Von stdin*")


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not beside the repo")
def test_compose_reads_an_html_page_file() -> None:
    result = run("compose", str(CORPUS / "heise.de.lithium.html"), "--json")
    assert json.loads(result.stdout)["article"]["headline"] == "Lithium aus dem Schredder"


def test_compose_fetches_a_url_when_private_networks_are_allowed(
    server: LocalServer, tmp_path: Path
) -> None:
    page = '<html><head><meta property="og:title" content="Vom Server"></head></html>'
    url = server.serve("/artikel", page.encode())
    (tmp_path / "publisher.toml").write_text("[fetch]\nallow_private_networks = true\n")
    result = run("compose", url, "--json", cwd=tmp_path)
    article = json.loads(result.stdout)["article"]
    assert (article["headline"], article["url"]) == ("Vom Server", url)


def test_compose_refuses_a_loopback_url_by_default(server: LocalServer, tmp_path: Path) -> None:
    url = server.serve("/artikel", b"<html></html>")
    assert_one_line_error(run("compose", url, cwd=tmp_path), "private or local address")


def test_missing_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    assert_one_line_error(run("compose", str(tmp_path / "nope.json")), "no such file")


def test_invalid_json_says_where(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('{"url": "https://e.de",\n "headline": }')
    assert_one_line_error(run("compose", str(path)), "invalid JSON at line 2, column 14")


def test_json_without_headline_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('{"url": "https://e.de"}')
    assert_one_line_error(run("compose", str(path)), "headline: is required")


def test_text_without_url_asks_for_url(sample_without_url) -> None:
    assert_one_line_error(run("compose", str(sample_without_url)), "pass --url")


def test_non_http_url_is_refused() -> None:
    assert_one_line_error(
        run("compose", str(SAMPLE), "--url", "javascript:alert(1)"), "not an http"
    )


def test_non_http_source_is_refused() -> None:
    assert_one_line_error(run("compose", "ftp://e.de/a.json"), "not an http")


def test_page_without_article_metadata_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.html"
    path.write_text("<!doctype html><html><body><p>Hallo</p></body></html>")
    assert_one_line_error(run("compose", str(path), "--url", URL), "no article metadata")


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert_one_line_error(run("compose", str(path)), "not a text file")


def test_unknown_channel_is_refused() -> None:
    assert_one_line_error(
        run("compose", str(SAMPLE), "--url", URL, "--channels", "myspace"), "unknown channel"
    )


def test_broken_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "publisher.toml").write_text("timezone = \n")
    assert_one_line_error(run("compose", str(SAMPLE), "--url", URL, cwd=tmp_path), "publisher.toml")


def test_unknown_option_is_a_usage_error() -> None:
    result = run("compose", str(SAMPLE), "--bogus")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_bot_without_its_token_is_one_line_and_exit_2(tmp_path: Path) -> None:
    assert_one_line_error(run("bot", cwd=tmp_path), "TELEGRAM_BOT_TOKEN is not set")


def test_widget_of_a_missing_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    assert_one_line_error(run("widget", str(tmp_path / "nope.txt")), "no such file")


def test_a_long_running_command_hands_the_interpreter_over_within_a_millisecond() -> None:
    # Five milliseconds per hand-over let four editors' pages hold up the webhook (#24).
    before = sys.getswitchinterval()
    try:
        long_running()
        assert sys.getswitchinterval() <= 0.001
    finally:
        sys.setswitchinterval(before)
        gc.unfreeze()


def test_every_command_is_found_in_the_module_that_defines_it() -> None:
    from publisher.cli import COMMAND_MODULES, app, register

    register()
    found = {c.name: c.callback.__module__ for c in app.registered_commands if c.callback}
    found |= {
        g.name: g.typer_instance.registered_commands[0].callback.__module__
        for g in app.registered_groups
        if g.typer_instance and g.typer_instance.registered_commands[0].callback
    }
    assert {n: m.removeprefix("publisher.cli.") for n, m in found.items()} == COMMAND_MODULES

"""The configuration file: lookup order, defaults, validation, and the shipped example."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from publisher.channels import channel_class, channel_types
from publisher.config import (
    BotSettings,
    ChannelSettings,
    ConfigError,
    DeskSettings,
    FeedSettings,
    Match,
    Profile,
    Rule,
    ServeSettings,
    Settings,
    Template,
    Tracking,
    WidgetSettings,
    load_settings,
)
from tests.conftest import ROOT

EXAMPLE = ROOT / "config" / "publisher.example.toml"


def test_defaults_use_sqlite_and_only_the_log_channel(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PUBLISHER_CONFIG", raising=False)
    settings = load_settings()
    assert (settings.database_url, list(settings.channels)) == ("sqlite:///publisher.db", ["log"])


def test_publisher_toml_in_the_working_directory_is_read(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PUBLISHER_CONFIG", raising=False)
    (tmp_path / "publisher.toml").write_text('language = "en"\n')
    assert load_settings().language == "en"


def test_environment_variable_wins_over_the_working_directory(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "publisher.toml").write_text('language = "en"\n')
    (tmp_path / "other.toml").write_text('language = "fr"\n')
    monkeypatch.setenv("PUBLISHER_CONFIG", str(tmp_path / "other.toml"))
    assert load_settings().language == "fr"


def test_explicit_path_wins_over_the_environment(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "a.toml").write_text('language = "it"\n')
    monkeypatch.setenv("PUBLISHER_CONFIG", str(tmp_path / "missing.toml"))
    assert load_settings(tmp_path / "a.toml").language == "it"


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_toml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('language = "de"\ntimezone = \n')
    with pytest.raises(ConfigError, match=r"bad.toml: .*line 2"):
        load_settings(path)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('langauge = "de"', "langauge: unknown key"),
        ('timezone = "Mars/Base"', "unknown time zone"),
        ('[channels.a]\ntype = "myspace"', "unknown channel type 'myspace'"),
        ('[templates.de]\nkicker = "{ressort}"', 'must contain "{kicker}"'),
    ],
)
def test_invalid_settings_name_the_key(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml + "\n")
    with pytest.raises(ConfigError, match=message):
        load_settings(path)


def test_partial_template_keeps_the_built_in_labels(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[templates.de]\nbullet = "▸"\n')
    template = load_settings(path).template("de")
    assert (template.bullet, template.read_more) == ("▸", "Weiterlesen")


def test_template_falls_back_to_the_configured_language() -> None:
    assert Settings(language="de").template("sv").read_more == "Weiterlesen"


def test_shipped_example_loads() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.channels["x_main"].type == "x"
    assert settings.channels["facebook"].model_extra["page_id"] == "1234567890"
    assert settings.channels["x_main"].slots[0].isoformat() == "07:00:00"


def test_shipped_example_documents_every_key() -> None:
    data = tomllib.loads(EXAMPLE.read_text())
    top_level = set(Settings.model_fields) - {"source", "learned"}
    assert top_level <= set(data)
    # A key without a default value (metrics_port, redirect_base) is shown commented out.
    commented = set(re.findall(r"#\s*([a-z][a-z0-9_]*)\s*=", EXAMPLE.read_text()))
    assert set(Tracking.model_fields) <= set(data["tracking"]) | commented
    assert set(Settings.model_fields["fetch"].annotation.model_fields) <= set(data["fetch"])
    engine_keys = set(Settings.model_fields["engine"].annotation.model_fields)
    assert engine_keys <= set(data["engine"]) | commented
    assert set(ChannelSettings.model_fields) - documented_channel_keys() == set()
    assert set(data["templates"]["de"]) == set(Template.model_fields)


@pytest.mark.parametrize("kind", sorted(channel_types()))
def test_shipped_example_documents_every_platform_key(kind: str) -> None:
    assert set(channel_class(kind).Options.model_fields) - documented_channel_keys() == set()


def documented_channel_keys() -> set[str]:
    """Keys the example gives a channel, or documents in a comment as a key: in the list of keys
    every channel takes ("#   api_base   another address"), as a commented-out setting
    ("# key = value"), or by a name with an underscore ("api_key_env, api_secret_env")."""
    text = EXAMPLE.read_text()
    data = tomllib.loads(text)
    given = {key for channel in data["channels"].values() for key in channel}
    listed = set(re.findall(r"(?m)^\s*#\s+([a-z][a-z0-9_]*)\s{2,}\S", text))
    commented = set(re.findall(r"#\s*([a-z][a-z0-9_]*)\s*=", text))
    comments = " ".join(line.split("#", 1)[1] for line in text.splitlines() if "#" in line)
    underscored = set(re.findall(r"(?<![\w.])([a-z][a-z0-9]*_[a-z0-9_]+)(?![\w.])", comments))
    return given | listed | commented | underscored


def test_platform_key_of_the_wrong_type_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "publisher.toml"
    config.write_text('[channels.tg]\ntype = "telegram"\nchat_id = "@a"\nlink_preview = "ja"\n')
    with pytest.raises(ConfigError, match="link_preview"):
        load_settings(config)


def test_missing_platform_key_is_named(tmp_path: Path) -> None:
    config = tmp_path / "publisher.toml"
    config.write_text('[channels.wa]\ntype = "whatsapp"\nrecipients = ["+4917012345678"]\n')
    with pytest.raises(ConfigError, match="phone_number_id: required for whatsapp channels"):
        load_settings(config)


def test_example_holds_no_secret_values() -> None:
    text = EXAMPLE.read_text().lower()
    assert "token =" not in text and "secret =" not in text


def test_shipped_example_documents_feeds_rules_and_serve() -> None:
    documented = EXAMPLE.read_text()
    keys = (
        set(Rule.model_fields)
        | set(Match.model_fields)
        | set(FeedSettings.model_fields)
        | set(ServeSettings.model_fields)
        | set(BotSettings.model_fields)
        | set(WidgetSettings.model_fields)
        | set(Profile.model_fields)
        | set(DeskSettings.model_fields)
    )
    assert {key for key in keys if key not in documented} == set()


def test_rule_naming_an_unknown_channel_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "publisher.toml"
    config.write_text('[[rules]]\nname = "eil"\nchannels = ["tiktok"]\n')
    with pytest.raises(ConfigError, match="rules\\[0\\] \\(eil\\): unknown channel 'tiktok'"):
        load_settings(config)


def test_rule_planning_next_slot_on_a_channel_without_slots_is_a_config_error(
    tmp_path: Path,
) -> None:
    config = tmp_path / "publisher.toml"
    config.write_text(
        '[channels.facebook]\ntype = "facebook"\ndry_run = true\n'
        '[[rules]]\nname = "politics"\nchannels = ["facebook"]\ntiming = "next_slot"\n'
    )
    with pytest.raises(
        ConfigError, match=r"rules\[0\] \(politics\): channel 'facebook' has no slots"
    ):
        load_settings(config)


def test_every_rule_of_the_shipped_example_can_release_an_article(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from publisher.articles import Article
    from publisher.engine.releases.release import release
    from publisher.engine.storage.store import open_engine

    settings = load_settings(EXAMPLE).model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'p.db'}"}
    )
    engine = open_engine(settings.database_url)
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    extras: list[dict[str, Any]] = [
        {"breaking": True},
        {"kicker": "Politik", "language": "de"},
        {"kicker": "Sport"},
    ]
    for number, extra in enumerate(extras):
        article = Article(url=f"https://e.de/{number}", headline="Kopf", **extra)
        assert release(engine, settings, article, "webhook", now=now).queued
    engine.dispose()


def test_the_example_leaves_metrics_off_as_the_defaults_do() -> None:
    # Two workers on one host started from the example would fight over one metrics port.
    assert load_settings(EXAMPLE).engine.metrics_port is None


def test_the_examples_everything_else_rule_takes_only_what_the_rules_above_did_not_stop() -> None:
    from publisher.articles import Article
    from publisher.engine.releases.rules import route

    settings = load_settings(EXAMPLE)

    def rules_for(**extra: Any) -> set[str]:
        article = Article(url="https://e.de/a", headline="Kopf", **extra)
        return {r.rule for r in route(article, "webhook", settings)}

    assert "everything else, a little later" not in rules_for(kicker="Politik", language="de")
    assert "everything else, a little later" in rules_for(kicker="Sport")


def test_a_resurface_rule_matches_as_release_rules_do(tmp_path: Path) -> None:
    config = tmp_path / "publisher.toml"
    config.write_text(
        '[channels.fb]\ntype = "log"\n[[resurface]]\nname = "evergreen"\nchannels = ["fb"]\n'
        'match = { sections = ["Ratgeber"], languages = ["de"] }\n'
    )
    (rule,) = load_settings(config).resurface
    assert rule.match.sections == ("Ratgeber",) and rule.match.languages == ("de",)


def test_the_older_resurface_spelling_still_works_and_says_how_it_is_written_now(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "publisher.toml"
    config.write_text(
        '[channels.fb]\ntype = "log"\n[[resurface]]\nname = "evergreen"\nchannels = ["fb"]\n'
        'sections = ["Ratgeber"]\n'
    )
    (rule,) = load_settings(config).resurface
    assert rule.match.sections == ("Ratgeber",)
    (line,) = [r.getMessage() for r in caplog.records if "resurface" in r.getMessage()]
    assert 'write match = { sections = ["Ratgeber"] }' in line


def test_a_resurface_rule_matching_by_source_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "publisher.toml"
    config.write_text(
        '[channels.fb]\ntype = "log"\n[[resurface]]\nname = "evergreen"\nchannels = ["fb"]\n'
        'match = { sources = ["webhook"] }\n'
    )
    with pytest.raises(ConfigError, match=r"resurface\.0\.match: archive articles keep no source"):
        load_settings(config)

"""Schema migrations on SQLite and PostgreSQL: the revision every command expects is alembic's
newest, and a database made by an older release is brought up to it on start."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from publisher.engine.storage.store import (
    SCHEMA_REVISION,
    StoreError,
    alembic_config,
    current_revision,
    make_engine,
    migrate,
)


def test_schema_revision_is_the_newest_migration() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == SCHEMA_REVISION


def test_database_of_an_older_release_is_upgraded_on_start(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
    migrate(engine)
    with engine.connect() as connection:
        assert current_revision(connection) == SCHEMA_REVISION
        columns = {c["name"] for c in inspect(connection).get_columns("deliveries")}
    assert "recipient" in columns
    engine.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://editor:s3cr3t-pa55@db.example:notaport/news",
        "postgres ql://editor:s3cr3t-pa55@db.example/news",
    ],
)
def test_a_malformed_database_url_is_refused_without_its_password(url: str) -> None:
    with pytest.raises(StoreError) as refused:
        make_engine(url)
    assert "not a database URL" in str(refused.value)
    assert "s3cr3t-pa55" not in str(refused.value)


def test_posts_made_before_search_folding_are_found_after_the_upgrade(database_url: str) -> None:
    from sqlalchemy import text

    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0007")
        connection.execute(
            text(
                "INSERT INTO articles (id, key, url, headline, data, created_at, updated_at) "
                "VALUES (1, 'k', 'https://e.de/1', 'Müller', '{}', :now, :now)"
            ),
            {"now": "2026-12-01 10:00:00"},
        )
        connection.execute(
            text(
                "INSERT INTO posts (id, article_id, channel, channel_type, text, link, fields, "
                "state, due_at, attempts, retries, queued_by, edited, created_at, updated_at, "
                "approval_required) VALUES (1, 1, 'x', 'x', 'Zürich', 'l', '{}', 'queued', :now, "
                "0, 0, 'cli', false, :now, :now, false)"
            ),
            {"now": "2026-12-01 10:00:00"},
        )
    migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT search FROM posts")).scalar() == "muller zurich"
    engine.dispose()


def test_posts_cancelled_before_their_former_state_was_kept_can_be_restored_after_the_upgrade(
    database_url: str,
) -> None:
    from sqlalchemy import text

    from publisher.engine.posts import verbs

    engine = make_engine(database_url)
    later = "2099-01-01 08:00:00+00:00"
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0014")
        connection.execute(
            text(
                "INSERT INTO articles (id, key, url, headline, data, created_at, updated_at) "
                "VALUES (1, 'k', 'https://e.de/1', 'H', :data, :now, :now)"
            ),
            {"data": '{"url": "https://e.de/1", "headline": "H"}', "now": later},
        )
        connection.execute(
            text(
                "INSERT INTO posts (id, article_id, channel, channel_type, text, link, fields, "
                "state, due_at, attempts, retries, queued_by, edited, created_at, updated_at, "
                "approval_required) VALUES (1, 1, 'x_main', 'x', 't', 'https://e.de/1', '{}', "
                "'cancelled', :at, 0, 0, 'ed', false, :at, :at, true)"
            ),
            {"at": later},
        )
        connection.execute(
            text(
                "INSERT INTO post_events (post_id, at, actor, action, detail) "
                "VALUES (1, :at, 'ed', 'cancelled', 'was awaiting_approval')"
            ),
            {"at": later},
        )
    migrate(engine)
    verbs.restore(engine, 1, "ed")
    assert verbs.state_of(engine, 1) == "awaiting_approval"
    engine.dispose()


def test_posts_an_older_release_cancelled_for_a_withdrawal_show_it_and_its_reason_after_the_upgrade(
    database_url: str,
) -> None:
    from sqlalchemy import text

    from publisher.engine.posts.events import post_history

    engine = make_engine(database_url)
    at = "2026-12-01 08:00:00+00:00"
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0018")
        connection.execute(
            text(
                "INSERT INTO articles (id, key, url, headline, data, created_at, updated_at) "
                "VALUES (1, 'k', 'https://e.de/1', 'H', :data, :at, :at)"
            ),
            {"data": '{"url": "https://e.de/1", "headline": "H"}', "at": at},
        )
        connection.execute(
            text(
                "INSERT INTO posts (id, article_id, channel, channel_type, text, link, fields, "
                "state, due_at, attempts, retries, queued_by, edited, created_at, updated_at, "
                "approval_required) VALUES (1, 1, 'x_main', 'x', 't', 'https://e.de/1', '{}', "
                "'cancelled', :at, 0, 0, 'ed', false, :at, :at, false)"
            ),
            {"at": at},
        )
        connection.execute(
            text(
                "INSERT INTO post_events (post_id, at, actor, action, detail, former_state) "
                "VALUES (1, :at, 'ed', 'cancelled', :detail, 'queued')"
            ),
            {"at": at, "detail": "was queued; the article was withdrawn by ed: Rechtliche Prüfung"},
        )
    migrate(engine)
    (event,) = post_history(engine, 1)
    assert (event.action, event.reason) == ("withdrawn", "Rechtliche Prüfung")
    engine.dispose()


@pytest.mark.one_database
def test_a_database_a_newer_release_migrated_is_one_line_and_exit_2(
    database_url: str, tmp_path
) -> None:
    from sqlalchemy import text

    from tests.conftest import run_cli

    engine = make_engine(database_url)
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    (tmp_path / "publisher.toml").write_text(f'database_url = "{database_url}"\n')
    listed = run_cli("queue", "list", cwd=tmp_path)
    assert listed.returncode == 2
    assert listed.stderr.count("\n") == 1
    assert "schema revision 0099, newer than this release" in listed.stderr
    assert "Traceback" not in listed.stderr


@pytest.mark.one_database
def test_db_upgrade_says_from_which_revision_it_migrated(database_url: str, tmp_path) -> None:
    from tests.conftest import run_cli

    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0013")
    engine.dispose()
    (tmp_path / "publisher.toml").write_text(f'database_url = "{database_url}"\n')
    first = run_cli("db", "upgrade", cwd=tmp_path)
    again = run_cli("db", "upgrade", cwd=tmp_path)
    assert f"migrated from schema revision 0013 to {SCHEMA_REVISION}" in first.stdout
    assert "is up to date" in again.stdout


def test_articles_stored_before_their_publication_time_was_kept_are_dated_by_it_after_the_upgrade(
    database_url: str,
) -> None:
    import json
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import text

    from publisher.engine.releases.resurface import candidates
    from publisher.sections import Resurface

    engine = make_engine(database_url)
    now = datetime.now(UTC)
    data = {"url": "https://e.de/1", "headline": "Archiv"}
    data["published_at"] = (now - timedelta(days=60)).isoformat()
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0015")
        connection.execute(
            text(
                "INSERT INTO articles (id, key, url, headline, data, created_at, updated_at) "
                "VALUES (1, 'k', 'https://e.de/1', 'Archiv', :data, :now, :now)"
            ),
            {"data": json.dumps(data), "now": now.isoformat(sep=" ")},
        )
    migrate(engine)
    rule = Resurface(name="evergreen", channels=("fb",))
    assert [article.headline for _, article in candidates(engine, rule, now)] == ["Archiv"]
    engine.dispose()

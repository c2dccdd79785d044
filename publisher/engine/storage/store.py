"""The database behind the queue: SQLite (embedded default, WAL) or PostgreSQL (psycopg 3, several
workers), opened with the right settings for each and migrated to the current schema."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)

from publisher.engine.storage.changes import announce_commits
from publisher.errors import EditorError

# The newest migration in publisher/engine/storage/migrations/versions (tests/test_store.py
# keeps the two equal).
# Knowing it here lets every command see an up-to-date schema without importing alembic.
SCHEMA_REVISION = "0021"

SQLITE_BUSY_TIMEOUT_MS = 5000
# How long a transaction of this process waits for its turn behind the others before it leaves
# the wait to SQLite's own (busy_timeout); their turns are short, so only a stuck one is waited
# out this long.
SQLITE_TURN_SECONDS = 10.0
_TURN = "publisher_turn"
# Any constant works; it only has to be the same for every worker migrating the same database.
_MIGRATION_LOCK = 7_461_726


class StoreError(EditorError):
    """The database cannot be used; the message never includes a password."""


def _sqlite_engine(url: Any) -> Engine:
    database = url.database or ""
    if database and database != ":memory:":
        folder = Path(database).expanduser().resolve().parent
        if not folder.is_dir():
            raise StoreError(f"database folder {folder} does not exist")
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Transactions are begun explicitly below, so pysqlite must not begin its own.
        dbapi_connection.isolation_level = None
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
            "foreign_keys=ON",
        ):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    # SQLite lets one transaction write at a time, and makes the others poll for their turn
    # (busy_timeout): under a few threads of this process at once (releases through the
    # webhook, editors at the desk) one can lose every poll and be refused. Here they queue.
    turn = threading.Lock()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        record = connection.connection._connection_record
        if record is not None and turn.acquire(timeout=SQLITE_TURN_SECONDS):
            record.info[_TURN] = turn
        # Take the write lock up front: claims read then write, and a deferred transaction
        # that upgrades to a writer can fail with SQLITE_BUSY instead of waiting.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    def _end(record: Any) -> None:
        held = record.info.pop(_TURN, None) if record is not None else None
        if held is not None:
            held.release()

    # A turn ends once the COMMIT or ROLLBACK is done, not before it is sent (SQLAlchemy's
    # commit and rollback events come before): the next writer would find the lock still held.
    dialect = engine.dialect
    for name in ("do_commit", "do_rollback"):
        setattr(dialect, name, _then_end(getattr(dialect, name), _end))
    # A connection given back to the pool without either (closed in a hurry) ends its turn too.
    event.listen(engine.pool, "checkin", lambda _c, record: _end(record))

    announce_commits(engine)
    return engine


def _then_end(done: Callable[[Any], None], end: Callable[[Any], None]) -> Callable[[Any], None]:
    """`done` (the dialect's commit or rollback of a pooled connection), then `end` of its
    pool record's turn, whatever `done` raised."""

    def ended(pooled: Any) -> None:
        try:
            done(pooled)
        finally:
            end(getattr(pooled, "_connection_record", None))

    return ended


def make_engine(database_url: str) -> Engine:
    """An engine for a SQLite or PostgreSQL URL (plain postgresql:// means psycopg 3)."""
    try:
        url = make_url(database_url)
    except (ArgumentError, ValueError):
        # Not echoed: a malformed URL may still hold a password.
        raise StoreError(
            "database_url is not a database URL "
            "(sqlite:///path/to/file.db or postgresql://user@host/database)"
        ) from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if url.get_backend_name() != "postgresql":
        raise StoreError(
            f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql"
        )
    try:
        return create_engine(url, pool_pre_ping=True, pool_size=10)
    except NoSuchModuleError as exc:
        raise StoreError(f"no database driver for {url.drivername}: {exc}") from None


def missing_sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite URL when it does not exist yet (None for PostgreSQL, memory, or a
    file that is there)."""
    try:
        url = make_url(database_url)
    except (ArgumentError, ValueError):
        return None
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = Path(url.database).expanduser()
    # A missing folder is reported by opening the database, as for every command.
    if path.exists() or not path.resolve().parent.is_dir():
        return None
    return path.resolve()


def describe(engine: Engine) -> str:
    """The database URL without its password, for messages and logs."""
    return engine.url.render_as_string(hide_password=True)


def alembic_config(connection: Connection | None = None) -> Any:
    """Alembic's configuration for publisher's migrations, bound to `connection`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "publisher.engine.storage:migrations")
    config.attributes["connection"] = connection
    return config


def current_revision(connection: Connection) -> str | None:
    """The schema revision the database is at (None: not yet migrated)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> str | None:
    """Bring the schema to the newest revision (a no-op when it is there already); the revision
    it was at before, when it was another ("": none, a new database; None: already there). A
    schema newer than this release knows is refused (StoreError): an older worker must not run
    on it."""
    with engine.connect() as connection:
        found = current_revision(connection)
    if found == SCHEMA_REVISION:
        return None
    from alembic import command
    from alembic.script import ScriptDirectory

    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config = alembic_config(connection)
        found = current_revision(connection)
        known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
        if found is not None and found not in known:
            raise StoreError(
                f"database {describe(engine)} has schema revision {found}, newer than this "
                f"release of publisher knows (its newest is {SCHEMA_REVISION}): a newer release "
                "migrated it. Run that release here, or restore a backup made before it",
                key="schema_newer",
            )
        command.upgrade(config, "head")
    return found or ""


@contextmanager
def translate_errors(engine: Engine) -> Iterator[None]:
    """Turn driver errors (missing, locked or unreachable database) into one-line StoreErrors."""
    try:
        yield
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise StoreError(
            f"database {describe(engine)}: {reason}", key="store_unavailable"
        ) from None


def open_engine(database_url: str) -> Engine:
    """A migrated engine, ready for the queue."""
    engine = make_engine(database_url)
    with translate_errors(engine):
        migrate(engine)
    return engine


def answers(engine: Engine) -> bool:
    """Whether the database answers a query now (for a health check)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True


def database_away(error: DBAPIError) -> bool:
    """Whether `error` says the database cannot be reached or lost the connection (a restart, a
    network cut, a full pool, a locked SQLite file), rather than that a statement was wrong."""
    return error.connection_invalidated or isinstance(error, (OperationalError, InterfaceError))

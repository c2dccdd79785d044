"""The `publisher` command line: what editors and scripts run. Bad input ends with one line on
stderr and exit status 2, never a traceback, and leaves the queue as it was.

Commands import what they need when they run, so that `--help` and `compose` start quickly."""

from __future__ import annotations

import gc
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, cast

import typer

from publisher import __version__
from publisher.errors import EditorError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from publisher.config import Settings

USAGE_ERROR = 2
# Options of the whole program that editors also write after the command.
GLOBAL_OPTIONS = ("--config", "--log-format")

app = typer.Typer(
    help="Turn articles into channel-ready social posts and deliver them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Plain help: no "<bool>" placeholders for flags, and no rich import just to print it.
    rich_markup_mode=None,
)


# What to type to do it anyway, for refusals the engine words without knowing the command line.
FLAG_HINTS = {"already_queued": "use --force to queue it again"}


class UsageError(EditorError):
    """Input an editor can fix; shown as one line."""


class Env:
    """What every command shares: the settings, and the database opened on first use."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._engine: Engine | None = None

    @property
    def settings(self) -> Settings:
        """The settings; once the database is open, with what the channels learned from their
        platforms (publisher.engine.delivery.facts)."""
        return self._settings

    @property
    def engine(self) -> Engine:
        """The database, created and migrated if it does not exist yet."""
        if self._engine is None:
            from publisher.engine.delivery.facts import with_learned
            from publisher.engine.storage.store import open_engine

            self._engine = open_engine(self._settings.database_url)
            self._settings = with_learned(self._settings, self._engine)
        return self._engine

    def stored_settings(self) -> Settings:
        """The settings with what the channels learned, when there is a database to read it
        from; a command that works without one (compose) does so when there is none."""
        from publisher.engine.storage.store import StoreError, missing_sqlite_file

        if self._engine is None and missing_sqlite_file(self._settings.database_url):
            return self._settings
        try:
            self.engine  # noqa: B018 - opening it reads what was learned
        except StoreError:
            return self._settings
        return self._settings

    @property
    def existing_engine(self) -> Engine:
        """The database for a command that only reads: a SQLite file that is not there is
        reported instead of created empty in whatever folder the command runs."""
        if self._engine is None:
            from publisher.engine.storage.store import missing_sqlite_file

            missing = missing_sqlite_file(self.settings.database_url)
            if missing is not None:
                raise UsageError(
                    f"there is no database at {missing}: nothing has been queued here yet "
                    f"(configuration: {self.settings.source})"
                )
        return self.engine


def env(ctx: typer.Context) -> Env:
    return cast(Env, ctx.obj)


# Seconds a thread holds the interpreter while another waits for it (Python's default: 0.005).
SWITCH_INTERVAL = 0.001


def long_running() -> None:
    """Ready the process for a command that keeps running (daemon, server, bot): garbage is
    collected again, what start-up made staying put in a generation of its own; and a thread
    that waits on the network or the database gets the interpreter back sooner."""
    gc.freeze()
    gc.enable()
    # A thread back from a database call waits for the one drawing a page to let go of the
    # interpreter, by default up to 5 ms each time: a webhook of a dozen calls then waited
    # 60 ms behind four editors' month views (bench/webhook_under_load.py).
    sys.setswitchinterval(SWITCH_INTERVAL)


def split_names(value: str | None, option: str) -> list[str] | None:
    """A comma-separated option as a list (None when not given)."""
    if value is None:
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise UsageError(f"{option} names nothing")
    return names


def _version(value: bool) -> None:
    if value:
        print(f"publisher {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    config: Annotated[
        str | None,
        typer.Option(
            "--config", help="TOML config file (else $PUBLISHER_CONFIG, else ./publisher.toml)"
        ),
    ] = None,
    log_format: Annotated[
        str | None, typer.Option("--log-format", help="text (default) or json")
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit", callback=_version),
    ] = False,
) -> None:
    from publisher.config import load_settings
    from publisher.logs import setup_logging

    settings = load_settings(config)
    chosen = log_format or settings.engine.log_format
    if chosen not in ("text", "json"):
        raise UsageError(f"--log-format must be text or json, not {chosen!r}")
    setup_logging(chosen, logging.WARNING)
    ctx.obj = Env(settings)


# Which module defines each command; the modules register their commands on import, and only
# the one a command needs is imported (start-up). tests/test_cli.py holds it to what they define.
COMMAND_MODULES = {
    "compose": "compose",
    "widget": "widget",
    "queue": "queue",
    "log": "queue",
    "run": "engine",
    "db": "engine",
    "channels": "engine",
    "demo": "engine",
    "serve": "release",
    "feeds": "release",
    "users": "users",
    "subscribers": "subscribers",
    "stats": "stats",
    "articles": "articles",
    "timing": "timing",
    "bot": "bot",
}


def register(command: str | None = None) -> None:
    """Load the module of `command`, or of every command (for help and unknown commands):
    building only the command that runs keeps start-up short."""
    import importlib

    chosen = [COMMAND_MODULES[command]] if command in COMMAND_MODULES else COMMAND_MODULES.values()
    for module in dict.fromkeys(chosen):
        importlib.import_module(f"publisher.cli.{module}")


def global_options_first(argv: Sequence[str]) -> list[str]:
    """`argv` with the program's own options moved before the command, wherever they were
    written (`publisher queue list --config x.toml` reads as `publisher --config x.toml queue
    list`). A value that is a lone `--` ends the options, as usual."""
    leading: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(argv):
        word = argv[index]
        if word == "--":
            rest += argv[index:]
            break
        name = word.split("=", 1)[0]
        if name in GLOBAL_OPTIONS:
            if "=" in word:
                leading.append(word)
            else:
                leading += argv[index : index + 2]
                index += 1
        else:
            rest.append(word)
        index += 1
    return leading + rest


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: runs the app and turns known errors into one line and exit 2."""
    # Start-up builds large regular expressions (twitter-text's emoji pattern) and many models
    # while the collector keeps scanning the objects just made; commands that keep running turn
    # it back on (`long_running`).
    gc.disable()
    # Looking for pydantic plugins scans every installed package's metadata at the first model;
    # publisher uses none (set PYDANTIC_DISABLE_PLUGINS to an empty value to load them anyway).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    arguments = global_options_first(sys.argv[1:] if argv is None else argv)
    register(_command_of(arguments))
    try:
        app(args=arguments, prog_name="publisher")
    except EditorError as exc:
        from publisher.logs import tell

        hint = FLAG_HINTS.get(exc.key or "")
        tell(f"publisher: {exc}" + (f"; {hint}" if hint else ""))
        sys.exit(USAGE_ERROR)
    except Exception as exc:  # the last line of defence: a bug, still no traceback for editors
        from publisher.channels.secrets import redact
        from publisher.logs import tell

        if os.environ.get("PUBLISHER_DEBUG"):
            raise
        database = _database_reason(exc)
        if database is not None:
            tell(f"publisher: database error: {database}")
            sys.exit(USAGE_ERROR)
        tell(
            redact(f"publisher: unexpected {type(exc).__name__}: {exc}")
            + " (PUBLISHER_DEBUG=1 shows details)"
        )
        sys.exit(1)


def _command_of(arguments: list[str]) -> str | None:
    """The command word of an argument list whose global options come first."""
    index = 0
    while index < len(arguments):
        word = arguments[index]
        if word.split("=", 1)[0] in GLOBAL_OPTIONS:
            index += 1 if "=" in word else 2
        elif word.startswith("-"):
            return None
        else:
            return word
    return None


def _database_reason(exc: Exception) -> str | None:
    """The driver's first line for a database failure (SQLAlchemy is only imported by then)."""
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    if sqlalchemy_exc is None or not isinstance(exc, sqlalchemy_exc.DBAPIError):
        return None
    orig = exc.orig
    return str(orig).strip().splitlines()[0] if orig else type(exc).__name__


__all__ = ["UsageError", "app", "env", "main", "split_names"]

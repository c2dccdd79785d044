"""The `publisher` command line: what editors and scripts run. Bad input ends with one line on
stderr and exit status 2, never a traceback, and leaves the queue as it was."""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from channels import ChannelError, ComposeError
from channels.base import redact
from publisher.articles import ArticleError
from publisher.config import ConfigError, Settings, load_settings
from publisher.logs import setup_logging
from publisher.queue import QueueError
from publisher.slots import TimeError
from publisher.store import StoreError, describe, open_engine

USAGE_ERROR = 2

app = typer.Typer(
    help="Turn articles into channel-ready social posts and deliver them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


class UsageError(Exception):
    """Input an editor can fix; shown as one line."""


class Env:
    """What every command shares: the settings, and the database opened on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_engine(self.settings.database_url)
        return self._engine


def env(ctx: typer.Context) -> Env:
    return ctx.obj


def split_names(value: str | None, option: str) -> list[str] | None:
    """A comma-separated option as a list (None when not given)."""
    if value is None:
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise UsageError(f"{option} names nothing")
    return names


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
) -> None:
    settings = load_settings(config)
    chosen = log_format or settings.engine.log_format
    if chosen not in ("text", "json"):
        raise UsageError(f"--log-format must be text or json, not {chosen!r}")
    setup_logging(chosen, logging.WARNING)
    ctx.obj = Env(settings)


def _register() -> None:
    from publisher.cli import (  # noqa: F401  (commands register themselves)
        bot,
        compose,
        engine,
        queue,
        release,
        users,
        widget,
    )


_register()

KNOWN_ERRORS = (
    ArticleError,
    # A credential missing from the environment when a command needs it (the bot's token).
    ChannelError,
    ComposeError,
    ConfigError,
    QueueError,
    StoreError,
    TimeError,
    UsageError,
)


def main() -> None:
    """Console entry point: runs the app and turns known errors into one line and exit 2."""
    try:
        app(prog_name="publisher")
    except KNOWN_ERRORS as exc:
        print(f"publisher: {exc}", file=sys.stderr)
        sys.exit(USAGE_ERROR)
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        print(f"publisher: database error: {reason}", file=sys.stderr)
        sys.exit(USAGE_ERROR)
    except Exception as exc:  # the last line of defence: a bug, still no traceback for editors
        if os.environ.get("PUBLISHER_DEBUG"):
            raise
        print(
            redact(f"publisher: unexpected {type(exc).__name__}: {exc}")
            + " (PUBLISHER_DEBUG=1 shows details)",
            file=sys.stderr,
        )
        sys.exit(1)


__all__ = ["app", "describe", "env", "main", "split_names"]

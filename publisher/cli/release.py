"""`publisher serve` (the HTTP side: the CMS webhook) and `publisher feeds` (the feed watcher's
state, and polling a feed by hand)."""

from __future__ import annotations

import dataclasses
import logging
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from publisher.cli import UsageError, app, env
from publisher.cli.queue import AsJson, print_json
from publisher.feedwatch import FeedWatcher, feed_states

feeds_app = typer.Typer(help="The watched RSS/Atom feeds.")
app.add_typer(feeds_app, name="feeds")


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Serve the HTTP side: POST /hooks/articles (the CMS webhook)."""
    # FastAPI and uvicorn are imported by the commands that serve, not by every command.
    import uvicorn

    from publisher.app import create_app

    logging.getLogger("publisher").setLevel(logging.INFO)
    settings = env(ctx).settings
    web = create_app(env(ctx).engine, settings)
    uvicorn.run(
        web,
        host=host or settings.serve.host,
        port=port if port is not None else settings.serve.port,
        log_level="warning",
        access_log=False,
    )


@feeds_app.callback(invoke_without_command=True)
def feeds_list(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Each configured feed: when it was last polled, and whether it is failing."""
    if ctx.invoked_subcommand is not None:
        return
    states = feed_states(env(ctx).engine, env(ctx).settings)
    if as_json:
        print_json(states)
        return
    table = Table(title="feeds", title_justify="left")
    for column in ("feed", "every", "last poll", "last success", "failures", "last error"):
        table.add_column(column, overflow="fold")
    for state in states:
        table.add_row(
            state["feed"],
            f"{state['every']:g} s",
            state["polled_at"] or "never",
            state["ok_at"] or "never",
            str(state["failures"]),
            state["last_error"] or "",
        )
    Console().print(table)


@feeds_app.command("poll")
def poll_command(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="Feed name")]
) -> None:
    """Poll one feed now and release its new items."""
    settings = env(ctx).settings
    if name not in settings.feeds:
        known = ", ".join(settings.feeds) or "none configured"
        raise UsageError(f"unknown feed {name!r} (feeds: {known})")
    result = FeedWatcher(env(ctx).engine, settings).poll(name)
    print_json(dataclasses.asdict(result))
    if result.status == "failed":
        raise typer.Exit(1)

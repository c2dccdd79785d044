"""`publisher serve` (the HTTP side: the CMS webhook, the widget, the desk) and `publisher feeds`
(the feed watcher's state, and polling a feed by hand)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated

import typer

from publisher.cli import UsageError, app, env, long_running
from publisher.cli.engine import listening_socket, port_checked
from publisher.cli.output import console
from publisher.cli.queue import AsJson, print_json

if TYPE_CHECKING:
    pass

feeds_app = typer.Typer(help="The watched RSS/Atom feeds.")
app.add_typer(feeds_app, name="feeds")


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Serve the HTTP side: the CMS webhook, the share widget and the web desk."""
    import uvicorn

    from publisher.logs import tell
    from publisher.web.app import create_app
    from publisher.web.serving import uvicorn_config

    logging.getLogger("publisher").setLevel(logging.INFO)
    settings = env(ctx).settings
    chosen_host = host or settings.serve.host
    chosen_port = port_checked(port if port is not None else settings.serve.port, "--port")
    sock = listening_socket(chosen_host, chosen_port, "--port, or [serve] port")
    engine = env(ctx).engine
    web = create_app(engine, env(ctx).settings)  # with what the channels learned
    # After the app is made: its templates, channels and routes stay out of full collections.
    long_running()
    bound = sock.getsockname()[1]
    shown = f"[{chosen_host}]" if ":" in chosen_host else chosen_host
    tell(f"publisher: serving on http://{shown}:{bound} (Ctrl-C stops)", logging.INFO)
    uvicorn.Server(uvicorn_config(web)).run(sockets=[sock])


@feeds_app.callback(invoke_without_command=True)
def feeds_list(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Each configured feed: when it was last polled, and whether it is failing."""
    if ctx.invoked_subcommand is not None:
        return
    from datetime import datetime

    from rich.table import Table

    from publisher.clock import shown
    from publisher.engine.releases.feedwatch import feed_states

    settings = env(ctx).settings
    states = feed_states(env(ctx).existing_engine, settings)
    if as_json:
        print_json(states)
        return

    def when(value: str | None) -> str:
        return shown(datetime.fromisoformat(value), settings.tz) if value else "never"

    table = Table(title="feeds", title_justify="left")
    for column in ("feed", "every", "last poll", "last success", "failures", "last error"):
        table.add_column(column, overflow="fold")
    for state in states:
        table.add_row(
            state["feed"],
            f"{state['every']:g} s",
            when(state["polled_at"]),
            when(state["ok_at"]),
            str(state["failures"]),
            state["last_error"] or "",
        )
    console().print(table)


@feeds_app.command("poll")
def poll_command(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="Feed name")]
) -> None:
    """Poll one feed now (also while it is backing off after failures) and release its new
    items."""
    import dataclasses

    from publisher.engine.releases.feedwatch import FeedWatcher

    settings = env(ctx).settings
    if name not in settings.feeds:
        known = ", ".join(settings.feeds) or "none configured"
        raise UsageError(f"unknown feed {name!r} (feeds: {known})")
    result = FeedWatcher(env(ctx).engine, settings).poll(name, asked=True)
    print_json(dataclasses.asdict(result))
    if result.status == "failed":
        raise typer.Exit(1)

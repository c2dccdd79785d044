"""`publisher run`, `publisher db upgrade`, `publisher channels` and `publisher demo`: the
delivery engine and what operates it."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from publisher import queue as queue_ops
from publisher.checks import check_channels
from publisher.cli import UsageError, app, env
from publisher.cli.compose import teaser_panel
from publisher.cli.queue import AsJson, deliveries_table, print_json
from publisher.demo import run_demo
from publisher.dispatch import Dispatcher
from publisher.metrics import Metrics
from publisher.scheduler import Daemon
from publisher.store import describe

db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
channels_app = typer.Typer(help="Configured channels; pause and resume them.")
app.add_typer(channels_app, name="channels")


@db_app.command("upgrade")
def upgrade_command(ctx: typer.Context) -> None:
    """Migrate the database to the current schema (also done on every start)."""
    engine = env(ctx).engine
    print(f"database {describe(engine)} is up to date")


@app.command("run")
def run_command(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due, then exit")] = False,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on this port")
    ] = None,
) -> None:
    """Deliver posts when they fall due, until stopped (SIGTERM or Ctrl-C)."""
    logging.getLogger("publisher").setLevel(logging.INFO)
    settings = env(ctx).settings
    engine = env(ctx).engine
    metrics = Metrics(engine)
    dispatcher = Dispatcher(engine, settings, on_delivered=metrics.observe)
    if once:
        try:
            delivered = dispatcher.run_once()
        finally:
            dispatcher.close()
        print(f"{len(delivered)} deliveries")
        return
    port = metrics_port if metrics_port is not None else settings.engine.metrics_port
    if port is not None:
        metrics.serve(settings.engine.metrics_host, port)
    daemon = Daemon(engine, settings, dispatcher)
    server = None
    if settings.serve.enabled:
        from publisher.app import ServerThread, create_app  # only workers that serve need it

        # In the same process a release wakes the dispatcher directly, with no polling.
        app = create_app(engine, settings, on_queued=daemon.wake)
        server = ServerThread(app, settings.serve.host, settings.serve.port)
        server.start()
    bot = None
    if settings.bot.enabled:
        from publisher.bot import BotThread  # only workers that run the bot need it

        bot = BotThread(engine, settings)
        bot.start()
    try:
        daemon.run_forever()
    finally:
        if bot is not None:
            bot.stop()
        if server is not None:
            server.stop()


@channels_app.callback(invoke_without_command=True)
def channels_list(ctx: typer.Context) -> None:
    """List configured channels and whether they are paused."""
    if ctx.invoked_subcommand is not None:
        return
    settings = env(ctx).settings
    with env(ctx).engine.connect() as connection:
        paused = queue_ops.active_pauses(connection, queue_ops.utcnow())
    table = Table(title="channels", title_justify="left")
    for column in ("name", "type", "mode", "status"):
        table.add_column(column, overflow="fold")
    for name, channel in settings.channels.items():
        pause = paused.get(name)
        status = f"paused: {pause.reason}" if pause else "active"
        table.add_row(name, channel.type, "dry run" if channel.dry_run else "live", status)
    Console().print(table)


@channels_app.command("check")
def check_command(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None, typer.Argument(help="Channels to check (default: all)")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Verify each channel's credentials with a harmless call and say plainly what is wrong.
    Exits 1 when a channel cannot post (warnings, such as a token expiring soon, exit 0)."""
    settings = env(ctx).settings
    unknown = sorted(set(names or []) - set(settings.channels))
    if unknown:
        raise UsageError(
            f"unknown channel {unknown[0]!r} (configured: {', '.join(settings.channels)})"
        )
    results = check_channels(settings, names or list(settings.channels))
    if as_json:
        print_json(
            [
                {
                    "channel": name,
                    "type": settings.channels[name].type,
                    "level": f.level,
                    "message": f.message,
                }
                for name, findings in results.items()
                for f in findings
            ]
        )
    else:
        table = Table(title="channel check", title_justify="left")
        for column in ("channel", "type", "result", "finding"):
            table.add_column(column, overflow="fold")
        style = {"ok": "green", "warning": "yellow", "error": "bold red"}
        for name, findings in results.items():
            for finding in findings:
                table.add_row(
                    name,
                    settings.channels[name].type,
                    f"[{style[finding.level]}]{finding.level}[/]",
                    finding.message,
                )
        Console().print(table)
    if any(f.level == "error" for findings in results.values() for f in findings):
        raise typer.Exit(1)


@channels_app.command("pause")
def pause_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Channel name")],
    reason: Annotated[str, typer.Option(help="Why, for the other editors")] = "paused by an editor",
) -> None:
    """Hold a channel's posts until it is resumed."""
    queue_ops.pause(env(ctx).engine, env(ctx).settings, name, reason)
    print(f"channel {name} paused")


@channels_app.command("resume")
def resume_command(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Let a paused channel's posts go out again."""
    queue_ops.resume(env(ctx).engine, env(ctx).settings, name)
    print(f"channel {name} resumed")


@app.command("demo")
def demo_command(ctx: typer.Context) -> None:
    """Queue the bundled sample article for all four platforms (dry run) and deliver it."""
    logging.getLogger("publisher").setLevel(logging.INFO)
    engine = env(ctx).engine
    run = run_demo(engine, env(ctx).settings)
    console = Console()
    console.print(
        f"[bold]queued posts {', '.join(map(str, run.post_ids))}[/bold] in {describe(engine)}"
    )
    for key, teaser in run.teasers.items():
        console.print(teaser_panel(key, teaser))
    console.print(deliveries_table(run.deliveries, "delivery log"))

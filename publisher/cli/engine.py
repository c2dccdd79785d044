"""`publisher run`, `publisher db upgrade`, `publisher channels` and `publisher demo`: the
delivery engine and what operates it."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from publisher.cli import UsageError, app, env, long_running
from publisher.cli.output import console
from publisher.cli.queue import AsJson, editor, print_json

if TYPE_CHECKING:
    import socket

    from sqlalchemy import Engine

    from publisher.config import Settings
    from publisher.engine.delivery.dispatch import Delivered
    from publisher.engine.delivery.scheduler import Daemon

logger = logging.getLogger(__name__)

db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
channels_app = typer.Typer(help="Configured channels; pause and resume them.")
app.add_typer(channels_app, name="channels")

# The demo keeps to a database of its own, whatever the configuration names.
DEMO_DATABASE = Path("publisher-demo.db")


@db_app.command("upgrade")
def upgrade_command(ctx: typer.Context) -> None:
    """Migrate the database to the current schema (also done on every start)."""
    from publisher.engine.storage.store import (
        SCHEMA_REVISION,
        describe,
        make_engine,
        migrate,
        translate_errors,
    )

    engine = make_engine(env(ctx).settings.database_url)
    try:
        with translate_errors(engine):
            before = migrate(engine)
    finally:
        engine.dispose()
    if before is None:
        print(f"database {describe(engine)} is up to date (schema revision {SCHEMA_REVISION})")
    elif not before:
        print(f"database {describe(engine)} created at schema revision {SCHEMA_REVISION}")
    else:
        migrated = f"migrated from schema revision {before} to {SCHEMA_REVISION}"
        print(f"database {describe(engine)} {migrated}")


def port_checked(port: int, option: str) -> int:
    """A port number from the command line or the configuration, or a UsageError."""
    if not 0 <= port <= 65535:
        raise UsageError(f"{option} {port} is not a port (0 to 65535)")
    return port


def warn_of_stranded_posts(engine: Engine, settings: Settings) -> None:
    """Say in the log which posts wait on channels that are no longer configured."""
    from publisher.engine.posts.listings import stranded_posts

    for channel, ids in stranded_posts(engine, settings).items():
        shown = ", ".join(map(str, ids[:10])) + (" …" if len(ids) > 10 else "")
        logger.warning(
            "%d posts wait on channel %s, which is not in the configuration (posts %s): add "
            "the channel back, or cancel them with `publisher queue cancel ID`",
            len(ids),
            channel,
            shown,
            extra={"channel": channel},
        )


# What `run --once` words each outcome as, and the outcomes an editor must look at.
ONCE_WORDS = {
    "sent": "sent",
    "transient": "to be tried again",
    "rate_limited": "held back by a rate limit",
    "auth": "refused access (channel paused)",
    "failed": "failed",
    "uncertain": "unclear",
}
# Delivery outcomes (not post states, as lifecycle.NEEDS_AN_EDITOR) that make `run --once` exit 1.
OUTCOMES_FOR_AN_EDITOR = frozenset({"auth", "failed", "uncertain"})


def once_summary(delivered: list[Delivered]) -> str:
    """What one `run --once` did, by outcome ("3 deliveries: 2 sent, 1 failed"), and each
    channel it paused, with why and what to do."""
    counts = Counter(str(d.outcome) for d in delivered)
    parts = [f"{counts[o]} {words}" for o, words in ONCE_WORDS.items() if counts[o]]
    count = f"{len(delivered)} {'delivery' if len(delivered) == 1 else 'deliveries'}"
    lines = [count + (f": {', '.join(parts)}" if parts else "")]
    paused = {d.claimed.channel: d.error for d in delivered if d.outcome == "auth"}
    for name, error in paused.items():
        fix = error.fix if error else "credentials"
        reason = error.message if error else ""
        lines.append(
            f"channel {name} is paused: {reason}; put its {fix} right, then "
            f"`publisher channels resume {name}`"
        )
    return "\n".join(lines)


@app.command("run")
def run_command(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due, then exit")] = False,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on this port")
    ] = None,
) -> None:
    """Deliver posts when they fall due, until stopped (SIGTERM or Ctrl-C)."""
    from publisher.engine.delivery.dispatch import Dispatcher
    from publisher.engine.delivery.facts import learn, with_learned
    from publisher.engine.delivery.scheduler import Daemon
    from publisher.engine.storage.changes import other_worker
    from publisher.metrics import Metrics

    logging.getLogger("publisher").setLevel(logging.INFO)
    long_running()
    engine = env(ctx).engine
    running = None if once else other_worker(engine)
    if running is not None:
        raise UsageError(
            f"another publisher run works on this SQLite database (its wake socket {running} "
            "answers): SQLite takes one worker; for several, use PostgreSQL"
        )
    # What the platforms say of their rules now (an instance's limits), before anything is sent.
    learn(engine, env(ctx).settings)
    settings = with_learned(env(ctx).settings, engine)
    warn_of_stranded_posts(engine, settings)
    metrics = Metrics(engine)
    dispatcher = Dispatcher(engine, settings, on_delivered=metrics.observe)
    if once:
        try:
            delivered = dispatcher.run_once()
        finally:
            dispatcher.close()
        print(once_summary(delivered))
        # A channel paused for an editor, or a post failed or unclear: a script must notice.
        if any(d.outcome in OUTCOMES_FOR_AN_EDITOR for d in delivered):
            raise typer.Exit(1)
        return
    daemon = Daemon(engine, settings, dispatcher)
    port = metrics_port if metrics_port is not None else settings.engine.metrics_port
    if port is not None:
        port_checked(port, "--metrics-port")
        try:
            metrics.serve(settings.engine.metrics_host, port, partial(worker_health, daemon))
        except OSError as exc:
            named = "--metrics-port, or [engine] metrics_port: one per worker on a host"
            raise UsageError(
                _listen_error(settings.engine.metrics_host, port, exc, named)
            ) from None
    sock = None
    if settings.serve.enabled:
        serve = settings.serve
        sock = listening_socket(
            serve.host, port_checked(serve.port, "[serve] port"), "[serve] port"
        )
    server = None
    if sock is not None:
        from publisher.web.app import create_app
        from publisher.web.serving import ServerThread

        # In the same process a release wakes the dispatcher directly, with no polling.
        web = create_app(engine, settings, on_queued=daemon.wake)
        server = ServerThread(web, settings.serve.host, settings.serve.port, sock=sock)
        server.start()
    bot = None
    if settings.bot.enabled:
        from publisher.bot import BotThread

        bot = BotThread(engine, settings)
        bot.start()
    # Again, now that the desk and the bot are made: what they hold stays out of collections.
    long_running()
    try:
        daemon.run_forever()
    finally:
        if bot is not None:
            bot.stop()
        if server is not None:
            server.stop()


def worker_health(daemon: Daemon) -> str | None:
    """What is wrong with a running worker, for its health check (None: nothing): its database
    does not answer, or its loop has not come round for longer than it ever sleeps."""
    from publisher.clock import utcnow
    from publisher.engine.delivery.scheduler import MAX_SLEEP
    from publisher.engine.storage.store import answers

    if not answers(daemon.engine):
        return "the database does not answer"
    last = daemon.clock.last_tick
    # Allowed: a full sleep, and a run of the loop as long as a slow platform call (a lease).
    allowed = MAX_SLEEP + timedelta(seconds=daemon.settings.engine.lease)
    if last is not None and utcnow() - last > allowed:
        return f"the worker's loop last ran at {last.isoformat(timespec='seconds')}"
    return None


def _listen_error(host: str, port: int, exc: OSError, named: str) -> str:
    import errno

    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is in use ({named})"
    return f"cannot listen on {host}:{port} ({exc.strerror or exc}; {named})"


def listening_socket(host: str, port: int, named: str) -> socket.socket:
    """A socket bound to `host`:`port`, or a UsageError saying why not (taken, not allowed)
    and which setting `named` it."""
    import socket

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror:
        raise UsageError(f"cannot listen on {host}: no such address") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(_listen_error(host, port, exc, named)) from None
    return sock


@channels_app.callback(invoke_without_command=True)
def channels_list(ctx: typer.Context) -> None:
    """List configured channels and whether they are paused."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from publisher.clock import utcnow
    from publisher.engine.audiences.subscribers import counts
    from publisher.engine.posts.listings import stranded_posts
    from publisher.engine.posts.pauses import active_pauses
    from publisher.engine.storage.store import missing_sqlite_file

    settings = env(ctx).settings
    # A new install has no database yet: the channels are listed as configured, none paused.
    engine = None if missing_sqlite_file(settings.database_url) else env(ctx).engine
    paused, readers, stranded = {}, {}, {}
    if engine is not None:
        with engine.connect() as connection:
            paused = active_pauses(connection, utcnow())
        readers = counts(engine)
        stranded = stranded_posts(engine, settings)
    table = Table(title="channels", title_justify="left")
    for column in ("name", "type", "mode", "status", "subscribers"):
        table.add_column(column, overflow="fold")
    for name, channel in settings.channels.items():
        pause = paused.get(name)
        status = f"paused: {pause.reason}" if pause else "active"
        mode = "dry run" if channel.dry_run else "live"
        table.add_row(name, channel.type, mode, status, _readers(readers.get(name)))
    for name, ids in stranded.items():
        table.add_row(
            name, "?", "not configured", f"{len(ids)} posts wait: add it back or cancel them"
        )
    console().print(table)


def _readers(by_state: dict[str, int] | None) -> str:
    if not by_state:
        return ""
    shown = f"{by_state.get('subscribed', 0):,}"
    others = [f"{n:,} {state}" for state, n in sorted(by_state.items()) if state != "subscribed"]
    return f"{shown} ({', '.join(others)})" if others else shown


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
    from publisher.engine.delivery.checks import check_channels
    from publisher.engine.delivery.facts import ask, keep

    settings = env(ctx).settings
    unknown = sorted(set(names or []) - set(settings.channels))
    if unknown:
        raise UsageError(
            f"unknown channel {unknown[0]!r} (configured: {', '.join(settings.channels)})"
        )
    results = check_channels(settings, names or list(settings.channels))
    # What the check found out about the platforms' rules is kept for composing, in a new
    # installation's database too (created for it, as `run` would).
    learned = ask(settings, names or list(settings.channels))
    if learned:
        keep(env(ctx).engine, learned)
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
        from rich.table import Table

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
        console().print(table)
    if any(f.level == "error" for findings in results.values() for f in findings):
        raise typer.Exit(1)


@channels_app.command("pause")
def pause_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Channel name")],
    reason: Annotated[str, typer.Option(help="Why, for the other editors")] = "paused by an editor",
) -> None:
    """Hold a channel's posts until it is resumed."""
    from publisher import actions

    actions.apply_to_channel(
        env(ctx).engine, env(ctx).settings, "pause", name, editor(None), reason
    )
    print(f"channel {name} paused")


@channels_app.command("resume")
def resume_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    send_overdue: Annotated[
        bool,
        typer.Option(
            "--send-overdue", help="Send at once the posts it held past their time (asked first)"
        ),
    ] = False,
) -> None:
    """Let a paused channel's posts go out again; posts it held past their time are sent only
    with --send-overdue (move them first otherwise)."""
    from publisher import actions
    from publisher.engine.posts.overdue import Overdue

    try:
        actions.apply_to_channel(
            env(ctx).engine,
            env(ctx).settings,
            "resume",
            name,
            editor(None),
            overdue_ok=send_overdue,
        )
    except Overdue as exc:
        raise UsageError(
            f"{exc} (posts {', '.join(map(str, exc.posts))}); add --send-overdue "
            "to send them now, or move them first"
        ) from None
    print(f"channel {name} resumed")


@app.command("demo")
def demo_command(ctx: typer.Context) -> None:
    """Queue the bundled sample article for every platform, deliver it to the platforms' local
    stand-ins, and measure what readers did there, in a database of its own
    (./publisher-demo.db), never the configured one."""

    from publisher.cli.compose import teaser_panel
    from publisher.cli.queue import deliveries_table
    from publisher.cli.stats import results_table
    from publisher.demo import run_demo
    from publisher.engine.storage.store import describe, open_engine

    logging.getLogger("publisher").setLevel(logging.INFO)
    settings = env(ctx).settings
    engine = open_engine(f"sqlite:///{DEMO_DATABASE}")
    try:
        run = run_demo(engine, settings)
    finally:
        engine.dispose()
    out = console()
    out.print(
        f"[bold]queued posts {', '.join(map(str, run.post_ids))}[/bold] in {describe(engine)} "
        "(the demo's own database)"
    )
    for key, teaser in run.teasers.items():
        out.print(teaser_panel(key, teaser, fill=out.is_terminal))
    out.print(deliveries_table(run.deliveries, "delivery log", settings.tz))
    # The demo's posts are all of one article: no headline beside each.
    shown = results_table(run.results, "what each post achieved (–: not offered)", headline=False)
    out.print(shown)

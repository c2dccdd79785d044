"""`publisher subscribers import|list|remove`: the readers a WhatsApp channel sends to."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from publisher.cli import UsageError, app, env
from publisher.cli.output import console
from publisher.cli.queue import AsJson, print_json

subscribers_app = typer.Typer(
    help="Readers who opted in to a WhatsApp channel.", no_args_is_help=True
)
app.add_typer(subscribers_app, name="subscribers")

Channel = Annotated[str, typer.Argument(help="A WhatsApp channel of the configuration")]


def _fan_out_channel(ctx: typer.Context, name: str) -> str:
    from publisher.channels import channel_class

    settings = env(ctx).settings
    channel = settings.channels.get(name)
    if channel is None:
        raise UsageError(f"no channel {name!r} in the configuration")
    if not channel_class(channel.type).subscribable:
        raise UsageError(f"{name} is a {channel.type} channel: it has no subscribers")
    return name


@subscribers_app.command("import")
def import_command(
    ctx: typer.Context,
    channel: Channel,
    file: Annotated[Path, typer.Argument(help="CSV with a phone column, or one number a line")],
    source: Annotated[
        str, typer.Option(help="How they consented (a sign-up form, an event …)")
    ] = "import",
) -> None:
    """Subscribe the numbers of a file. Numbers already there stay as they are: someone who
    unsubscribed is never subscribed again by an import. Exits 1 when a line holds no number
    (the others are imported)."""
    from publisher.engine.audiences.subscribers import import_numbers

    name = _fan_out_channel(ctx, channel)
    engine = env(ctx).engine
    try:
        # Read a line at a time: a file of millions of lines is never held whole.
        with file.open(encoding="utf-8-sig", newline="") as lines:
            done = import_numbers(engine, name, lines, source)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}") from None
    for line, text in done.invalid:
        print(f"{file}:{line}: not a phone number: {text[:40]!r}", file=sys.stderr)
    if done.refused > len(done.invalid):
        print(f"… and {done.refused - len(done.invalid):,} more lines refused", file=sys.stderr)
    print(
        f"{done.added} subscribed, {done.already} already there, "
        f"{done.opted_out} left out (they unsubscribed), {done.refused} lines refused"
    )
    if done.refused:
        raise typer.Exit(1)


@subscribers_app.command("list")
def list_command(ctx: typer.Context, channel: Channel, as_json: AsJson = False) -> None:
    """Every subscriber of a channel: number (masked; whole with --json, for an export), state,
    how and when they consented, in the channel's local time."""
    from datetime import datetime

    from rich.table import Table

    from publisher.channels.text import masked
    from publisher.clock import shown
    from publisher.engine.audiences.subscribers import listing

    name = _fan_out_channel(ctx, channel)
    rows = listing(env(ctx).existing_engine, name)
    if as_json:
        print_json(rows)
        return
    zone = env(ctx).settings.channel_tz(name)

    def local(value: str | None) -> str:
        return shown(datetime.fromisoformat(value), zone) if value else ""

    table = Table(title=f"subscribers of {channel}", title_justify="left")
    for column in ("phone", "state", "consent", "since", "last message"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            masked(row["phone"]), row["state"], row["source"], local(row["consented_at"]),
            local(row["last_message_at"]),
        )  # fmt: skip
    console().print(table)


@subscribers_app.command("remove")
def remove_command(
    ctx: typer.Context, channel: Channel, phone: Annotated[str, typer.Argument()]
) -> None:
    """Forget a subscriber altogether (for an unsubscribe, their STOP message is enough)."""
    from publisher.engine.audiences.subscribers import remove

    remove(env(ctx).existing_engine, _fan_out_channel(ctx, channel), phone)
    print(f"{phone} removed from {channel}")

"""`publisher stats`: what sent posts achieved on their networks, per post, article or channel
(a table, `--json` or `--csv`); `publisher stats collect` measures every post due now."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from publisher.cli import UsageError, app, env
from publisher.cli.output import console
from publisher.cli.queue import AsJson, print_json

if TYPE_CHECKING:
    from rich.table import Table

stats_app = typer.Typer(
    help="What sent posts achieved on their networks.", invoke_without_command=True
)
app.add_typer(stats_app, name="stats")

BY = ("post", "article", "channel")
# The columns of the table, beside the post's number, channel and headline.
SHOWN = ("impressions", "likes", "reposts", "replies", "reads", "platform_clicks", "clicks")


@stats_app.callback()
def stats_command(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option(help="Posts sent since (ISO 8601; local time without offset)")
    ] = None,
    channel: Annotated[str | None, typer.Option(help="One channel's posts")] = None,
    article: Annotated[str | None, typer.Option(help="One article's posts (its id)")] = None,
    by: Annotated[str, typer.Option(help="post, article or channel")] = "post",
    as_json: AsJson = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV for a spreadsheet")] = False,
) -> None:
    """What each sent post achieved, as its network last counted it (null: not offered)."""
    if ctx.invoked_subcommand is not None:
        return
    from publisher.cli.queue import parse_since
    from publisher.engine.learning import scorecard

    if by not in BY:
        raise UsageError(f"--by {by!r}: choose post, article or channel")
    if as_json and as_csv:
        raise UsageError("choose --json or --csv, not both")
    settings = env(ctx).settings
    if channel is not None and channel not in settings.channels:
        raise UsageError(f"no channel {channel!r} in the configuration")
    start = parse_since(since, settings.tz) if since is not None else None
    found = scorecard.by_post(env(ctx).engine, start, channel, article)
    shaped = {
        "post": found,
        "article": scorecard.by_article(found),
        "channel": scorecard.by_channel(found),
    }[by]
    if as_json:
        print_json(shaped)
    elif as_csv:
        _write_csv(shaped)
    else:
        _print_table(shaped, by)


def _write_csv(items: list[dict[str, Any]]) -> None:
    from publisher.engine.learning.scorecard import write_csv

    write_csv(items, sys.stdout)


def _print_table(items: list[dict[str, Any]], by: str) -> None:
    if not items:
        print("no sent posts")
        return

    console().print(results_table(items, "what sent posts achieved (– : not offered)", by))


def results_table(
    items: list[dict[str, Any]], title: str, by: str = "post", headline: bool = True
) -> Table:
    """Posts (or articles, or channels) with their latest numbers as a table; a number the
    network does not offer is a dash, never 0."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    # The numbers keep their width; the headline takes what is left.
    table.add_column(by, no_wrap=True, min_width=len(by))
    if by == "post":
        table.add_column("channel", no_wrap=True, min_width=7)
    for name in SHOWN:
        header = name.replace("_", " ")
        table.add_column(header, justify="right", no_wrap=True, min_width=len(header))
    if headline:
        table.add_column("headline", no_wrap=True, overflow="ellipsis", ratio=1)
    for item in items:
        numbers = ["–" if item["metrics"][n] is None else str(item["metrics"][n]) for n in SHOWN]
        first = [str(item[by])] + ([item["channel"]] if by == "post" else [])
        shown = [str(item.get("headline", ""))] if headline else []
        table.add_row(*first, *numbers, *shown)
    return table


@stats_app.command("collect")
def collect_command(
    ctx: typer.Context,
    channel: Annotated[str | None, typer.Option(help="Only this channel's posts")] = None,
) -> None:
    """Measure now every post due a measurement, and every sent post never measured."""
    from publisher.engine.learning.results import Measurer

    settings = env(ctx).settings
    if channel is not None and channel not in settings.channels:
        raise UsageError(f"no channel {channel!r} in the configuration")
    done = Measurer(env(ctx).engine, settings).run(channel=channel, every_unmeasured=True)
    for name, count in sorted(done.measured.items()):
        print(f"{name}: {count} measured")
    for name, why in sorted(done.waiting.items()):
        print(f"{name}: not measured: {why}", file=sys.stderr)
    if not done.measured and not done.waiting:
        print("nothing to measure")


@stats_app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV: channel, sent_at, clicks and/or engagement")],
) -> None:
    """Bring a channel's results from before the install, to learn its hours from; a post
    imported again is replaced, never doubled, and a file with a bad line imports nothing."""
    from publisher.engine.learning.history import HistoryError, import_history, read_history

    try:
        with file.open(encoding="utf-8-sig", newline="") as lines:
            rows = read_history(lines, env(ctx).settings)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{file}: cannot read ({exc})") from None
    except HistoryError as exc:
        # A file with bad lines is a failed import (exit 1), as a script checks for it.
        print(f"publisher: {exc}", file=sys.stderr)
        raise typer.Exit(1) from None
    count = import_history(env(ctx).engine, rows)
    print(f"{count} past posts imported")

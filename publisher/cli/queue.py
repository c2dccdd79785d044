"""`publisher queue …` and `publisher log`: queue articles, look at and change posts, read the
delivery log. Listings take `--json` (a JSON array, one object per post or delivery)."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from publisher import queue as queue_ops
from publisher.cli import UsageError, app, env, split_names
from publisher.listings import list_deliveries, list_posts, show_post
from publisher.queue import Timing, utcnow
from publisher.reconcile import reconcile
from publisher.slots import local_slot, parse_time
from publisher.sources import load_article

queue_app = typer.Typer(
    help="Queue posts and manage them before they go out.", no_args_is_help=True
)
app.add_typer(queue_app, name="queue")

PostId = Annotated[int, typer.Argument(help="The post's id (see `publisher queue list`)")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts")]


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def posts_table(rows: list[dict[str, Any]], title: str) -> Table:
    """Posts as a table: id, channel, state, local due time, headline, error."""
    table = Table(title=title, title_justify="left")
    for column in ("id", "channel", "state", "due (local)", "attempts", "headline", "note"):
        table.add_column(column, overflow="fold")
    for row in rows:
        state = f"{row['state']} (held)" if row["held"] else row["state"]
        note = row["error"] or row["permalink"] or ""
        table.add_row(
            str(row["id"]),
            row["channel"],
            state,
            row["due_local"][:16].replace("T", " "),
            str(row["attempts"]),
            row["headline"][:60],
            note[:80],
        )
    return table


def _timing(now: bool, at: str | None, next_slot: bool, tz: Any) -> Timing:
    if sum([now, at is not None, next_slot]) > 1:
        raise UsageError("choose one of --now, --at and --next-slot")
    if at is not None:
        return Timing("at", parse_time(at, utcnow(), tz))
    return Timing("next_slot") if next_slot else Timing("now")


@queue_app.command("add")
def add_command(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Article JSON, text/Markdown, HTML file, - or URL")],
    channels: Annotated[
        str | None, typer.Option(help="Configured channel names (default: all)")
    ] = None,
    now: Annotated[bool, typer.Option("--now", help="Send as soon as possible (default)")] = False,
    at: Annotated[str | None, typer.Option(help="HH:MM, or an ISO 8601 date and time")] = None,
    next_slot: Annotated[
        bool, typer.Option("--next-slot", help="Each channel's next free slot")
    ] = False,
    url: Annotated[
        str | None, typer.Option(help="The article's link, when SOURCE has none")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Queue even if already queued")] = False,
    by: Annotated[str, typer.Option(help="Who queues it, for the record")] = "cli",
    as_json: AsJson = False,
) -> None:
    """Queue an article's teasers on some or all channels."""
    ctx_env = env(ctx)
    settings = ctx_env.settings
    timing = _timing(now, at, next_slot, settings.tz)
    chosen = queue_ops.queue_channels(settings, split_names(channels, "--channels"))
    article = load_article(source, settings, url=url)
    ids = queue_ops.add(
        ctx_env.engine, settings, article, chosen, timing, force=force, queued_by=by
    )
    rows = [r for r in list_posts(ctx_env.engine, settings, include_done=True) if r["id"] in ids]
    if as_json:
        print_json(rows)
    else:
        Console().print(posts_table(rows, f"queued {len(ids)} posts"))


@queue_app.command("list")
def list_command(
    ctx: typer.Context,
    include_done: Annotated[
        bool, typer.Option("--all", help="Include sent and cancelled posts")
    ] = False,
    channel: Annotated[str | None, typer.Option(help="Only this channel")] = None,
    as_json: AsJson = False,
) -> None:
    """Posts still to go out, and those held (awaiting approval, uncertain, failed)."""
    rows = list_posts(
        env(ctx).engine, env(ctx).settings, include_done=include_done, channel=channel
    )
    if as_json:
        print_json(rows)
    else:
        Console().print(posts_table(rows, f"{len(rows)} posts"))


@queue_app.command("show")
def show_command(ctx: typer.Context, post_id: PostId, as_json: AsJson = False) -> None:
    """One post: its text, state and every delivery attempt."""
    detail = show_post(env(ctx).engine, env(ctx).settings, post_id)
    if as_json:
        print_json(detail)
        return
    console = Console()
    console.print(posts_table([detail], f"post {post_id}"))
    console.print(detail["text"], markup=False, highlight=False)
    console.print(f"link: {detail['link']}", markup=False, highlight=False)
    if detail["deliveries"]:
        console.print(deliveries_table(detail["deliveries"], "deliveries"))


@queue_app.command("edit")
def edit_command(
    ctx: typer.Context,
    post_id: PostId,
    text: Annotated[str | None, typer.Argument(help="The new text (or use --file)")] = None,
    file: Annotated[
        Path | None, typer.Option(help="Read the new text from a file, - for stdin")
    ] = None,
) -> None:
    """Replace a post's text; it is checked against the channel's rules first."""
    if (text is None) == (file is None):
        raise UsageError("give the new text or --file, not both")
    if file is not None:
        text = sys.stdin.read() if str(file) == "-" else _read(file)
    assert text is not None
    queue_ops.edit(env(ctx).engine, env(ctx).settings, post_id, text.rstrip("\n"))
    print(f"post {post_id} edited")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read ({exc})") from None


@queue_app.command("approve")
def approve_command(ctx: typer.Context, post_id: PostId) -> None:
    """Let a post that waits for approval go out at its time."""
    queue_ops.approve(env(ctx).engine, post_id)
    print(f"post {post_id} approved")


@queue_app.command("cancel")
def cancel_command(ctx: typer.Context, post_id: PostId) -> None:
    """Withdraw a post that has not gone out."""
    queue_ops.cancel(env(ctx).engine, post_id)
    print(f"post {post_id} cancelled")


@queue_app.command("retry")
def retry_command(ctx: typer.Context, post_id: PostId) -> None:
    """Send a failed or uncertain post again now (check the platform first for uncertain ones)."""
    queue_ops.retry(env(ctx).engine, post_id)
    print(f"post {post_id} queued again")


@queue_app.command("mark-sent")
def mark_sent_command(
    ctx: typer.Context,
    post_id: PostId,
    permalink: Annotated[str | None, typer.Option(help="Where the post is online")] = None,
) -> None:
    """Record that an uncertain post did go out."""
    queue_ops.mark_sent(env(ctx).engine, post_id, permalink)
    print(f"post {post_id} marked sent")


@queue_app.command("reconcile")
def reconcile_command(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Look uncertain posts up on their platforms (X, Facebook); those found become sent."""
    results = reconcile(env(ctx).engine, env(ctx).settings)
    if as_json:
        print_json([dataclasses.asdict(r) for r in results])
        return
    for result in results:
        if result.found:
            print(f"post {result.post_id} on {result.channel}: online ({result.permalink})")
        else:
            reason = f": {result.error}" if result.error else ""
            print(f"post {result.post_id} on {result.channel}: not found, still uncertain{reason}")
    if not results:
        print("no uncertain post can be looked up")


def deliveries_table(rows: list[dict[str, Any]], title: str) -> Table:
    """Delivery attempts as a table."""
    table = Table(title=title, title_justify="left")
    for column in (
        "id",
        "post",
        "channel",
        "attempt",
        "outcome",
        "started (UTC)",
        "ms",
        "remote id / error",
    ):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            str(row["id"]),
            str(row["post_id"]),
            row["channel"],
            str(row["attempt"]),
            row["outcome"],
            (row["started_at"] or "")[:19].replace("T", " "),
            str(row["latency_ms"] if row["latency_ms"] is not None else ""),
            row["error"] or row["permalink"] or row["remote_id"] or "",
        )
    return table


@app.command("log")
def log_command(
    ctx: typer.Context,
    channel: Annotated[str | None, typer.Option(help="Only this channel")] = None,
    outcome: Annotated[
        str | None, typer.Option(help="sent, failed, transient, rate_limited, auth, uncertain")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only deliveries from this time on (ISO 8601)")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    as_json: AsJson = False,
) -> None:
    """The delivery log: every attempt, newest first."""
    settings = env(ctx).settings
    start = None
    if since is not None:
        start = _parse_since(since, settings.tz)
    rows = list_deliveries(
        env(ctx).engine, channel=channel, outcome=outcome, since=start, limit=limit
    )
    if as_json:
        print_json(rows)
    else:
        Console().print(deliveries_table(rows, f"{len(rows)} deliveries"))


def _parse_since(value: str, tz: Any) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--since {value!r} is not an ISO 8601 time") from None
    return parsed if parsed.tzinfo else local_slot(parsed.date(), parsed.time(), tz)

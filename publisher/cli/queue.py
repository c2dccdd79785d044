"""`publisher queue …` and `publisher log`: queue articles, look at and change posts, read the
delivery log. Listings take `--json` (a JSON array, one object per post or delivery); tables
show times in the newsroom's zone, with the zone's name."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from publisher.cli import UsageError, app, env, split_names
from publisher.cli.compose import UrlOption
from publisher.cli.output import console

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from rich.table import Table
    from sqlalchemy import Engine

    from publisher.actions import Someone
    from publisher.config import Settings
    from publisher.engine.planning.slots import When

queue_app = typer.Typer(
    help="Queue posts and manage them before they go out.", no_args_is_help=True
)
app.add_typer(queue_app, name="queue")

PostId = Annotated[int, typer.Argument(help="The post's id (see `publisher queue list`)")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts")]
By = Annotated[
    str | None, typer.Option(help="Who acts, for the post's record (default: your login name)")
]
HEADLINE_WIDTH = 60


def actor(by: str | None) -> str:
    """Who acts from the command line: as given, else the login name."""
    if by:
        return by
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def editor(by: str | None) -> Someone:
    """Who acts from the command line, as `publisher.actions` knows them: an approver, since
    whoever runs it holds the newsroom's configuration and database already."""
    from publisher.actions import Someone

    return Someone(actor(by), approver=True)


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def shorten(text: str, width: int) -> str:
    """`text` cut at a word boundary to fit `width` characters, marked with "…"."""
    if len(text) <= width:
        return text
    cut = text[: width - 1].rsplit(" ", 1)[0] if " " in text[: width - 1] else text[: width - 1]
    return cut.rstrip(" ,;:-–") + "…"


def plural(count: int, word: str, words: str | None = None) -> str:
    """ "1 post", "2 posts"; `words` for plurals that are not word + s."""
    return f"{count} {word}" if count == 1 else f"{count} {words or word + 's'}"


def posts_table(rows: Sequence[Mapping[str, Any]], title: str, zone: ZoneInfo) -> Table:
    """Posts as a table: id, channel, state, due time in the newsroom's zone, headline, note."""
    from rich.table import Table

    from publisher.clock import shown
    from publisher.engine.posts.listings import post_note

    table = Table(title=title, title_justify="left")
    for column in ("id", "channel", "state", "due", "attempts", "headline", "note"):
        table.add_column(column, overflow="fold")
    for row in rows:
        state = f"{row['state']} (held)" if row["held"] else row["state"]
        table.add_row(
            str(row["id"]),
            row["channel"],
            state,
            shown(_time(row["due_at"]), zone),
            str(row["attempts"]),
            shorten(row["headline"], HEADLINE_WIDTH),
            shorten(post_note(row), 100),
        )
    return table


def _time(value: str | None) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(value) if value else None


def _when(now: bool, at: str | None, next_slot: bool, best: bool, settings: Settings) -> When:
    from publisher import actions

    if sum([now, at is not None, next_slot, best]) > 1:
        raise UsageError("choose one of --now, --at, --next-slot and --best")
    return actions.when("best" if best else "next" if next_slot else at, settings)


def known_channel(engine: Engine, settings: Settings, name: str | None) -> str | None:
    """`name` when it is a configured channel or one the database has posts of, else a
    UsageError listing the names there are."""
    if name is None or name in settings.channels:
        return name
    from publisher.engine.posts.listings import channels_in_store

    known = set(settings.channels) | channels_in_store(engine)
    if name in known:
        return name
    raise UsageError(f"unknown channel {name!r} (known: {', '.join(sorted(known))})")


@queue_app.command("add")
def add_command(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Article JSON, text/Markdown, HTML file, - or URL")],
    channels: Annotated[
        str | None, typer.Option(help="Configured channel names (default: all)")
    ] = None,
    now: Annotated[bool, typer.Option("--now", help="Send as soon as possible (default)")] = False,
    at: Annotated[
        str | None,
        typer.Option(
            help="HH:MM today, +15m or +2h, or an ISO 8601 date and time (newsroom's zone)"
        ),
    ] = None,
    next_slot: Annotated[
        bool, typer.Option("--next-slot", help="Each channel's next free slot")
    ] = False,
    best: Annotated[
        bool,
        typer.Option(
            "--best",
            help="The free time within [timing] horizon that each channel's history says "
            "earns most (its next slot while its history is short; breaking news: now)",
        ),
    ] = False,
    url: UrlOption = None,
    force: Annotated[bool, typer.Option("--force", help="Queue even if already queued")] = False,
    by: By = None,
    as_json: AsJson = False,
) -> None:
    """Queue an article's teasers on some or all channels."""
    from publisher import actions
    from publisher.engine.posts.listings import list_posts
    from publisher.intake.sources import load_article

    ctx_env = env(ctx)
    ctx_env.engine  # noqa: B018 - opened first: the settings then carry what channels learned
    settings = ctx_env.settings
    when = _when(now, at, next_slot, best, settings)
    names = split_names(channels, "--channels")
    article = load_article(source, settings, url=url)
    if best:
        for name, why in actions.short_histories(ctx_env.engine, settings, names).items():
            print(f"{name}: {why}", file=sys.stderr)
    ids = actions.queue_article(
        ctx_env.engine, settings, article, names, when, force=force, by=actor(by)
    )
    rows = list_posts(ctx_env.engine, settings, include_done=True, post_ids=ids)
    if as_json:
        print_json(rows)
        return
    _print(posts_table(rows, f"queued {plural(len(ids), 'post')}", settings.tz))
    for name, whom in actions.reach(ctx_env.engine, settings, [r["channel"] for r in rows]).items():
        print(
            f"{name} reaches {whom.total:,} people: {whom.free_form:,} with the text, "
            f"{whom.template:,} with the approved template (billed by Meta)"
        )


def _print(renderable: Any) -> None:

    console().print(renderable)


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
    from publisher.engine.posts.listings import list_posts

    engine, settings = env(ctx).existing_engine, env(ctx).settings
    channel = known_channel(engine, settings, channel)
    rows = list_posts(engine, settings, include_done=include_done, channel=channel)
    if as_json:
        print_json(rows)
    else:
        _print(posts_table(rows, plural(len(rows), "post"), settings.tz))


@queue_app.command("show")
def show_command(
    ctx: typer.Context,
    post_id: PostId,
    as_json: AsJson = False,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Deliveries to list, newest first [default: 1000]")
    ] = None,
    offset: Annotated[int, typer.Option(min=0, help="Deliveries to skip first")] = 0,
) -> None:
    """One post: its text, state and its delivery attempts (a page of them for a post to many
    recipients, with what became of their messages)."""

    from publisher.engine.posts import verbs
    from publisher.engine.posts.post_detail import show_post

    settings = env(ctx).settings
    shown = show_post(env(ctx).existing_engine, settings, post_id, limit=limit, offset=offset)
    # The text's version, which an approval names (`queue approve --version`).
    detail = {**shown, "version": verbs.text_version(shown["text"])}
    if as_json:
        print_json(detail)
        return
    out = console()
    out.print(posts_table([detail], f"post {post_id}", settings.tz))
    for line in (detail["text"], f"link: {detail['link']}", f"version: {detail['version']}"):
        out.print(line, markup=False, highlight=False)
    if shown["fan_out"]:
        out.print(fan_out_line(shown["fan_out"]), markup=False, highlight=False)
    if shown["deliveries"]:
        out.print(deliveries_table(shown["deliveries"], "deliveries", settings.tz))
    listed = offset + len(shown["deliveries"])
    if offset or listed < shown["deliveries_total"]:
        out.print(
            f"deliveries {offset + 1}–{listed}: {len(shown['deliveries'])} of "
            f"{shown['deliveries_total']} deliveries"
            + (f"; --offset {listed} for more" if listed < shown["deliveries_total"] else ""),
            markup=False,
            highlight=False,
        )


def fan_out_line(fan_out: Mapping[str, Any]) -> str:
    """What became of a post's messages to many recipients, in one line."""
    counts = ", ".join(
        f"{fan_out[key]:,} {key}" for key in ("sent", "delivered", "read", "failed", "unclear")
    )
    reasons = "; ".join(f"{r['count']:,} × {r['reason']}" for r in fan_out["reasons"])
    return f"{fan_out['recipients']:,} recipients: {counts}" + (f" ({reasons})" if reasons else "")


@queue_app.command("edit")
def edit_command(
    ctx: typer.Context,
    post_id: PostId,
    text: Annotated[str | None, typer.Argument(help="The new text (or use --file)")] = None,
    file: Annotated[
        Path | None, typer.Option(help="Read the new text from a file, - for stdin")
    ] = None,
    without_link: Annotated[
        bool,
        typer.Option(
            "--without-link", help="Post the text even though it no longer holds the article link"
        ),
    ] = False,
    by: By = None,
) -> None:
    """Replace a post's text; it is checked against the channel's rules first."""
    from publisher import actions
    from publisher.engine.posts import queue as queue_ops

    if text is None and file is None:
        raise UsageError("give the new text, or --file with it")
    if text is not None and file is not None:
        raise UsageError("give the new text or --file, not both")
    if file is not None:
        text = sys.stdin.read() if str(file) == "-" else _read(file)
    assert text is not None
    try:
        actions.apply(
            env(ctx).engine,
            env(ctx).settings,
            "edit",
            post_id,
            editor(by),
            text=text.rstrip("\n"),
            without_link=without_link,
        )
    except queue_ops.LinkMissing as exc:
        raise UsageError(f"{exc}; add --without-link to post it so") from None
    print(f"post {post_id} edited")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read ({exc})") from None


@queue_app.command("approve")
def approve_command(
    ctx: typer.Context,
    post_id: PostId,
    version: Annotated[
        str | None,
        typer.Option(
            help="The version of the text you read (`publisher queue show` prints it); "
            "without it, the text is shown on a terminal and you confirm it"
        ),
    ] = None,
    by: By = None,
) -> None:
    """Let a post that waits for approval go out at its time: the approval covers exactly the
    text you read, and is refused if it changed since."""
    from publisher import actions
    from publisher.engine.posts import verbs
    from publisher.engine.posts.post_detail import show_post

    engine, settings = env(ctx).engine, env(ctx).settings
    if version is None:
        if not sys.stdin.isatty():
            raise UsageError(
                f"an approval names the text it covers: read it with `publisher queue show "
                f"{post_id}` and add --version with the version printed there"
            )
        text = show_post(engine, settings, post_id)["text"]
        print(text)
        if not typer.confirm(f"approve post {post_id} with exactly this text?", default=False):
            raise typer.Exit(1)
        version = verbs.text_version(text)
    actions.apply(engine, settings, "approve", post_id, editor(by), seen=version)
    print(f"post {post_id} approved: {going_words(engine, settings, post_id)}")


def going_words(engine: Engine, settings: Settings, post_id: int) -> str:
    """When a post goes out, as the command line says it (never a time already past)."""
    from publisher.clock import shown
    from publisher.engine.posts.overdue import going

    timing = going(engine, post_id)
    if timing.waits:
        return "it waits for an approver"
    if timing.held:
        return "it goes out once its channel is resumed (paused now)"
    if timing.now:
        return "it goes out now"
    return f"it goes out at {shown(timing.at, settings.tz)}"


@queue_app.command("cancel")
def cancel_command(ctx: typer.Context, post_id: PostId, by: By = None) -> None:
    """Withdraw a post that has not gone out."""
    from publisher import actions

    actions.apply(env(ctx).engine, env(ctx).settings, "cancel", post_id, editor(by))
    print(f"post {post_id} cancelled")


@queue_app.command("retry")
def retry_command(ctx: typer.Context, post_id: PostId, by: By = None) -> None:
    """Send a failed or uncertain post again now (check the platform first for uncertain ones)."""
    from publisher import actions

    actions.apply(env(ctx).engine, env(ctx).settings, "retry", post_id, editor(by))
    print(f"post {post_id} queued again")


@queue_app.command("mark-sent")
def mark_sent_command(
    ctx: typer.Context,
    post_id: PostId,
    permalink: Annotated[str | None, typer.Option(help="Where the post is online")] = None,
    by: By = None,
) -> None:
    """Record that an uncertain post did go out."""
    from publisher import actions

    ctx_env = env(ctx)
    actions.apply(
        ctx_env.engine, ctx_env.settings, "sent", post_id, editor(by), permalink=permalink
    )
    print(f"post {post_id} marked sent")


@queue_app.command("reconcile")
def reconcile_command(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Look uncertain posts up on the platforms that can tell (X, Facebook, Threads,
    LinkedIn); those found become sent, the others wait for an editor."""
    import dataclasses

    from publisher.engine.delivery.reconcile import reconcile

    results = reconcile(env(ctx).existing_engine, env(ctx).settings)
    if as_json:
        print_json([dataclasses.asdict(r) for r in results])
        return
    for result in results:
        where = f"post {result.post_id} on {result.channel}"
        if result.found:
            print(f"{where}: online ({result.permalink})")
        elif not result.asked:
            print(
                f"{where}: this platform cannot be asked whether it went out; look on the "
                f"channel, then `publisher queue mark-sent {result.post_id}` if it is there, "
                f"or `publisher queue retry {result.post_id}` if it is not"
            )
        elif result.error:
            print(f"{where}: could not look it up ({result.error}); still uncertain")
        else:
            print(f"{where}: not among the account's posts yet; still uncertain")
    if not results:
        print("no post is uncertain")


def deliveries_table(rows: Sequence[Mapping[str, Any]], title: str, zone: ZoneInfo) -> Table:
    """Delivery attempts as a table, times in the newsroom's zone."""
    from rich.table import Table

    from publisher.clock import shown

    table = Table(title=title, title_justify="left")
    for column in ("id", "post", "channel", "attempt", "outcome", "started", "ms", "detail"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            str(row["id"]),
            str(row["post_id"]),
            row["channel"],
            str(row["attempt"]),
            row["outcome"] if row["action"] == "send" else f"{row['action']}: {row['outcome']}",
            shown(_time(row["started_at"]), zone, seconds=True),
            str(row["latency_ms"] if row["latency_ms"] is not None else ""),
            row["error"] or row["permalink"] or row["remote_id"] or "",
        )
    return table


@app.command("log")
def log_command(
    ctx: typer.Context,
    channel: Annotated[str | None, typer.Option(help="Only this channel")] = None,
    outcome: Annotated[
        str | None,
        typer.Option(help="sent, failed, transient, rate_limited, auth, uncertain, released"),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only deliveries from this time on (ISO 8601; newsroom time)"),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    as_json: AsJson = False,
) -> None:
    """The delivery log: every attempt, newest first."""
    from publisher.engine.posts.listings import OUTCOMES, list_deliveries

    settings = env(ctx).settings
    engine = env(ctx).existing_engine
    channel = known_channel(engine, settings, channel)
    if outcome is not None and outcome not in OUTCOMES:
        raise UsageError(f"unknown outcome {outcome!r} (known: {', '.join(OUTCOMES)})")
    start = parse_since(since, settings.tz) if since is not None else None
    rows = list_deliveries(engine, channel=channel, outcome=outcome, since=start, limit=limit)
    if as_json:
        print_json(rows)
    else:
        title = plural(len(rows), "delivery", "deliveries")
        _print(deliveries_table(rows, title, settings.tz))


def parse_since(value: str, zone: ZoneInfo) -> Any:
    from datetime import datetime

    from publisher.engine.planning.slots import local_slot

    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--since {value!r} is not an ISO 8601 time") from None
    return parsed if parsed.tzinfo else local_slot(parsed.date(), parsed.time(), zone)

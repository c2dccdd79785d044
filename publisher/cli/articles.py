"""`publisher articles withdraw ID`: take an article back (a correction, a takedown): every post
of it not yet out is cancelled at once, those out are taken down, and nothing posts it again.
`publisher articles correct ID --note TEXT`: make the fix where the error was shared.
`publisher articles resurface`: give archive articles another turn now, as the `[[resurface]]`
rules say. `publisher articles import SOURCE`: bring the back catalogue in, without posting it."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from publisher.cli import app, env
from publisher.cli.queue import AsJson, By, editor, parse_since, print_json

if TYPE_CHECKING:
    from collections.abc import Callable

    from publisher.engine.releases.archive import Imported

articles_app = typer.Typer(help="Stored articles.", no_args_is_help=True)
app.add_typer(articles_app, name="articles")


@articles_app.command("withdraw")
def withdraw_command(
    ctx: typer.Context,
    article: Annotated[str, typer.Argument(help="The article's CMS id (else its address)")],
    reason: Annotated[str, typer.Option(help="Why, for the posts' history")] = "",
    keep_sent: Annotated[
        bool, typer.Option("--keep-sent", help="Leave the posts already out standing, this once")
    ] = False,
    by: By = None,
    as_json: AsJson = False,
) -> None:
    """Withdraw an article: cancel every post of it not yet out, take down those out (where
    their channel's on_withdraw and platform allow), and post it no more."""
    from publisher import actions

    done = actions.withdraw_article(
        env(ctx).engine, env(ctx).settings, article, editor(by), reason, keep_sent=keep_sent
    )
    if as_json:
        print_json({"article": article, **done.to_json()})
        return
    print(f"article {article} withdrawn; posts cancelled: {_listed(done.cancelled)}")
    if done.taking_down:
        print(f"being taken down by the worker (publisher run): {_listed(done.taking_down)}")
    if done.kept:
        print(f"left standing, as asked: {_listed(done.kept)}")
    for post_id in done.cannot:
        print(f"post {post_id} stays: its platform lets no post be removed")
    if done.notices:
        print(f"its readers are sent a notice: {_listed(done.notices)}")
    for post_id in done.in_flight:
        if post_id not in done.taking_down:
            print(f"post {post_id} was going out as it was withdrawn: look for it on its platform")


@articles_app.command("correct")
def correct_command(
    ctx: typer.Context,
    article: Annotated[str, typer.Argument(help="The article's CMS id (else its address)")],
    note: Annotated[str, typer.Option(help="What was wrong and what is right")],
    by: By = None,
    as_json: AsJson = False,
) -> None:
    """Correct an article where the error stood: its posts out are edited in place or get
    the correction under them (as their channel's on_correct says), its posts not yet out
    wait for an editor."""
    from publisher import actions

    done = actions.correct_article(env(ctx).engine, env(ctx).settings, article, editor(by), note)
    if as_json:
        print_json({"article": article, **done.to_json()})
        return
    print(f"article {article} corrected")
    if done.edited:
        print(f"being edited on their platforms (publisher run): {_listed(done.edited)}")
    if done.follow_ups:
        print(f"the correction goes out under them as: {_listed(done.follow_ups)}")
    if done.left:
        print(f"left as they are (on_correct = none): {_listed(done.left)}")
    if done.held:
        print(f"not yet out, now waiting for an editor: {_listed(done.held)}")


def _listed(ids: list[int]) -> str:
    return ", ".join(map(str, ids)) or "none"


@articles_app.command("resurface")
def resurface_command(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Give archive articles another turn now, as the [[resurface]] rules say (`publisher run`
    does it every hour)."""
    from publisher.engine.releases.resurface import resurface

    turns = resurface(env(ctx).engine, env(ctx).settings)
    if as_json:
        print_json([turn.__dict__ | {"due": turn.due.isoformat()} for turn in turns])
        return
    for turn in turns:
        print(f"post {turn.post_id}: {turn.article} again on {turn.channel} ({turn.rule})")
    if not turns:
        print("no archive article is due another turn")


@articles_app.command("import")
def import_command(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(
            help="A sitemap or sitemap index, a feed, or a JSON-lines file of Article JSON "
            "(a file, or an http(s) address)"
        ),
    ],
    limit: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="Articles to store at most in this run")
    ] = 10_000,
    since: Annotated[
        str | None,
        typer.Option(help="Only articles published from this time on (ISO 8601; newsroom time)"),
    ] = None,
    fetch_pages: Annotated[
        bool,
        typer.Option(help="Fetch the pages of articles the listing gives no headline of"),
    ] = True,
    as_json: AsJson = False,
) -> None:
    """Store the archive's articles without posting them, for resurfacing and the desk's search.
    Articles already stored are passed over, so a run that stopped is started again as it
    was."""
    from publisher.engine.releases.archive import ArchiveImport

    settings = env(ctx).settings
    start = parse_since(since, settings.tz) if since else None
    with Progress() as progress:
        done = ArchiveImport(
            env(ctx).engine,
            settings,
            most=limit,
            since=start,
            fetch_pages=fetch_pages,
            progress=progress,
        ).run(source)
    if as_json:
        print_json(done.__dict__)
        return
    print(_summary(done, limit))
    for why in done.reasons:
        print(f"left out: {why}", file=sys.stderr)


def _summary(done: Imported, limit: int) -> str:
    parts = [f"{done.known:,} already stored"]
    if done.older:
        parts.append(f"{done.older:,} published before --since")
    if done.left_out:
        parts.append(f"{done.left_out:,} left out")
    more = (
        f"; the limit of {limit:,} was reached: run it again for more"
        if done.stored >= limit
        else ""
    )
    return (
        f"stored {done.stored:,} articles from {done.documents:,} documents "
        f"({', '.join(parts)}){more}"
    )


class Progress:
    """On a terminal, a line on standard error counting what the import did so far."""

    def __enter__(self) -> Callable[[Imported], None]:
        self.shown = sys.stderr.isatty()
        return self.show

    def show(self, done: Imported) -> None:
        if self.shown:
            print(
                f"\rstored {done.stored:,} · already stored {done.known:,} · "
                f"left out {done.left_out:,}",
                end="",
                file=sys.stderr,
                flush=True,
            )

    def __exit__(self, *_: object) -> None:
        if self.shown:
            print(file=sys.stderr)

"""`publisher articles withdraw ID`: take an article back (a correction, a takedown): every post
of it not yet out is cancelled at once, and nothing posts it again. `publisher articles
resurface`: give archive articles another turn now, as the `[[resurface]]` rules say."""

from __future__ import annotations

from typing import Annotated

import typer

from publisher.cli import app, env
from publisher.cli.queue import AsJson, By, editor, print_json

articles_app = typer.Typer(help="Stored articles.", no_args_is_help=True)
app.add_typer(articles_app, name="articles")


@articles_app.command("withdraw")
def withdraw_command(
    ctx: typer.Context,
    article: Annotated[str, typer.Argument(help="The article's CMS id (else its address)")],
    reason: Annotated[str, typer.Option(help="Why, for the posts' history")] = "",
    by: By = None,
    as_json: AsJson = False,
) -> None:
    """Withdraw an article: cancel every post of it not yet out, and post it no more."""
    from publisher import actions

    done = actions.withdraw_article(env(ctx).engine, article, editor(by), reason)
    if as_json:
        print_json({"article": article, **done.to_json()})
        return
    cancelled = ", ".join(map(str, done.cancelled)) or "none"
    print(f"article {article} withdrawn; posts cancelled: {cancelled}")
    for post_id in done.in_flight:
        print(f"post {post_id} was going out as it was withdrawn: look for it on its platform")


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

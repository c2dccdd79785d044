"""`publisher compose`: preview or print as JSON each channel's teaser for an article."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from publisher.cli import app, env, split_names
from publisher.cli.output import console

if TYPE_CHECKING:
    from rich.panel import Panel

    from publisher.channels import Teaser

UrlOption = Annotated[
    str | None,
    typer.Option(help="The article's link, used instead of the one SOURCE names (if any)"),
]


def teaser_panel(key: str, teaser: Teaser, *, fill: bool = True) -> Panel:
    """A teaser as editors read it: the text, its length against the limit, bullets used; as wide
    as the screen with `fill`, else as its text."""
    from rich.panel import Panel
    from rich.text import Text

    state = "green" if teaser.length <= teaser.limit else "red"
    notes = [f"{teaser.length}/{teaser.limit} {teaser.unit}", f"{teaser.bullets} bullets"]
    if teaser.truncated:
        notes.append("headline shortened")
    title = f"{key} ({teaser.channel})" if key != teaser.channel else key
    body = Text(teaser.text)
    if teaser.link not in teaser.text:
        # The platform shows the link beside the text (Facebook's link card).
        body.append(f"\n\nlink: {teaser.link}", style="dim")
    return Panel(
        body,
        title=f"[bold]{title}[/bold]",
        subtitle=f"[{state}]{' · '.join(notes)}[/{state}]",
        subtitle_align="right",
        expand=fill,
    )


@app.command("compose")
def compose_command(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Article JSON, text/Markdown, HTML file, - or URL")],
    channels: Annotated[
        str | None,
        typer.Option(help="Channel names or types, comma-separated (default: every platform)"),
    ] = None,
    url: UrlOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the compose JSON contract")
    ] = False,
) -> None:
    """Show each channel's teaser for an article, with its length against the limit."""
    from publisher import roster
    from publisher.intake.sources import load_article
    from publisher.teasers import compose, compose_json

    settings, names = env(ctx).settings, split_names(channels, "--channels")
    chosen = roster.resolve(settings, names)
    # The database is opened only for a channel that learned its platform's rules there.
    if roster.learns(settings, chosen):
        settings = env(ctx).stored_settings()
        chosen = roster.resolve(settings, names)
    article = load_article(source, settings, url=url)
    teasers = compose(article, chosen, settings)
    if as_json:
        print(json.dumps(compose_json(article, teasers), ensure_ascii=False, indent=2))
        return
    from rich.text import Text

    out = console()
    out.print(Text(article.headline, style="bold"))
    out.print(Text(article.url, style="dim"))
    for key, teaser in teasers.items():
        out.print(teaser_panel(key, teaser, fill=out.is_terminal))

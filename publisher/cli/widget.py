"""`publisher widget SOURCE`: the article page's share bar and follow box, or with `--meta` its
Open Graph and Twitter card tags."""

from __future__ import annotations

from typing import Annotated

import typer

from publisher.cli import app, env
from publisher.cli.compose import UrlOption


@app.command("widget")
def widget_command(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Article JSON, text dump, HTML page or URL")],
    url: UrlOption = None,
    meta: Annotated[bool, typer.Option("--meta", help="Print the link-preview tags")] = False,
) -> None:
    """Print the share widget's HTML (or, with --meta, the link-preview tags) for an article."""
    from publisher.intake.sources import load_article
    from publisher.web.widget import render_meta, render_widget

    settings = env(ctx).settings
    article = load_article(source, settings, url=url)
    print(render_meta(article, settings) if meta else render_widget(article, settings))

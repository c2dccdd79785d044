"""The `publisher` command line: what editors and scripts run. Bad input ends with one line on
stderr and exit status 2, never a traceback."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from channels import ComposeError
from publisher.articles import ArticleError
from publisher.config import ConfigError, Settings, load_settings
from publisher.sources import load_article
from publisher.teasers import compose, compose_json, resolve_channels

app = typer.Typer(
    help="Turn articles into channel-ready social posts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
USAGE_ERROR = 2


class UsageError(Exception):
    """Input an editor can fix; shown as one line."""


def _settings(ctx: typer.Context) -> Settings:
    return ctx.obj["settings"]


@app.callback()
def _main(
    ctx: typer.Context,
    config: Annotated[
        str | None,
        typer.Option(
            "--config", help="TOML config file (else $PUBLISHER_CONFIG, else ./publisher.toml)"
        ),
    ] = None,
) -> None:
    ctx.obj = {"settings": load_settings(config)}


def _split_channels(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise UsageError("--channels names no channel")
    return names


@app.command("compose")
def compose_command(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Article JSON, text/Markdown, HTML file, - or URL")],
    channels: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated channel names or types (default: x,facebook,whatsapp,telegram)"
        ),
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="The article's link, when SOURCE has none")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the compose JSON contract")
    ] = False,
) -> None:
    """Show each channel's teaser for an article, with its length against the limit."""
    settings = _settings(ctx)
    article = load_article(source, settings, url=url)
    teasers = compose(article, resolve_channels(settings, _split_channels(channels)), settings)
    if as_json:
        print(json.dumps(compose_json(article, teasers), ensure_ascii=False, indent=2))
        return
    console = Console()
    console.print(Text(article.headline, style="bold"))
    console.print(Text(article.url, style="dim"))
    for key, teaser in teasers.items():
        state = "green" if teaser.length <= teaser.limit else "red"
        notes = [f"{teaser.length}/{teaser.limit} {teaser.unit}", f"{teaser.bullets} bullets"]
        if teaser.truncated:
            notes.append("headline shortened")
        title = f"{key} ({teaser.channel})" if key != teaser.channel else key
        console.print(
            Panel(
                Text(teaser.text),
                title=f"[bold]{title}[/bold]",
                subtitle=f"[{state}]{' · '.join(notes)}[/{state}]",
                subtitle_align="right",
            )
        )
        if teaser.type == "facebook":
            console.print(Text(f"  link: {teaser.link}", style="dim"))


def main() -> None:
    """Console entry point: runs the app and turns known errors into one line and exit 2."""
    try:
        app(prog_name="publisher")
    except (ArticleError, ComposeError, ConfigError, UsageError) as exc:
        print(f"publisher: {exc}", file=sys.stderr)
        sys.exit(USAGE_ERROR)
    except Exception as exc:  # the last line of defence: a bug, still no traceback for editors
        if os.environ.get("PUBLISHER_DEBUG"):
            raise
        print(
            f"publisher: unexpected {type(exc).__name__}: {exc} (PUBLISHER_DEBUG=1 shows details)",
            file=sys.stderr,
        )
        sys.exit(1)

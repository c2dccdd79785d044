"""`publisher bot`: the editors' Telegram bot on its own."""

from __future__ import annotations

import logging

import typer

from publisher.cli import app, env, long_running


@app.command("bot")
def bot_command(ctx: typer.Context) -> None:
    """Run the editors' Telegram bot until stopped (token from TELEGRAM_BOT_TOKEN)."""
    from publisher.bot import run_forever  # python-telegram-bot's Application, only here

    logging.getLogger("publisher").setLevel(logging.INFO)
    long_running()
    run_forever(env(ctx).engine, env(ctx).settings)

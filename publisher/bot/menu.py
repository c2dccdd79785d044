"""The bot's commands in one table: the handler each calls, the list Telegram shows in the
editor's language, and what /help says."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Command:
    """One command: its name, the handler it calls (a method of the bot's handlers), the
    catalogue key of what it takes (None: nothing), and whether menus show it."""

    name: str
    handler: str
    args: str | None = None
    shown: bool = True


COMMANDS = (
    Command("queue", "queue", "command_args_queue"),
    Command("list", "list"),
    Command("log", "log"),
    Command("stats", "stats"),
    Command("show", "show", "command_args_post"),
    Command("edit", "edit", "command_args_edit"),
    Command("approve", "approve", "command_args_post"),
    Command("cancel", "cancel", "command_args_post"),
    Command("retry", "retry", "command_args_post"),
    Command("pause", "pause", "command_args_pause"),
    Command("resume", "resume", "command_args_channel"),
    Command("withdraw", "withdraw", "command_args_withdraw"),
    Command("correct", "correct", "command_args_correct"),
    Command("help", "help"),
    # What Telegram sends when someone opens the chat with the bot.
    Command("start", "help", shown=False),
)


def menu(say: Callable[..., str]) -> list[tuple[str, str]]:
    """The command list Telegram shows, described in the language of `say`."""
    return [(command.name, say(f"command_{command.name}")) for command in COMMANDS if command.shown]


def usage(name: str, say: Callable[..., str]) -> str:
    """What the bot answers to a command given without what it takes: how it is given."""
    (command,) = [command for command in COMMANDS if command.name == name]
    takes = f" {say(command.args)}" if command.args else ""
    return say("usage", usage=f"/{command.name}{takes}")


def help_text(say: Callable[..., str]) -> str:
    """What /help says (Telegram HTML): every command with what it takes and does."""
    lines = [say("help_intro")]
    for command in COMMANDS:
        if command.shown:
            takes = f" {escape(say(command.args))}" if command.args else ""
            lines.append(f"/{command.name}{takes} – {escape(say(f'command_{command.name}'))}")
    lines.append(say("help_times"))
    return "\n".join(lines)

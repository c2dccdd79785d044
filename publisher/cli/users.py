"""`publisher users add|list|remove`: the editors who may sign in to the web desk."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from publisher.cli import UsageError, app, env
from publisher.cli.output import console
from publisher.cli.queue import AsJson, print_json

users_app = typer.Typer(help="Editors of the web desk.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
def add_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Sign-in name")],
    role: Annotated[str, typer.Option(help="editor or approver")] = "editor",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="Only the proxy's sign-in header admits them")
    ] = False,
) -> None:
    """Add a user, or change an existing user's role and password."""
    from publisher.engine.posts.users import add_user

    password: str | None = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not no_password:
        if not sys.stdin.isatty():
            raise UsageError(
                "no terminal to type a password in: pass it on standard input with "
                "--password-stdin, or use --no-password for a user the proxy signs in"
            )
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    user = add_user(env(ctx).engine, name, password, role)  # type: ignore[arg-type]
    print(f"user {user.name} ({user.role}) saved")


@users_app.command("list")
def list_command(ctx: typer.Context, as_json: AsJson = False) -> None:
    """The users and their roles."""
    from rich.table import Table

    from publisher.engine.posts.users import list_users

    rows = list_users(env(ctx).existing_engine)
    if as_json:
        print_json(rows)
        return
    table = Table(title="users", title_justify="left")
    for column in ("name", "role", "password"):
        table.add_column(column)
    for row in rows:
        table.add_row(str(row["name"]), str(row["role"]), "yes" if row["password"] else "no")
    console().print(table)


@users_app.command("remove")
def remove_command(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Remove a user; their sessions end at their next request."""
    from publisher.engine.posts.users import remove_user

    remove_user(env(ctx).existing_engine, name)
    print(f"user {name} removed")

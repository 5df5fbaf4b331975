"""``catalyst user …``: manage accounts from the shell (the same rules as ``/api/users``).

Changes are audited with the actor ``system:cli``. They go straight to the database, so a
running host notices a disabled account or a reset password within its session cache time
(5 seconds); through the API it is at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from catalyst.db import migrate
from catalyst.db.engine import create_engine, session_factory
from catalyst.domain.roles import Actor, user_json
from catalyst.domain.users import UserService
from catalyst.errors import CatalystError
from catalyst.settings import Settings

app = typer.Typer(help="User account commands.", no_args_is_help=True)
console = Console(stderr=True)
out = Console()

#: The audit actor of every change made through this CLI (the shell may grant anything).
CLI_ACTOR = Actor("system:cli")
T = TypeVar("T")

Username = Annotated[str, typer.Argument(help="The account's username")]
RoleName = Annotated[
    str, typer.Option("--role", "-r", help="admin, operator, viewer or a custom role")
]
PasswordOpt = Annotated[
    str | None, typer.Option(help="Password (at least 8 characters; generated when omitted)")
]


def _run(action: Callable[[UserService], Awaitable[T]]) -> T:
    """Migrate, run ``action`` against the configured database, exit 1 on a refused change."""
    settings = Settings()

    async def go() -> T:
        engine = create_engine(settings.database_url)
        try:
            await migrate.upgrade(engine)
            return await action(UserService(session_factory(engine)))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except CatalystError as exc:
        console.print(f"[red]Error:[/red] {exc.message}")
        raise typer.Exit(code=1) from None


def _check_password(password: str | None) -> None:
    if password is not None and not 8 <= len(password) <= 1024:
        console.print("[red]Error:[/red] the password needs 8 to 1024 characters")
        raise typer.Exit(code=2)


@app.command("create")
def create(username: Username, role: RoleName = "viewer", password: PasswordOpt = None) -> None:
    """Create an account with a role. Prints the password when it was generated."""
    _check_password(password)
    created = _run(lambda svc: svc.create_user(CLI_ACTOR, username, role, password))
    console.print(f"Created user {username!r} with role {role!r}")
    if created.password:
        console.print("Generated password (shown once):")
        out.print(created.password, highlight=False)


@app.command("list")
def list_users() -> None:
    """List the accounts with their roles and whether they may log in."""
    rows, _total = _run(lambda svc: svc.list_users(limit=10_000))
    table = Table("ID", "Username", "Roles", "Enabled")
    for user in rows:
        data = user_json(user)
        table.add_row(
            str(data["id"]),
            data["username"],
            ", ".join(data["roles"]),
            "yes" if data["enabled"] else "no",
        )
    out.print(table)


@app.command("set-role")
def set_role(username: Username, role: Annotated[str, typer.Argument(help="The new role")]) -> None:
    """Give an account a role (in place of the ones it has)."""
    _run(lambda svc: svc.set_role(CLI_ACTOR, username, role))
    console.print(f"{username} is now {role}")


@app.command("disable")
def disable(username: Username) -> None:
    """Stop an account from logging in and end its sessions."""
    _run(lambda svc: svc.set_enabled(CLI_ACTOR, username, False))
    console.print(f"{username} disabled")


@app.command("enable")
def enable(username: Username) -> None:
    """Let a disabled account log in again."""
    _run(lambda svc: svc.set_enabled(CLI_ACTOR, username, True))
    console.print(f"{username} enabled")


@app.command("reset-password")
def reset_password(username: Username, password: PasswordOpt = None) -> None:
    """Set a new password (generated when omitted) and end the account's sessions."""
    _check_password(password)
    _user, generated = _run(lambda svc: svc.reset_password(CLI_ACTOR, username, password))
    console.print(f"Password of {username} reset; its sessions ended")
    if generated:
        console.print("Generated password (shown once):")
        out.print(generated, highlight=False)

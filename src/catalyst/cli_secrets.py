"""``catalyst secrets rotate``: re-encrypt every stored secret with the current secret key.

After changing ``CATALYST_SECRET_KEY``, run it with the previous key (``--old-key`` or
``CATALYST_SECRET_KEY_PREVIOUS``): every sealed config value either key opens is sealed again
with the current key, in one transaction per plugin, and the run is audited. Afterwards the old
key is no longer needed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalyst import audit
from catalyst.crypto import SecretBox, SecretKeyError, is_sealed
from catalyst.db.engine import create_engine, session_factory
from catalyst.db.models import Plugin, utcnow
from catalyst.settings import Settings

app = typer.Typer(help="Secrets at rest: encryption key rotation.", no_args_is_help=True)
console = Console(stderr=True)

#: The audit actor of a rotation run from the command line.
ACTOR = "system:cli"


@dataclass
class Rotation:
    resealed: dict[str, list[str]] = field(default_factory=dict)
    unreadable: dict[str, list[str]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(len(keys) for keys in self.resealed.values())


async def rotate_all(sessions: async_sessionmaker[AsyncSession], box: SecretBox) -> Rotation:
    """Reseal with the current key every envelope not sealed with it; audit the run."""
    result = Rotation()
    async with sessions() as db:
        names = list((await db.scalars(select(Plugin.name).order_by(Plugin.name))).all())
    for name in names:
        async with sessions() as db, db.begin():
            conn = await db.connection()
            await conn.execute(  # write first: the row's (or SQLite's) write lock
                update(Plugin).where(Plugin.name == name).values(updated_at=utcnow())
            )
            stored = (
                await conn.execute(select(Plugin.config).where(Plugin.name == name))
            ).scalar_one() or {}
            config: dict[str, Any] = dict(stored)
            for key, value in stored.items():
                if not is_sealed(value) or box.is_current(value):
                    continue
                try:
                    config[key] = box.reseal(value)
                except SecretKeyError:
                    result.unreadable.setdefault(name, []).append(key)
                    continue
                result.resealed.setdefault(name, []).append(key)
            if name in result.resealed:
                await conn.execute(update(Plugin).where(Plugin.name == name).values(config=config))
    await audit.record(
        sessions,
        ACTOR,
        "secrets.rotate",
        "plugins.config",
        resealed=result.count,
        plugins=sorted(result.resealed),
        unreadable={k: v for k, v in sorted(result.unreadable.items())},
    )
    return result


@app.command("rotate")
def rotate(
    old_key: Annotated[
        str | None,
        typer.Option(
            "--old-key",
            help="The previous secret key (default: CATALYST_SECRET_KEY_PREVIOUS)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Re-encrypt every stored secret with the current CATALYST_SECRET_KEY."""
    settings = Settings()
    previous = old_key or settings.secret_key_previous
    box = SecretBox(settings.resolved_secret_key(), [previous])

    async def run() -> Rotation:
        engine = create_engine(settings.database_url)
        try:
            return await rotate_all(session_factory(engine), box)
        finally:
            await engine.dispose()

    result = asyncio.run(run())
    console.print(f"Re-encrypted {result.count} secret value(s) with the current key")
    if result.unreadable:
        for plugin, keys in sorted(result.unreadable.items()):
            console.print(
                f"[red]Plugin {plugin!r}: {', '.join(keys)} cannot be decrypted with the current "
                "or the old key; pass the key they were saved with as --old-key[/red]"
            )
        raise typer.Exit(code=1)

"""``catalyst plugin ...``: scaffold a plugin and validate a plugin folder without a server."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from catalyst import __version__
from catalyst.auth.permissions import CATALOG
from catalyst.plugins.discovery import discover_one

app = typer.Typer(help="Plugin author tools.", no_args_is_help=True)
console = Console()

TEMPLATE = '''"""{display}: a Catalyst plugin."""

from __future__ import annotations

from typing import Any

from catalyst.sdk import PluginContext, Request


def on_load(ctx: PluginContext) -> None:
    @ctx.get("/hello")
    async def hello(request: Request) -> dict[str, Any]:
        return {{"success": True, "message": ctx.get_config("greeting")}}

    ctx.logger.info("loaded")


def on_enable(ctx: PluginContext) -> None:
    ctx.logger.info("enabled")


def on_disable(ctx: PluginContext) -> None:
    ctx.logger.info("disabled")
'''


@app.command()
def new(
    name: Annotated[str, typer.Argument(help="Plugin name: lowercase letters, digits and '-'")],
    directory: Annotated[
        Path, typer.Option("--dir", help="Plugins folder", envvar="CATALYST_PLUGINS_DIR")
    ] = Path("catalyst-plugins"),
    author: Annotated[str, typer.Option(help="Author")] = "Unknown",
) -> None:
    """Create a plugin folder with a manifest, a backend module and a README."""
    if not re.fullmatch(r"[a-z0-9-]{1,50}", name):
        console.print(f"[red]'{name}' is not a plugin name: use a-z, 0-9 and '-', 1–50 chars")
        raise typer.Exit(2)
    folder = directory / name
    if folder.exists():
        console.print(f"[red]{folder} already exists")
        raise typer.Exit(1)
    display = name.replace("-", " ").title()
    manifest = {
        "name": name,
        "version": "0.1.0",
        "displayName": display,
        "description": f"{display} for Catalyst",
        "author": author,
        "catalystVersion": f">={__version__}",
        "permissions": [],
        "backend": {"entry": "backend/plugin.py"},
        "config": {
            "greeting": {
                "type": "string",
                "label": "Greeting",
                "default": f"Hello from {display}!",
                "description": "What GET /hello answers",
            }
        },
    }
    (folder / "backend").mkdir(parents=True)
    (folder / "plugin.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (folder / "backend" / "plugin.py").write_text(TEMPLATE.format(display=display))
    (folder / "README.md").write_text(
        f"# {display}\n\n`GET /api/plugins/{name}/hello` answers the configured greeting.\n"
    )
    console.print(f"Created {folder}. Enable it in the admin UI or with the admin API.")


@app.command()
def validate(folder: Annotated[Path, typer.Argument(help="A plugin folder")]) -> None:
    """Check a plugin folder's manifest; prints every problem with its JSON path."""
    if not (folder / "plugin.json").is_file():
        console.print(f"[red]{folder} has no plugin.json")
        raise typer.Exit(2)
    source = discover_one(folder, host_version=__version__, permission_catalog=CATALOG.keys())
    for warning in source.warnings:
        console.print(f"  warning: {warning.path or '(file)'}: {warning.message}", markup=False)
    if source.ok:
        assert source.manifest is not None
        console.print(f"[green]{source.name} {source.manifest.version}: valid")
        return
    console.print(f"[red]{source.name}: {len(source.errors)} problem(s)")
    for error in source.errors:
        console.print(f"  {error.path or '(file)'}: {error.message}", markup=False)
    raise typer.Exit(1)

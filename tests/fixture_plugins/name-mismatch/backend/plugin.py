"""A minimal valid plugin: the four lifecycle hooks, doing nothing."""

from typing import Any


def on_load(ctx: Any) -> None:
    pass


def on_enable(ctx: Any) -> None:
    pass


def on_disable(ctx: Any) -> None:
    pass


def on_unload(ctx: Any) -> None:
    pass

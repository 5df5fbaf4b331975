"""Hidden slots: how plugin-facing objects hold host objects without an attribute path to them.

A class declares the slot in ``__slots__`` and then hands it to :class:`HiddenSlot`, which takes
the slot's descriptor off the class. The value still lives in the object (and the garbage
collector still sees it), but no attribute name reaches it any more: ``getattr(obj, "_core")``,
``vars(obj)`` and ``dir(obj)`` all come up empty, so neither a typo nor an exploring plugin
author stumbles onto the host's session factory, engine or manager.

This prevents accidents, not malice. Code running in the host process can still reach anything
through this module's globals, closure cells, ``gc.get_referrers`` or frame inspection: in-process
plugins are trusted code (docs/PLUGIN_DEVELOPMENT.md, "Trust and isolation").
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")


class HiddenSlot(Generic[T]):
    """The descriptor of slot ``name`` of ``cls``, removed from the class."""

    __slots__ = ("_descriptor", "_owner")

    def __init__(self, cls: type, name: str) -> None:
        descriptor = cls.__dict__[name]
        if not hasattr(descriptor, "__set__"):
            raise TypeError(f"{cls.__name__}.{name} is not a slot")
        self._descriptor: Any = descriptor
        self._owner = cls
        delattr(cls, name)

    def get(self, obj: object) -> T:
        return cast(T, self._descriptor.__get__(obj, self._owner))

    def set(self, obj: object, value: T) -> None:
        self._descriptor.__set__(obj, value)

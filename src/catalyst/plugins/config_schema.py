"""The ``config`` schema of a manifest (:class:`ConfigField`) and the values checked against it.

The admin API saves values through :func:`validate_changes`, the runtime reads them through
:func:`effective_config`, and every value shown to a browser goes through :func:`masked` so secrets
never leave the host. A secret that comes back as :data:`SECRET_MASK` means "leave it unchanged".

A field may also be written as its bare default, as the original system's quick start does
(``"config": {"someOption": "default value"}``): the value's JSON type becomes the field's type
(string, number, integer, boolean, array or object) and the value its default.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "SECRET_MASK",
    "ConfigField",
    "ConfigType",
    "SelectOption",
    "effective_config",
    "environment",
    "field_problems",
    "is_field_spec",
    "masked",
    "schema_json",
    "shorthand_type",
    "validate_changes",
    "validate_value",
]

#: What a secret that is set looks like outside the host.
SECRET_MASK: Final = "********"

_TEXT_TYPES: Final = frozenset({"string", "text", "secret", "password"})
_NUMERIC_TYPES: Final = frozenset({"number", "integer"})
#: Types whose min/max are checked: the value for numbers, the length for string and text.
_BOUNDED_TYPES: Final = frozenset({"number", "integer", "string", "text"})


ConfigType = Literal[
    "string",
    "text",
    "number",
    "integer",
    "boolean",
    "select",
    "secret",
    "password",
    "array",
    "object",
]
#: Keys that make an object a field declaration rather than a bare object default.
_SPEC_MARKERS: Final = ("type", "default", "description", "options", "required", "secret")


def shorthand_type(value: Any) -> ConfigType | None:
    """The field type a bare default implies (None for ``null``, which implies none)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return None


def is_field_spec(value: Any) -> bool:
    """A field declaration (an object with ``type``, ``default`` or another declaration key such
    as ``description``), not a bare object default."""
    return isinstance(value, dict) and any(k in value for k in _SPEC_MARKERS)


class SelectOption(BaseModel):
    """One choice of a select field, when its label differs from its value."""

    model_config = ConfigDict(extra="forbid", strict=True)

    value: str
    label: str


def _option_item(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """One readable error instead of one per member of ``str | SelectOption``."""
    try:
        return handler(value)
    except ValidationError:
        message = "expected a string or an object with string 'value' and 'label'"
        raise PydanticCustomError("select_option", message) from None


OptionItem = Annotated[str | SelectOption, WrapValidator(_option_item)]


_ENV_NAME: Final = re.compile(r"[A-Z_][A-Z0-9_]{0,63}")
_ENV_RESERVED: Final = frozenset({"PATH", "LANG", "HOME", "TMPDIR", "PYTHONDONTWRITEBYTECODE"})


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise ValueError(f"'{value}' is not an environment variable name: use A-Z, 0-9 and '_'")
    if value in _ENV_RESERVED or value.startswith(("PYTHON", "LD_", "CATALYST_")):
        raise ValueError(f"'{value}' is set by the runtime and cannot come from config")
    return value


class ConfigField(BaseModel):
    """One key of the manifest's ``config`` schema."""

    model_config = ConfigDict(extra="forbid", strict=True)

    type: ConfigType
    default: Any = None
    description: str = ""
    label: str | None = None
    options: list[OptionItem] | None = None
    min: float | None = None
    max: float | None = None
    required: bool = False
    secret: bool = False
    #: Process runtime: the value is also given to the plugin's child as this environment
    #: variable (a change starts a new child). Not a name the runtime sets itself.
    env: Annotated[str, AfterValidator(_env_name)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_shorthand(cls, data: Any) -> Any:
        """A bare default → a field of its type; a declaration without a type → typed by its
        default. ``null`` and other values are left for the normal checks to report."""
        if not is_field_spec(data):
            kind = shorthand_type(data)
            return {"type": kind, "default": data} if kind else data
        if "type" not in data and (kind := shorthand_type(data.get("default"))) is not None:
            return {**data, "type": kind}
        return data

    @property
    def is_secret(self) -> bool:
        """True for values that must never be shown: secret/password types or ``secret: true``."""
        return self.secret or self.type in ("secret", "password")

    def option_values(self) -> list[str]:
        """The values a select field accepts."""
        return [o if isinstance(o, str) else o.value for o in self.options or []]

    def option_list(self) -> list[dict[str, str]]:
        """The options as ``{"value", "label"}`` objects (a plain string is its own label)."""
        return [
            {"value": o, "label": o} if isinstance(o, str) else o.model_dump()
            for o in self.options or []
        ]


def _show(value: Any) -> str:
    """A short, readable form of a value for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(value: float) -> int | float:
    """``3.0`` as ``3``: bounds are stored as floats but usually written as integers."""
    return int(value) if math.isfinite(value) and float(value).is_integer() else value


def _check_type(kind: str, value: Any, shown: str) -> None:
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected an integer, got {shown}")
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {shown}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {shown}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {shown}")
    elif kind in _TEXT_TYPES:
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {shown}")
    elif kind == "array":
        if not isinstance(value, list):
            raise ValueError(f"expected an array, got {shown}")
    elif kind == "object":
        if not isinstance(value, dict):
            raise ValueError(f"expected an object, got {shown}")
    elif kind != "select":
        raise ValueError(f"unknown config type {kind!r}")


def _check_bounds(field: ConfigField, value: Any, shown: str) -> None:
    if field.type in _NUMERIC_TYPES:
        measured, unit = value, ""
    elif field.type in ("string", "text"):
        measured, unit = len(value), " characters"
    else:
        return
    if field.min is not None and measured < field.min:
        raise ValueError(f"must be at least {_number(field.min)}{unit}, got {shown}")
    if field.max is not None and measured > field.max:
        raise ValueError(f"must be at most {_number(field.max)}{unit}, got {shown}")


def validate_value(field: ConfigField, value: Any) -> Any:
    """Return ``value`` when it fits ``field``; raise ValueError saying why when it does not.

    ``None`` means "no value" and is refused only for required fields. Integers are accepted for
    ``number``; booleans are never numbers. Messages never repeat a secret's value.
    """
    if value is None:
        if field.required:
            raise ValueError("a value is required")
        return None
    shown = "a hidden value" if field.is_secret else _show(value)
    _check_type(field.type, value, shown)
    if field.type == "select":
        allowed = field.option_values()
        if not isinstance(value, str) or value not in allowed:
            choices = ", ".join(repr(v) for v in allowed) or "(none declared)"
            raise ValueError(f"expected one of {choices}, got {shown}")
    _check_bounds(field, value, shown)
    return value


def field_problems(spec: ConfigField) -> list[tuple[str, str]]:
    """Mistakes in a well-formed field's declaration, as ``(sub-path, message)``.

    The sub-path is relative to the field: ``("default", "default does not fit …")``.
    """
    problems: list[tuple[str, str]] = []
    if spec.type == "select" and not spec.options:
        problems.append(("options", "a select field needs a non-empty list of options"))
    if spec.options is not None and spec.type != "select":
        problems.append(("options", f"options only apply to select fields, not {spec.type}"))
    seen: set[str] = set()
    for i, value in enumerate(spec.option_values()):
        if value in seen:
            problems.append((f"options.{i}", f"duplicate option '{value}'"))
        seen.add(value)
    bounds_ok = True
    for key, bound in (("min", spec.min), ("max", spec.max)):
        if bound is None:
            continue
        if spec.type not in _BOUNDED_TYPES:
            bounds_ok = False
            problems.append((key, f"{key} only applies to number, integer, string and text"))
        elif not math.isfinite(bound):
            bounds_ok = False
            problems.append((key, f"{key} must be a finite number, got {bound!r}"))
    if bounds_ok and spec.min is not None and spec.max is not None and spec.min > spec.max:
        bounds_ok = False
        low, high = _number(spec.min), _number(spec.max)
        problems.append(("min", f"min ({low}) is greater than max ({high})"))
    checkable = bounds_ok and (spec.type != "select" or bool(spec.options))
    if spec.default is not None and checkable:
        try:
            validate_value(spec, spec.default)
        except ValueError as exc:
            problems.append(("default", f"default does not fit the field: {exc}"))
    return problems


def validate_changes(
    schema: Mapping[str, ConfigField], changes: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check a batch of changes: ``(accepted values, error message per key)``.

    A secret sent back as :data:`SECRET_MASK` is unchanged and therefore not in the accepted
    values. The caller decides whether a batch with errors is saved at all.
    """
    accepted: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, value in changes.items():
        field = schema.get(key)
        if field is None:
            known = ", ".join(schema) or "none"
            errors[key] = f"Unknown config key '{key}' (known: {known})"
            continue
        if field.is_secret and value == SECRET_MASK:
            continue
        try:
            accepted[key] = validate_value(field, value)
        except ValueError as exc:
            errors[key] = str(exc)
    return accepted, errors


def effective_config(schema: Mapping[str, ConfigField], saved: Mapping[str, Any]) -> dict[str, Any]:
    """The values a plugin sees: each key's default, overlaid with its saved value.

    Keys no longer in the schema are dropped. A saved ``None``, or a saved value that no longer
    fits the field (its type changed in a plugin update), falls back to the default.
    """
    result: dict[str, Any] = {}
    for key, field in schema.items():
        value = saved.get(key)
        if value is not None:
            try:
                result[key] = validate_value(field, value)
            except ValueError:
                pass
            else:
                continue
        result[key] = copy.deepcopy(field.default)
    return result


def masked(schema: Mapping[str, ConfigField], values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with every secret that is set (not None, not empty) replaced by the mask."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        field = schema.get(key)
        hidden = field is not None and field.is_secret and value not in (None, "")
        out[key] = SECRET_MASK if hidden else value
    return out


def schema_json(schema: Mapping[str, ConfigField]) -> dict[str, Any]:
    """The schema as the admin API shows it.

    Every field has ``type``, ``label`` (the key when none is declared), ``description``,
    ``default``, ``required`` and ``secret``; select fields have ``options`` as a list of
    ``{"value", "label"}``; bounded fields have ``min``/``max`` when declared. A secret's default
    is masked.
    """
    out: dict[str, Any] = {}
    for key, field in schema.items():
        default = field.default
        if field.is_secret and default not in (None, ""):
            default = SECRET_MASK
        entry: dict[str, Any] = {
            "type": field.type,
            "label": field.label or key,
            "description": field.description,
            "default": copy.deepcopy(default),
            "required": field.required,
            "secret": field.is_secret,
        }
        if field.options is not None:
            entry["options"] = field.option_list()
        if field.min is not None:
            entry["min"] = _number(field.min)
        if field.max is not None:
            entry["max"] = _number(field.max)
        out[key] = entry
    return out


def environment(schema: Mapping[str, ConfigField], values: Mapping[str, Any]) -> dict[str, str]:
    """The environment variables config fields declare (``env``), from effective ``values``:
    strings as they are, other values as JSON; unset values are left out."""
    env: dict[str, str] = {}
    for key, spec in schema.items():
        value = values.get(key)
        if spec.env and value is not None:
            env[spec.env] = value if isinstance(value, str) else json.dumps(value)
    return env

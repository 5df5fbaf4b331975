"""Config values against a plugin's schema (catalyst.plugins.config_schema)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalyst.auth.permissions import CATALOG
from catalyst.plugins.config_schema import (
    SECRET_MASK,
    ConfigField,
    ConfigType,
    SelectOption,
    effective_config,
    masked,
    schema_json,
    validate_changes,
    validate_value,
)
from catalyst.plugins.manifest import load_manifest

FIXTURES = Path(__file__).parent.parent / "fixture_plugins"


def field(kind: str, **extra: Any) -> ConfigField:
    return ConfigField.model_validate({"type": kind, **extra})


@pytest.fixture(scope="module")
def schema() -> dict[str, ConfigField]:
    _, result = load_manifest(
        FIXTURES / "good-plugin", host_version="1.0.0", permission_catalog=CATALOG
    )
    assert result.manifest is not None
    return result.manifest.config


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("string", "x"),
        ("string", ""),
        ("text", "many\nlines"),
        ("number", 1),
        ("number", -2.5),
        ("integer", 0),
        ("integer", 10**30),
        ("boolean", True),
        ("boolean", False),
        ("secret", "s3cret"),
        ("password", "pw"),
    ],
)
def test_accepted_values_are_returned_unchanged(kind: str, value: Any) -> None:
    result = validate_value(field(kind), value)
    assert result == value
    assert type(result) is type(value)


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("integer", "abc", "expected an integer, got 'abc'"),
        ("integer", "3", "expected an integer, got '3'"),
        ("integer", 3.0, "expected an integer, got 3.0"),
        ("integer", True, "expected an integer, got True"),
        ("number", "1.5", "expected a number, got '1.5'"),
        ("number", False, "expected a number, got False"),
        ("number", math.inf, "expected a finite number, got inf"),
        ("number", math.nan, "expected a finite number, got nan"),
        ("boolean", "true", "expected true or false, got 'true'"),
        ("boolean", 1, "expected true or false, got 1"),
        ("string", 5, "expected a string, got 5"),
        ("text", {"a": 1}, "expected a string, got {'a': 1}"),
    ],
)
def test_rejected_values_say_what_was_expected(kind: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=r"^expected") as info:
        validate_value(field(kind), value)
    assert str(info.value) == message


def test_long_values_are_shortened_in_messages() -> None:
    with pytest.raises(ValueError, match=r"\.\.\.$"):
        validate_value(field("integer"), "x" * 500)


def test_secret_values_never_appear_in_messages() -> None:
    for kind, extra in (("secret", {}), ("password", {}), ("integer", {"secret": True})):
        with pytest.raises(ValueError, match="a hidden value") as info:
            validate_value(field(kind, **extra), ["hunter2"] if kind != "integer" else "hunter2")
        assert "hunter2" not in str(info.value)


def test_none_is_allowed_unless_required() -> None:
    assert validate_value(field("integer"), None) is None
    with pytest.raises(ValueError, match=r"^a value is required$"):
        validate_value(field("integer", required=True), None)


def test_select_values_are_the_option_values() -> None:
    f = field("select", options=["a", {"value": "b", "label": "Bee"}])
    assert f.option_values() == ["a", "b"]
    assert validate_value(f, "b") == "b"
    for bad in ("Bee", "c", 1, ["a"]):
        with pytest.raises(ValueError, match="expected one of 'a', 'b', got"):
            validate_value(f, bad)


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("integer", 0, "must be at least 1, got 0"),
        ("integer", 11, "must be at most 10, got 11"),
        ("number", 0.5, "must be at least 1, got 0.5"),
        ("number", 10.01, "must be at most 10, got 10.01"),
        ("string", "", "must be at least 1 characters, got ''"),
        ("text", "x" * 11, "must be at most 10 characters, got 'xxxxxxxxxxx'"),
    ],
)
def test_min_and_max(kind: str, value: Any, message: str) -> None:
    f = field(kind, min=1, max=10)
    with pytest.raises(ValueError, match=r"^must be") as info:
        validate_value(f, value)
    assert str(info.value) == message
    assert validate_value(f, 1 if kind in ("integer", "number") else "x") is not None
    assert validate_value(f, 10 if kind in ("integer", "number") else "x" * 10) is not None


def test_min_and_max_keep_fractions() -> None:
    with pytest.raises(ValueError, match=r"^must be at least 0\.5, got 0\.25$"):
        validate_value(field("number", min=0.5), 0.25)


def test_is_secret() -> None:
    assert field("secret").is_secret
    assert field("password").is_secret
    assert field("string", secret=True).is_secret
    assert not field("string").is_secret


# --- validate_changes ------------------------------------------------------------------------


def test_validate_changes_splits_accepted_and_errors(schema: dict[str, ConfigField]) -> None:
    accepted, errors = validate_changes(
        schema, {"greeting": "Hi", "retries": "abc", "verbose": True, "ratio": 2}
    )
    assert accepted == {"greeting": "Hi", "verbose": True}
    assert errors == {
        "retries": "expected an integer, got 'abc'",
        "ratio": "must be at most 1, got 2",
    }


def test_unknown_key_lists_known_keys() -> None:
    accepted, errors = validate_changes({"a": field("string"), "b": field("integer")}, {"x": 1})
    assert accepted == {}
    assert errors == {"x": "Unknown config key 'x' (known: a, b)"}
    _, errors = validate_changes({}, {"x": 1})
    assert errors == {"x": "Unknown config key 'x' (known: none)"}


def test_masked_secret_means_unchanged(schema: dict[str, ConfigField]) -> None:
    accepted, errors = validate_changes(
        schema, {"apiKey": SECRET_MASK, "password": "new-one", "greeting": SECRET_MASK}
    )
    assert errors == {}
    # apiKey is left out; the mask is an ordinary string for a non-secret field.
    assert accepted == {"password": "new-one", "greeting": SECRET_MASK}


def test_none_clears_an_optional_value(schema: dict[str, ConfigField]) -> None:
    accepted, errors = validate_changes(schema, {"greeting": None, "apiKey": None})
    assert accepted == {"greeting": None}
    assert errors == {"apiKey": "a value is required"}


# --- effective_config, masked, schema_json ---------------------------------------------------


def test_effective_config_overlays_saved_values(schema: dict[str, ConfigField]) -> None:
    values = effective_config(schema, {"greeting": "Howdy", "gone": 1, "retries": 5})
    assert values == {
        "greeting": "Howdy",
        "notes": "",
        "ratio": 0.5,
        "retries": 5,
        "verbose": False,
        "mode": "fast",
        "apiKey": None,
        "password": None,
    }


def test_effective_config_falls_back_to_the_default(schema: dict[str, ConfigField]) -> None:
    # None means unset; a value the (updated) schema no longer accepts is not handed to the plugin.
    values = effective_config(schema, {"greeting": None, "retries": "three", "mode": "removed"})
    assert (values["greeting"], values["retries"], values["mode"]) == ("Hello", 3, "fast")


def test_effective_config_copies_defaults() -> None:
    f = ConfigField(type="text", default="x")
    f.default = ["mutable"]  # defaults are JSON values; a list must not be shared
    values = effective_config({"a": f}, {})
    values["a"].append("changed")
    assert f.default == ["mutable"]


def test_masked_hides_set_secrets_only(schema: dict[str, ConfigField]) -> None:
    values = {"apiKey": "k", "password": "", "greeting": "Hello", "extra": "kept"}
    assert masked(schema, values) == {
        "apiKey": SECRET_MASK,
        "password": "",
        "greeting": "Hello",
        "extra": "kept",
    }
    assert masked(schema, {"apiKey": None}) == {"apiKey": None}
    assert masked({"s": field("string", secret=True)}, {"s": "x"}) == {"s": SECRET_MASK}


def test_schema_json(schema: dict[str, ConfigField]) -> None:
    out = schema_json(schema)
    json.dumps(out)
    assert list(out) == list(schema)
    assert out["greeting"] == {
        "type": "string",
        "label": "greeting",
        "description": "Greeting text",
        "default": "Hello",
        "required": False,
        "secret": False,
        "max": 40,
    }
    assert out["mode"]["options"] == [
        {"value": "fast", "label": "fast"},
        {"value": "safe", "label": "Safe mode"},
    ]
    assert out["ratio"]["min"] == 0
    assert out["ratio"]["max"] == 1
    assert out["apiKey"]["label"] == "API key"
    assert out["apiKey"]["secret"] is True
    assert out["apiKey"]["required"] is True
    assert out["password"]["secret"] is True


def test_schema_json_masks_secret_defaults() -> None:
    out = schema_json({"pw": field("password", default="changeme"), "e": field("secret")})
    assert out["pw"]["default"] == SECRET_MASK
    assert out["e"]["default"] is None


# --- properties --------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
bounds = st.none() | st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)


@st.composite
def fields(draw: st.DrawFn) -> ConfigField:
    kind = draw(
        st.sampled_from(
            ["string", "text", "number", "integer", "boolean", "select", "secret", "password"]
        )
    )
    options = (
        draw(st.lists(st.text(max_size=5), min_size=1, max_size=4)) if kind == "select" else None
    )
    return ConfigField(
        type=cast(ConfigType, kind),
        options=cast(list[str | SelectOption] | None, options),
        min=draw(bounds),
        max=draw(bounds),
        required=draw(st.booleans()),
        secret=draw(st.booleans()),
    )


@given(fields(), json_values)
def test_validate_value_returns_the_value_or_raises_value_error(f: ConfigField, value: Any) -> None:
    try:
        result = validate_value(f, value)
    except ValueError as exc:
        message = str(exc)
    else:
        assert result is value
        return
    assert message


@given(
    st.dictionaries(st.sampled_from(["a", "b", "c"]), fields(), max_size=3),
    st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), json_values, max_size=4),
)
def test_validate_changes_partitions_the_keys(
    schema: dict[str, ConfigField], changes: dict[str, Any]
) -> None:
    accepted, errors = validate_changes(schema, changes)
    assert not set(accepted) & set(errors)
    assert set(accepted) | set(errors) <= set(changes)
    assert set(changes) - set(accepted) - set(errors) == {
        k for k, v in changes.items() if k in schema and schema[k].is_secret and v == SECRET_MASK
    }
    assert set(effective_config(schema, accepted)) == set(schema)

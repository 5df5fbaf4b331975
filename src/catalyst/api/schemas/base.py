"""The base of every answer model: camelCase JSON keys, and the one success envelope.

A model's fields are snake_case in Python and camelCase on the wire (``loaded_at`` →
``loadedAt``); models are built from Python names or from the wire names alike. Routes declare
``response_model=Envelope[...]``, so ``/openapi.json`` (and ``frontend/src/lib/types.ts``,
generated from it) show every answer's shape.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer
from pydantic.alias_generators import to_camel

T = TypeVar("T")

#: A JSON number the host hands on as it is: an integer stays an integer (``5``, not ``5.0``).
Number = int | float


def absent(value: Any) -> bool:
    """For ``exclude_if``: a key whose value is None is left out of the answer."""
    return value is None


def omitted() -> Any:
    """The default of a key that is in the answer only when it has a value: declare the field
    with its value's type (``min: Number = omitted()``), so the schema says "absent or a
    number", never null."""
    return Field(default=None, exclude_if=absent)


class WireModel(BaseModel):
    """camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True
    )


class SparseModel(WireModel):
    """A model whose optional keys are in the answer only when they were given (even as null):
    for answers whose keys depend on the case, e.g. a task's run status once it is scheduled."""

    # No return annotation on purpose: with one, Pydantic would describe the answer by it
    # (``Any``) instead of by the fields.
    @model_serializer(mode="wrap")
    def _given_keys_only(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data = handler(self)
        fields = type(self).model_fields
        given = {fields[name].alias or name for name in self.model_fields_set}
        required = {f.alias or name for name, f in fields.items() if f.is_required()}
        return {key: value for key, value in data.items() if key in given or key in required}


def _success_required(schema: dict[str, Any]) -> None:
    schema["required"] = ["success", *schema.get("required", [])]


class Envelope(WireModel, Generic[T]):
    """``{"success": true, "data": ..., "message": ...}``; ``data`` and ``message`` are left out
    when there is none. (Errors answer ``{"success": false, "error": "..."}``: the
    ``ErrorEnvelope`` of ``/openapi.json``.)"""

    model_config = ConfigDict(json_schema_extra=_success_required)

    success: bool = True
    data: T = omitted()
    message: str | None = Field(default=None, exclude_if=absent)


class ErrorEnvelope(BaseModel):
    """``{"success": false, "error": "..."}``, with ``errors`` (why each field was refused) only
    where there are such (config validation)."""

    model_config = ConfigDict(json_schema_extra=_success_required)

    success: Literal[False] = False
    error: str
    errors: dict[str, str] = omitted()

"""The OpenAPI document describes every answer by its model."""

from __future__ import annotations

from catalyst.api.schemas.base import ErrorEnvelope
from catalyst.app import create_app


def test_every_json_answer_is_documented_with_its_model() -> None:
    """``/docs`` and the generated UI types show each answer's real shape, not "any data"."""
    schema = create_app().openapi()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            answers = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
            assert answers, (method, path)
            for response in answers.values():
                content = response["content"]
                if "application/json" not in content:
                    assert path.endswith("/frontend/{path}"), (method, path)  # a file
                    continue
                ref = content["application/json"]["schema"]["$ref"]
                assert ref.startswith("#/components/schemas/Envelope_"), (method, path, ref)


def test_the_documented_error_envelope_is_the_model() -> None:
    documented = create_app().openapi()["components"]["schemas"]["ErrorEnvelope"]
    model = ErrorEnvelope.model_json_schema(mode="serialization")
    assert documented["required"] == model["required"] == ["success", "error"]
    assert list(documented["properties"]) == list(model["properties"])
    assert ErrorEnvelope(error="No").model_dump() == {"success": False, "error": "No"}

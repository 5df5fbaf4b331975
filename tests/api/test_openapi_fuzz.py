"""Schemathesis over the whole ``/openapi.json``: 0 server errors, 0 schema violations.

A real server (uvicorn in a thread, a migrated database, the example plugin enabled) is fuzzed as
the admin (bearer token): every operation with generated valid and invalid input, then the
stateful scenarios the document's links allow (create a server → get/start/stop/delete it; list
plugins → get/reload one). Checks: no 5xx, every answer's status is documented and its body
matches the documented schema. Reproducible: Hypothesis runs derandomized (a fixed seed), with a
bounded number of examples and no example database.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import ServerError
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from tests.plugin_helpers import EXAMPLE
from tests.threaded_harness import ThreadedHarness

pytestmark = pytest.mark.slow

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
#: Examples per operation (stateless) and scenarios (stateful): bounded so the run stays short.
EXAMPLES = 10
SCENARIOS = 10
#: Operations left out, and why.
SKIPPED = {
    "POST /api/auth/logout": "would revoke the token the fuzzer authenticates with",
    # once the fuzzer has created a second admin, these may end its own account's sessions
    "POST /api/users/{user_id}/password": "revokes the sessions of the account it resets",
    "POST /api/users/{user_id}/disable": "revokes the sessions of the account it disables",
    "PUT /api/users/{user_id}/role": "may take the fuzzer's own permissions away",
}
#: Server errors known and tracked elsewhere, tolerated (server errors only, on these operations
#: only). Empty: every operation must pass.
KNOWN_ELSEWHERE: dict[str, str] = {}


def _fuzz_settings(examples: int) -> hypothesis_settings:
    return hypothesis_settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """(base URL, admin bearer headers) of a real server with the example plugin enabled.

    SQLite only, to keep ``make test`` short; the backends' differences are the data tests' job.
    """
    plugins = tmp_path / "plugins"
    shutil.copytree(EXAMPLE, plugins / "example-plugin")
    with ThreadedHarness(
        plugins_dir=plugins,
        log_level="critical",
        plugin_auto_enable=["example-plugin"],
        login_max_attempts_per_address=10**6,
    ) as server:
        yield server.base, {"Authorization": f"Bearer {server.token}"}


def _load(base: str) -> Any:
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    schema.config.update(base_url=base)
    return schema


def test_every_operation_answers_as_documented(served: tuple[str, dict[str, str]]) -> None:
    base, headers = served
    schema = _load(base)
    failures: list[str] = []
    known_failed: set[str] = set()
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in SKIPPED:
            continue
        tested += 1

        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @_fuzz_settings(EXAMPLES)
            def fuzz(case: schemathesis.Case[Any]) -> None:
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                fuzz()
            except Unsatisfiable:
                continue  # no invalid input exists (no parameters, or any string is valid)
            except (Exception, BaseExceptionGroup) as exc:  # collect every failure
                if operation.label in KNOWN_ELSEWHERE and _only_server_errors(exc):
                    known_failed.add(operation.label)
                else:
                    failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert tested >= 15
    assert not failures, "\n\n".join(failures)
    if known_failed:
        print(f"known failures owned elsewhere: {sorted(known_failed)}")


def _only_server_errors(exc: BaseException) -> bool:
    group = exc.exceptions if isinstance(exc, BaseExceptionGroup) else [exc]
    return all(isinstance(e, ServerError) for e in group)


def test_stateful_links_answer_as_documented(served: tuple[str, dict[str, str]]) -> None:
    base, headers = served
    schema = _load(base)
    # Only the document's own links: links Schemathesis infers from the answers' schemas would
    # also chain logout, disabling the fuzzer's account or its plugin (then answering 503).
    schema.config.phases.stateful.inference.algorithms = []
    machine = schema.as_state_machine()

    called: set[str] = set()

    class Workflow(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
            called.add(case.operation.label)
            return {"headers": headers}

        def validate_response(
            self, response: Any, case: schemathesis.Case[Any], **kwargs: Any
        ) -> None:
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except BaseExceptionGroup as exc:
                if case.operation.label in KNOWN_ELSEWHERE and _only_server_errors(exc):
                    return
                raise

    Workflow.run(settings=_fuzz_settings(SCENARIOS))
    # The links were followed: a created server was fetched, a listed plugin was looked at.
    assert "GET /api/servers/{server_id}" in called
    assert "GET /api/plugins/{name}" in called

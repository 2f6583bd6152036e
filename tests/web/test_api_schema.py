"""The OpenAPI document against the API: the same routes, and answers that match it.

The first test compares the app's routes under /api/v1 with the document's paths
and methods, both ways. The second lets schemathesis generate requests from the
document (valid and invalid ones) against a real app, on SQLite and on
PostgreSQL, with cases waiting for review, the constructed coverage and payment
files loaded, and a valid reviewer's token: no
answer may be a server error, each must be one the document describes, and every
operation must also succeed at least once (its document example does).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from consultant import api_tokens
from consultant.codes.importers import importer_for
from consultant.codes.importing import import_release
from consultant.services import Services
from consultant.web import create_app
from consultant.web.openapi import document
from tests.codes.test_code_page import MEDICARE_FILES
from tests.support.code_updates import ICD10CM_ORDER, icd10cm_october_2025
from tests.support.corpus import HCPCS_ZIP
from tests.web.helpers import REVIEWER, add_reviewer, store_question

SEEDED = tuple(f"CC-{n:06d}" for n in range(1, 6))
# The case each action's document example runs on (the others' run on CC-000001).
OWN_CASE = {
    "draft": "CC-000002",
    "claim": "CC-000003",
    "approve": "CC-000004",
    "reject": "CC-000005",
}
EXAMPLES = 25  # per operation and database: the whole test stays well under a minute
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch"})
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    ignored_auth,
    unsupported_method,
]


def test_the_document_names_exactly_the_apps_routes(services: Services) -> None:
    app = create_app(services)
    served: set[tuple[str, str]] = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            served |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    described = {
        (path, method)
        for path, operations in document()["paths"].items()
        for method in operations
        if method in HTTP_METHODS
    }
    assert described == served
    assert app.test_client().get("/api/v1/openapi.json").get_json() == document()


@pytest.fixture
def token(services: Services) -> str:
    add_reviewer(services)
    return api_tokens.create(services.db, REVIEWER, "schemathesis").secret


@pytest.fixture
def api_app(services: Services, token: str, tmp_path: Path) -> Flask:
    """The app with five cases waiting for review, at draft v1 (SEEDED), coverage and
    payment data for the code lookups' examples to find (made-up values), and two
    ICD-10-CM releases for the code changes' example to compare."""
    updates = [("icd10cm", ICD10CM_ORDER), ("icd10cm", icd10cm_october_2025(tmp_path))]
    searched = [("hcpcs", HCPCS_ZIP)]  # codes and modifiers for the code search to find
    for kind, path in [*MEDICARE_FILES, *updates, *searched]:  # first: lookups keep releases
        import_release(services.db, importer_for(kind), [path])
    for name in ("01.eml", "02.eml", "03.eml", "04.eml", "05.eml"):
        store_question(services, name)
    return create_app(services)


@pytest.fixture
def api_schema(api_app: Flask) -> Any:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_app)
    # An unknown query parameter schemathesis adds is sometimes one it then does not send
    # (an empty list); the refusal of unknown parameters is tested in test_api.py instead.
    schema.config.generation.update(allow_extra_parameters=False)
    return schema


def generated(operation: Any) -> st.SearchStrategy[Any]:
    """Valid and invalid requests for ``operation``; for a case's routes, most of them on
    the seeded cases (made-up references name no case)."""
    strategies = [operation.as_strategy(mode) for mode in GenerationMode]
    if "{reference}" in operation.path:
        strategies += [
            operation.as_strategy(mode, path_parameters={"reference": reference})
            for mode in GenerationMode
            for reference in SEEDED
        ]
    return st.one_of(strategies)


def own_case(operation: Any) -> str:
    return OWN_CASE.get(operation.path.rsplit("/", 1)[-1], SEEDED[0])


def closes_the_case(operation: Any) -> bool:
    """Approving and rejecting end the review: they run last, so the others find cases open."""
    return operation.path.endswith(("/approve", "/reject"))


def test_the_api_answers_as_its_document_says(api_schema: Any, token: str) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 15  # every route but the document itself
    answered: dict[str, Counter[int]] = {}
    examples: dict[str, Any] = {}

    def call(case: Any) -> Any:
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
        )
        answered.setdefault(case.operation.label, Counter())[response.status_code] += 1
        return response

    for operation in sorted(operations, key=closes_the_case):
        # The document's examples first, each action's on a case of its own, where they
        # must do what they say (an approval of v1 finds v1 current, and so on).
        for strategy in api_schema.get_strategies_from_examples(operation):

            @given(case=strategy)
            @settings(max_examples=1, database=None, phases=[Phase.generate])
            def example(case: Any) -> None:
                if case.path_parameters and "reference" in case.path_parameters:
                    case.path_parameters["reference"] = own_case(case.operation)
                examples[case.operation.label] = call(case).json()

            example()

        @given(case=generated(operation))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_documented(case: Any) -> None:
            call(case)

        answers_as_documented()
    # Not only refusals: every operation also did its job at least once.
    done = {label for label, statuses in answered.items() if any(s < 300 for s in statuses)}
    assert done == {operation.label for operation in operations}, answered
    # The coverage and fee examples found data, so their full answers met the schemas.
    coverage = examples["GET /api/v1/codes/{code}/coverage"]
    assert coverage["articles"][0]["diagnoses"][0]["status"] == "noncovered"
    fee = examples["GET /api/v1/codes/{code}/fee"]
    assert fee["amounts"]["non_facility"]["amount"] == "12.24"

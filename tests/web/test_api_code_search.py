"""GET /api/v1/codes: code sets, billable, modifiers, inclusion terms and corrections, for
a member's token as for an expert's, on SQLite and PostgreSQL (real ICD-10-CM and HCPCS
excerpts)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from consultant import api_tokens
from consultant.codes.importers import importer_for
from consultant.codes.importing import import_release
from consultant.roles import Role
from consultant.services import Services
from consultant.web import create_app
from tests.codes.test_code_page import TABULAR
from tests.support.corpus import HCPCS_ZIP
from tests.web.helpers import add_reviewer
from tests.web.test_api import Api

ON = "2026-11-02"


@pytest.fixture
def app(services: Services) -> Flask:
    for kind, path in (("icd10cm", TABULAR), ("hcpcs", HCPCS_ZIP)):
        import_release(services.db, importer_for(kind), [path])
    return create_app(services)


@pytest.fixture(params=[Role.MEMBER, Role.REVIEWER])
def api(request: pytest.FixtureRequest, app: Flask, services: Services) -> Api:
    email = f"{request.param}@clinic.example"
    add_reviewer(services, email, request.param)
    return Api(app.test_client(), api_tokens.create(services.db, email, "search").secret)


def codes(found: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(h["system"], h["kind"], h["code"]) for h in found["hits"]]


def test_a_misspelling_is_corrected_and_said(api: Api) -> None:
    found = api.ok("GET", f"/api/v1/codes?q=diabetis%20mellitus&on={ON}")
    assert found["corrections"] == [{"typed": "diabetis", "used": "diabetes"}]
    assert found["words"] == ["diabetes", "mellitus"]
    assert "E11.9" in {h["code"] for h in found["hits"]}


def test_code_sets_billable_modifiers_and_terms(api: Api) -> None:
    modifiers = api.ok("GET", f"/api/v1/codes?q=xs&set=modifiers&on={ON}")
    assert codes(modifiers) == [("HCPCS", "modifier", "XS")]
    assert modifiers["sets"] == ["modifiers"]
    ours = api.ok("GET", "/api/v1/codes?q=25")["hits"][0]
    assert (ours["code"], ours["kind"], ours["release"]) == ("25", "modifier", None)
    term = api.ok("GET", f"/api/v1/codes?q=kimmelstiel&on={ON}")["hits"][0]
    assert term["term"] == "Type 2 diabetes mellitus with Kimmelstiel-Wilson disease"
    both = api.ok("GET", f"/api/v1/codes?q=e11.2&set=ICD-10-CM&set=HCPCS&billable=true&on={ON}")
    assert [h["code"] for h in both["hits"]] == ["E11.21", "E11.22", "E11.29"]
    assert both["billable"] is True and both["total_capped"] is False


def test_a_wrong_filter_is_refused_by_name(api: Api) -> None:
    for query, named in (("set=SNOMED", "set"), ("billable=yes", "billable")):
        response = api.get(f"/api/v1/codes?q=e11&{query}")
        assert response.status_code == 400 and named in response.get_json()["error"]

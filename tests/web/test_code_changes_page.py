"""What changed on the web and in the API: the newest two releases by default, any two
chosen, the CSV download, and a member's access, on SQLite and PostgreSQL, with a real
HCPCS and ICD-10-CM release and a later one written in each file's layout."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from consultant import api_tokens
from consultant.codes.importers import importer_for
from consultant.codes.importing import import_release
from consultant.models import Role
from consultant.services import Services
from consultant.web import create_app
from tests.support.code_updates import (
    HCPCS_CHANGES,
    ICD10CM_CHANGES,
    ICD10CM_ORDER,
    hcpcs_april_2020,
    icd10cm_october_2025,
)
from tests.support.corpus import HCPCS_ZIP
from tests.web.helpers import Page, add_reviewer, get, sign_in

MEMBER = "coder@clinic.example"


@pytest.fixture
def app(services: Services, tmp_path: Path) -> Flask:
    for kind, path in (
        ("hcpcs", HCPCS_ZIP),
        ("hcpcs", hcpcs_april_2020(tmp_path)),
        ("icd10cm", ICD10CM_ORDER),
        ("icd10cm", icd10cm_october_2025(tmp_path)),
    ):
        import_release(services.db, importer_for(kind), [path])
    add_reviewer(services, MEMBER, Role.MEMBER)
    return create_app(services)


@pytest.fixture
def member(app: Flask) -> FlaskClient:
    client = app.test_client()
    sign_in(client, MEMBER)
    return client


def codes_in(page: Page, name: str) -> list[str]:
    return page.texts(f"//section[@class='changes-{name}']//tbody/tr/td[1]")


def test_a_member_opens_it_from_the_nav_on_the_newest_two_releases(member: FlaskClient) -> None:
    start = get(member, "/codes/E11.9")
    (link,) = start.tree.xpath("//nav[@class='main']/a[text()='What changed']/@href")
    page = get(member, link)
    assert page.text("//h1") == "What changed"
    assert page.tree.xpath("//select[@name='kind']/option[@selected]/@value") == ["icd10cm"]
    for name, codes in ICD10CM_CHANGES.items():
        assert codes_in(page, name) == codes

    page = get(member, "/codes/changes?kind=hcpcs")
    compared = page.text("//p[@class='compared']")
    assert compared.startswith("HCPCS Level II 2020 (from 2020-01-01")
    assert "to 2020-04 (from 2020-04-01" in compared
    totals = dict(
        zip(
            page.texts("//dl[@class='totals']//dt"),
            page.texts("//dl[@class='totals']//dd"),
            strict=True,
        )
    )
    assert totals == {"Added": "1", "Deleted": "2", "Revised": "3"}
    for name, codes in HCPCS_CHANGES.items():
        assert codes_in(page, name) == codes
    deleted = page.texts("//section[@class='changes-deleted']//tbody/tr")
    assert "terminated 2020-03-31 (still listed)" in deleted[1]
    assert "no longer listed" in deleted[0]
    (gone,) = page.tree.xpath("//section[@class='changes-deleted']//tbody/tr[1]/td[1]/a/@href")
    assert gone == "/codes/A0080?system=HCPCS&on=2020-01-01"


def test_two_releases_chosen_and_the_code_set_changed(member: FlaskClient) -> None:
    page = get(member, "/codes/changes?kind=icd10cm")
    for name, codes in ICD10CM_CHANGES.items():
        assert codes_in(page, name) == codes
    revised = page.texts("//section[@class='changes-revised']//tbody/tr")
    assert revised[0] == "A00.9 Cholera, unspecified type Description before: Cholera, unspecified"
    assert revised[3] == "A01.4 Paratyphoid fever, unspecified Billable \u2192 not billable"
    ids = page.tree.xpath("//select[@name='to']/option/@value")
    backwards = get(member, f"/codes/changes?kind=icd10cm&shown=icd10cm&from={ids[0]}&to={ids[1]}")
    assert codes_in(backwards, "added") == ICD10CM_CHANGES["deleted"]
    # A form sent after choosing another code set carries the other set's releases: ignored.
    switched = get(member, f"/codes/changes?kind=hcpcs&shown=icd10cm&from={ids[0]}&to={ids[1]}")
    assert codes_in(switched, "added") == HCPCS_CHANGES["added"]


def test_nothing_to_compare_is_said(member: FlaskClient) -> None:
    page = get(member, "/codes/changes?kind=icd10pcs")
    assert page.text("//p[@class='warning']") == (
        "No ICD-10-PCS release is loaded: there is nothing to compare."
    )
    assert not page.tree.xpath("//a[@class='download']")
    assert member.get("/codes/changes.csv?kind=icd10pcs").status_code == 302
    unknown = get(member, "/codes/changes?kind=icd10cm&shown=icd10cm&from=1999")
    assert "No ICD-10-CM release '1999' is loaded; these are" in unknown.text(
        "//p[@class='warning']"
    )


def test_the_csv_download_opens_safely_in_a_spreadsheet(member: FlaskClient) -> None:
    page = get(member, "/codes/changes?kind=hcpcs")
    (link,) = page.tree.xpath("//a[@class='download']/@href")
    response = member.get(link)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="hcpcs-changes-2020-to-2020-04.csv"'
    )
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffchange,code,description")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [r["code"] for r in rows] == [c for codes in HCPCS_CHANGES.values() for c in codes]
    (formula,) = [r for r in rows if r["code"] == "A0021"]
    assert formula["description"] == '\'=HYPERLINK("http://evil.example","Ambulance")'
    assert formula["previous description"].startswith("Ambulance service, outside state")


def test_the_api_gives_the_changes_to_a_members_token(app: Flask, services: Services) -> None:
    token = api_tokens.create(services.db, MEMBER, "script").secret
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    found = client.get("/api/v1/codes/changes?kind=icd10cm&from=2025-04", headers=headers)
    assert found.status_code == 200
    body = found.get_json()
    assert body["counts"] == {"added": 2, "deleted": 1, "revised": 4}
    assert (body["from"]["version"], body["to"]["version"], body["flag"]) == (
        "2025-04",
        "2025-10",
        "billable",
    )
    assert [c["code"] for c in body["changes"] if c["change"] == "revised"] == ICD10CM_CHANGES[
        "revised"
    ]
    for query, status in (
        ("", 400),
        ("?kind=mue", 400),
        ("?kind=icd10cm&from=%3Cb%3E", 400),
        ("?kind=icd10pcs", 404),
        ("?kind=icd10cm&to=2025-04", 404),
    ):
        refused = client.get(f"/api/v1/codes/changes{query}", headers=headers)
        assert refused.status_code == status, (query, refused.get_json())
        assert refused.get_json()["error"]

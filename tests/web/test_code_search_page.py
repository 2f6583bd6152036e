"""The code search page for every signed-in role, on SQLite and PostgreSQL: filters,
corrections and inclusion terms shown, modifiers, and each user's recent searches.

ICD-10-CM is the real April 2026 tabular excerpt, HCPCS Level II the real 2020 file.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from consultant.codes.importers import importer_for
from consultant.codes.importing import import_release
from consultant.models import Role
from consultant.services import Services
from consultant.web import create_app
from tests.codes.test_code_page import TABULAR
from tests.support.corpus import HCPCS_ZIP
from tests.web.helpers import Page, add_reviewer, get, sign_in, submit

ON = "2026-11-02"
MEMBER = "coder@clinic.example"
EXPERT = "expert@clinic.example"


@pytest.fixture
def app(services: Services) -> Flask:
    for kind, path in (("icd10cm", TABULAR), ("hcpcs", HCPCS_ZIP)):
        import_release(services.db, importer_for(kind), [path])
    add_reviewer(services, MEMBER, Role.MEMBER)
    add_reviewer(services, EXPERT, Role.REVIEWER)
    return create_app(services)


@pytest.fixture
def member(app: Flask) -> FlaskClient:
    client = app.test_client()
    sign_in(client, MEMBER)
    return client


def search(client: FlaskClient, **args: str | list[str]) -> Page:
    return get(client, "/codes/", query_string={"on": ON, **args})


def codes(page: Page) -> list[str]:
    return page.texts("//table[@class='code-results']/tbody/tr/td[1]")


def recent(page: Page) -> list[str]:
    return page.texts("//section[@class='recent-searches']//li/a")


@pytest.mark.parametrize("role", [Role.MEMBER, Role.REVIEWER, Role.ADMIN])
def test_every_role_searches_codes(app: Flask, services: Services, role: Role) -> None:
    email = f"{role}-user@clinic.example"
    add_reviewer(services, email, role)
    client = app.test_client()
    sign_in(client, email)
    page = search(client, q="e11.9")
    assert codes(page)[0] == "E11.9"
    assert page.tree.xpath("//nav[@class='main']/a[text()='Codes']/@href") == ["/codes/"]


def test_a_correction_is_said_and_the_corrected_word_marked(member: FlaskClient) -> None:
    page = search(member, q="diabetis mellitus")
    assert page.text("//p[@class='correction']") == (
        "Showing results for “diabetes mellitus”: nothing matched “diabetis”."
    )
    assert page.texts("//p[@class='correction']/strong") == ["diabetes"]
    assert "E11.9" in codes(page)
    assert page.text("//p[@class='search-summary']").endswith(
        "codes whose description has “diabetes mellitus” as of 2026-11-02, best matches first."
    )


def test_a_code_found_by_an_inclusion_term_shows_it(member: FlaskClient) -> None:
    page = search(member, q="kimmelstiel")
    (row,) = page.tree.xpath("//table[@class='code-results']/tbody/tr")
    assert row.xpath("string(td[1])").strip() == "E11.21"
    term = " ".join(row.xpath("string(td[2]/div[@class='term'])").split())
    assert term == "Inclusion term: Type 2 diabetes mellitus with Kimmelstiel-Wilson disease"


def test_a_modifier_is_listed_with_its_meaning_and_no_code_page_link(member: FlaskClient) -> None:
    page = search(member, q="XS")
    first = page.tree.xpath("//table[@class='code-results']/tbody/tr[1]")[0]
    assert first.xpath("td[1]/a") == [] and first.xpath("string(td[1])").strip() == "XS"
    meta = " ".join(first.xpath("string(td[2]/div[@class='meta'])").split())
    assert meta == "HCPCS Level II modifier · [HCPCS Level II 2020, effective 2020-01-01]"
    ours = search(member, q="modifier 25")
    assert ours.texts("//div[@class='meta']") == [
        "CPT modifier · our summary (CPT's own text is the AMA's)"
    ]
    summary = ours.text("//p[@class='search-summary']")
    assert summary == "1\u20131 of 1 modifiers “25” as of 2026-11-02."


def test_the_filters_narrow_the_search_and_stay_ticked(member: FlaskClient) -> None:
    page = search(member, q="colonoscopy", set="HCPCS", billable="1")
    assert "G0105" in codes(page) and "G6020" not in codes(page)  # terminated in 2015
    assert set(page.texts("//div[@class='meta']")) == {
        "HCPCS · [HCPCS Level II 2020, effective 2020-01-01]"
    }
    ticked = page.tree.xpath("//fieldset[@class='code-filters']//input[@checked]/@value")
    assert ticked == ["HCPCS", "1"]
    assert "G6020" in codes(search(member, q="colonoscopy", set="HCPCS"))
    none = search(member, q="colonoscopy", set=["ICD-10-CM", "modifiers"])
    assert codes(none) == []
    assert member.get("/codes/?q=e11&set=SNOMED").status_code == 400


def test_a_submitted_search_is_kept_and_listed_when_the_box_is_empty(member: FlaskClient) -> None:
    search(member, q="diabetes kidney")
    search(member, q="colonoscopy", set="HCPCS", billable="1")
    search(member, q="fracture radius", live="1")  # typed, not submitted
    search(member, q="fracture", page="2")  # a further page of a search
    page = search(member)
    assert recent(page) == ["colonoscopy", "diabetes kidney"]
    (link,) = page.tree.xpath("//section[@class='recent-searches']//li[1]/a/@href")
    again = get(member, link)
    assert again.tree.xpath("//input[@name='q']/@value") == ["colonoscopy"]
    assert again.tree.xpath("//fieldset//input[@checked]/@value") == ["HCPCS", "1"]
    assert recent(search(member, q="diabetes kidney")) == []  # a search shows its results


def test_patient_details_are_searched_but_never_kept(member: FlaskClient) -> None:
    page = search(member, q="Jane Doe DOB 04/05/1961 diabetes")
    assert page.text("//p[@class='not-kept']") == (
        "Not kept in your recent searches: it looks like patient details."
    )
    assert recent(search(member)) == []


def test_recent_searches_are_cleared_and_private(app: Flask, member: FlaskClient) -> None:
    search(member, q="diabetes kidney")
    expert = app.test_client()
    sign_in(expert, EXPERT)
    search(expert, q="modifier 59")
    assert recent(search(expert)) == ["modifier 59"]
    page = search(member)
    assert recent(page) == ["diabetes kidney"]
    cleared = submit(member, page, "/codes/recent/clear")
    assert cleared.text("//p[contains(@class, 'flash')]") == "Your recent searches are cleared."
    assert recent(cleared) == []
    assert recent(search(expert)) == ["modifier 59"]


def test_clearing_needs_a_signed_in_user_and_a_form_of_ours(app: Flask) -> None:
    client = app.test_client()
    assert client.post("/codes/recent/clear").status_code in (302, 400)
    sign_in(client, MEMBER)
    assert client.post("/codes/recent/clear").status_code == 400  # no CSRF token

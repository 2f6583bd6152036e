"""Code search and code pages through Flask's test client, on SQLite and PostgreSQL.

The CMS files imported here hold made-up values in the published layouts
(../shared/data/PROVENANCE.md); ICD-10-CM is a real excerpt.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient

from consultant.codes.importers import importer_for
from consultant.codes.importing import import_release
from consultant.models import Role
from consultant.services import Services
from consultant.web import create_app
from consultant.web.codes import code_link
from tests.codes.test_code_page import NEGATIVES, TABULAR, wide_ptp_file
from tests.support.corpus import AOC_FILE, MUE_FILE, PFS_FILE, PTP_FILE
from tests.web.helpers import HOSTILE, Page, add_reviewer, get, path_of, sign_in

ON = "2026-11-02"
ADMIN = "admin@clinic.example"
DASH = "\u2013"  # between the numbers of a range shown, "1\u201350 of 117"


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def signed_in(client: FlaskClient, services: Services) -> FlaskClient:
    add_reviewer(services)
    sign_in(client)
    return client


def load(services: Services, kind: str, path: Path) -> None:
    import_release(services.db, importer_for(kind), [path])


@pytest.fixture
def cms(services: Services) -> None:
    for kind, path in (("ncci-ptp", PTP_FILE), ("mue", MUE_FILE), ("aoc", AOC_FILE)):
        load(services, kind, path)
    load(services, "pfs", PFS_FILE)


@pytest.fixture
def icd(services: Services) -> None:
    load(services, "icd10cm", TABULAR)


def result_rows(page: Page) -> list[tuple[str, str, str]]:
    """(code, description, what and where from) of each search result, as the table shows."""
    rows = []
    for row in page.tree.xpath("//table[@class='code-results']/tbody/tr"):
        meta = " ".join(row.xpath("string(td[2]/div[@class='meta'])").split())
        description = " ".join(row.xpath("string(td[2]/text())").split())
        rows.append((row.xpath("string(td[1])").strip(), description, meta))
    return rows


# -- who may see them ---------------------------------------------------------------------------


def test_a_signed_out_visitor_is_sent_to_the_login(client: FlaskClient) -> None:
    for path in ("/codes/", "/codes/?q=E11", "/codes/29880", "/codes/E11.9?on=2026-01-01"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert path_of(response.headers["Location"]) == "/login", path


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.ADMIN])
@pytest.mark.usefixtures("icd")
def test_reviewers_and_admins_find_codes_from_the_nav(
    client: FlaskClient, services: Services, role: Role
) -> None:
    add_reviewer(services, ADMIN, role)
    queue = sign_in(client, ADMIN)
    (link,) = queue.tree.xpath("//nav[@class='main']/a[text()='Codes']/@href")
    search = get(client, link)
    assert search.text("//h1") == "Codes"
    assert search.tree.xpath("//form[@class='code-search']/@method") == ["get"]
    assert search.tree.xpath("//script/@src") == ["/static/code_search.js"]
    page = get(client, "/codes/E11.9")
    assert page.text("//h1") == "ICD-10-CM E11.9: Type 2 diabetes mellitus without complications"


def test_no_page_here_takes_a_post(signed_in: FlaskClient) -> None:
    assert signed_in.post("/codes/", data={"q": "E11"}).status_code in (400, 405)
    assert signed_in.post("/codes/E11.9").status_code in (400, 405)


def test_the_search_script_is_served_from_the_app(signed_in: FlaskClient) -> None:
    response = signed_in.get("/static/code_search.js")
    assert response.status_code == 200
    assert response.mimetype in ("text/javascript", "application/javascript")
    response.close()


# -- search -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("icd")
def test_search_by_code_lists_the_code_first_linked_to_its_page(signed_in: FlaskClient) -> None:
    page = get(signed_in, f"/codes/?q=e11&on={ON}")
    rows = result_rows(page)
    assert rows[0] == (
        "E11",
        "Type 2 diabetes mellitus",
        "ICD-10-CM heading · [ICD-10-CM 2026-04, effective 2026-04-01]",
    )
    assert rows[1][0] == "E11.0"
    assert page.text("//p[@class='search-summary']").startswith(
        f"1{DASH}50 of 117 codes starting with"
    )
    (first,) = page.tree.xpath("//table[@class='code-results']/tbody/tr[1]/td[1]/a/@href")
    target = urlsplit(first)
    assert target.path == "/codes/E11"
    assert parse_qs(target.query) == {"on": [ON], "system": ["ICD-10-CM"]}
    assert get(signed_in, first).text("//h1") == "ICD-10-CM E11: Type 2 diabetes mellitus"
    (opener,) = page.tree.xpath("//a[starts-with(text(), 'Open the page of')]/@href")
    assert path_of(opener) == "/codes/E11"


@pytest.mark.usefixtures("icd")
def test_search_by_words_is_ranked_and_paged(signed_in: FlaskClient) -> None:
    page = get(signed_in, f"/codes/?q=fracture+radius&on={ON}")
    assert result_rows(page)[0] == (
        "S52.12",
        "Fracture of head of radius",
        "ICD-10-CM heading · [ICD-10-CM 2026-04, effective 2026-04-01]",
    )
    summary = page.text("//p[@class='search-summary']")
    assert summary.startswith(f"1{DASH}50 of 1,455 codes whose description has “fracture radius”")
    (following,) = page.tree.xpath("//nav[@class='pages']/a[@rel='next']/@href")
    second = get(signed_in, following)
    assert second.text("//p[@class='search-summary']").startswith(f"51{DASH}100 of 1,455")
    assert not set(result_rows(second)) & set(result_rows(page))


@pytest.mark.usefixtures("icd")
def test_a_hostile_query_is_shown_as_text_and_searched_as_words(signed_in: FlaskClient) -> None:
    for query in (HOSTILE, '" OR 1=1 --', "NEAR(diabetes", "x" * 500):
        page = get(signed_in, "/codes/", query_string={"q": query})
        assert "<script>alert(1)</script>" not in page.html
        assert page.tree.xpath("//input[@name='q']/@value") == [query[:200]]
        assert page.tree.xpath("//script[not(@src)]") == []


def test_bad_parameters_are_refused_with_a_reason(signed_in: FlaskClient) -> None:
    bad_date = signed_in.get("/codes/29880?on=2026-13-01")
    assert bad_date.status_code == 400
    assert "'2026-13-01' is not a date: give it as YYYY-MM-DD." in Page(bad_date).text(
        "//p[@role='alert']"
    )
    assert signed_in.get("/codes/?q=E11&page=abc").status_code == 400
    assert signed_in.get("/codes/?q=E11&page=100000").status_code == 400
    assert signed_in.get("/codes/29880?practitioner-column1=-5").status_code == 400
    assert signed_in.get("/codes/%3Cscript%3E").status_code == 404
    assert signed_in.get("/codes/ABCDEFGHIJKLMNOP").status_code == 404
    shapeless = signed_in.get("/codes/HELLO")
    assert shapeless.status_code == 404
    assert "HELLO has the shape of no code" in Page(shapeless).text("//p[@role='alert']")


# -- code pages ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("cms")
def test_a_code_page_shows_each_fact_with_its_release(signed_in: FlaskClient) -> None:
    page = get(signed_in, f"/codes/64494?on={ON}")
    assert page.text("//h1") == "CPT 64494"
    sources = page.texts("//p[@class='cite']")
    assert any("[NCCI PTP edits (practitioner) v323r0, effective 2026-10-01]" in s for s in sources)
    assert any("[add-on code edits 2026Q4, effective 2026-10-01]" in s for s in sources)
    assert any(
        "[PFS relative value file 2026-Oct-nonQPP, effective 2026-10-01]" in s for s in sources
    )
    assert page.texts("//section[@class='mue']/h3") == ["Practitioner"]
    mue = page.texts("//section[@class='mue']//dd")
    assert mue[:1] == ["1"] and mue[1].startswith("2: date of service edit, policy")
    assert any("[MUE (practitioner) Eff 10-01-2026, effective 2026-10-01]" in s for s in sources)
    addon = page.texts("//section[@class='addon']/p")
    assert "Listed primary codes (1): 64493." in addon
    assert "Add-on codes listed with 64494 as their primary (1): 64495." in addon
    terms = page.texts("//section[@class='pfs']//dt")
    pfs = dict(zip(terms, page.texts("//section[@class='pfs']//dd"), strict=True))
    assert pfs["Global days"].startswith("ZZZ: add-on code")
    assert pfs["Status"] == "A: active: paid separately under the fee schedule"
    # The deleted edit with 64493 is not in force; the page counts it and can list it.
    assert "1 more in this release is not in force on 2026-11-02" in page.visible_text
    (outside,) = page.tree.xpath("//a[text()='list them']/@href")
    listed = get(signed_in, outside)
    cells = listed.texts("//table[@class='ptp-edits']//td")
    assert cells[:4] == ["64493", "9 not applicable", "2010-01-01", "2010-12-31"]


@pytest.mark.usefixtures("cms")
def test_ptp_edits_as_column_one_and_two_with_their_indicators(signed_in: FlaskClient) -> None:
    page = get(signed_in, f"/codes/29880?on={ON}")
    assert page.texts("//section[@class='ptp']/h3") == [
        "29880 as column 1 (1 edit in force on 2026-11-02)",
        "29880 as column 2 (1 edit in force on 2026-11-02)",
    ]
    tables = page.tree.xpath("//table[@class='ptp-edits']")
    first = [" ".join(td.text_content().split()) for td in tables[0].xpath(".//tbody/tr/td")]
    second = [" ".join(td.text_content().split()) for td in tables[1].xpath(".//tbody/tr/td")]
    assert first == [
        "29877",
        "1 modifier allowed",
        "2003-01-01",
        "",
        "Standards of medical / surgical practice",
    ]
    assert second == [
        "29881",
        "0 no modifier allowed",
        "2012-01-01",
        "",
        "Mutually exclusive procedures",
    ]
    (partner,) = tables[0].xpath(".//tbody/tr/td[1]/a/@href")
    assert urlsplit(partner).path == "/codes/29877"


def test_a_code_in_thousands_of_edits_pages_its_lists(
    signed_in: FlaskClient, services: Services, tmp_path: Path
) -> None:
    load(services, "ncci-ptp", wide_ptp_file(tmp_path, as_column1=250, as_column2=120))
    page = get(signed_in, f"/codes/20610?on={ON}")
    assert page.texts("//p[@class='shown']") == [
        f"Showing 1{DASH}100 of 250.",
        f"Showing 1{DASH}100 of 120.",
    ]
    assert len(page.tree.xpath("(//table[@class='ptp-edits'])[1]/tbody/tr")) == 100
    (following,) = page.tree.xpath(
        "//nav[@aria-label='Pages of column1 edits']/a[@rel='next']/@href"
    )
    second = get(signed_in, following)
    assert second.texts("//p[@class='shown']") == [
        f"Showing 101{DASH}200 of 250.",
        f"Showing 1{DASH}100 of 120.",
    ]
    (last,) = second.tree.xpath("//nav[@aria-label='Pages of column1 edits']/a[@rel='next']/@href")
    third = get(signed_in, last)
    assert third.texts("//p[@class='shown']")[0] == f"Showing 201{DASH}250 of 250."
    assert third.tree.xpath("//nav[@aria-label='Pages of column1 edits']/a[@rel='next']") == []


def test_a_code_with_no_data_says_so_and_nothing_negative(signed_in: FlaskClient) -> None:
    page = get(signed_in, "/codes/29880")
    day = page_date(page)
    status = page.text("//p[contains(@class, 'status-line')]")
    assert status.startswith("No CPT release is loaded (CPT descriptors are licensed by the AMA")
    assert page.texts("//section[@class='not-loaded']/ul/li") == [
        "NCCI PTP edits (practitioner): no practitioner PTP file is loaded",
        "NCCI PTP edits (hospital): no hospital PTP file is loaded",
        "MUE values: no MUE file is loaded",
        f"add-on code edits: no add-on code edit file is loaded for {day}",
        f"physician fee schedule indicators: no physician fee schedule file is loaded for {day}",
    ]
    assert not any(word in page.visible_text.lower() for word in NEGATIVES)
    icd = get(signed_in, "/codes/E11.9")
    assert "No ICD-10-CM release is loaded" in icd.text("//p[contains(@class, 'status-line')]")
    assert not any(word in icd.visible_text.lower() for word in NEGATIVES)


def page_date(page: Page) -> str:
    (value,) = page.tree.xpath("//form[@class='as-of']//input[@name='on']/@value")
    return value


@pytest.mark.usefixtures("icd")
def test_icd10cm_notes_link_the_codes_they_name(signed_in: FlaskClient) -> None:
    page = get(signed_in, f"/codes/E11.9?on={ON}")
    headings = page.texts("//section[@class='icd-notes']/h3")
    assert headings[:2] == ["Includes", "Excludes1: never coded together with"]
    note = page.tree.xpath(
        "//section[@class='icd-notes']//li[contains(., 'type 1 diabetes mellitus')]"
    )[0]
    assert " ".join(note.text_content().split()) == "type 1 diabetes mellitus (E10.-) (under E11)"
    (link,) = note.xpath("a/@href")
    assert urlsplit(link).path == "/codes/E10" and parse_qs(urlsplit(link).query) == {"on": [ON]}
    assert page.texts("//ul[@class='parents']/li") == [
        "E11 Type 2 diabetes mellitus",
        "in block E08-E13",
        "in chapter E00-E89",
    ]


@pytest.mark.usefixtures("icd")
def test_the_date_form_asks_again_for_another_day(signed_in: FlaskClient) -> None:
    page = get(signed_in, "/codes/E11.9")
    fields = page.form("/codes/E11.9")
    assert fields.keys() == {"system", "on"}
    earlier = get(signed_in, "/codes/E11.9", query_string={**fields, "on": "2019-01-01"})
    status = earlier.text("//p[contains(@class, 'status-line')]")
    assert "starts after 2019-01-01: it is the nearest loaded, not the one in force" in status


def test_code_link_is_a_template_global_for_case_pages(app: Flask) -> None:
    with app.test_request_context():
        rendered = render_template_string("{{ code_link('E11.9') }} {{ code_link('<b>') }}")
        dated = code_link("e11.9", on=ON)
        plain = code_link("<b>x</b>")
    assert rendered.startswith('<a class="code" href="/codes/E11.9">E11.9</a>')
    assert "<b>" not in rendered
    assert dated == f'<a class="code" href="/codes/E11.9?on={ON}">e11.9</a>'
    assert plain == "&lt;b&gt;x&lt;/b&gt;"

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
from tests.codes.test_code_page import MEDICARE_FILES, NEGATIVES, TABULAR, wide_ptp_file
from tests.support.corpus import AOC_FILE, HCPCS_ZIP, MUE_FILE, PFS_FILE, PTP_FILE
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
    # 1,455 descriptions, and Galeazzi's fracture (S52.37) by its inclusion term.
    assert summary.startswith(f"1{DASH}50 of 1,456 codes whose description has “fracture radius”")
    (following,) = page.tree.xpath("//nav[@class='pages']/a[@rel='next']/@href")
    second = get(signed_in, following)
    assert second.text("//p[@class='search-summary']").startswith(f"51{DASH}100 of 1,456")
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
        "Medicare coverage: no Medicare Coverage Database export (articles, LCDs, NCDs) is "
        f"loaded for {day}; `consultant codes import mcd-articles|mcd-lcds|ncd FILE.zip` "
        "loads them",
        "Medicare payment: no physician fee schedule, GPCI or lab fee schedule file is loaded "
        f"for {day}; `consultant codes import pfs|gpci|locality|clfs FILE` loads them",
    ]
    assert page.tree.xpath("//section[@class='coverage' or @class='payment']") == []
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


# -- Medicare coverage and payment (constructed files: made-up values) ---------------------------

JAN_2027 = "2027-01-15"


@pytest.fixture
def medicare(services: Services) -> None:
    for kind, path in MEDICARE_FILES:
        load(services, kind, path)


def section(page: Page, name: str) -> Page:
    """The page's section of class ``name`` on its own (its texts by relative XPath)."""
    (found,) = page.tree.xpath(f"//section[@class='{name}']")
    return found


def texts(element: object, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in element.xpath(xpath)]  # type: ignore[attr-defined]


@pytest.mark.usefixtures("medicare")
def test_coverage_shows_each_jurisdictions_article_with_contractor_and_lcd(
    signed_in: FlaskClient,
) -> None:
    page = get(signed_in, f"/codes/20610?on={JAN_2027}")
    coverage = section(page, "coverage")
    assert texts(coverage, "h2") == ["Medicare coverage"]
    assert texts(coverage, ".//div[@class='mcd-article']/h3") == [
        "Article A90001 v2: Billing and Coding: Arthrocentesis and Joint Injections",
        "Article A90002 v1: Billing and Coding: Joint Injections (J-Y)",
    ]
    first = coverage.xpath(".//div[@class='mcd-article']")[0]
    facts = dict(zip(texts(first, ".//dt"), texts(first, ".//dd"), strict=True))
    assert facts["Contractor"] == "Example Medicare Services J-X Part B (A and B MAC 99101): FL, PR"
    assert facts["In force"] == "from 2026-07-01"
    assert facts["20610 in group 1"] == "Group 1 Paragraph: the joint procedure codes below."
    assert facts["Modifiers, group 1"] == "LT, RT"
    assert facts["LCD"].startswith(
        "L90001 v3: Arthrocentesis and Joint Injections (constructed) Utilization: Constructed "
        "utilization guidance: at most one injection per joint per 3 months."
    )
    links = first.xpath(".//a/@href")
    assert links == [
        "https://www.cms.gov/medicare-coverage-database/view/article.aspx?articleid=90001",
        "https://www.cms.gov/medicare-coverage-database/view/lcd.aspx?lcdid=90001",
    ]
    hints = texts(coverage, "p[@class='hint']")
    assert "in every jurisdiction: each applies only where its contractor does" in hints[0]
    assert hints[1] == (
        "Versions listing 20610 that are not in force on 2027-01-15: "
        "A90001 v1 (2025-10-01 to 2026-06-30)."
    )
    assert texts(coverage, "p[@class='cite']") == [
        "Source: [Medicare Coverage Database articles current_article 2026-09-30, effective "
        "2026-09-30] · current_article_csv.zip",
        "Source: [Medicare Coverage Database LCDs current_lcd 2026-09-30, effective 2026-09-30] "
        "· current_lcd_csv.zip",
        "Source: [National Coverage Determinations ncd 2026-09-30, effective 2026-09-30] · "
        "ncd_csv.zip",
    ]
    assert "not covered" not in page.visible_text


def test_ncds_by_title_and_nothing_in_force_said_plainly(
    signed_in: FlaskClient, services: Services
) -> None:
    load(services, "hcpcs", HCPCS_ZIP)
    for kind, path in MEDICARE_FILES[:3]:
        load(services, kind, path)
    page = get(signed_in, f"/codes/G0121?on={ON}")
    coverage = section(page, "coverage")
    assert texts(coverage, ".//ul[@class='ncds']/li") == [
        "NCD 210.3-X v2: Colorectal Cancer Screening Tests (constructed) (from 2023-01-01)"
    ]
    (article,) = texts(coverage, ".//div[@class='mcd-article']/h3")
    assert article.startswith("Article A90004 v1")
    none = section(get(signed_in, f"/codes/J1100?on={ON}"), "coverage")
    assert texts(none, "p[not(@class)]") == [
        "No article in force on 2026-11-02 lists J1100, in any jurisdiction."
    ]
    assert get(signed_in, f"/codes/E11.9?on={ON}").tree.xpath("//section[@class='coverage']") == []


def fee_rows(element: object) -> list[list[str]]:
    """Each row of a fee table: the setting, then its cells."""
    return [
        texts(row, "th|td")
        for row in element.xpath(".//table[@class='fee-amounts']/tbody/tr")  # type: ignore[attr-defined]
    ]


@pytest.mark.usefixtures("medicare")
def test_payment_national_amounts_with_formula_and_a_locality_chosen(
    signed_in: FlaskClient,
) -> None:
    page = get(signed_in, f"/codes/20610?on={JAN_2027}")
    payment = section(page, "payment")
    (national,) = payment.xpath(".//div[@class='fee']")
    assert texts(national, "h3") == ["20610, national on 2027-01-15"]
    # (0.79 + 0.95 + 0.10) x 33.8012 = 62.19; (0.79 + 0.41 + 0.10) x 33.8012 = 43.94
    assert texts(national, ".//table[@class='fee-amounts']/thead//th") == [
        "Non-facility (office)",
        "Facility",
    ]
    assert fee_rows(national) == [
        ["Amount", "$62.19", "$43.94"],
        ["Non-participating", "$59.08", "$41.74"],
        ["Limiting charge", "$67.94", "$48.00"],
        [
            "Formula",
            "(0.79 x 1.000 + 0.95 x 1.000 + 0.10 x 1.000) x 33.8012 = 62.19",
            "(0.79 x 1.000 + 0.41 x 1.000 + 0.10 x 1.000) x 33.8012 = 43.94",
        ],
    ]
    facts = dict(zip(texts(national, ".//dt"), texts(national, ".//dd"), strict=True))
    assert facts["Status"] == "A: active: paid separately under the fee schedule"
    assert facts["PC/TC"].startswith("0: a physician service")
    assert texts(national, "p[@class='cite']") == [
        "Source: [PFS relative value file 2027-Jan-nonQPP, effective 2027-01-01] · "
        "PPRRVU2027_Jan_nonQPP.csv"
    ]
    (form,) = payment.xpath(".//form[@class='locality']")
    options = form.xpath(".//select[@name='locality']/option")
    assert [o.get("value") for o in options][:3] == ["", "99101/03", "99101/04"]
    assert options[2].text_content() == "FL: MIAMI (locality 04 of MAC 99101)"
    fields = {i.name: i.value for i in form.inputs if i.name}
    assert fields == {"system": "CPT", "on": JAN_2027, "locality": ""}

    chosen = get(signed_in, form.get("action"), query_string={**fields, "locality": "99101/04"})
    fees = section(chosen, "payment").xpath(".//div[@class='fee']")
    assert texts(fees[1], "h3") == ["20610, MIAMI (FL), locality 04 of MAC 99101 on 2027-01-15"]
    assert fee_rows(fees[1])[:3] == [
        ["Amount", "$68.74", "$49.28"],
        ["Non-participating", "$65.30", "$46.82"],
        ["Limiting charge", "$75.10", "$53.84"],
    ]
    assert "[PFS GPCIs 2027, effective 2027-01-01] · GPCI2027.csv" in texts(fees[1], "p")[-1]
    (selected,) = chosen.tree.xpath("//select[@name='locality']/option[@selected]/@value")
    assert selected == "99101/04"
    # The date form keeps the locality for another day.
    assert chosen.tree.xpath("//form[@class='as-of']/input[@name='locality']/@value") == [
        "99101/04"
    ]


@pytest.mark.usefixtures("medicare")
def test_payment_says_why_there_is_no_amount_and_gives_the_lab_rate(
    signed_in: FlaskClient,
) -> None:
    chest = section(get(signed_in, f"/codes/71046?on={JAN_2027}"), "payment")
    assert texts(chest, ".//div[@class='fee']/h3") == [
        "71046, national on 2027-01-15",
        "71046-26, national on 2027-01-15",
        "71046-TC, national on 2027-01-15",
    ]
    rows = fee_rows(chest.xpath(".//div[@class='fee']")[0])
    assert rows[0] == ["Amount", "$33.46", "not priced"]
    assert rows[3][2] == (
        "the PFS 2027-Jan-nonQPP gives no facility PE RVU for 71046 (not priced in that setting)"
    )
    bundled = section(get(signed_in, f"/codes/99100?on={JAN_2027}"), "payment")
    assert texts(bundled, ".//p[@class='no-amount']") == [
        "No fee schedule amount: status B: bundled: paid as part of other services, never "
        "separately."
    ]
    assert bundled.xpath(".//table") == []
    draw = section(get(signed_in, "/codes/36415?on=2026-11-15"), "payment")
    assert texts(draw, ".//p[@class='clfs']") == [
        "Clinical laboratory fee schedule rate: $3.00 (national)."
    ]
    assert (
        "Source: [Clinical Laboratory Fee Schedule 2026 Q4, effective 2026-10-01] · "
        "CLFS2026Q4.csv" in texts(draw, ".//p")
    )


@pytest.mark.usefixtures("medicare")
def test_a_locality_of_several_or_hostile_text_is_named_escaped(signed_in: FlaskClient) -> None:
    several = get(signed_in, f"/codes/20610?on={JAN_2027}&locality=99")
    assert texts(section(several, "payment"), "p[@class='warning']") == [
        "Locality “99”: '99' matches 2 localities: choose one. Only national amounts are shown."
    ]
    assert len(section(several, "payment").xpath(".//div[@class='fee']")) == 1
    hostile = get(signed_in, "/codes/20610", query_string={"on": JAN_2027, "locality": HOSTILE})
    assert "<script>alert(1)</script>" not in hostile.html
    assert hostile.tree.xpath("//script[not(@src)]") == []
    (warning,) = texts(section(hostile, "payment"), "p[@class='warning']")
    assert warning.startswith("Locality “<script>alert(1)</script>")


def test_payment_and_coverage_files_not_loaded_are_named(
    signed_in: FlaskClient, services: Services
) -> None:
    load(services, "pfs", PFS_FILE)
    load(services, "mcd-articles", MEDICARE_FILES[0][1])
    page = get(signed_in, f"/codes/20610?on={ON}")
    missing = page.texts("//section[@class='not-loaded']/ul/li")
    assert missing[-4:] == [
        "LCDs: no export is loaded for 2026-11-02; `consultant codes import mcd-lcds FILE.zip` "
        "loads it",
        "NCDs: no export is loaded for 2026-11-02; `consultant codes import ncd FILE.zip` loads it",
        "payment localities: no GPCI file for 2026 is loaded, so only national amounts are "
        "shown; `consultant codes import gpci FILE` loads one",
        "clinical lab fee schedule: no CLFS file is loaded for 2026-11-02; `consultant codes "
        "import clfs FILE` loads one",
    ]
    payment = section(page, "payment")
    assert payment.xpath(".//form") == []  # no localities to choose from
    assert texts(payment, ".//p[@class='no-amount']") == [
        "No fee schedule amount: the PFS 2026-Oct-nonQPP as loaded gives no practice expense "
        "or malpractice RVUs."
    ]

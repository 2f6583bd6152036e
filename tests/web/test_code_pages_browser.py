"""Code search, code pages, the rules' conclusions on a case page and the sources they cite,
in a real browser (Debian's headless Chromium), on SQLite with the constructed CMS files.

Search answers as you type (static/code_search.js) under the site's CSP, says
when it corrected a misspelling and lists a member's recent searches; the
pages are photographed at desktop and phone width for a person to look at.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from config import Settings
from consultant.cases.guidance import NoteInput, add_note
from consultant.codes.importers import importer_for
from consultant.codes.importing import import_release
from consultant.roles import Role
from consultant.rules.sources import SOURCES
from consultant.services import Services
from tests.codes.test_code_page import MEDICARE_FILES, TABULAR
from tests.support.browser import LiveServer, console_log, page_screenshots
from tests.support.corpus import AOC_FILE, HCPCS_ZIP, MUE_FILE, PFS_FILE, PTP_FILE
from tests.web.helpers import PASSWORD, REVIEWER, add_reviewer, store_question

WAIT = 30
MEMBER = "coder@clinic.example"


@pytest.fixture
def settings(make_settings: Callable[..., Settings], sqlite_url: str) -> Settings:
    return make_settings(database_url=sqlite_url)


@pytest.fixture
def server(services: Services, live_server: Callable[[Services], LiveServer]) -> LiveServer:
    for kind, path in (
        ("icd10cm", TABULAR),
        ("ncci-ptp", PTP_FILE),
        ("mue", MUE_FILE),
        ("aoc", AOC_FILE),
        ("pfs", PFS_FILE),
    ):
        import_release(services.db, importer_for(kind), [path])
    add_reviewer(services)
    return live_server(services)


def sign_in(browser: WebDriver, server: LiveServer, path: str, email: str = REVIEWER) -> None:
    browser.get(server.url + path)
    WebDriverWait(browser, WAIT).until(ec.presence_of_element_located((By.NAME, "email")))
    browser.find_element(By.NAME, "email").send_keys(email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD + Keys.ENTER)
    WebDriverWait(browser, WAIT).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, "header .who"), email)
    )


def assert_clean_console(browser: WebDriver) -> None:
    """Nothing the CSP refused, no script errors, no inline script or style to refuse."""
    entries = console_log(browser) or []
    assert [e for e in entries if e.get("level") == "SEVERE"] == []
    inline = browser.execute_script(
        "return document.querySelectorAll('script:not([src]), style, [style]').length"
    )
    assert inline == 0


def test_search_answers_as_you_type_and_leads_to_code_pages(
    browser: WebDriver, server: LiveServer
) -> None:
    sign_in(browser, server, "/codes/?on=2026-11-02")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Codes"
    box = browser.find_element(By.NAME, "q")
    box.send_keys("fracture radius")
    # No submit: the script fetches the results and keeps the address in step.
    WebDriverWait(browser, WAIT).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "table.code-results tbody tr"))
    )
    WebDriverWait(browser, WAIT).until(ec.url_contains("q=fracture+radius"))
    first = browser.find_element(By.CSS_SELECTOR, "table.code-results tbody tr td a")
    assert first.text == "S52.12"
    assert browser.find_element(By.NAME, "q").get_attribute("value") == "fracture radius"
    assert_clean_console(browser)
    page_screenshots(browser, "code-search")

    box = browser.find_element(By.NAME, "q")
    box.clear()
    box.send_keys("e11.9" + Keys.ENTER)  # the plain form still works
    WebDriverWait(browser, WAIT).until(ec.url_contains("q=e11.9"))
    browser.find_element(By.LINK_TEXT, "E11.9").click()
    WebDriverWait(browser, WAIT).until(
        ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "ICD-10-CM E11.9")
    )
    notes = browser.find_element(By.CSS_SELECTOR, "section.icd-notes").text
    assert "type 1 diabetes mellitus (E10.-)" in notes
    assert_clean_console(browser)
    page_screenshots(browser, "code-page-diagnosis")


def test_a_member_sees_a_misspelling_corrected_and_their_recent_searches(
    browser: WebDriver, server: LiveServer, services: Services
) -> None:
    add_reviewer(services, MEMBER, Role.MEMBER)
    sign_in(browser, server, "/codes/?on=2026-11-02", MEMBER)
    box = browser.find_element(By.NAME, "q")
    box.send_keys("diabetis kidney")
    correction = WebDriverWait(browser, WAIT).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "p.correction"))
    )
    assert correction.text == "Showing results for “diabetes kidney”: nothing matched “diabetis”."
    first = browser.find_element(By.CSS_SELECTOR, "table.code-results tbody tr td a")
    assert first.text.startswith("E11.2")
    assert_clean_console(browser)
    page_screenshots(browser, "code-search-corrected")

    box.send_keys(Keys.ENTER)  # submitted: kept in the recent searches
    WebDriverWait(browser, WAIT).until(ec.staleness_of(box))
    for query in ("kimmelstiel", "modifier 59"):
        box = browser.find_element(By.NAME, "q")
        box.clear()
        box.send_keys(query + Keys.ENTER)
        WebDriverWait(browser, WAIT).until(ec.staleness_of(box))
    box = browser.find_element(By.NAME, "q")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)  # an empty box: the script brings the recent searches
    WebDriverWait(browser, WAIT).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "section.recent-searches"))
    )
    listed = browser.find_elements(By.CSS_SELECTOR, "section.recent-searches li a")
    assert [a.text for a in listed] == ["modifier 59", "kimmelstiel", "diabetis kidney"]
    assert_clean_console(browser)
    page_screenshots(browser, "code-search-recent")

    browser.find_element(By.XPATH, "//button[text()='Clear recent searches']").click()
    WebDriverWait(browser, WAIT).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, "p.flash"), "cleared")
    )
    assert browser.find_elements(By.CSS_SELECTOR, "section.recent-searches") == []


def test_a_procedure_code_page_at_desktop_and_phone_width(
    browser: WebDriver, server: LiveServer
) -> None:
    sign_in(browser, server, "/codes/29880?on=2026-11-02")
    WebDriverWait(browser, WAIT).until(
        ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "CPT 29880")
    )
    status = browser.find_element(By.CSS_SELECTOR, ".status-line").text
    assert status.startswith("No CPT release is loaded")
    edits = browser.find_elements(By.CSS_SELECTOR, "table.ptp-edits tbody tr")
    assert [row.find_element(By.TAG_NAME, "td").text for row in edits] == ["29877", "29881"]
    assert_clean_console(browser)
    page_screenshots(browser, "code-page-procedure")
    browser.get(server.url + "/codes/64494?on=2026-11-02")
    WebDriverWait(browser, WAIT).until(
        ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "CPT 64494")
    )
    page_screenshots(browser, "code-page-add-on")


def test_the_case_page_shows_each_conclusion_with_its_citations(
    browser: WebDriver, server: LiveServer, services: Services
) -> None:
    store_question(services, "01.eml")  # 29880 with 29877: 59 or XS?
    sign_in(browser, server, "/cases/CC-000001")
    WebDriverWait(browser, WAIT).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".conclusions li.conclusion"))
    )
    items = browser.find_elements(By.CSS_SELECTOR, ".conclusions li.conclusion")
    answers = [i.find_element(By.CSS_SELECTOR, ".answer").text for i in items]
    assert answers[0].startswith("29877 is bundled into 29880 on the same day; with 59 and XS")
    cited = items[0].find_element(By.CSS_SELECTOR, ".cited").text
    assert "National Correct Coding Initiative Policy Manual for Medicare Services" in cited
    assert "NCCI PTP edits (practitioner) v323r0" in cited
    confirm = items[0].find_element(By.CSS_SELECTOR, ".confirm").text
    assert confirm.startswith("Still open: confirm the record shows 29877 distinct")
    # The draft beside them opens with the same short answer.
    assert answers[0] in browser.find_element(By.NAME, "text").get_attribute("value")
    assert_clean_console(browser)
    page_screenshots(browser, "case-conclusions")

    items[0].find_element(By.LINK_TEXT, "ptp_edit").click()
    WebDriverWait(browser, WAIT).until(ec.url_contains("/sources#rule-ptp_edit"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Sources"
    rows = browser.find_elements(By.CSS_SELECTOR, "table.sources tbody tr")
    assert len(rows) == len(SOURCES)
    manual = browser.find_element(By.ID, "ncci-manual")
    assert "ptp_edit" in manual.text and "revision effective January 1, 2026" in manual.text
    link = manual.find_element(By.TAG_NAME, "a")
    assert link.get_attribute("href") == SOURCES["ncci-manual"].address
    assert_clean_console(browser)
    page_screenshots(browser, "sources")

    with services.db.session() as session:
        add_note(
            session,
            NoteInput("pair", "29880+29877", "Report XS on 29877 for another compartment."),
            REVIEWER,
            from_case="CC-000001",
        )
    browser.find_element(By.LINK_TEXT, "Guidance").click()
    WebDriverWait(browser, WAIT).until(
        ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Guidance notes")
    )
    row = browser.find_element(By.CSS_SELECTOR, "table.guidance-notes tbody tr")
    assert "pair 29877+29880" in row.text and "from CC-000001" in row.text
    assert_clean_console(browser)
    page_screenshots(browser, "guidance")


@pytest.fixture
def medicare_server(
    services: Services, live_server: Callable[[Services], LiveServer]
) -> LiveServer:
    """The coverage exports and payment files (constructed, made-up values) and HCPCS."""
    for kind, path in (("hcpcs", HCPCS_ZIP), *MEDICARE_FILES):
        import_release(services.db, importer_for(kind), [path])
    add_reviewer(services)
    return live_server(services)


def test_a_code_page_with_medicare_coverage_and_payment(
    browser: WebDriver, medicare_server: LiveServer
) -> None:
    sign_in(browser, medicare_server, "/codes/20610?on=2027-01-15")
    WebDriverWait(browser, WAIT).until(
        ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "CPT 20610")
    )
    coverage = browser.find_element(By.CSS_SELECTOR, "section.coverage")
    articles = coverage.find_elements(By.CSS_SELECTOR, ".mcd-article h3")
    assert [a.text.split(":")[0] for a in articles] == ["Article A90001 v2", "Article A90002 v1"]
    assert "Example Medicare Services J-X Part B (A and B MAC 99101): FL, PR" in coverage.text
    payment = browser.find_element(By.CSS_SELECTOR, "section.payment")
    assert "$62.19" in payment.text
    Select(payment.find_element(By.NAME, "locality")).select_by_value("99101/04")
    payment.find_element(By.CSS_SELECTOR, "form.locality button").click()
    WebDriverWait(browser, WAIT).until(ec.url_contains("locality=99101%2F04"))
    local = browser.find_elements(By.CSS_SELECTOR, "section.payment .fee")[1]
    assert local.find_element(By.TAG_NAME, "h3").text.startswith(
        "20610, MIAMI (FL), locality 04 of MAC 99101"
    )
    assert "$68.74" in local.text and "$49.28" in local.text
    assert_clean_console(browser)
    page_screenshots(browser, "code-page-medicare")
    browser.get(medicare_server.url + "/codes/E0601?on=2026-11-02")
    WebDriverWait(browser, WAIT).until(
        ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "HCPCS E0601")
    )
    coverage = browser.find_element(By.CSS_SELECTOR, "section.coverage")
    assert "KH, KI, KJ, KX, RR" in coverage.text
    assert "NCD 240.4-X" in coverage.text
    assert_clean_console(browser)
    page_screenshots(browser, "code-page-medicare-supply")

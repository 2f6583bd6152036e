"""Case2Code in a real browser (Debian's headless Chromium), on SQLite: an expert writes a
plain-language description on a code page; a member reads it there, stars the code, writes
a private note, finds both on My codes, and opens What changed for the HCPCS update.
Every page is photographed at desktop and phone width for a person to look at."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from config import Settings
from consultant.codes.importers import importer_for
from consultant.codes.importing import import_release
from consultant.models import Role
from consultant.services import Services
from tests.codes.test_code_page import TABULAR
from tests.support.browser import LiveServer, page_screenshots
from tests.support.code_updates import hcpcs_april_2020
from tests.support.corpus import HCPCS_ZIP
from tests.web.helpers import PASSWORD, REVIEWER, add_reviewer
from tests.web.test_code_pages_browser import assert_clean_console

WAIT = 30
MEMBER = "coder@clinic.example"
PAGE = "/codes/E11.9?on=2026-11-02"
PLAIN = "Type 2 diabetes, and the record names no complication it caused."
NOTE = "Our endocrinology clinic: check the A1c note before using this."


@pytest.fixture
def settings(make_settings: Callable[..., Settings], sqlite_url: str) -> Settings:
    return make_settings(database_url=sqlite_url)


@pytest.fixture
def server(
    services: Services, live_server: Callable[[Services], LiveServer], tmp_path: Path
) -> LiveServer:
    for kind, path in (
        ("icd10cm", TABULAR),
        ("hcpcs", HCPCS_ZIP),
        ("hcpcs", hcpcs_april_2020(tmp_path)),
    ):
        import_release(services.db, importer_for(kind), [path])
    add_reviewer(services)
    add_reviewer(services, MEMBER, Role.MEMBER)
    return live_server(services)


def sign_in(browser: WebDriver, server: LiveServer, email: str, path: str) -> None:
    """Open ``path``, sign in as ``email`` on the login page it leads to, and come back."""
    browser.get(server.url + path)
    wait(browser).until(ec.presence_of_element_located((By.NAME, "email")))
    browser.find_element(By.NAME, "email").send_keys(email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD + Keys.ENTER)
    wait(browser).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "header .who"), email))


def wait(browser: WebDriver) -> WebDriverWait[WebDriver]:
    """A wait that looks again when the page is being replaced under it (a form was sent)."""
    return WebDriverWait(browser, WAIT, ignored_exceptions=(WebDriverException,))


def send(browser: WebDriver, button: WebElement, flash: str) -> None:
    """Press a form's button and wait for the page it leads to, with its message."""
    button.click()
    wait(browser).until(ec.staleness_of(button))
    wait(browser).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "p.flash"), flash))


def test_an_expert_writes_it_and_a_member_reads_stars_notes_and_sees_what_changed(
    browser: WebDriver, server: LiveServer
) -> None:
    sign_in(browser, server, REVIEWER, PAGE)
    section = browser.find_element(By.CSS_SELECTOR, "section.plain-language")
    box = section.find_element(By.NAME, "text")
    assert not box.is_displayed()  # folded: the official data comes first
    section.find_element(By.TAG_NAME, "summary").click()
    box.send_keys(PLAIN)
    send(browser, section.find_element(By.CSS_SELECTOR, "button[type=submit]"), "version 1")
    assert browser.find_element(By.CSS_SELECTOR, ".plain-text").text == PLAIN
    assert "For experts" in browser.find_element(By.CSS_SELECTOR, "section.for-experts").text
    assert_clean_console(browser)
    page_screenshots(browser, "code-page-plain-expert")
    versions = browser.find_element(By.LINK_TEXT, "Every version (1)")
    versions.click()
    wait(browser).until(ec.staleness_of(versions))
    rows = browser.find_elements(By.CSS_SELECTOR, "section.plain-versions tbody tr")
    assert [r.text.split()[0] for r in rows] == ["1"] and REVIEWER in rows[0].text
    assert_clean_console(browser)
    page_screenshots(browser, "plain-description-versions")
    send(browser, browser.find_element(By.CSS_SELECTOR, "header form button"), "signed out")

    sign_in(browser, server, MEMBER, PAGE)
    plain = browser.find_element(By.CSS_SELECTOR, "section.plain-language").text
    assert PLAIN in plain and "not the official descriptor" in plain
    assert browser.find_elements(By.CSS_SELECTOR, "section.for-experts") == []
    assert browser.find_elements(By.CSS_SELECTOR, "section.plain-language form") == []
    star = browser.find_element(By.CSS_SELECTOR, "button.star")
    assert star.text == "\u2606 Add to my codes"
    send(browser, star, "E11.9 added to My codes.")
    assert browser.find_element(By.CSS_SELECTOR, "button.star").text == "\u2605 In my codes"
    browser.find_element(By.CSS_SELECTOR, "details.note-edit summary").click()
    browser.find_element(By.CSS_SELECTOR, "form.personal-note textarea").send_keys(NOTE)
    saving = browser.find_element(By.CSS_SELECTOR, "form.personal-note button[type=submit]")
    send(browser, saving, "Your note on E11.9 saved.")
    assert browser.find_element(By.CSS_SELECTOR, "section.mine .note-text").text == NOTE
    assert_clean_console(browser)
    page_screenshots(browser, "code-page-member")

    mine = browser.find_element(By.LINK_TEXT, "My codes")
    mine.click()
    wait(browser).until(ec.staleness_of(mine))
    wait(browser).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "My codes"))
    row = browser.find_element(By.CSS_SELECTOR, "table.my-codes tbody tr")
    assert row.find_element(By.CSS_SELECTOR, "a.code").text == "E11.9"
    assert NOTE in row.text and "Type 2 diabetes mellitus without complications" in row.text
    assert_clean_console(browser)
    page_screenshots(browser, "my-codes")

    changed = browser.find_element(By.LINK_TEXT, "What changed")
    changed.click()
    wait(browser).until(ec.staleness_of(changed))
    wait(browser).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "What changed"))
    Select(browser.find_element(By.NAME, "kind")).select_by_visible_text("HCPCS Level II")
    compare = browser.find_element(By.CSS_SELECTOR, "form.changes-form button[type=submit]")
    compare.click()
    wait(browser).until(ec.staleness_of(compare))
    wait(browser).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, "p.compared"), "HCPCS Level II 2020")
    )
    totals = browser.find_elements(By.CSS_SELECTOR, "dl.totals dd")
    assert [t.text for t in totals] == ["1", "2", "3"]
    revised = browser.find_element(By.CSS_SELECTOR, "section.changes-revised").text
    assert "Non-emergency transportation; taxi, per trip" in revised
    assert_clean_console(browser)
    page_screenshots(browser, "what-changed")

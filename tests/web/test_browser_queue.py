"""The queue in a real browser (Debian's headless Chromium against a live server): a search
by code, an overdue case that stands out, screenshots at desktop and phone width."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from config import Settings
from consultant.models import utcnow
from consultant.services import Services
from tests.cases.test_queue import add_cases
from tests.cases.test_search import mail
from tests.support.browser import LiveServer, page_screenshots
from tests.support.corpus import question_files, special
from tests.web.helpers import add_reviewer, store_mail
from tests.web.test_browser import WAIT, assert_clean_console_and_markup, sign_in


@pytest.fixture
def settings(make_settings: Callable[..., Settings], sqlite_url: str) -> Settings:
    return make_settings(database_url=sqlite_url)


@pytest.fixture
def server(services: Services, live_server: Callable[[Services], LiveServer]) -> LiveServer:
    add_reviewer(services)
    return live_server(services)


def listed(browser: WebDriver) -> list[str]:
    return [
        a.text
        for a in browser.find_elements(By.CSS_SELECTOR, "table.cases tbody td a")
        if a.text.startswith("CC-")
    ]


def test_search_finds_a_case_by_a_code_in_its_text(
    browser: WebDriver, server: LiveServer, services: Services
) -> None:
    for path in question_files():
        store_mail(services, path.read_bytes())
    store_mail(
        services,
        mail("Flap with graft", "Can 20956 be billed with 20902 on the same day, with 59?"),
    )
    sign_in(browser, server)
    assert len(listed(browser)) == len(question_files()) + 1

    box = browser.find_element(By.ID, "queue-q")
    box.send_keys("20956")
    browser.find_element(By.CSS_SELECTOR, ".search-row button[type=submit]").click()
    WebDriverWait(browser, WAIT).until(ec.url_contains("q=20956"))
    assert listed(browser) == ["CC-000013"]
    row = browser.find_element(By.CSS_SELECTOR, "table.cases tbody tr")
    assert "Flap with graft" in row.text
    summary = browser.find_element(By.CSS_SELECTOR, "p.paging-summary").text
    assert summary.startswith("Showing 1\u20131 of 1 case matching \u201c20956\u201d")
    assert_clean_console_and_markup(browser)

    # A filter from the form keeps the search; no JavaScript needed for either.
    browser.find_element(By.CSS_SELECTOR, "details.queue-more summary").click()
    Select(browser.find_element(By.ID, "queue-topic")).select_by_value("em")
    browser.find_element(By.XPATH, "//button[text()='Apply filters']").click()
    WebDriverWait(browser, WAIT).until(ec.url_contains("topic=em"))
    assert listed(browser) == []
    assert browser.find_element(By.ID, "queue-q").get_attribute("value") == "20956"


def test_an_overdue_case_is_highlighted_and_the_queue_fits_a_phone(
    browser: WebDriver, server: LiveServer, services: Services
) -> None:
    now = utcnow()
    cases = [
        (
            "NCCI: 29880 and 29877 same knee",
            "Amy Park",
            "apark@cedarortho.example",
            30,
            "29880 29877",
        ),
        (
            "John Smith DOB 03/14/1962 op note attached",
            "Raj Patel",
            "raj@lakeside.example",
            20,
            "27447",
        ),
        ("Modifier 25 with 99213 and 11102", "", "billing@bluelakefp.example", 9, "99213 11102"),
        ("MUE for J1100, JW or JZ?", "Dana Lee", "dlee@riverside-infusion.example", 2, "J1100"),
    ]
    add_cases(
        services,
        [
            {
                "subject": subject,
                "requester_name": name or None,
                "requester_address": address,
                "waiting": now - timedelta(hours=hours),
                "codes": codes,
                "phi_flagged": "DOB" in subject,
                "attachment_count": 1 if "attached" in subject else 0,
            }
            for subject, name, address, hours, codes in cases
        ],
    )
    store_mail(services, special("auto_reply.eml"))
    store_mail(services, special("bounce.eml"))
    sign_in(browser, server)

    rows = browser.find_elements(By.CSS_SELECTOR, "table.cases tbody tr")
    assert rows[0].find_element(By.CSS_SELECTOR, "td a").text == "CC-000001"
    overdue, fresh = rows[0], rows[1]
    assert "overdue" in (overdue.get_attribute("class") or "")
    assert overdue.find_element(By.CSS_SELECTOR, ".sla.overdue").text == "overdue by 6 h"
    assert overdue.value_of_css_property("background-color") != fresh.value_of_css_property(
        "background-color"
    )
    assert "John Smith" not in browser.page_source and "1962" not in browser.page_source
    assert_clean_console_and_markup(browser)
    page_screenshots(browser, "queue")
    # On a phone the rows are cards: the overdue one still says so in words.
    browser.set_window_size(390, 844)
    assert overdue.find_element(By.CSS_SELECTOR, ".sla.overdue").is_displayed()
    browser.set_window_size(1280, 1024)

    browser.find_element(By.CSS_SELECTOR, "nav.tabs a[href*='status=ignored']").click()
    WebDriverWait(browser, WAIT).until(ec.url_contains("status=ignored"))
    reasons = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "table.ignored-mail .reason")]
    assert reasons == ["bounce", "auto-reply"]
    assert_clean_console_and_markup(browser)
    page_screenshots(browser, "queue-ignored")

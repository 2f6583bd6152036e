"""The admin pages and the dashboard in a real browser (Debian's headless Chromium), with
screenshots of each at desktop and phone width in var/screenshots/ (no sideways scroll at
390 px). One database (SQLite) is enough here; test_admin.py runs every action on both.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from config import Settings
from consultant.cases import snippets
from consultant.models import Role
from consultant.services import Services
from tests.support.browser import LiveServer, console_log, page_screenshots
from tests.support.cases import answer_and_approve
from tests.support.corpus import question_files
from tests.web.helpers import PASSWORD, add_reviewer, store_mail

WAIT = 30
ADMIN = "admin@caseconsultant.example"


@pytest.fixture
def settings(make_settings: Callable[..., Settings], sqlite_url: str) -> Settings:
    return make_settings(database_url=sqlite_url)


@pytest.fixture
def server(services: Services, live_server: Callable[[Services], LiveServer]) -> LiveServer:
    add_reviewer(services, ADMIN, Role.ADMIN)
    add_reviewer(services)
    add_reviewer(services, "former@clinic.example")
    with services.db.session() as session:
        snippets.seed_defaults(session)
    for path in question_files()[:6]:
        store_mail(services, path.read_bytes())
    for reference in ("CC-000001", "CC-000002", "CC-000003"):
        answer_and_approve(services, reference, ADMIN)
    return live_server(services)


def sign_in(browser: WebDriver, server: LiveServer, path: str) -> None:
    browser.get(server.url + path)
    WebDriverWait(browser, WAIT).until(ec.presence_of_element_located((By.NAME, "email")))
    browser.find_element(By.NAME, "email").send_keys(ADMIN)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    wait_for_text(browser, "header .who", ADMIN)


def wait_for_text(browser: WebDriver, css: str, text: str) -> None:
    WebDriverWait(browser, WAIT).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text)
    )


def assert_clean(browser: WebDriver) -> None:
    """Nothing the CSP refused, no script errors, no inline style or script on the page."""
    entries = console_log(browser) or []
    assert [e for e in entries if e.get("level") == "SEVERE"] == []
    inline = browser.execute_script(
        "return document.querySelectorAll('script, style, [style]').length"
    )
    assert inline == 0


def submit(browser: WebDriver, form_css: str, **fields: str) -> None:
    form = browser.find_element(By.CSS_SELECTOR, form_css)
    for name, value in fields.items():
        box = form.find_element(By.NAME, name)
        box.clear()
        box.send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def test_every_admin_page_works_and_is_photographed(browser: WebDriver, server: LiveServer) -> None:
    sign_in(browser, server, "/admin/users")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Users"
    submit(
        browser,
        "form[action='/admin/users']",
        email="new.coder@clinic.example",
        password="a long initial password",
    )
    wait_for_text(browser, "p.flash", "new.coder@clinic.example can now sign in as reviewer.")
    disable = "//th[contains(., 'former@clinic.example')]/..//button[text()='Disable']"
    browser.find_element(By.XPATH, disable).click()
    wait_for_text(browser, "p.flash", "former@clinic.example is disabled")
    assert_clean(browser)
    page_screenshots(browser, "admin-users")

    browser.find_element(By.LINK_TEXT, "Senders").click()
    submit(browser, "form[action='/admin/senders']", pattern="clinic.example", note="Main clinic")
    wait_for_text(browser, "p.flash", "clinic.example may now send questions.")
    browser.find_element(By.CSS_SELECTOR, "input[name=policy][value=notice]").click()
    browser.find_element(By.CSS_SELECTOR, "form[action='/admin/senders/policy'] button").click()
    wait_for_text(browser, "p.flash", "Unknown senders: Hold and tell the sender")
    where = browser.find_element(By.CSS_SELECTOR, "form.sender-where")
    Select(where.find_element(By.NAME, "state")).select_by_value("FL")
    where.find_element(By.NAME, "part_b_mac").send_keys("99101")
    where.find_element(By.TAG_NAME, "button").click()
    wait_for_text(browser, "p.flash", "Where clinic.example's patients are seen is saved.")
    saved = browser.find_element(By.CSS_SELECTOR, "form.sender-where select[name=state]")
    assert Select(saved).first_selected_option.get_attribute("value") == "FL"
    assert_clean(browser)
    page_screenshots(browser, "admin-senders")

    browser.find_element(By.LINK_TEXT, "SLA").click()
    submit(browser, "form[action='/admin/sla']", hours="8")
    wait_for_text(browser, "p.flash", "Replies are now due 8 hours after a question arrives.")
    assert_clean(browser)
    page_screenshots(browser, "admin-sla")

    browser.find_element(By.LINK_TEXT, "Snippets").click()
    wait_for_text(browser, "h1", "Snippets")
    page_screenshots(browser, "admin-snippets")
    submit(
        browser,
        "form[action='/admin/snippets']",
        name="payer-call",
        body="Dear {{ requester_name }}, for {{ codes }} please call the payer.",
    )
    wait_for_text(browser, "p.flash", "Snippet payer-call saved.")
    preview = browser.find_element(By.CSS_SELECTOR, "pre.snippet-preview").text
    assert preview == "Dear Dana Reyes, for 29880, 29877 please call the payer."
    assert_clean(browser)
    page_screenshots(browser, "admin-snippet")

    browser.find_element(By.LINK_TEXT, "Reply templates").click()
    wait_for_text(browser, "h1", "Reply templates")
    headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, ".template-preview h2")]
    assert headings == ["answer", "ack", "automatic", "edited", "unknown_sender", "not_coding"]
    assert_clean(browser)
    page_screenshots(browser, "admin-templates")


def test_the_dashboard_draws_its_charts(browser: WebDriver, server: LiveServer) -> None:
    sign_in(browser, server, "/dashboard")
    wait_for_text(browser, "h1", "Dashboard")

    totals = [dd.text for dd in browser.find_elements(By.CSS_SELECTOR, "dl.totals dd")]
    assert totals[:3] == ["6", "3", "0"]
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert [c.size["width"] > 600 for c in charts] == [True, True]
    received = browser.find_element(By.CSS_SELECTOR, "rect.bar.received")
    assert received.value_of_css_property("fill") == "rgb(58, 110, 165)"
    assert_clean(browser)
    page_screenshots(browser, "dashboard")

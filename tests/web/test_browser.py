"""The review web app in a real browser: Debian's headless Chromium against a live server.

One database (SQLite) is enough here; the test client tests in test_app.py
run every review action on both databases.
"""

from __future__ import annotations

import email
from collections.abc import Callable
from email import policy

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from config import Settings
from consultant.services import Services
from tests.support.browser import LiveServer, console_log
from tests.support.cases import save_draft
from tests.support.corpus import question_files
from tests.web.helpers import (
    HOSTILE,
    PASSWORD,
    REVIEWER,
    add_reviewer,
    hostile_message,
    reply_text,
    sent_replies,
    store_mail,
)

WAIT = 30  # seconds; generous, a wait ends as soon as the page is there
ANSWER = (
    "Dear Amy Park,\n\n"
    "Yes: 29877 is bundled into 29880 when both are in the same knee; 59 or XS applies\n"
    "only for a separate compartment documented in the op note.\n\n"
    "Kind regards,\nCaseConsultant"
)


@pytest.fixture
def settings(make_settings: Callable[..., Settings], sqlite_url: str) -> Settings:
    return make_settings(database_url=sqlite_url)


@pytest.fixture
def server(services: Services, live_server: Callable[[Services], LiveServer]) -> LiveServer:
    add_reviewer(services)
    return live_server(services)


def wait_for_text(browser: WebDriver, css: str, text: str) -> None:
    WebDriverWait(browser, WAIT).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text)
    )


def sign_in(browser: WebDriver, server: LiveServer, path: str = "/") -> None:
    """Open ``path`` signed out, get the login form, fill it in and send it."""
    browser.get(server.url + path)
    WebDriverWait(browser, WAIT).until(ec.presence_of_element_located((By.NAME, "email")))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Sign in"
    browser.find_element(By.NAME, "email").send_keys(REVIEWER)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    wait_for_text(browser, "header .who", REVIEWER)


def assert_no_alert(browser: WebDriver) -> None:
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.accept()


def assert_clean_console_and_markup(browser: WebDriver) -> None:
    """Nothing the CSP refused, no script errors, and nothing inline it would have to refuse."""
    entries = console_log(browser)
    if entries is not None:
        problems = [
            e
            for e in entries
            if e.get("level") == "SEVERE" or "Content Security Policy" in str(e.get("message"))
        ]
        assert problems == []
    inline = browser.execute_script(
        "return [document.querySelectorAll('script:not([src]), style, [style]').length,"
        " [...document.querySelectorAll('*')].filter("
        "   e => [...e.attributes].some(a => a.name.startsWith('on'))).length]"
    )
    assert inline == [0, 0]


def subjects_of_the_corpus() -> set[str]:
    subjects = set()
    for path in question_files():
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        subjects.add(" ".join(str(message["Subject"]).split()))
    return subjects


def test_a_reviewer_signs_in_edits_and_approves_a_case(
    browser: WebDriver, server: LiveServer, services: Services
) -> None:
    for path in question_files():
        store_mail(services, path.read_bytes())
    sign_in(browser, server)

    assert browser.find_element(By.TAG_NAME, "h1").text == "Review queue"
    rows = browser.find_elements(By.CSS_SELECTOR, "table.cases tbody tr")
    references = {row.find_element(By.CSS_SELECTOR, "td a").text for row in rows}
    assert references == {f"CC-{n:06d}" for n in range(1, len(question_files()) + 1)}
    subjects = {row.find_elements(By.TAG_NAME, "td")[2].text for row in rows}
    assert subjects == subjects_of_the_corpus()
    # The stylesheet loaded under the CSP: the header has its colour.
    header = browser.find_element(By.CSS_SELECTOR, "body > header")
    assert header.value_of_css_property("background-color") == "rgba(32, 48, 64, 1)"
    assert_clean_console_and_markup(browser)

    browser.find_element(By.LINK_TEXT, "CC-000001").click()
    wait_for_text(browser, "h1", "CC-000001: NCCI: 29880 and 29877")
    assert browser.find_element(By.CSS_SELECTOR, ".meta .status").text == "awaiting review"
    box = browser.find_element(By.NAME, "text")
    assert "[expert: say which modifier, if any, the record supports for 29880 and 29877]" in (
        box.get_attribute("value")
    )

    box.clear()
    box.send_keys(ANSWER)
    browser.find_element(By.XPATH, "//button[text()='Save draft']").click()
    wait_for_text(browser, "p.flash", "Draft v2 saved.")
    assert browser.find_element(By.NAME, "text").get_attribute("value") == ANSWER

    browser.find_element(By.CSS_SELECTOR, "button.approve").click()
    WebDriverWait(browser, WAIT).until(ec.alert_is_present()).accept()  # "Send this text to ...?"
    wait_for_text(browser, "p.flash", "CC-000001 approved: draft v2 is on its way.")
    assert browser.find_element(By.CSS_SELECTOR, ".meta .status").text == "sent"
    assert_clean_console_and_markup(browser)

    (reply,) = sent_replies(services.settings)
    assert reply["Subject"] == "Re: NCCI: 29880 and 29877 [CC-000001]"
    assert reply["In-Reply-To"] == "<s01.20261005@mail.example>"
    assert reply_text(reply).replace("\r\n", "\n").strip() == ANSWER


def test_a_hostile_subject_renders_as_text(
    browser: WebDriver, server: LiveServer, services: Services
) -> None:
    store_mail(services, hostile_message())
    sign_in(browser, server)

    subject = browser.find_element(By.XPATH, "//table[@class='cases']/tbody/tr/td[3]")
    assert subject.text == f"99213 {HOSTILE}"
    assert_no_alert(browser)
    assert_clean_console_and_markup(browser)

    browser.find_element(By.LINK_TEXT, "CC-000001").click()
    wait_for_text(browser, "h1", "CC-000001: ")
    assert browser.find_element(By.TAG_NAME, "h1").text == f"CC-000001: 99213 {HOSTILE}"
    assert HOSTILE in browser.find_element(By.CSS_SELECTOR, "article.theirs pre").text
    assert f"> {HOSTILE}" in browser.find_element(By.NAME, "text").get_attribute("value")
    assert_no_alert(browser)
    assert_clean_console_and_markup(browser)


def test_the_draft_box_holds_the_draft_exactly(
    browser: WebDriver, server: LiveServer, services: Services
) -> None:
    """Saving the page unchanged must not change the draft, even its first blank line."""
    store_mail(services, question_files()[0].read_bytes())
    draft = "\nDear Amy Park,\n\n  indented <b>not bold</b> & more\n\nRegards"
    save_draft(services, "CC-000001", draft, "system")
    sign_in(browser, server, "/cases/CC-000001")
    wait_for_text(browser, "h1", "CC-000001")
    assert browser.find_element(By.NAME, "text").get_attribute("value") == draft

    browser.find_element(By.XPATH, "//button[text()='Save draft']").click()
    wait_for_text(browser, "p.flash", "Nothing changed: draft v2 is the current text.")
    assert browser.find_element(By.NAME, "text").get_attribute("value") == draft

"""A member in a real browser (Debian's headless Chromium against a live server): register,
confirm by the mail in the outbox, ask, read the automatic answer, ask an expert, see the
approved reply; and another member's case stays closed. Screenshots of each page go to
var/screenshots/ for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from consultant.cases import review
from consultant.models import Case, Role
from consultant.services import Services
from consultant.users import create_user
from tests.support.browser import LiveServer, page_screenshots
from tests.support.cases import outbox_messages
from tests.support.code_data import (  # noqa: F401 (fixtures)
    code_data_url,
    writable_code_data_url,
    writable_services,
)
from tests.web.helpers import PASSWORD
from tests.web.test_browser import assert_clean_console_and_markup, wait_for_text

DANA = "dana@clinic.example"
PAT = "pat@clinic.example"
EXPERT = "expert@clinic.example"
QUESTION = "Can 29880 and 29877 be billed together on the same day? Do I need modifier 59?"
LINK = re.compile(r"http://127\.0\.0\.1:8000(/welcome/[A-Za-z0-9_-]+)")
WAIT = 30


@pytest.fixture
def services(writable_services: Services) -> Services:  # noqa: F811
    create_user(writable_services.db, EXPERT, PASSWORD, Role.REVIEWER)
    return writable_services


@pytest.fixture
def server(services: Services, live_server: Callable[[Services], LiveServer]) -> LiveServer:
    return live_server(services)


def type_into(browser: WebDriver, name: str, text: str) -> None:
    field = browser.find_element(By.NAME, name)
    field.clear()
    field.send_keys(text)


def click(browser: WebDriver, css: str) -> None:
    browser.find_element(By.CSS_SELECTOR, css).click()


def sign_in_as(browser: WebDriver, server: LiveServer, email: str) -> None:
    browser.get(server.url + "/login")
    type_into(browser, "email", email)
    type_into(browser, "password", PASSWORD)
    click(browser, "form.login button[type=submit]")
    wait_for_text(browser, "header .who", email)


@pytest.mark.parametrize("code_data_url", ["sqlite"], indirect=True)
def test_register_ask_ask_an_expert_and_read_the_reply(
    browser: WebDriver, server: LiveServer, services: Services
) -> None:
    browser.get(server.url + "/login")
    browser.find_element(By.LINK_TEXT, "Register").click()
    page_screenshots(browser, "member-register")
    type_into(browser, "email", DANA)
    click(browser, "form.login button[type=submit]")
    wait_for_text(browser, "h1", "Check your mail")
    (mail,) = outbox_messages(services)
    path = LINK.search(mail.get_body(("plain",)).get_content())[1]  # type: ignore[index]
    browser.get(server.url + path)
    wait_for_text(browser, "main", f"Your account is {DANA}")
    page_screenshots(browser, "member-welcome")
    type_into(browser, "password", PASSWORD)
    type_into(browser, "confirm_password", PASSWORD)
    click(browser, "form.login button[type=submit]")
    wait_for_text(browser, ".flash.ok", "Your account is ready")

    sign_in_as(browser, server, DANA)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Ask a coding question"
    page_screenshots(browser, "member-ask")
    type_into(browser, "question", QUESTION)
    click(browser, "details summary")
    type_into(browser, "date_of_service", "10152026")  # a date field takes the digits
    click(browser, "form.ask-form button[type=submit]")
    wait_for_text(browser, ".automatic-mark", "Automatic answer")
    answer = browser.find_element(By.CSS_SELECTOR, ".automatic-answer").text
    assert "29877 is bundled into 29880" in answer
    assert "NCCI PTP edits (practitioner) v323r0" in answer
    assert "What could not be checked" in answer
    assert_clean_console_and_markup(browser)
    page_screenshots(browser, "member-answer")

    type_into(browser, "question", "And with XS instead?")
    click(browser, "form.ask-form button[type=submit]")
    WebDriverWait(browser, WAIT).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, "article.ask-turn")) == 2
    )
    assert "2026-10-15" in browser.find_element(By.CSS_SELECTOR, ".ask-context").text

    click(browser, "form.ask-expert button[type=submit]")
    wait_for_text(browser, ".flash.ok", "Sent to our experts")
    wait_for_text(browser, ".expert-status", "With an expert")
    page_screenshots(browser, "member-sent-to-expert")
    with services.db.read_session() as session:
        reference = session.scalars(select(Case.reference)).one()
    assert reference is not None
    text = "Dear Dana,\n\nBoth may be paid with XS when the op note shows another structure.\n"
    review.edit_draft(services, reference, text, EXPERT, base_version=1)
    review.approve(services, reference, EXPERT, version=2)
    browser.refresh()
    wait_for_text(browser, ".expert-reply", "Both may be paid with XS")
    page_screenshots(browser, "member-expert-reply")

    browser.find_element(By.LINK_TEXT, "My cases").click()
    wait_for_text(browser, "table.my-cases", reference)
    assert "Answered" in browser.find_element(By.CSS_SELECTOR, "table.my-cases").text
    page_screenshots(browser, "member-cases")
    browser.find_element(By.LINK_TEXT, reference).click()
    wait_for_text(browser, "main", "The expert's answer")
    page_screenshots(browser, "member-case")

    # Another member opens the same address: the case is not theirs.
    click(browser, "header form button[type=submit]")
    create_user(services.db, PAT, PASSWORD, Role.MEMBER)
    sign_in_as(browser, server, PAT)
    browser.get(f"{server.url}/my/cases/{reference}")
    assert "No case of yours has that reference" in browser.find_element(By.TAG_NAME, "main").text
    assert "Both may be paid" not in browser.page_source
    browser.get(f"{server.url}/cases/{reference}")
    assert "Both may be paid" not in browser.page_source
    WebDriverWait(browser, WAIT).until(ec.presence_of_element_located((By.TAG_NAME, "h1")))

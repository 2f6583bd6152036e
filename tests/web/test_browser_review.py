"""Two experts in two real browsers (Debian's headless Chromium) on one case.

The conflict stories of issue 8 end in a refusal with nothing sent that was
not seen; claims, presence, the unsaved-changes warning, the live preview and
the shortcuts work as an expert would use them; an HTML mail with a script and
a remote image runs and loads nothing; an attachment downloads with its bytes.
Each page is photographed at desktop and phone width into var/screenshots.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from config import Settings
from consultant.services import Services
from tests.support.browser import LiveServer, console_log, page_screenshots
from tests.support.cases import answer_and_approve
from tests.web.helpers import (
    OP_NOTE_PDF,
    PASSWORD,
    REVIEWER,
    add_reviewer,
    attachment_mail,
    reply_text,
    sent_replies,
    store_mail,
    store_question,
)

WAIT = 30
OTHER = "other@clinic.example"
CASE = "/cases/CC-000001"


@pytest.fixture
def settings(make_settings: Callable[..., Settings], sqlite_url: str) -> Settings:
    return make_settings(database_url=sqlite_url)


@pytest.fixture
def server(services: Services, live_server: Callable[[Services], LiveServer]) -> LiveServer:
    add_reviewer(services)
    add_reviewer(services, OTHER)
    store_question(services, "01.eml")
    return live_server(services)


def wait_for_text(driver: WebDriver, css: str, text: str) -> None:
    WebDriverWait(driver, WAIT).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text)
    )


def open_case(driver: WebDriver, server: LiveServer, email: str, path: str = CASE) -> None:
    driver.get(server.url + path)
    WebDriverWait(driver, WAIT).until(ec.presence_of_element_located((By.NAME, "email")))
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    wait_for_text(driver, "header .who", email)


def type_draft(driver: WebDriver, text: str) -> None:
    box = driver.find_element(By.NAME, "text")
    box.clear()
    box.send_keys(text)


def click_and_confirm(driver: WebDriver, css: str) -> str:
    """Click a button that asks first; accept the question and return it."""
    driver.find_element(By.CSS_SELECTOR, css).click()
    alert = WebDriverWait(driver, WAIT).until(ec.alert_is_present())
    question = alert.text
    alert.accept()
    return question


def assert_clean_console(driver: WebDriver) -> None:
    """No script error and nothing the CSP refused (a 409 page is an answer, not an error)."""
    entries = console_log(driver) or []
    problems = [
        e
        for e in entries
        if (e.get("level") == "SEVERE" and e.get("source") != "network")
        or "Content Security Policy" in str(e.get("message"))
    ]
    assert problems == []


def test_approve_sends_the_unsaved_text_on_the_screen_after_asking(
    browser: WebDriver, server: LiveServer, services: Services
) -> None:
    open_case(browser, server, REVIEWER)
    answer = "Dear Amy Park,\n\nYes: 29877 is bundled into 29880.\n\nKind regards"
    type_draft(browser, answer)
    question = click_and_confirm(browser, "#approve-button")
    assert question == "Send this text to apark@cedarortho.example?"
    wait_for_text(browser, "p.flash", "CC-000001 approved: draft v2 is on its way")
    (reply,) = sent_replies(services.settings)
    assert reply_text(reply).replace("\r\n", "\n").strip() == answer
    assert_clean_console(browser)


def test_leaving_a_page_with_unsaved_edits_asks_first(
    browser: WebDriver, server: LiveServer
) -> None:
    """The page asks before it is left with unsaved edits. WebDriver accepts a real
    "leave site?" prompt by itself, so the test asks the page's own handler."""
    leaving = (
        "const e = new Event('beforeunload', {cancelable: true});"
        "window.dispatchEvent(e); return e.defaultPrevented;"
    )
    open_case(browser, server, REVIEWER)
    assert browser.execute_script(leaving) is False
    browser.find_element(By.NAME, "text").send_keys(" more words")
    assert browser.execute_script(leaving) is True
    browser.find_element(By.ID, "save-button").click()
    wait_for_text(browser, "p.flash", "Draft v2 saved.")
    assert browser.execute_script(leaving) is False


def test_a_stale_approve_in_another_browser_is_refused_and_nothing_is_sent(
    browser: WebDriver, second_browser: WebDriver, server: LiveServer, services: Services
) -> None:
    open_case(browser, server, REVIEWER)
    open_case(second_browser, server, OTHER)
    type_draft(second_browser, "Dear Amy,\n\nNo separate payment for 29877.\n\nBob")
    second_browser.find_element(By.ID, "save-button").click()
    wait_for_text(second_browser, "p.flash", "Draft v2 saved.")

    click_and_confirm(browser, "#approve-button")
    wait_for_text(browser, "section.conflict h2", "Someone else changed the draft")
    conflict = browser.find_element(By.CSS_SELECTOR, "section.conflict").text
    assert "Draft v2 was saved by other@clinic.example" in conflict
    assert "No separate payment for 29877." in conflict
    assert sent_replies(services.settings) == []
    page_screenshots(browser, "case-conflict")
    assert_clean_console(browser)


def test_two_saves_from_one_version_end_in_a_merge_not_an_overwrite(
    browser: WebDriver, second_browser: WebDriver, server: LiveServer, services: Services
) -> None:
    open_case(browser, server, REVIEWER)
    open_case(second_browser, server, OTHER)
    original = browser.find_element(By.NAME, "text").get_attribute("value")
    type_draft(second_browser, original.replace("Kind regards", "Best regards"))
    second_browser.find_element(By.ID, "save-button").click()
    wait_for_text(second_browser, "p.flash", "Draft v2 saved.")

    type_draft(browser, original.replace("Dear", "Hello", 1))
    browser.find_element(By.ID, "save-button").click()
    wait_for_text(browser, "section.conflict", "merged")
    merged = browser.find_element(By.NAME, "text").get_attribute("value")
    assert merged.startswith("Hello") and "Best regards" in merged
    browser.find_element(By.ID, "save-button").click()
    wait_for_text(browser, "p.flash", "Draft v3 saved.")
    assert sent_replies(services.settings) == []


def test_claim_is_seen_by_the_other_expert_who_must_take_over_explicitly(
    browser: WebDriver, second_browser: WebDriver, server: LiveServer
) -> None:
    open_case(browser, server, REVIEWER)
    browser.find_element(By.ID, "claim-button").click()
    wait_for_text(browser, "p.flash", "CC-000001 is yours for 30 minutes.")

    open_case(second_browser, server, OTHER)
    claim = second_browser.find_element(By.CSS_SELECTOR, "p.claimed.other").text
    assert claim.startswith("Claimed by reviewer@clinic.example since ")
    presence = second_browser.find_element(By.ID, "presence").text
    assert presence == "Also open by: reviewer@clinic.example"
    page_screenshots(second_browser, "case-claimed-by-another")
    question = click_and_confirm(second_browser, "button.take-over")
    assert "This is recorded on the timeline" in question
    wait_for_text(second_browser, "p.flash", "You took CC-000001 over")
    assert (
        "Took the case over from reviewer@clinic.example"
        in second_browser.find_element(By.CSS_SELECTOR, "ol.timeline").text
    )

    browser.refresh()
    wait_for_text(browser, "p.claimed.other", "Claimed by other@clinic.example")


def test_the_editor_counts_notes_previews_and_lists_its_shortcuts(
    browser: WebDriver, server: LiveServer
) -> None:
    open_case(browser, server, REVIEWER)
    assert "2 open [expert: ...] note(s)" in browser.find_element(By.ID, "markers").text
    type_draft(browser, "Dear Amy,\n\n<b>59</b> applies. [expert: check the op note]")
    wait_for_text(browser, "#markers", "1 open [expert: ...] note(s)")
    browser.find_element(By.CSS_SELECTOR, "#preview-box summary").click()
    wait_for_text(browser, "#preview", "<b>59</b> applies.")  # shown as text, not markup
    assert browser.find_elements(By.CSS_SELECTOR, "#preview b") == []

    browser.find_element(By.TAG_NAME, "h1").click()
    browser.find_element(By.TAG_NAME, "body").send_keys("?")
    assert browser.find_element(By.ID, "shortcuts").is_displayed()
    page_screenshots(browser, "case-editor-shortcuts")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    assert not browser.find_element(By.ID, "shortcuts").is_displayed()
    assert_clean_console(browser)


def test_an_html_mail_with_a_script_and_a_remote_image_runs_and_loads_nothing(
    browser: WebDriver, services: Services, live_server: Callable[[Services], LiveServer]
) -> None:
    add_reviewer(services)
    store_mail(services, attachment_mail())
    server = live_server(services)
    open_case(browser, server, REVIEWER)
    assert "John Smith" not in browser.find_element(By.TAG_NAME, "main").text
    page_screenshots(browser, "case-phi-hidden")

    browser.find_element(By.XPATH, "//button[starts-with(text(), 'Show patient details')]").click()
    wait_for_text(browser, "h1", "John Smith")
    browser.find_element(By.CSS_SELECTOR, "details.html-version summary").click()
    frame = browser.find_element(By.CSS_SELECTOR, "details.html-version iframe")
    assert frame.get_attribute("sandbox") == ""
    browser.switch_to.frame(frame)
    WebDriverWait(browser, WAIT).until(
        ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "Lap chole")
    )
    assert browser.find_elements(By.TAG_NAME, "img") == []
    assert browser.find_elements(By.TAG_NAME, "script") == []
    browser.switch_to.default_content()
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.accept()
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert not [r for r in resources if "tracker.example" in r]
    page_screenshots(browser, "case-phi-shown")


def test_an_attachment_downloads_with_its_bytes_under_a_name_without_the_patient(
    browser: WebDriver,
    services: Services,
    live_server: Callable[[Services], LiveServer],
    tmp_path: Path,
) -> None:
    add_reviewer(services)
    store_mail(services, attachment_mail())
    server = live_server(services)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    try:
        open_case(browser, server, REVIEWER)
        browser.find_element(By.CSS_SELECTOR, "ul.attachments a").click()
        WebDriverWait(browser, WAIT).until(
            lambda _: [p for p in downloads.iterdir() if not p.name.endswith(".crdownload")]
        )
    finally:
        browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "default"})
    (saved,) = downloads.iterdir()
    assert saved.read_bytes() == OP_NOTE_PDF
    assert "John" not in saved.name and "1962" not in saved.name and "12345678" not in saved.name
    assert browser.current_url == server.url + CASE  # downloaded, never opened in the page


def test_the_diff_page_and_a_sent_case(
    browser: WebDriver, server: LiveServer, services: Services
) -> None:
    answer_and_approve(services, "CC-000001")
    open_case(browser, server, REVIEWER, f"{CASE}/diff?a=1&b=2")
    assert "draft v1 and v2" in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.find_elements(By.CSS_SELECTOR, "table.diff mark.change")
    page_screenshots(browser, "diff")
    browser.get(server.url + CASE)
    wait_for_text(browser, ".meta .status", "sent")
    page_screenshots(browser, "case-sent")
    assert_clean_console(browser)


def test_a_snippet_goes_in_where_the_cursor_is(
    browser: WebDriver, server: LiveServer, services: Services
) -> None:
    from consultant.cases.snippets import create_snippet

    with services.db.session() as session:
        create_snippet(session, "greeting", "Hello {{ requester_name }},", "admin")
    open_case(browser, server, REVIEWER)
    type_draft(browser, "\n\nThe answer.")
    box = browser.find_element(By.NAME, "text")
    box.send_keys(Keys.CONTROL, Keys.HOME)
    browser.find_element(By.ID, "snippet-button").click()
    WebDriverWait(browser, WAIT).until(
        lambda d: box.get_attribute("value").startswith("Hello Amy Park,")
    )
    assert box.get_attribute("value") == "Hello Amy Park,\n\nThe answer."
    assert sent_replies(services.settings) == []
    assert_clean_console(browser)

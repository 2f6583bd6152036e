"""The queue of a deployment with several desks, in Chromium: a team's view, its filter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from config import Settings
from consultant.services import Services, build_services
from tests.desks.support import BILLING, SURGERY, addressed_to, desks_file
from tests.support.browser import LiveServer, page_screenshots
from tests.support.cases import file_messages
from tests.support.corpus import QUESTIONS
from tests.web.helpers import REVIEWER, add_reviewer
from tests.web.test_browser import assert_clean_console_and_markup, sign_in, wait_for_text

DESKS = f"""
[desks.billing]
address = "{BILLING}"
display_name = "Billing Consult Desk"
team = ["{REVIEWER}"]

[desks.surgery]
address = "{SURGERY}"
display_name = "Surgery Coding Desk"
team = ["someone-else@clinic.example"]
"""


@pytest.fixture
def services(
    make_settings: Callable[..., Settings], sqlite_url: str, tmp_path: Path
) -> Iterator[Services]:
    built = build_services(
        make_settings(database_url=sqlite_url, desks_file=desks_file(tmp_path, DESKS))
    )
    add_reviewer(built)
    raws = [(QUESTIONS / f"0{n}.eml").read_bytes() for n in (1, 2, 3)]
    file_messages(built, addressed_to(raws[0], BILLING), addressed_to(raws[1], SURGERY), raws[2])
    yield built
    built.db.dispose()


def _desks_listed(browser: WebDriver) -> list[str]:
    return [
        e.text for e in browser.find_elements(By.CSS_SELECTOR, "table.cases td[data-label=Desk]")
    ]


def test_a_team_member_sees_their_desks_and_filters_by_one(
    browser: WebDriver, services: Services, live_server: Callable[[Services], LiveServer]
) -> None:
    server = live_server(services)
    sign_in(browser, server, "/?status=all")
    assert sorted(_desks_listed(browser)) == ["Billing Consult Desk", "CaseConsultant"]
    assert "Surgery" not in browser.page_source
    assert_clean_console_and_markup(browser)
    page_screenshots(browser, "queue-desks")

    browser.find_element(By.CSS_SELECTOR, "details.queue-more summary").click()
    desk = Select(browser.find_element(By.ID, "queue-desk"))
    assert [o.text for o in desk.options] == [
        "every desk",
        "CaseConsultant",
        "Billing Consult Desk",
    ]
    desk.select_by_visible_text("Billing Consult Desk")
    browser.find_element(By.CSS_SELECTOR, "form.queue-filters button[type=submit]").click()
    wait_for_text(browser, "table.cases td[data-label=Desk]", "Billing Consult Desk")
    assert _desks_listed(browser) == ["Billing Consult Desk"]

    browser.find_element(By.CSS_SELECTOR, "table.cases td[data-label=Case] a").click()
    wait_for_text(browser, "p.meta", f"to Billing Consult Desk <{BILLING}>")
    assert_clean_console_and_markup(browser)
    page_screenshots(browser, "case-desk")

"""Accounts and sessions through the web app, on SQLite and on PostgreSQL: sign-in
throttling per account and per address, server-side sessions that sign-out, disabling
and password changes end, idle and absolute time limits, the password page, the account
page, HSTS, and the audit log. Forms are sent as a browser sends them (CSRF included)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select, text, update
from werkzeug.test import TestResponse

from config import Settings
from consultant.models import AuthEvent, User, UserSession, utcnow
from consultant.services import Services, build_services
from consultant.users import reset_password, set_active
from consultant.web import create_app
from tests.support.browser import LiveServer, page_screenshots
from tests.web.helpers import (
    PASSWORD,
    REVIEWER,
    Page,
    add_reviewer,
    get,
    path_of,
    sign_in,
    submit,
)

WRONG = "Wrong email or password."
TOO_MANY = re.compile(
    r"Too many failed sign-ins\. Try again at \d\d:\d\d:\d\d UTC \(in (\d+) seconds?\)\."
)
NEW_PASSWORD = "a brand new passphrase for rita"
COLLEAGUE = "colleague@clinic.example"


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    """A first wait of 30 s: no wait runs out while a test is still knocking."""
    return make_settings(database_url=database_url, login_delay_seconds=30)


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def reviewer(services: Services) -> User:
    return add_reviewer(services)


def client_at(app: Flask, address: str) -> FlaskClient:
    """A browser on another machine: requests come from ``address``."""
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = address
    return other


def goes_to_login(response: TestResponse) -> bool:
    return response.status_code == 302 and path_of(response.headers["Location"]) == "/login"


def events(services: Services) -> list[AuthEvent]:
    with services.db.read_session() as session:
        return list(session.scalars(select(AuthEvent).order_by(AuthEvent.id)))


def kinds(services: Services) -> list[str]:
    return [event.kind for event in events(services)]


def wait_seconds(page: Page) -> int:
    """The wait the page announces; it must agree with the Retry-After header, if any."""
    (match,) = [m for m in map(TOO_MANY.fullmatch, page.flashes) if m]
    seconds = int(match.group(1))
    retry_after = page.response.headers.get("Retry-After")
    if retry_after is not None:
        assert abs(int(retry_after) - seconds) <= 1
    return seconds


# -- throttling ----------------------------------------------------------------------


@pytest.mark.usefixtures("reviewer")
def test_forty_wrong_passwords_reach_the_password_check_four_times(
    client: FlaskClient, services: Services
) -> None:
    """The story of the issue: 40 wrong passwords in a row. Three are free, the fourth
    starts a wait, and the other 36, like the right password during the wait, are
    refused with 429 and the time to come back, without their password being checked."""
    pages = [sign_in(client, REVIEWER, f"guess number {n}") for n in range(40)]

    for page in pages[:3]:
        assert page.response.status_code == 200
        assert page.flashes == [WRONG]
    assert pages[3].response.status_code == 200
    assert pages[3].flashes[0] == WRONG
    assert 29 <= wait_seconds(pages[3]) <= 30
    for page in pages[4:]:
        assert page.response.status_code == 429
        assert len(page.flashes) == 1
        assert 1 <= wait_seconds(page) <= 30
        assert page.text("//h1") == "Sign in"
        assert page.form("")["email"] == REVIEWER  # typed once, kept

    right = sign_in(client, REVIEWER, PASSWORD)
    assert right.response.status_code == 429
    assert TOO_MANY.fullmatch(right.flashes[0])
    assert goes_to_login(client.get("/"))
    assert kinds(services) == ["sign_in_failed"] * 4 + ["sign_in_refused"] * 37


@pytest.mark.usefixtures("reviewer")
def test_forty_tries_sent_at_once_are_counted_one_after_another(
    app: Flask, services: Services
) -> None:
    """Sent at the same moment, the tries still queue up on the counter: the password is
    checked for four of them."""
    clients = [app.test_client() for _ in range(40)]
    tokens = [get(c, "/login").csrf_token for c in clients]
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def attempt(client: FlaskClient, token: str) -> None:
        form = {"csrf_token": token, "email": REVIEWER, "password": "a wrong password"}
        start.wait()
        response = client.post("/login", data=form, headers={"Referer": "http://localhost/login"})
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=attempt, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(statuses) == [200] * 4 + [429] * 36
    assert kinds(services).count("sign_in_failed") == 4


@pytest.mark.usefixtures("reviewer")
def test_after_the_wait_the_right_password_works_and_the_count_starts_again(
    make_services: Callable[..., Services],
) -> None:
    services = make_services(login_delay_seconds=3)
    client = create_app(services).test_client()
    for _ in range(4):
        sign_in(client, REVIEWER, "not it at all")
    refused = sign_in(client, REVIEWER, PASSWORD)
    assert refused.response.status_code == 429
    time.sleep(int(refused.response.headers["Retry-After"]))
    assert sign_in(client, REVIEWER, PASSWORD).text("//h1") == "Review queue"
    submit(client, get(client, "/"), "/logout")
    # A success resets the account: three free failures again.
    for _ in range(3):
        assert sign_in(client, REVIEWER, "not it at all").flashes == [WRONG]


@pytest.mark.usefixtures("reviewer")
def test_an_unknown_email_is_answered_exactly_like_a_real_one(app: Flask) -> None:
    """Nothing tells which emails have accounts: the same pages, the same waits."""

    def answers(email: str, address: str) -> list[tuple[int, list[str]]]:
        client = client_at(app, address)
        pages = [sign_in(client, email, "some wrong password") for _ in range(6)]
        return [
            (p.response.status_code, [TOO_MANY.sub("(wait)", f) for f in p.flashes]) for p in pages
        ]

    real = answers(REVIEWER, "192.0.2.1")
    unknown = answers("nobody@clinic.example", "192.0.2.2")
    assert real == unknown
    assert [status for status, _ in real] == [200, 200, 200, 200, 429, 429]


@pytest.mark.usefixtures("reviewer")
def test_one_address_guessing_many_accounts_is_slowed_for_every_account(
    app: Flask, services: Services
) -> None:
    spray = client_at(app, "198.51.100.66")
    for n in range(15):  # five times an account's free failures
        assert sign_in(spray, f"user{n}@clinic.example", "Winter2026!").flashes == [WRONG]
    assert TOO_MANY.fullmatch(sign_in(spray, "user15@clinic.example", "Winter2026!").flashes[1])
    # From that address even the right password of an untried account waits ...
    refused = sign_in(spray, REVIEWER, PASSWORD)
    assert refused.response.status_code == 429
    # ... while the same account signs in at once from elsewhere.
    assert sign_in(client_at(app, "203.0.113.5"), REVIEWER, PASSWORD).text("//h1") == (
        "Review queue"
    )
    refusal = [e for e in events(services) if e.kind == "sign_in_refused"]
    assert [(e.email, e.address) for e in refusal] == [(REVIEWER, "198.51.100.66")]


@pytest.mark.usefixtures("reviewer")
def test_one_account_guessed_from_many_addresses_is_slowed(app: Flask) -> None:
    for n in range(4):
        sign_in(client_at(app, f"192.0.2.{n}"), REVIEWER, "guessing again")
    refused = sign_in(client_at(app, "192.0.2.99"), REVIEWER, PASSWORD)
    assert refused.response.status_code == 429
    assert int(refused.response.headers["Retry-After"]) > 25


# -- sessions ------------------------------------------------------------------------


def cookie_of(client: FlaskClient) -> str:
    cookie = client.get_cookie("consultant_session")
    assert cookie is not None
    return cookie.value


def with_cookie(app: Flask, value: str) -> FlaskClient:
    """Another browser on the same machine, holding a copy of a session cookie."""
    copy = app.test_client()
    copy.set_cookie("consultant_session", value)
    return copy


@pytest.mark.usefixtures("reviewer")
def test_a_copied_cookie_stops_working_after_sign_out(
    app: Flask, client: FlaskClient, services: Services
) -> None:
    page = sign_in(client)
    stolen = cookie_of(client)
    assert get(with_cookie(app, stolen), "/").text("//h1") == "Review queue"  # the copy works

    submit(client, page, "/logout")
    replay = with_cookie(app, stolen)
    assert goes_to_login(replay.get("/"))
    assert goes_to_login(replay.get("/account"))
    with services.db.read_session() as session:
        (row,) = session.scalars(select(UserSession))
    assert row.revoked_at is not None
    assert kinds(services) == ["sign_in", "sign_out"]


@pytest.mark.usefixtures("reviewer")
def test_the_cookie_carries_a_token_whose_hash_alone_is_stored(
    client: FlaskClient, services: Services
) -> None:
    sign_in(client)
    with client.session_transaction() as session:
        token = session["_user_id"]
    assert len(token) >= 40 and not token.isdigit()
    with services.db.read_session() as db_session:
        stored = db_session.scalars(select(UserSession.token_hash)).one()
    assert token not in stored and len(stored) == 64


@pytest.mark.usefixtures("reviewer")
def test_signing_in_starts_a_new_session(app: Flask, services: Services) -> None:
    """A cookie someone planted before the sign-in does not become a signed-in one, and a
    second sign-in in the same browser ends the first session."""
    victim = app.test_client()
    login = get(victim, "/login")
    planted = cookie_of(victim)
    page = submit(victim, login, "", email=REVIEWER, password=PASSWORD)
    assert page.text("//h1") == "Review queue"
    assert cookie_of(victim) != planted
    assert goes_to_login(with_cookie(app, planted).get("/"))

    first = cookie_of(victim)
    add_reviewer(services, COLLEAGUE)
    assert COLLEAGUE in sign_in(victim, COLLEAGUE).text("//header/span[@class='who']")
    assert goes_to_login(with_cookie(app, first).get("/"))
    with services.db.read_session() as session:
        open_rows = session.scalars(select(UserSession).where(UserSession.revoked_at.is_(None)))
        assert [row.user.email for row in open_rows] == [COLLEAGUE]


def age_sessions(services: Services, *, idle: timedelta, age: timedelta) -> None:
    """Move every session back in time, as if it was opened ``age`` ago and last used
    ``idle`` ago (the server's clock is real; the rows are what it reads)."""
    now = utcnow()
    with services.db.session() as session:
        session.execute(update(UserSession).values(last_seen_at=now - idle, created_at=now - age))


@pytest.mark.usefixtures("reviewer")
def test_a_session_ends_after_an_hour_without_activity(
    client: FlaskClient, services: Services
) -> None:
    sign_in(client)
    age_sessions(services, idle=timedelta(minutes=59), age=timedelta(minutes=59))
    assert get(client, "/").text("//h1") == "Review queue"  # and that counts as activity
    with services.db.read_session() as session:
        seen = session.scalars(select(UserSession.last_seen_at)).one()
    assert utcnow() - seen < timedelta(seconds=30)

    age_sessions(services, idle=timedelta(minutes=60, seconds=1), age=timedelta(hours=2))
    response = client.get("/account")
    assert goes_to_login(response)
    assert "next=/account" in response.headers["Location"].replace("%2F", "/")
    login = get(client, response.headers["Location"])
    assert login.flashes == [
        "You were signed out after 60 minutes without activity. Sign in again."
    ]
    assert goes_to_login(client.get("/"))
    expired = [e for e in events(services) if e.kind == "session_expired"]
    assert [(e.email, e.details) for e in expired] == [(REVIEWER, {"reason": "idle"})]


@pytest.mark.usefixtures("reviewer")
def test_a_session_ends_at_its_lifetime_however_busy(
    client: FlaskClient, services: Services
) -> None:
    sign_in(client)
    age_sessions(services, idle=timedelta(0), age=timedelta(hours=12, seconds=1))
    response = client.get("/")
    assert goes_to_login(response)
    assert get(client, response.headers["Location"]).flashes == [
        "Sessions last at most 12 hours and yours has ended. Sign in again."
    ]
    assert kinds(services)[-1] == "session_expired"


@pytest.mark.usefixtures("reviewer")
def test_last_seen_is_written_at_most_once_a_minute(
    client: FlaskClient, services: Services
) -> None:
    sign_in(client)
    age_sessions(services, idle=timedelta(seconds=30), age=timedelta(seconds=30))
    with services.db.read_session() as session:
        before = session.scalars(select(UserSession.last_seen_at)).one()
    for _ in range(3):
        get(client, "/")
    with services.db.read_session() as session:
        assert session.scalars(select(UserSession.last_seen_at)).one() == before


@pytest.mark.usefixtures("reviewer")
def test_disabling_a_user_ends_their_sessions_at_once(
    app: Flask, client: FlaskClient, services: Services
) -> None:
    sign_in(client)
    elsewhere = client_at(app, "203.0.113.8")
    sign_in(elsewhere)
    assert set_active(services.db, REVIEWER, False, "admin@clinic.example") == 2
    assert goes_to_login(client.get("/"))
    assert goes_to_login(elsewhere.get("/"))
    refused = sign_in(client)  # the right password, a disabled account: the usual answer
    assert refused.flashes == [WRONG]

    set_active(services.db, REVIEWER, True, "admin@clinic.example")
    assert sign_in(client).text("//h1") == "Review queue"
    disabled = [e for e in events(services) if e.kind == "user_disabled"]
    assert disabled[0].details == {"by": "admin@clinic.example", "sessions_ended": 2}
    failed = [e for e in events(services) if e.kind == "sign_in_failed"]
    assert failed[0].details == {"reason": "disabled"}


@pytest.mark.usefixtures("reviewer")
def test_a_password_set_by_an_administrator_ends_sessions_and_lifts_the_wait(
    client: FlaskClient, services: Services
) -> None:
    sign_in(client)
    locked_out = client_at(client.application, "192.0.2.44")
    for _ in range(5):
        sign_in(locked_out, REVIEWER, "forgot it")
    assert reset_password(services.db, REVIEWER, NEW_PASSWORD, "cli:root") == 1
    assert goes_to_login(client.get("/"))
    assert sign_in(locked_out, REVIEWER, NEW_PASSWORD).text("//h1") == "Review queue"


# -- the password page ---------------------------------------------------------------


@pytest.mark.usefixtures("reviewer")
def test_the_account_pages_need_a_signed_in_user_and_a_csrf_token(
    client: FlaskClient, services: Services
) -> None:
    for path in ("/account", "/account/password"):
        assert goes_to_login(client.get(path)), path
    token = get(client, "/login").csrf_token
    form = {
        "csrf_token": token,
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    assert goes_to_login(client.post("/account/password", data=form))
    assert goes_to_login(client.post("/account/sessions/others", data={"csrf_token": token}))

    sign_in(client)
    del form["csrf_token"]
    assert client.post("/account/password", data=form).status_code == 400
    assert client.post("/account/sessions/others", data={}).status_code == 400
    assert "password_changed" not in kinds(services)


def test_a_user_with_an_unknown_role_cannot_open_the_account_pages(
    client: FlaskClient, services: Services
) -> None:
    add_reviewer(services, "auditor@clinic.example")
    with services.db.session() as session:
        session.execute(
            update(User).where(User.email == "auditor@clinic.example").values(role="auditor")
        )
    sign_in(client, "auditor@clinic.example")
    assert client.get("/account").status_code == 403
    assert client.get("/account/password").status_code == 403


@pytest.mark.usefixtures("reviewer")
@pytest.mark.parametrize(
    ("current", "new", "again", "message"),
    [
        ("not my password", NEW_PASSWORD, NEW_PASSWORD, "The current password is not right."),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!", "The two new passwords differ"),
        (PASSWORD, "too short", "too short", "Not changed: the password must have at least 12"),
        (PASSWORD, PASSWORD, PASSWORD, "Not changed: the new password is the same"),
    ],
    ids=["wrong-current", "mismatch", "short", "unchanged"],
)
def test_a_password_change_that_cannot_be_made_says_why(
    client: FlaskClient, services: Services, current: str, new: str, again: str, message: str
) -> None:
    sign_in(client)
    form = get(client, "/account/password")
    page = submit(
        client,
        form,
        "",
        current_password=current,
        new_password=new,
        confirm_password=again,
    )
    assert page.response.status_code == 200
    assert page.text("//h1") == "Change password"
    (flash,) = page.flashes
    assert flash.startswith(message)
    for secret in {current, new, again}:
        assert secret not in page.html
    submit(client, get(client, "/"), "/logout")
    assert sign_in(client).text("//h1") == "Review queue"  # the old password still works


@pytest.mark.usefixtures("reviewer")
def test_changing_the_password_signs_out_the_other_sessions(
    app: Flask, client: FlaskClient, services: Services
) -> None:
    sign_in(client)
    laptop = client_at(app, "203.0.113.20")
    sign_in(laptop)
    form = get(client, "/account/password")
    assert form.text("//p[@id='password-rule']").startswith("At least 12 characters.")
    page = submit(
        client,
        form,
        "",
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        confirm_password=NEW_PASSWORD,
    )
    assert page.response.request.path == "/account"
    assert page.flashes == ["Your password is changed; 1 other session signed out."]
    assert get(client, "/").text("//h1") == "Review queue"  # this browser stays signed in
    assert goes_to_login(laptop.get("/"))

    submit(client, get(client, "/"), "/logout")
    assert sign_in(client, REVIEWER, PASSWORD).flashes == [WRONG]
    assert sign_in(client, REVIEWER, NEW_PASSWORD).text("//h1") == "Review queue"
    changed = [e for e in events(services) if e.kind == "password_changed"]
    assert [(e.address, e.details) for e in changed] == [("127.0.0.1", {"other_sessions_ended": 1})]


@pytest.mark.usefixtures("reviewer")
def test_guessing_the_current_password_is_throttled_too(client: FlaskClient) -> None:
    sign_in(client)
    form = get(client, "/account/password")
    for _ in range(4):
        page = submit(
            client,
            form,
            "",
            current_password="is it this one",
            new_password=NEW_PASSWORD,
            confirm_password=NEW_PASSWORD,
        )
    refused = submit(
        client,
        form,
        "",
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        confirm_password=NEW_PASSWORD,
    )
    assert page.response.status_code == 200
    assert refused.response.status_code == 429
    assert 25 <= wait_seconds(refused) <= 30
    assert refused.text("//h1") == "Change password"


# -- the account page ----------------------------------------------------------------


@pytest.mark.usefixtures("reviewer")
def test_the_account_page_lists_sessions_and_signs_out_the_others(
    app: Flask, client: FlaskClient, services: Services
) -> None:
    other = client_at(app, "203.0.113.30")
    sign_in(other, REVIEWER, "mistyped it once")
    sign_in(other)
    sign_in(client)
    page = get(client, "/account")
    rows = page.texts("//table[@class='sessions']/tbody/tr")
    assert len(rows) == 2
    assert "(this browser)" in page.text("//table[@class='sessions']/tbody/tr[@class='current']")
    assert any("203.0.113.30" in row and "(this browser)" not in row for row in rows)
    activity = page.texts("//table[@class='auth-events']/tbody/tr/td[2]")
    assert activity == ["Signed in", "Signed in", "Wrong password given"]

    page = submit(client, page, "/account/sessions/others")
    assert page.flashes == ["Signed out of 1 other session."]
    assert len(page.texts("//table[@class='sessions']/tbody/tr")) == 1
    assert page.tree.xpath("//form[@action='/account/sessions/others']") == []
    assert goes_to_login(other.get("/"))
    assert get(client, "/").text("//h1") == "Review queue"


@pytest.mark.usefixtures("reviewer")
def test_the_header_links_to_the_account(client: FlaskClient) -> None:
    page = sign_in(client)
    (link,) = page.tree.xpath("//header//span[@class='who']/a/@href")  # the signed-in address
    assert get(client, link).text("//h1") == "Your account"


# -- HSTS and the audit log ----------------------------------------------------------


@pytest.mark.parametrize("secure", [False, True], ids=["http", "https"])
def test_hsts_is_sent_behind_tls_only(
    make_settings: Callable[..., Settings], sqlite_url: str, secure: bool
) -> None:
    services = build_services(make_settings(database_url=sqlite_url, secure_cookies=secure))
    try:
        client = create_app(services).test_client()
        for response in (client.get("/login"), client.get("/"), client.get("/nowhere")):
            hsts = response.headers.get("Strict-Transport-Security")
            assert hsts == ("max-age=31536000; includeSubDomains" if secure else None)
    finally:
        services.db.dispose()


@pytest.mark.usefixtures("reviewer")
def test_the_audit_log_has_every_step_with_its_address_and_no_password(
    app: Flask, services: Services
) -> None:
    client = client_at(app, "192.0.2.77")
    secrets = [f"wrong guess number {n} of five" for n in range(1, 6)]
    for guess in secrets:
        sign_in(client, REVIEWER, guess)
    reset_password(services.db, REVIEWER, NEW_PASSWORD, "cli:root")
    page = sign_in(client, REVIEWER, NEW_PASSWORD)
    submit(client, page, "/logout")

    logged = [(e.kind, e.email, e.address) for e in events(services)]
    assert logged == [
        *[("sign_in_failed", REVIEWER, "192.0.2.77")] * 4,
        ("sign_in_refused", REVIEWER, "192.0.2.77"),
        ("password_reset", REVIEWER, None),
        ("sign_in", REVIEWER, "192.0.2.77"),
        ("sign_out", REVIEWER, "192.0.2.77"),
    ]
    with services.db.read_session() as session:
        stored = " ".join(
            str(row)
            for table in ("auth_event", "login_throttle", "user_session", '"user"')
            for row in session.execute(text(f"SELECT * FROM {table}"))
        )
    for secret in [*secrets, NEW_PASSWORD, PASSWORD]:
        assert secret not in stored


# -- in a real browser ---------------------------------------------------------------


def test_the_account_pages_in_a_browser(
    make_settings: Callable[..., Settings],
    sqlite_url: str,
    browser: WebDriver,
    live_server: Callable[[Services], LiveServer],
) -> None:
    services = build_services(make_settings(database_url=sqlite_url, login_delay_seconds=30))
    try:
        add_reviewer(services)
        server = live_server(services)
        wait = WebDriverWait(browser, 30)

        def sign_in_with(password: str) -> None:
            browser.get(server.url + "/login")
            wait.until(ec.presence_of_element_located((By.NAME, "email")))
            browser.find_element(By.NAME, "email").clear()
            browser.find_element(By.NAME, "email").send_keys(REVIEWER)
            browser.find_element(By.NAME, "password").send_keys(password)
            browser.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
            wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "p.flash, .who")))

        for _ in range(5):
            sign_in_with("a wrong guess")
        flashes = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "p.flash")]
        assert len(flashes) == 1 and TOO_MANY.fullmatch(flashes[0])
        page_screenshots(browser, "login-throttled")

        with services.db.session() as session:  # the wait is over
            session.execute(text("UPDATE login_throttle SET locked_until = NULL"))
        sign_in_with(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "header .who a").click()  # the address
        wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Your account"))
        assert "(this browser)" in browser.find_element(By.CSS_SELECTOR, "tr.current").text
        page_screenshots(browser, "account")

        browser.find_element(By.LINK_TEXT, "Change password").click()
        wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Change password"))
        browser.find_element(By.NAME, "current_password").send_keys(PASSWORD)
        browser.find_element(By.NAME, "new_password").send_keys(NEW_PASSWORD)
        browser.find_element(By.NAME, "confirm_password").send_keys(NEW_PASSWORD)
        page_screenshots(browser, "password")
        browser.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "p.flash"), "changed"))
        assert browser.find_element(By.TAG_NAME, "h1").text == "Your account"
    finally:
        services.db.dispose()

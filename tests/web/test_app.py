"""The review web app through Flask's test client, on SQLite and on PostgreSQL.

Forms are read from the served pages and sent back the way a browser sends
them (hidden csrf_token included, Referer as the page's Referrer-Policy
allows), so CSRF protection stays on throughout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text, update
from werkzeug.test import TestResponse

from config import Settings
from consultant.codes.importers import importer_for
from consultant.codes.importing import import_release
from consultant.db import Database
from consultant.models import Case, User
from consultant.services import Services, build_services
from consultant.web import create_app
from tests.support.corpus import PTP_FILE
from tests.support.postgres import empty_tables
from tests.web.helpers import (
    HOST,
    HOSTILE,
    PASSWORD,
    REVIEWER,
    Page,
    add_reviewer,
    browser_target,
    get,
    hostile_message,
    path_of,
    reply_text,
    sent_replies,
    sign_in,
    store_mail,
    store_question,
    store_special,
    submit,
)

CASE = "/cases/CC-000001"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def reviewer(services: Services) -> User:
    return add_reviewer(services)


@pytest.fixture
def signed_in(client: FlaskClient, reviewer: User) -> FlaskClient:
    page = sign_in(client)
    assert REVIEWER in page.text("//header/span[@class='who']")
    return client


@pytest.fixture
def question(services: Services) -> None:
    """Case CC-000001, from questions/01.eml, awaiting review."""
    store_question(services, "01.eml")


def goes_to_login(response: TestResponse) -> bool:
    return response.status_code == 302 and path_of(response.headers["Location"]) == "/login"


def case_status(services: Services, reference: str = "CC-000001") -> str:
    with services.db.session() as session:
        return session.scalars(select(Case.status).where(Case.reference == reference)).one()


# -- signing in -----------------------------------------------------------------------


@pytest.mark.usefixtures("question", "reviewer")
def test_every_page_but_the_login_sends_a_signed_out_visitor_to_the_login(
    client: FlaskClient, services: Services
) -> None:
    for path in ("/", "/?status=all", "/?status=sent", CASE, "/cases/CC-999999"):
        assert goes_to_login(client.get(path)), path
    login = get(client, "/login")
    assert login.form("").keys() >= {"email", "password", "csrf_token"}
    # Even with a valid CSRF token, the review actions need a signed-in user.
    token = login.csrf_token
    for action in ("draft", "approve", "reject", "assign", "retry"):
        response = client.post(
            f"{CASE}/{action}", data={"csrf_token": token, "text": "x", "reason": "x"}
        )
        assert goes_to_login(response), action
    assert case_status(services) == "awaiting_review"
    assert sent_replies(services.settings) == []


@pytest.mark.usefixtures("reviewer")
@pytest.mark.parametrize(
    ("email", "password"),
    [(REVIEWER, "not the password at all"), ("nobody@clinic.example", PASSWORD)],
    ids=["wrong-password", "unknown-email"],
)
def test_a_wrong_password_shows_a_generic_error_and_signs_nobody_in(
    client: FlaskClient, email: str, password: str
) -> None:
    page = sign_in(client, email, password)
    assert page.response.status_code == 200
    assert page.flashes == ["Wrong email or password."]
    assert page.text("//h1") == "Sign in"
    assert password not in page.html
    with client.session_transaction() as session:
        assert "_user_id" not in session
    assert goes_to_login(client.get("/"))


@pytest.mark.usefixtures("question", "reviewer")
def test_sign_in_and_out(client: FlaskClient) -> None:
    page = sign_in(client)
    assert page.response.request.path == "/"
    assert page.text("//h1") == "Review queue"
    assert "CC-000001" in page.texts("//table[@class='cases']//a")

    page = submit(client, page, "/logout")
    assert page.response.request.path == "/login"
    assert page.texts("//header/span[@class='who']") == []
    assert goes_to_login(client.get("/"))
    assert goes_to_login(client.get(CASE))


@pytest.mark.usefixtures("question", "reviewer")
def test_the_login_follows_next_on_this_site(client: FlaskClient) -> None:
    redirected = client.get(CASE)
    login = Page(client.get(redirected.headers["Location"]))
    page = submit(client, login, "", email=REVIEWER, password=PASSWORD)
    assert page.response.request.path == CASE
    assert page.text("//h1").startswith("CC-000001: ")


@pytest.mark.usefixtures("reviewer")
@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "/\t/evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
    ],
)
def test_the_login_does_not_follow_next_to_another_host(client: FlaskClient, target: str) -> None:
    login = Page(client.get("/login", query_string={"next": target}))
    response = submit(client, login, "", follow=False, email=REVIEWER, password=PASSWORD)
    assert response.response.status_code == 302
    landing = urlsplit(browser_target(response.response.headers["Location"]))
    assert (landing.scheme, landing.hostname) == ("http", HOST)
    assert "evil.example" not in landing.path


# -- CSRF, headers, cookies ----------------------------------------------------------


@pytest.mark.usefixtures("question")
def test_a_post_without_the_csrf_token_is_refused(
    client: FlaskClient, reviewer: User, services: Services
) -> None:
    login = get(client, "/login")
    refused = Page(client.post("/login", data={"email": REVIEWER, "password": PASSWORD}))
    assert refused.response.status_code == 400
    assert "reload the page and try again" in refused.text("//p[@role='alert']")
    assert goes_to_login(client.get("/"))

    sign_in(client)
    case = get(client, CASE)
    approve = case.form(f"{CASE}/approve")
    assert approve.keys() == {"csrf_token", "base_version", "text"}
    assert client.post(f"{CASE}/approve", data={}).status_code == 400
    forged_token = login.csrf_token + "x"
    forged = client.post(f"{CASE}/reject", data={"csrf_token": forged_token, "reason": "x"})
    assert forged.status_code == 400
    edit = client.post(f"{CASE}/draft", data={"text": "Dear Amy, yes."})
    assert edit.status_code == 400
    assert case_status(services) == "awaiting_review"
    assert get(client, CASE).draft == case.draft
    assert sent_replies(services.settings) == []


def assert_security_headers(response: TestResponse, what: str) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, what
    script = directives.get("script-src", directives.get("default-src"))
    assert script in (["'none'"], ["'self'"]), f"{what}: scripts allowed from {script}"
    assert directives.get("frame-ancestors") == ["'none'"], what
    assert response.headers.get("X-Frame-Options") == "DENY", what
    assert response.headers.get("X-Content-Type-Options") == "nosniff", what


@pytest.mark.usefixtures("question")
def test_every_response_carries_the_security_headers(
    client: FlaskClient, reviewer: User, services: Services
) -> None:
    responses = {
        "login page": client.get("/login"),
        "signed-out redirect": client.get("/"),
        "stylesheet": client.get("/static/style.css"),
        "unknown page": client.get("/no/such/page"),
        "post without token": client.post("/login", data={}),
        "wrong method": client.get("/logout"),
    }
    sign_in(client)
    responses |= {
        "queue": client.get("/"),
        "case": client.get(CASE),
        "unknown case": client.get("/cases/CC-999999"),
        "bad filter": client.get("/?status=bogus"),
        "action without token": client.post(f"{CASE}/approve"),
    }
    expected = {
        "login page": 200,
        "signed-out redirect": 302,
        "stylesheet": 200,
        "unknown page": 404,
        "post without token": 400,
        "wrong method": 405,
        "queue": 200,
        "case": 200,
        "unknown case": 404,
        "bad filter": 404,
        "action without token": 400,
    }
    for what, response in responses.items():
        response.close()  # the stylesheet is streamed from an open file
        assert response.status_code == expected[what], what
        assert_security_headers(response, what)


@pytest.mark.parametrize("secure", [False, True], ids=["http", "https"])
def test_the_session_cookie_is_httponly_samesite_lax_and_secure_when_configured(
    make_settings: Callable[..., Settings], database_url: str, secure: bool
) -> None:
    services = build_services(make_settings(database_url=database_url, secure_cookies=secure))
    try:
        add_reviewer(services)
        app = create_app(services)
        app.config["PREFERRED_URL_SCHEME"] = "https" if secure else "http"
        client = app.test_client()
        login = get(client, "/login")
        signed_in = submit(client, login, "", follow=False, email=REVIEWER, password=PASSWORD)
        # Signing in works over HTTPS too, with the Referer a browser sends under our policy.
        assert signed_in.response.status_code == 302, signed_in.html
        for response in (login.response, signed_in.response):
            cookies = [c for c in response.headers.getlist("Set-Cookie") if "session=" in c]
            assert cookies
            for cookie in cookies:
                flags = {f.strip().lower() for f in cookie.split(";")[1:]}
                assert "httponly" in flags
                assert "samesite=lax" in flags
                assert ("secure" in flags) is secure
        assert get(client, "/").text("//h1") == "Review queue"
    finally:
        services.db.dispose()


@pytest.mark.usefixtures("question")
def test_a_user_with_an_unknown_role_is_forbidden(client: FlaskClient, services: Services) -> None:
    add_reviewer(services, "auditor@clinic.example")
    with services.db.session() as session:
        session.execute(
            update(User).where(User.email == "auditor@clinic.example").values(role="auditor")
        )
    page = sign_in(client, "auditor@clinic.example")
    assert page.response.status_code == 403
    assert page.text("//h1") == "403 Forbidden"
    assert page.texts("//table[@class='cases']") == []
    assert client.get(CASE).status_code == 403
    token = get(client, "/login").csrf_token
    refused = client.post(f"{CASE}/reject", data={"csrf_token": token, "reason": "no"})
    assert refused.status_code == 403
    assert case_status(services) == "awaiting_review"


# -- what came in an email is shown as text -----------------------------------------


def assert_nothing_active(page: Page) -> None:
    """No element came out of the email: no script but our own file, no image, no handler."""
    scripts = page.tree.xpath("//script")
    assert all(s.get("src", "").startswith("/static/") and not s.text for s in scripts)
    assert page.html.lower().count("<script") == len(scripts)
    assert page.tree.xpath("//img") == []
    handlers = [a for e in page.tree.iter() for a in e.attrib if a.lower().startswith("on")]
    assert handlers == []
    assert "<img" not in page.html.lower()


def test_hostile_email_content_is_shown_escaped(signed_in: FlaskClient, services: Services) -> None:
    store_mail(services, hostile_message())

    queue = get(signed_in, "/")
    assert_nothing_active(queue)
    (row,) = queue.tree.xpath("//table[@class='cases']/tbody/tr")
    cells = [" ".join(td.text_content().split()) for td in row.findall("td")]
    assert cells[2] == f"99213 {HOSTILE}"
    assert cells[3] == f"{HOSTILE} <mallory@evil.example>"
    assert ESCAPED_SCRIPT in queue.html

    case = get(signed_in, CASE)
    assert_nothing_active(case)
    assert case.text("//h1") == f"CC-000001: 99213 {HOSTILE}"
    assert HOSTILE in case.text("//p[@class='meta']")
    assert HOSTILE in case.text("//article[contains(@class, 'theirs')]/pre")
    assert f"> {HOSTILE}" in case.draft
    assert ESCAPED_SCRIPT in case.html


def test_the_script_of_an_html_only_mail_never_reaches_the_page(
    signed_in: FlaskClient, services: Services
) -> None:
    store_special(services, "html_only_with_attachment.eml")
    case = get(signed_in, CASE)
    assert_nothing_active(case)
    assert "alert(1)" not in case.html
    assert "47563" in case.text("//article[contains(@class, 'theirs')]/pre")
    assert "op note 2026-10-01.pdf" in case.draft


# -- review actions ------------------------------------------------------------------

ANSWER = (
    "Dear Amy Park,\n\n"
    "29877 is bundled into 29880 under NCCI; modifier 59 or XS does not apply when the\n"
    "chondroplasty is in the same knee.\n\n"
    "Kind regards,\nCaseConsultant\n"
)


@pytest.mark.usefixtures("question")
def test_approving_sends_one_threaded_reply_and_the_case_shows_as_sent(
    signed_in: FlaskClient, services: Services
) -> None:
    case = get(signed_in, CASE)
    # A browser sends the textarea's line ends as CRLF.
    page = submit(signed_in, case, f"{CASE}/draft", text=ANSWER.replace("\n", "\r\n"))
    assert page.flashes == ["Draft v2 saved."]
    assert page.draft == ANSWER
    assert page.text("//p[@id='markers']") == "No open [expert: ...] notes."

    page = submit(signed_in, page, f"{CASE}/approve")
    assert page.flashes == ["CC-000001 approved: draft v2 is on its way."]
    assert page.status == "sent"
    assert page.tree.xpath("//section[@id='draft']//textarea") == []  # nothing left to edit
    assert "29877 is bundled into 29880" in page.text("//pre[@class='draft-text']")

    (reply,) = sent_replies(services.settings)
    assert reply["Subject"] == "Re: NCCI: 29880 and 29877 [CC-000001]"
    assert reply["In-Reply-To"] == "<s01.20261005@mail.example>"
    assert "<s01.20261005@mail.example>" in reply["References"]
    assert reply["To"] == "apark@cedarortho.example"
    assert reply_text(reply).replace("\r\n", "\n") == ANSWER
    timeline = page.texts("//ol[@class='timeline']/li")
    assert any("reviewer@clinic.example" in e and "→ approved (draft v2)" in e for e in timeline)
    answers = page.texts("//p[@class='server-reply']")
    assert len(answers) == 2  # the acknowledgment and the reply, each with the server's word
    assert all(a.startswith("Mail server's answer: 250 ") for a in answers)


@pytest.mark.usefixtures("question")
def test_approving_twice_still_sends_one_reply(signed_in: FlaskClient, services: Services) -> None:
    case = get(signed_in, CASE)
    page = submit(signed_in, case, f"{CASE}/draft", text=ANSWER)
    first = submit(signed_in, page, f"{CASE}/approve")  # a double click: the same form twice
    second = submit(signed_in, page, f"{CASE}/approve")
    assert first.flashes == ["CC-000001 approved: draft v2 is on its way."]
    assert len(second.flashes) == 1 and "CC-000001 is sent" in second.flashes[0]
    assert second.status == "sent"
    assert len(sent_replies(services.settings)) == 1


@pytest.mark.usefixtures("question")
def test_rejecting_needs_a_reason_and_records_it_on_the_timeline(
    signed_in: FlaskClient, services: Services
) -> None:
    case = get(signed_in, CASE)
    for blank in ("", "   "):
        page = submit(signed_in, case, f"{CASE}/reject", reason=blank)
        assert page.flashes == ["a rejection needs a reason"]
        assert page.status == "awaiting review"

    reason = "Answered by phone <b>today</b>"
    page = submit(signed_in, page, f"{CASE}/reject", reason=reason)
    assert page.flashes == ["CC-000001 rejected."]
    assert page.status == "rejected"
    (event,) = [e for e in page.texts("//ol[@class='timeline']/li") if "→ rejected" in e]
    assert f"reason: {reason}" in event
    assert "reviewer@clinic.example" in event
    assert page.tree.xpath("//ol[@class='timeline']//b") == []
    assert sent_replies(services.settings) == []


def test_a_case_with_patient_details_warns_and_its_draft_leaves_them_out(
    signed_in: FlaskClient, services: Services
) -> None:
    store_special(services, "phi.eml")
    queue = get(signed_in, "/")
    assert queue.texts("//table[@class='cases']//span[contains(@class, 'phi')]") == ["PHI"]

    case = get(signed_in, CASE)
    warning = case.text("//div[contains(@class, 'phi')]/p")
    assert "protected health information" in warning
    draft = case.draft
    assert "denied" in draft  # the question is quoted ...
    for detail in ("Robert", "Miller", "07/22/1961", "44817203", "1EG4-TE5-MK72"):
        assert detail not in draft  # ... without the patient


@pytest.mark.usefixtures("question")
def test_approving_a_draft_with_an_open_expert_note_is_refused(
    signed_in: FlaskClient, services: Services
) -> None:
    case = get(signed_in, CASE)
    first = "[expert: say whether the record shows 29880 and 29877 as distinct services"
    assert first in case.draft
    assert "2 open [expert: ...] note(s)" in case.text("//p[@id='markers']")

    page = submit(signed_in, case, f"{CASE}/approve")
    (message,) = page.flashes
    assert first in message
    assert "edit the draft before approving" in message
    assert page.tree.xpath("//p[contains(@class, 'flash') and contains(@class, 'error')]")
    assert page.status == "awaiting review"
    assert case_status(services) == "awaiting_review"
    assert sent_replies(services.settings) == []


@pytest.mark.usefixtures("question")
def test_unknown_cases_and_actions_are_not_found(signed_in: FlaskClient) -> None:
    case = get(signed_in, CASE)
    token = case.csrf_token
    missing = Page(signed_in.get("/cases/CC-999999"))
    assert missing.response.status_code == 404
    assert missing.text("//h1") == "404 Not Found"
    assert REVIEWER in missing.text("//header/span[@class='who']")
    assert missing.texts("//main//a") == ["Back to the review queue"]
    assert signed_in.get("/cases/not-a-reference").status_code == 404
    assert signed_in.post(f"{CASE}/delete", data={"csrf_token": token}).status_code == 404
    unknown = {"csrf_token": token, "base_version": "1", "text": "x"}
    assert signed_in.post("/cases/CC-999999/approve", data=unknown).status_code == 404
    no_version = signed_in.post(f"{CASE}/approve", data={"csrf_token": token, "text": "x"})
    assert no_version.status_code == 400
    assert get(signed_in, "/cases/cc-000001").text("//h1").startswith("CC-000001")


def test_a_reviewer_who_acts_while_another_decides_sees_why_nothing_happened(
    make_settings: Callable[..., Settings], postgres_database: str
) -> None:
    """Two reviewers on one case at once (PostgreSQL, where their transactions overlap): the
    one whose approval loses the race is told so, and nothing is sent."""
    empty_tables(postgres_database)
    services = build_services(make_settings(database_url=postgres_database))
    other = services.db.engine.connect()
    try:
        store_question(services, "01.eml")
        add_reviewer(services)
        client = create_app(services).test_client()
        sign_in(client)
        page = submit(client, get(client, CASE), f"{CASE}/draft", text=ANSWER)

        # The other reviewer's rejection is written but not yet committed ...
        other.execute(update(Case).where(Case.reference == "CC-000001").values(status="rejected"))
        outcome: dict[str, Page] = {}
        approving = threading.Thread(
            target=lambda: outcome.update(page=submit(client, page, f"{CASE}/approve"))
        )
        approving.start()
        # ... while our approval waits for it to finish,
        wait_for_a_lock_wait(services.db)
        other.commit()
        approving.join(timeout=60)

        result = outcome["page"]
        assert result.response.status_code == 200
        assert result.flashes == ["CC-000001 is rejected, not awaiting review"]
        assert result.status == "rejected"
        assert sent_replies(services.settings) == []
    finally:
        other.close()
        services.db.dispose()


def wait_for_a_lock_wait(db: Database, timeout: float = 60) -> None:
    """Return once a session of this database waits for a row lock."""
    deadline = time.monotonic() + timeout
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while True:
        with db.engine.connect() as conn:
            if conn.execute(query).scalar_one():
                return
        assert time.monotonic() < deadline, "the approval never waited for the other reviewer"
        time.sleep(0.05)


def test_the_case_page_shows_why_the_draft_says_what_it_says(
    signed_in: FlaskClient, services: Services
) -> None:
    import_release(services.db, importer_for("ncci-ptp"), [PTP_FILE])
    store_question(services, "01.eml")
    page = get(signed_in, CASE)
    section = page.text("//section[@class='facts']")
    assert "codes 29880, 29877, M23.221, M94.261" in section
    assert "modifiers 59, XS" in section
    rows = page.tree.xpath("//section[@class='facts']//tbody/tr")
    ptp = [r for r in rows if r.xpath("string(td[1])") == "ptp"]
    assert len(ptp) == 1
    assert ptp[0].xpath("string(td[2])") == "29880, 29877"
    assert "ncci-ptp practitioner v323r0" in ptp[0].xpath("string(td[3])")
    assert '"modifier_indicator": 1' in ptp[0].xpath("string(td[4])")

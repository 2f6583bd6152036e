"""Members on the web: registering by the emailed link, the Ask page and its automatic
answers, asking an expert and seeing the reply, their own cases, and nothing else.

Forms are sent as a browser sends them (CSRF included), on SQLite and PostgreSQL,
with the code data loaded (tests/support/code_data.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import EmailMessage

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from config import Settings
from consultant.cases import review
from consultant.models import Case, Role
from consultant.services import Services, build_services
from consultant.users import create_user
from consultant.web import create_app
from tests.support.cases import outbox_messages
from tests.support.code_data import (  # noqa: F401 (fixtures)
    code_data_url,
    writable_code_data_url,
    writable_services,
)
from tests.web.helpers import HOSTILE, PASSWORD, Page, get, sign_in, store_mail, submit

DANA = "dana@clinic.example"
PAT = "pat@clinic.example"
EXPERT = "expert@clinic.example"
PAIR = "Can 29880 and 29877 be billed together on the same day? Do I need modifier 59?"
LINK = re.compile(r"http://127\.0\.0\.1:8000(/welcome/[A-Za-z0-9_-]+)")
AUTOMATIC = "Automatic answer — not reviewed by an expert."


@pytest.fixture
def services(writable_services: Services) -> Services:  # noqa: F811
    create_user(writable_services.db, EXPERT, PASSWORD, Role.REVIEWER)
    return writable_services


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services)


@pytest.fixture
def member(app: Flask, services: Services) -> Callable[[str], FlaskClient]:
    """A browser signed in as a member (made for the test)."""

    def make(email: str = DANA) -> FlaskClient:
        create_user(services.db, email, PASSWORD, Role.MEMBER)
        client = app.test_client()
        sign_in(client, email)
        return client

    return make


def ask(client: FlaskClient, question: str, **fields: str) -> Page:
    return submit(client, get(client, "/ask"), "/ask", question=question, **fields)


def conversation_path(page: Page) -> str:
    return page.response.request.path


def test_register_confirm_by_the_mail_and_land_on_the_ask_page(
    app: Flask, services: Services
) -> None:
    client = app.test_client()
    login = get(client, "/login")
    assert "Register" in login.visible_text
    sent = submit(client, get(client, "/register"), "", email="Dana@Clinic.example")
    assert "We sent a message to dana@clinic.example" in sent.visible_text
    (mail,) = outbox_messages(services)
    path = LINK.search(mail.get_body(("plain",)).get_content())[1]  # type: ignore[index]
    welcome = get(client, path)
    assert "Your account is dana@clinic.example" in welcome.visible_text
    differ = submit(client, welcome, "", password=PASSWORD, confirm_password="other words here")
    assert "The two passwords differ" in " ".join(differ.flashes)
    done = submit(client, get(client, path), "", password=PASSWORD, confirm_password=PASSWORD)
    assert "Your account is ready" in " ".join(done.flashes)
    used = client.get(path)
    assert used.status_code == 410 and "used already" in used.get_data(as_text=True)
    home = sign_in(client, DANA)
    assert home.response.request.path == "/ask"
    nav = home.texts("//nav[@class='main']/a")
    assert nav[:3] == ["Ask", "My cases", "Codes"]
    assert "Queue" not in nav and "Dashboard" not in nav and "Admin" not in nav


def test_the_ask_page_answers_at_once_and_a_follow_up_keeps_the_codes_and_date(
    member: Callable[[str], FlaskClient],
) -> None:
    dana = member(DANA)
    page = ask(dana, PAIR, date_of_service="2026-10-15")
    assert page.response.status_code == 200 and conversation_path(page).startswith("/ask/")
    assert AUTOMATIC in page.visible_text
    assert "29877 is bundled into 29880" in page.visible_text
    assert "NCCI PTP edits (practitioner) v323r0" in page.visible_text
    assert "What could not be checked" in page.visible_text
    assert "Not checked: no code data is loaded for 29880, 29877." in page.visible_text
    follow = submit(dana, page, conversation_path(page), question="And with XS instead?")
    turns = follow.texts("//article[@class='ask-turn']")
    assert len(turns) == 2 and "And with XS instead?" in turns[1]
    assert "29880 and 29877" in turns[1] and "2026-10-15" in turns[1]
    assert "codes 29880, 29877" in follow.text("//p[@class='ask-context']")
    history = follow.texts("//aside[@class='ask-history']//li/a")
    (entry,) = history  # one conversation, named by its first question, shortened
    assert entry.startswith("Can 29880 and 29877 be billed together") and entry.endswith("...")


def test_what_a_member_types_is_shown_escaped_and_without_patient_details(
    member: Callable[[str], FlaskClient],
) -> None:
    dana = member(DANA)
    page = ask(dana, f"John Smith DOB 03/14/1962 {HOSTILE} 29880 with 29877?")
    assert "<script>alert(1)</script>" not in page.html
    assert not page.tree.xpath("//script[not(@src)]")
    assert "John Smith" not in page.html and "03/14/1962" not in page.html
    assert "Patient details in your question were left out" in page.visible_text


def test_asking_an_expert_files_a_case_and_the_approved_reply_shows_on_the_page(
    app: Flask, member: Callable[[str], FlaskClient], services: Services
) -> None:
    dana = member(DANA)
    page = ask(dana, PAIR, date_of_service="2026-10-15")
    path = conversation_path(page)
    sent = submit(dana, page, f"{path}/expert")
    assert "Sent to our experts" in " ".join(sent.flashes)
    assert "Ask a follow-up" not in sent.visible_text  # the conversation is the expert's now
    with services.db.read_session() as session:
        case = session.scalars(select(Case)).one()
        reference = case.reference
    assert reference is not None
    assert f"Case {reference}: With an expert." in sent.visible_text
    (ack,) = outbox_messages(services)
    assert ack["To"] == DANA and reference in ack["Subject"]
    review.add_note(services, reference, "Internal: check the op note first.", EXPERT)
    text = "Dear Dana,\n\nBoth may be paid with XS when the record shows another structure.\n"
    review.edit_draft(services, reference, text, EXPERT, base_version=1)
    review.approve(services, reference, EXPERT, version=2)
    after = get(dana, path)
    assert "The expert's answer" in after.visible_text
    assert "Both may be paid with XS" in after.visible_text
    case_page = get(dana, f"/my/cases/{reference}")
    assert "Answered" in case_page.visible_text
    assert "Both may be paid with XS" in case_page.visible_text
    assert "Internal: check the op note first." not in case_page.html
    assert PAIR in case_page.visible_text  # what they asked, as they asked it
    mine = get(dana, "/my/cases")
    assert mine.texts("//table[@class='my-cases']//td[1]") == [reference]


def test_mail_from_a_members_address_lands_in_their_cases(
    member: Callable[[str], FlaskClient], services: Services
) -> None:
    dana = member(DANA)
    message = EmailMessage()
    message["From"] = f"Dana Coder <{DANA}>"
    message["To"] = "consult@caseconsultant.example"
    message["Subject"] = "Modifier 25 with 99213?"
    message["Message-ID"] = "<m1@clinic.example>"
    message.set_content("Can 99213 be billed with 25 on the day of a minor procedure?\n")
    store_mail(services, bytes(message))
    rows = get(dana, "/my/cases").texts("//table[@class='my-cases']//tr[td]")
    assert len(rows) == 1 and "Modifier 25 with 99213?" in rows[0] and "With an expert" in rows[0]


def test_a_member_sees_no_other_members_case_or_conversation(
    member: Callable[[str], FlaskClient], services: Services
) -> None:
    dana, pat = member(DANA), member(PAT)
    page = ask(dana, PAIR)
    path = conversation_path(page)
    submit(dana, page, f"{path}/expert")
    with services.db.read_session() as session:
        reference = session.scalars(select(Case.reference)).one()
    token = get(pat, "/ask").csrf_token
    assert pat.get(path).status_code == 404
    assert pat.post(path, data={"csrf_token": token, "question": "mine?"}).status_code == 404
    assert pat.post(f"{path}/expert", data={"csrf_token": token}).status_code == 404
    for guessed in (reference, reference.lower(), "CC-000002", "CC-999999", "../cases/CC-000001"):
        assert pat.get(f"/my/cases/{guessed}").status_code == 404, guessed
    assert get(pat, "/my/cases").texts("//table[@class='my-cases']//td[1]") == []
    assert get(dana, f"/my/cases/{reference}").response.status_code == 200


def test_a_member_is_refused_the_review_side(
    member: Callable[[str], FlaskClient], services: Services
) -> None:
    dana = member(DANA)
    page = ask(dana, PAIR)
    submit(dana, page, f"{conversation_path(page)}/expert")
    with services.db.read_session() as session:
        reference = session.scalars(select(Case.reference)).one()
    for path in (
        f"/cases/{reference}",
        f"/cases/{reference}/messages/1/html",
        "/dashboard",
        "/guidance",
        "/sources",
        "/admin/users",
    ):
        assert dana.get(path).status_code == 403, path
    assert dana.get("/").headers["Location"].endswith("/ask")
    token = get(dana, "/ask").csrf_token
    refused = dana.post(f"/cases/{reference}/note", data={"csrf_token": token, "note": "x"})
    assert refused.status_code == 403
    with pytest.raises(review.ReviewError, match="no active reviewer or admin"):
        review.assign(services, reference, DANA, EXPERT)


def test_the_hourly_limit_answers_429_and_keeps_what_was_typed(
    make_settings: Callable[..., Settings],
    writable_code_data_url: str,  # noqa: F811
) -> None:
    services = build_services(
        make_settings(database_url=writable_code_data_url, ask_hourly_limit=1)
    )
    create_user(services.db, DANA, PASSWORD, Role.MEMBER)
    client = create_app(services).test_client()
    sign_in(client, DANA)
    ask(client, "Is E11.9 billable?")
    form = get(client, "/ask")
    response = client.post(
        "/ask", data={"csrf_token": form.csrf_token, "question": "Is E11.8 billable?"}
    )
    assert response.status_code == 429
    again = Page(response)
    assert "1 questions an hour is the limit" in " ".join(again.flashes)
    assert again.tree.xpath("//textarea[@name='question']")[0].text == "Is E11.8 billable?"
    services.db.dispose()


def test_an_admin_invites_a_member_who_chooses_a_password_from_the_mail(
    app: Flask, services: Services
) -> None:
    create_user(services.db, "admin@clinic.example", PASSWORD, Role.ADMIN)
    admin = app.test_client()
    sign_in(admin, "admin@clinic.example")
    done = submit(admin, get(admin, "/admin/users"), "/admin/users/invite", email=PAT)
    assert f"Invitation sent to {PAT}." in " ".join(done.flashes)
    (mail,) = outbox_messages(services)
    path = LINK.search(mail.get_body(("plain",)).get_content())[1]  # type: ignore[index]
    visitor = app.test_client()
    submit(visitor, get(visitor, path), "", password=PASSWORD, confirm_password=PASSWORD)
    assert sign_in(visitor, PAT).response.request.path == "/ask"

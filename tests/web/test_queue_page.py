"""The queue page through Flask's test client, on SQLite and on PostgreSQL: who may see and
act, tabs and counts, search, filters, sorting, paging, PHI, bulk actions, ignored mail."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from consultant.cases import review
from consultant.models import Case, CaseEvent, Role, User, utcnow
from consultant.services import Services
from consultant.web import create_app
from tests.cases.test_queue import add_cases
from tests.cases.test_search import mail
from tests.web.helpers import (
    REVIEWER,
    Page,
    add_reviewer,
    get,
    path_of,
    sign_in,
    store_mail,
    store_special,
    submit,
)

OTHER = "other@clinic.example"
BULK = "/queue/bulk"


@pytest.fixture
def client(services: Services) -> FlaskClient:
    app: Flask = create_app(services)
    return app.test_client()


@pytest.fixture
def reviewer(services: Services) -> User:
    return add_reviewer(services)


@pytest.fixture
def signed_in(client: FlaskClient, reviewer: User) -> FlaskClient:
    sign_in(client)
    return client


def waiting(services: Services, count: int, **row: object) -> None:
    """``count`` cases awaiting review, the first one waiting longest (1 h apart)."""
    now = utcnow()
    add_cases(
        services,
        [{"waiting": now - timedelta(hours=count - i, minutes=5)} | row for i in range(count)],
    )


def rows(page: Page) -> list[str]:
    return page.texts("//table[@class='cases']/tbody/tr/td[1]/a")


def tab(page: Page, view: str) -> str:
    return page.text(f"//nav[@class='tabs']/a[contains(@href, 'status={view}')]")


def status_of(services: Services, reference: str) -> str:
    with services.db.read_session() as session:
        return session.scalars(select(Case.status).where(Case.reference == reference)).one()


# -- who may see and act ---------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_the_login_and_change_nothing(
    client: FlaskClient, services: Services
) -> None:
    waiting(services, 1)
    store_special(services, "auto_reply.eml")
    for path in ("/", "/?status=ignored", "/?q=20956&overdue=1", "/?page=2"):
        response = client.get(path)
        assert response.status_code == 302 and path_of(response.headers["Location"]) == "/login"
    token = get(client, "/login").csrf_token
    for path in (BULK, "/queue/ignored/1/question"):
        response = client.post(
            path,
            data={"csrf_token": token, "bulk_action": "reject", "ref": "CC-000001", "reason": "x"},
        )
        assert path_of(response.headers["Location"]) == "/login", path
    assert status_of(services, "CC-000001") == "awaiting_review"
    with services.db.read_session() as session:
        assert session.scalars(select(Case)).all()[0].reference == "CC-000001"
        assert len(session.scalars(select(Case)).all()) == 1  # the auto-reply got no case


def test_a_user_without_a_review_role_is_forbidden(client: FlaskClient, services: Services) -> None:
    waiting(services, 1)
    add_reviewer(services, "auditor@clinic.example")
    with services.db.session() as session:
        session.execute(
            update(User).where(User.email == "auditor@clinic.example").values(role="auditor")
        )
    assert sign_in(client, "auditor@clinic.example").response.status_code == 403
    token = get(client, "/login").csrf_token
    assert client.get("/?status=ignored").status_code == 403
    data = {"csrf_token": token, "bulk_action": "reject", "ref": "CC-000001", "reason": "no"}
    assert client.post(BULK, data=data).status_code == 403
    assert client.post("/queue/ignored/1/question", data={"csrf_token": token}).status_code == 403
    assert status_of(services, "CC-000001") == "awaiting_review"


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.ADMIN])
def test_reviewers_and_admins_work_the_queue(
    client: FlaskClient, services: Services, role: Role
) -> None:
    waiting(services, 2)
    add_reviewer(services, "someone@clinic.example", role)
    page = sign_in(client, "someone@clinic.example")
    assert page.text("//h1") == "Review queue"
    assert rows(page) == ["CC-000001", "CC-000002"]


def test_bulk_actions_without_the_csrf_token_are_refused(
    signed_in: FlaskClient, services: Services
) -> None:
    waiting(services, 1)
    data = {"bulk_action": "assign", "ref": "CC-000001"}
    assert signed_in.post(BULK, data=data).status_code == 400
    store_special(services, "auto_reply.eml")
    assert signed_in.post("/queue/ignored/1/question").status_code == 400
    with services.db.read_session() as session:
        assert session.scalar(select(Case.assignee_id)) is None
        assert len(session.scalars(select(Case)).all()) == 1


# -- the list -----------------------------------------------------------------------


def test_every_case_is_reachable_oldest_first_a_page_at_a_time(
    signed_in: FlaskClient, services: Services
) -> None:
    waiting(services, 60)
    add_cases(services, [{"status": "sent"}] * 3)
    first = get(signed_in, "/")
    assert rows(first)[:2] == ["CC-000001", "CC-000002"] and len(rows(first)) == 50
    assert first.text("//p[@class='paging-summary']").startswith("Showing 1\u201350 of 60 cases")
    assert tab(first, "open") == "Open 60" and tab(first, "sent") == "Sent 3"
    assert tab(first, "all") == "All 63"
    assert first.texts("//nav[@class='paging']/*") == ["1", "2", "Next \u203a"]

    (next_link,) = first.tree.xpath("//nav[@class='paging']/a[@rel='next']/@href")
    second = get(signed_in, next_link)
    assert rows(second) == [f"CC-{n:06d}" for n in range(51, 61)]
    assert second.text("//p[@class='paging-summary']").startswith("Showing 51\u201360 of 60")
    # Past the end (cases left meanwhile): the last page, not an empty one.
    assert rows(get(signed_in, "/?page=99")) == rows(second)


def test_subjects_are_shown_without_patient_details(
    signed_in: FlaskClient, services: Services
) -> None:
    waiting(services, 1, subject="John Smith DOB 03/14/1962 knee 29881", phi_flagged=True)
    page = get(signed_in, "/")
    (subject,) = page.texts("//table[@class='cases']/tbody/tr/td[3]")
    assert "29881" in subject
    for secret in ("John Smith", "03/14/1962", "1962"):
        assert secret not in page.html
    assert page.texts("//table[@class='cases']//span[contains(@class, 'phi')]") == ["PHI"]


def test_search_finds_a_case_by_a_code_in_its_text(
    signed_in: FlaskClient, services: Services
) -> None:
    store_mail(services, mail("Flap question", "Can 20956 be billed with 20902 on the same day?"))
    store_mail(services, mail("Visit", "Is 99213 with modifier 25 right?"))
    page = get(signed_in, "/?" + urlencode({"q": "20956"}))
    assert rows(page) == ["CC-000001"]
    assert page.tree.xpath("//input[@name='q']/@value") == ["20956"]
    assert "matching \u201c20956\u201d" in page.text("//p[@class='paging-summary']")
    assert tab(page, "open") == "Open 1" and tab(page, "all") == "All 1"
    nothing = get(signed_in, "/?" + urlencode({"q": '"NEAR * -'}))
    assert rows(nothing) == [] and nothing.text("//p[@class='empty']").startswith("No cases")


def test_filters_narrow_the_list_and_bad_values_are_said(
    signed_in: FlaskClient, services: Services
) -> None:
    waiting(services, 1, codes="20956 20902", topics="ncci")
    waiting(services, 1, codes="99213", attachment_count=1)
    assert rows(get(signed_in, "/?code=20902")) == ["CC-000001"]
    assert rows(get(signed_in, "/?topic=ncci")) == ["CC-000001"]
    assert rows(get(signed_in, "/?attachments=1")) == ["CC-000002"]
    assert rows(get(signed_in, "/?unassigned=1&code=99213")) == ["CC-000002"]
    bad = get(signed_in, "/?code=20956+OR+1%3D1&topic=lunch&sort=oldest")
    assert rows(bad) == ["CC-000001", "CC-000002"]
    errors = bad.texts("//p[contains(@class, 'error')]")
    assert any("not a code" in e for e in errors)
    assert any("no topic" in e.lower() for e in errors)
    assert any("no sort 'oldest'" in e for e in errors)
    assert signed_in.get("/?status=pending").status_code == 404


def test_mine_and_claimed(signed_in: FlaskClient, services: Services, reviewer: User) -> None:
    soon = utcnow() + timedelta(minutes=20)
    waiting(services, 1, assignee_id=reviewer.id)
    waiting(services, 1, claimed_by=OTHER, claimed_at=utcnow(), claim_expires_at=soon)
    assert rows(get(signed_in, "/?mine=1")) == ["CC-000001"]
    claimed = get(signed_in, "/?claimed=1")
    assert rows(claimed) == ["CC-000002"]
    (cell,) = claimed.texts("//table[@class='cases']/tbody/tr/td[6]")
    assert cell.startswith(f"claimed by {OTHER} since ") and cell.endswith("UTC")


def test_overdue_cases_are_marked_with_a_word_not_only_a_colour(
    signed_in: FlaskClient, services: Services
) -> None:
    now = utcnow()
    add_cases(
        services,
        [{"waiting": now - timedelta(hours=30)}, {"waiting": now - timedelta(hours=2)}],
    )
    page = get(signed_in, "/")
    late, fresh = page.tree.xpath("//table[@class='cases']/tbody/tr")
    assert late.get("class") == "overdue" and fresh.get("class") is None
    assert " ".join(late.xpath("td[8]")[0].text_content().split()) == "overdue by 6 h"
    assert " ".join(fresh.xpath("td[8]")[0].text_content().split()) == "due in 21 h"
    assert rows(get(signed_in, "/?overdue=1")) == ["CC-000001"]


def test_sort_links_sort_and_turn_around(signed_in: FlaskClient, services: Services) -> None:
    now = utcnow()
    add_cases(
        services,
        [
            {"requester_name": "Carla", "waiting": now - timedelta(hours=3)},
            {"requester_name": "Alan", "waiting": now - timedelta(hours=2)},
            {"requester_name": "Bea", "waiting": now - timedelta(hours=1)},
        ],
    )
    page = get(signed_in, "/")
    (by_name,) = page.tree.xpath("//th/a[starts-with(normalize-space(.), 'From')]/@href")
    sorted_page = get(signed_in, by_name)
    assert rows(sorted_page) == ["CC-000002", "CC-000003", "CC-000001"]
    assert sorted_page.tree.xpath("//th[@aria-sort]/a/text()")[0].strip() == "From"
    (again,) = sorted_page.tree.xpath("//th/a[starts-with(normalize-space(.), 'From')]/@href")
    assert rows(get(signed_in, again)) == ["CC-000001", "CC-000003", "CC-000002"]


# -- bulk actions ---------------------------------------------------------------------


def test_bulk_assign_to_me_reports_each_case(
    signed_in: FlaskClient, services: Services, reviewer: User
) -> None:
    waiting(services, 3)
    page = get(signed_in, "/?code=")
    fields = page.form(BULK)
    assert set(fields) >= {"csrf_token", "back", "bulk_action", "reason"}
    done = signed_in.post(
        BULK,
        data={**fields, "bulk_action": "assign", "ref": ["CC-000001", "CC-000003"]},
        headers={"Referer": page.response.request.url},
        follow_redirects=True,
    )
    result = Page(done)
    assert result.flashes == ["CC-000001, CC-000003: assigned to you."]
    assert rows(get(signed_in, "/?mine=1")) == ["CC-000001", "CC-000003"]


def test_bulk_claim_says_which_case_someone_else_holds(
    signed_in: FlaskClient, services: Services
) -> None:
    waiting(services, 2)
    review.claim(services, "CC-000002", OTHER)
    page = get(signed_in, "/")
    result = submit(signed_in, page, BULK, bulk_action="claim", ref="CC-000001")
    assert result.flashes == ["CC-000001: claimed."]
    fields = page.form(BULK) | {"bulk_action": "claim", "ref": ["CC-000001", "CC-000002"]}
    again = Page(
        signed_in.post(
            BULK, data=fields, headers={"Referer": page.response.request.url}, follow_redirects=True
        )
    )
    assert again.flashes[0].startswith(f"CC-000002: not done. CC-000002 is claimed by {OTHER}")
    assert again.flashes[1] == "CC-000001: already yours (claim renewed)."


def test_bulk_reject_needs_a_reason(signed_in: FlaskClient, services: Services) -> None:
    waiting(services, 2)
    page = get(signed_in, "/")
    refused = submit(signed_in, page, BULK, bulk_action="reject", ref="CC-000001", reason=" ")
    assert refused.flashes == ["A rejection needs a reason: nothing was rejected."]
    assert status_of(services, "CC-000001") == "awaiting_review"
    nothing = submit(signed_in, page, BULK, bulk_action="reject", reason="dup")
    assert nothing.flashes == ["Tick at least one case first."]
    no_action = submit(signed_in, page, BULK, ref="CC-000001")
    assert no_action.flashes == ["Choose what to do with the checked cases."]

    done = submit(signed_in, page, BULK, bulk_action="reject", ref="CC-000001", reason="duplicate")
    assert done.flashes == ["CC-000001: rejected."]
    assert status_of(services, "CC-000001") == "rejected"
    assert rows(done) == ["CC-000002"]  # back on the open view
    with services.db.read_session() as session:
        event = session.scalars(select(CaseEvent).where(CaseEvent.kind == "status")).one()
    assert (event.actor, event.details["reason"]) == (REVIEWER, "duplicate")


def test_bulk_returns_to_the_listing_it_came_from(
    signed_in: FlaskClient, services: Services
) -> None:
    waiting(services, 2, codes="20956")
    page = get(signed_in, "/?code=20956&sort=requester&order=desc")
    result = submit(signed_in, page, BULK, bulk_action="assign", ref="CC-000002")
    request = result.response.request
    assert request.path == "/"
    assert dict(request.args) == {"code": "20956", "sort": "requester", "order": "desc"}


# -- ignored mail ---------------------------------------------------------------------


def test_ignored_mail_is_listed_and_can_become_a_question(
    signed_in: FlaskClient, services: Services
) -> None:
    store_special(services, "auto_reply.eml")
    store_special(services, "bounce.eml")
    queue = get(signed_in, "/")
    assert tab(queue, "ignored") == "Ignored 2" and rows(queue) == []

    ignored = get(signed_in, "/?status=ignored")
    reasons = ignored.texts("//table[@class='ignored-mail']/tbody/tr/td[4]")
    assert reasons == ["bounce", "auto-reply"]
    forms = [f.get("action") for f in ignored.tree.forms if "question" in (f.get("action") or "")]
    assert len(forms) == 2
    auto_reply = forms[1]

    case = submit(signed_in, ignored, auto_reply)
    assert case.response.request.path == "/cases/CC-000001"
    assert "The message is now case CC-000001, read as a question." in case.flashes
    assert status_of(services, "CC-000001") == "awaiting_review"
    assert tab(get(signed_in, "/"), "ignored") == "Ignored 1"
    assert rows(get(signed_in, "/")) == ["CC-000001"]

    gone = submit(signed_in, ignored, auto_reply)
    assert gone.flashes == [f"message #{auto_reply.split('/')[3]} is not ignored mail any more"]

"""The JSON API (/api/v1) through Flask's test client, on SQLite and on PostgreSQL.

Two API clients stand for two experts with their own tokens. What the tests
check is what a script would: the status, the JSON answer, and what the
services then hold (the draft's text, the timeline, the outbox).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from werkzeug.test import TestResponse

from config import Settings
from consultant import api_tokens
from consultant.cases import review
from consultant.codes.importers import importer_for
from consultant.codes.importing import import_release
from consultant.models import User
from consultant.roles import Role
from consultant.services import Services, build_services
from consultant.users import set_active
from consultant.web import create_app
from tests.codes.test_code_page import MEDICARE_FILES
from tests.support.cases import ANSWER, save_draft
from tests.support.corpus import DATA
from tests.web.helpers import (
    REVIEWER,
    add_reviewer,
    reply_text,
    sent_replies,
    sign_in,
    store_mail,
    store_question,
)

CASE = "/api/v1/cases/CC-000001"
OTHER = "second@clinic.example"
ADMIN = "admin@clinic.example"
ICD10CM_ORDER = DATA / "cdc" / "icd10cm_order_April2025_excerpt.txt"
CLEAN = ANSWER.format(name="Amy")


@dataclass
class Api:
    """An API client: Flask's test client sending one token with every request."""

    client: FlaskClient
    token: str | None

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> TestResponse:
        headers = dict(kwargs.pop("headers", {}))
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        if body is not None:
            kwargs["json"] = body
        response = self.client.open(path, method=method, headers=headers, **kwargs)
        assert response.mimetype == "application/json", (path, response.data[:200])
        return response

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("GET", path, **kwargs)

    def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        """The JSON answer of a request that must succeed with ``status``."""
        response = self.call(method, path, body)
        assert response.status_code == status, (path, response.get_json())
        return response.get_json()


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_api(app: Flask, services: Services) -> Callable[..., Api]:
    """An API client for a new user of ``role`` with a fresh token."""

    def make(email: str = REVIEWER, role: Role = Role.REVIEWER) -> Api:
        add_reviewer(services, email, role)
        return Api(app.test_client(), api_tokens.create(services.db, email, "test").secret)

    return make


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()


@pytest.fixture
def other(make_api: Callable[..., Api]) -> Api:
    return make_api(OTHER)


@pytest.fixture
def question(services: Services) -> None:
    """Case CC-000001, from questions/01.eml, awaiting review at draft v1."""
    store_question(services, "01.eml")


def api_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, path) of every API route, with CC-000001 for a reference, a code for a code
    and 1 for a conversation."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi_document":
            continue
        path = rule.rule.replace("<reference>", "CC-000001").replace("<code>", "A01.01")
        path = path.replace("<int:conversation>", "1")
        routes += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def timeline(api: Api, path: str = CASE) -> list[str]:
    return [entry["what"] for entry in api.ok("GET", path)["timeline"]]


# -- who may call ---------------------------------------------------------------------


@pytest.mark.usefixtures("question")
def test_every_route_needs_a_valid_token(app: Flask, api: Api, services: Services) -> None:
    routes = api_routes(app)
    assert len(routes) == 15
    for header in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic cmV2aWV3ZXI6eA=="}):
        for method, path in routes:
            response = app.test_client().open(path, method=method, headers=header, json={})
            assert response.status_code == 401, (method, path, header)
            assert response.mimetype == "application/json"
            assert "Bearer <token>" in response.get_json()["error"]
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = Api(app.test_client(), api.token[:-2] + "xx")
    for method, path in routes:
        response = wrong.call(method, path, {})
        assert response.status_code == 401, (method, path)
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert review.current_version(services, "CC-000001") == 1
    assert sent_replies(services.settings) == []


@pytest.mark.usefixtures("question")
def test_a_browser_session_does_not_open_the_api(
    client: FlaskClient, api: Api, services: Services
) -> None:
    sign_in(client)  # the same reviewer, signed in on the web
    assert client.get("/cases/CC-000001").status_code == 200
    cookie_only = Api(client, None)
    assert cookie_only.get("/api/v1/cases").status_code == 401
    assert cookie_only.get(CASE).status_code == 401
    # Without the CSRF token, and still 401: the cookie is not a credential here at all.
    refused = cookie_only.call("POST", f"{CASE}/approve", {"version": 1, "text": CLEAN})
    assert refused.status_code == 401
    assert cookie_only.call("POST", f"{CASE}/claim", {}).status_code == 401
    assert review.current_version(services, "CC-000001") == 1
    assert sent_replies(services.settings) == []


@pytest.mark.usefixtures("question")
def test_a_revoked_token_stops_at_once(api: Api, services: Services) -> None:
    assert api.get("/api/v1/cases").status_code == 200
    (token,) = api_tokens.list_tokens(services.db, REVIEWER)
    api_tokens.revoke(services.db, token.id)
    response = api.get("/api/v1/cases")
    assert response.status_code == 401
    assert "revoked" in response.get_json()["error"]


@pytest.mark.usefixtures("question")
def test_a_disabled_users_token_stops_at_once(api: Api, services: Services) -> None:
    assert api.get(CASE).status_code == 200
    set_active(services.db, REVIEWER, False, ADMIN)
    assert api.get(CASE).status_code == 401
    assert api.call("POST", f"{CASE}/claim", {}).status_code == 401
    set_active(services.db, REVIEWER, True, ADMIN)
    assert api.get(CASE).status_code == 200


@pytest.mark.usefixtures("question")
def test_reviewer_and_admin_tokens_may_act_and_other_roles_may_not(
    make_api: Callable[..., Api], api: Api, services: Services
) -> None:
    admin = make_api(ADMIN, Role.ADMIN)
    assert api.ok("POST", f"{CASE}/claim")["claim"]["holder"] == REVIEWER
    assert admin.ok("POST", f"{CASE}/claim", {"take_over": True})["claim"]["holder"] == ADMIN
    coder = make_api("coder@clinic.example")
    with services.db.session() as session:  # a role with no API access (members, one day)
        session.execute(
            update(User).where(User.email == "coder@clinic.example").values(role="member")
        )
    response = coder.get("/api/v1/cases")
    assert response.status_code == 403
    assert "reviewers and admins" in response.get_json()["error"]


@pytest.mark.usefixtures("question")
def test_last_used_shows_in_the_token_list(api: Api, services: Services) -> None:
    assert api_tokens.list_tokens(services.db)[0].last_used_at is None
    api.ok("GET", "/api/v1/cases")
    assert api_tokens.list_tokens(services.db)[0].last_used_at is not None


def test_a_database_outage_is_a_503_with_retry_after(
    make_settings: Callable[..., Settings], api: Api
) -> None:
    unreachable = build_services(
        make_settings(database_url="postgresql://consultant@127.0.0.1:1/consultant")
    )
    try:
        down = Api(create_app(unreachable).test_client(), api.token)
        response = down.get("/api/v1/cases")
        assert response.status_code == 503
        assert int(response.headers["Retry-After"]) > 0
        assert "try again" in response.get_json()["error"]
        assert "127.0.0.1" not in response.get_json()["error"]
    finally:
        unreachable.db.dispose()


# -- errors are JSON with the right status ----------------------------------------------


@pytest.mark.usefixtures("question")
def test_errors_are_json_with_the_right_status(api: Api, app: Flask) -> None:
    cases = [
        ("GET", "/api/v1/nothing-here", None, 404),
        ("GET", "/api/v1/cases/CC-999999", None, 404),
        ("GET", "/api/v1/cases/not a reference", None, 404),
        ("GET", "/api/v1/cases/CC-000001%00", None, 404),
        ("DELETE", "/api/v1/cases", None, 405),
        ("POST", CASE, {}, 405),
        ("GET", "/api/v1/cases?status=nonsense", None, 400),
        ("GET", "/api/v1/cases?sort=nonsense", None, 400),
        ("GET", "/api/v1/cases?page=0", None, 400),
        ("GET", "/api/v1/cases?per_page=101", None, 400),
        ("GET", "/api/v1/cases?overdue=maybe", None, 400),
        ("GET", "/api/v1/cases?q=a%00b", None, 400),
        ("GET", "/api/v1/cases?stauts=all", None, 400),
        ("GET", "/api/v1/cases?status=", None, 400),
        ("GET", "/api/v1/cases?mine=1", None, 400),
        ("GET", f"/api/v1/cases?q={'x' * 201}", None, 400),
        ("GET", f"{CASE}?show_phi=yes", None, 400),
        ("PUT", f"{CASE}/draft", {"text": "x"}, 400),
        ("PUT", f"{CASE}/draft", {"text": 5, "base_version": 1}, 400),
        ("PUT", f"{CASE}/draft", {"text": "x", "base_version": True}, 400),
        ("PUT", f"{CASE}/draft", {"text": "x", "base_version": "1"}, 400),
        ("PUT", f"{CASE}/draft", ["text", 1], 400),
        ("PUT", f"{CASE}/draft", {"text": "   ", "base_version": 1}, 422),
        ("PUT", f"{CASE}/draft", {"text": "x", "base_version": 7}, 422),
        ("POST", f"{CASE}/approve", {}, 400),
        ("POST", f"{CASE}/reject", {"reason": None}, 400),
        ("POST", f"{CASE}/claim", {"take_over": "yes"}, 400),
        ("GET", "/api/v1/codes", None, 400),
        ("GET", "/api/v1/codes?q=x&on=2026-13-01", None, 400),
        ("GET", "/api/v1/codes?q=x&on=", None, 400),
        ("GET", "/api/v1/codes/not-a-code", None, 404),
        ("GET", "/api/v1/codes/A01.01?system=LOINC", None, 400),
    ]
    for method, path, body, status in cases:
        response = api.call(method, path, body)
        assert response.status_code == status, (method, path, response.get_json())
        assert isinstance(response.get_json()["error"], str), (method, path)
    assert api.call("POST", CASE).headers["Allow"] == "GET, HEAD, OPTIONS"
    typo = api.get("/api/v1/cases?stauts=all").get_json()["error"]
    assert "unknown query parameter 'stauts'" in typo and "status" in typo
    not_json = api.call(
        "PUT", f"{CASE}/draft", data="text=x&base_version=1", content_type="text/plain"
    )
    assert not_json.status_code == 400
    assert "application/json" in not_json.get_json()["error"]
    broken = api.call("PUT", f"{CASE}/draft", data="{not json", content_type="application/json")
    assert broken.status_code == 400
    huge = api.call("PUT", f"{CASE}/draft", {"text": "x" * 3_000_000, "base_version": 1})
    assert huge.status_code == 413


# -- listing and searching ------------------------------------------------------------


@pytest.fixture
def five_questions(services: Services) -> list[str]:
    for name in ("01.eml", "02.eml", "03.eml", "04.eml", "05.eml"):
        store_question(services, name)
    return [f"CC-{n:06d}" for n in range(1, 6)]


def test_the_list_pages_with_the_total(api: Api, five_questions: list[str]) -> None:
    seen = []
    for page in (1, 2, 3):
        answer = api.ok("GET", f"/api/v1/cases?per_page=2&page={page}")
        assert (answer["total"], answer["pages"], answer["page"]) == (5, 3, page)
        assert answer["per_page"] == 2
        assert answer["counts"]["awaiting_review"] == 5
        seen += [row["reference"] for row in answer["cases"]]
    assert seen == five_questions, "oldest waiting first, no case twice, none left out"
    beyond = api.ok("GET", "/api/v1/cases?per_page=2&page=4")
    assert (beyond["total"], beyond["cases"]) == (5, [])
    newest_first = api.ok("GET", "/api/v1/cases?order=asc&sort=age")
    assert [row["reference"] for row in newest_first["cases"]] == five_questions[::-1]


def test_the_list_takes_the_queue_pages_status_views(
    api: Api, services: Services, five_questions: list[str]
) -> None:
    review.reject(services, "CC-000002", "asked twice", "x@clinic.example")
    assert api.ok("GET", "/api/v1/cases")["total"] == 4  # "open" by default
    assert api.ok("GET", "/api/v1/cases?status=all")["total"] == 5
    rejected = api.ok("GET", "/api/v1/cases?status=rejected")
    assert [row["reference"] for row in rejected["cases"]] == ["CC-000002"]
    assert api.ok("GET", "/api/v1/cases?status=ignored")["total"] == 0
    row = api.ok("GET", "/api/v1/cases?status=awaiting_review")["cases"][0]
    assert row.keys() >= {
        "reference",
        "status",
        "subject",
        "requester",
        "waiting_since",
        "due_at",
        "overdue",
        "claimed_by",
        "assignee",
        "codes",
    }
    assert row["codes"] == ["29880", "29877", "M23.221", "M94.261"]
    assert row["overdue"] is False and row["claimed_by"] is None


def test_the_list_searches_the_text_and_codes(api: Api, five_questions: list[str]) -> None:
    found = api.ok("GET", "/api/v1/cases?status=all&q=29877")
    assert [row["reference"] for row in found["cases"]] == ["CC-000001"]
    assert found["total"] == 1 and found["sort"] == "relevance"
    assert api.ok("GET", "/api/v1/cases?status=all&q=meniscectomy")["total"] >= 1
    assert api.ok("GET", "/api/v1/cases?q=nothing-like-this-anywhere")["total"] == 0
    assert api.ok("GET", "/api/v1/cases?code=29877")["total"] == 1


def _phi_question() -> bytes:
    message = EmailMessage()
    message["From"] = "Amy Park <apark@cedarortho.example>"
    message["To"] = "consult@caseconsultant.example"
    message["Subject"] = "John Smith DOB 03/14/1962 - 99213 with 25?"
    message["Date"] = format_datetime(datetime(2026, 10, 5, 12, 0, tzinfo=UTC))
    message["Message-ID"] = "<phi.1@cedarortho.example>"
    message.set_content("Patient John Smith, DOB 03/14/1962. Can 99213 be billed with 25?\n")
    return bytes(message)


def test_subjects_and_messages_come_without_phi_unless_asked_and_recorded(
    api: Api, services: Services
) -> None:
    store_mail(services, _phi_question())
    (row,) = api.ok("GET", "/api/v1/cases")["cases"]
    assert "John Smith" not in row["subject"] and "1962" not in row["subject"]
    assert "99213" in row["subject"]
    case = api.ok("GET", CASE)
    assert case["phi_flagged"] is True
    shown = [case["subject"], case["messages"][0]["text"], case["messages"][0]["subject"]]
    assert all("John Smith" not in text and "03/14/1962" not in text for text in shown)
    assert not any("Patient details shown" in what for what in timeline(api))

    revealed = api.ok("GET", f"{CASE}?show_phi=true")
    assert "John Smith" in revealed["subject"]
    assert "03/14/1962" in revealed["messages"][0]["text"]
    entries = api.ok("GET", CASE)["timeline"]
    assert entries[-1]["who"] == REVIEWER
    assert entries[-1]["what"] == "Patient details shown through the API"


# -- one case --------------------------------------------------------------------------


@pytest.mark.usefixtures("question")
def test_a_case_with_its_draft_version_text_facts_and_messages(api: Api) -> None:
    case = api.ok("GET", "/api/v1/cases/cc-000001")  # any letter case
    assert (case["reference"], case["status"], case["version"]) == (
        "CC-000001",
        "awaiting_review",
        1,
    )
    assert case["text"].startswith("Dear Amy Park,")
    assert case["draft"]["author"] == "system" and case["draft"]["expert_notes"]
    assert case["facts"]["codes"] == ["29880", "29877", "M23.221", "M94.261"]
    assert "modifier" in case["facts"]["topics"]
    (message,) = case["messages"]
    assert message["from"] == "apark@cedarortho.example"
    assert "29877" in message["text"]
    assert case["claim"] is None and case["replies"][0]["kind"] == "ack"
    assert case["requester"] == "apark@cedarortho.example"
    assert case["due_at"] is not None and case["overdue"] is False


# -- saving drafts -----------------------------------------------------------------------


@pytest.mark.usefixtures("question")
def test_two_clients_at_v1_the_second_save_is_refused_with_the_diff(api: Api, other: Api) -> None:
    v1 = api.ok("GET", CASE)["text"]
    first = v1.replace("Dear Amy Park,", "Dear Amy,")
    second = v1 + "\nP.S. from the second expert\n"
    saved = api.ok("PUT", f"{CASE}/draft", {"text": first, "base_version": 1})
    assert saved == {
        "reference": "CC-000001",
        "version": 2,
        "created": True,
        "message": "Draft v2 saved.",
    }

    refused = other.call("PUT", f"{CASE}/draft", {"text": second, "base_version": 1})
    assert refused.status_code == 409
    answer = refused.get_json()
    assert "v2 was saved by reviewer@clinic.example" in answer["error"]
    conflict = answer["conflict"]
    assert (conflict["action"], conflict["base_version"]) == ("save", 1)
    assert conflict["current"]["version"] == 2
    assert conflict["current"]["author"] == REVIEWER and conflict["current"]["text"] == first
    datetime.fromisoformat(conflict["current"]["at"])
    assert "-Dear Amy Park,\n+Dear Amy,\n" in conflict["changes_since_base"]
    assert "+P.S. from the second expert\n" in conflict["your_changes"]
    assert conflict["your_changes"].startswith("--- v2 (reviewer@clinic.example)\n+++ yours")

    kept = other.ok("GET", CASE)
    assert (kept["version"], kept["text"]) == (2, first), "the first expert's text is kept"
    merged = first + "\nP.S. from the second expert\n"
    assert other.ok("PUT", f"{CASE}/draft", {"text": merged, "base_version": 2})["version"] == 3


@pytest.mark.usefixtures("question")
def test_saving_the_current_text_again_creates_nothing(api: Api) -> None:
    assert api.ok("PUT", f"{CASE}/draft", {"text": CLEAN, "base_version": 1})["version"] == 2
    again = api.ok("PUT", f"{CASE}/draft", {"text": CLEAN, "base_version": 1})
    assert again == {
        "reference": "CC-000001",
        "version": 2,
        "created": False,
        "message": "Nothing changed: draft v2 is the current text.",
    }


# -- approving and rejecting -------------------------------------------------------------


@pytest.mark.usefixtures("question")
def test_approving_a_stale_version_is_refused_and_nothing_is_sent(
    api: Api, other: Api, services: Services
) -> None:
    api.ok("PUT", f"{CASE}/draft", {"text": CLEAN, "base_version": 1})
    refused = other.call("POST", f"{CASE}/approve", {"version": 1})
    assert refused.status_code == 409
    conflict = refused.get_json()["conflict"]
    assert (conflict["action"], conflict["current"]["version"]) == ("approve", 2)
    assert conflict["your_changes"] is None
    assert "nothing was sent" in refused.get_json()["error"]
    assert sent_replies(services.settings) == []
    assert other.ok("GET", CASE)["status"] == "awaiting_review"

    approved = other.ok("POST", f"{CASE}/approve", {"version": 2}, status=202)
    assert (approved["status"], approved["version"], approved["saved"]) == ("approved", 2, False)
    (reply,) = sent_replies(services.settings)
    assert reply_text(reply).startswith("Dear Amy,")
    assert other.ok("GET", CASE)["status"] == "sent"


@pytest.mark.usefixtures("question")
def test_approve_with_the_text_on_screen_saves_it_first_and_sends_exactly_it(
    api: Api, services: Services
) -> None:
    approved = api.ok("POST", f"{CASE}/approve", {"version": 1, "text": CLEAN}, status=202)
    assert (approved["version"], approved["saved"]) == (2, True)
    (reply,) = sent_replies(services.settings)
    assert reply_text(reply).replace("\r\n", "\n") == CLEAN
    assert api.ok("GET", CASE)["text"] == CLEAN


@pytest.mark.usefixtures("question")
def test_approve_refuses_open_expert_notes_and_a_case_already_sent(
    api: Api, services: Services
) -> None:
    refused = api.call("POST", f"{CASE}/approve", {"version": 1})
    assert refused.status_code == 422
    assert "[expert: ...]" in refused.get_json()["error"]
    assert sent_replies(services.settings) == []
    api.ok("POST", f"{CASE}/approve", {"version": 1, "text": CLEAN}, status=202)
    again = api.call("POST", f"{CASE}/approve", {"version": 2})
    assert again.status_code == 422
    assert "not awaiting review" in again.get_json()["error"]
    assert len(sent_replies(services.settings)) == 1


@pytest.mark.usefixtures("question")
def test_reject_needs_a_reason_and_closes_the_case(api: Api, services: Services) -> None:
    empty = api.call("POST", f"{CASE}/reject", {"reason": "  "})
    assert empty.status_code == 422 and "needs a reason" in empty.get_json()["error"]
    assert api.ok("POST", f"{CASE}/reject", {"reason": "asked twice"}) == {
        "reference": "CC-000001",
        "status": "rejected",
    }
    assert api.ok("GET", CASE)["status"] == "rejected"
    assert api.call("POST", f"{CASE}/reject", {"reason": "again"}).status_code == 422
    assert sent_replies(services.settings) == []


# -- claims ------------------------------------------------------------------------------


@pytest.mark.usefixtures("question")
def test_a_claim_refuses_others_until_an_explicit_take_over(
    api: Api, other: Api, services: Services
) -> None:
    claimed = api.ok("POST", f"{CASE}/claim", {"take_over": False})
    assert claimed["new"] is True and claimed["claim"]["holder"] == REVIEWER
    assert api.ok("POST", f"{CASE}/claim")["new"] is False, "claiming again renews"

    for method, path, body in (
        ("PUT", f"{CASE}/draft", {"text": CLEAN, "base_version": 1}),
        ("POST", f"{CASE}/approve", {"version": 1, "text": CLEAN}),
        ("POST", f"{CASE}/reject", {"reason": "mine now"}),
        ("POST", f"{CASE}/claim", {}),
    ):
        refused = other.call(method, path, body)
        assert refused.status_code == 409, (method, path)
        answer = refused.get_json()
        assert answer["claimed_by"] == REVIEWER
        assert f"claimed by {REVIEWER}" in answer["error"]
        assert "take_over" in answer["hint"]
    assert review.current_version(services, "CC-000001") == 1
    assert sent_replies(services.settings) == []

    taken = other.ok("POST", f"{CASE}/claim", {"take_over": True})
    assert taken["claim"]["holder"] == OTHER
    assert f"Took the case over from {REVIEWER}" in timeline(other)
    assert api.call("PUT", f"{CASE}/draft", {"text": CLEAN, "base_version": 1}).status_code == 409

    assert api.ok("DELETE", f"{CASE}/claim")["released"] is False
    released = other.ok("DELETE", f"{CASE}/claim")
    assert (released["released"], released["claim"]) == (True, None)
    assert api.ok("PUT", f"{CASE}/draft", {"text": CLEAN, "base_version": 1})["version"] == 2


@pytest.mark.usefixtures("question")
def test_a_claim_on_a_closed_case_is_refused(api: Api, services: Services) -> None:
    save_draft(services, "CC-000001", CLEAN, "x@clinic.example")
    review.reject(services, "CC-000001", "duplicate", "x@clinic.example")
    refused = api.call("POST", f"{CASE}/claim")
    assert refused.status_code == 422
    assert api.call("POST", "/api/v1/cases/CC-999999/claim").status_code == 404
    assert api.call("DELETE", "/api/v1/cases/CC-999999/claim").status_code == 404


# -- code lookups --------------------------------------------------------------------------


@pytest.fixture
def icd10cm(services: Services) -> Iterator[None]:
    import_release(services.db, importer_for("icd10cm"), [ICD10CM_ORDER])
    yield


@pytest.mark.usefixtures("icd10cm")
def test_code_lookups_as_of_a_date(api: Api) -> None:
    page = api.ok("GET", "/api/v1/codes/A01.01?on=2025-06-01")
    assert (page["code"], page["system"], page["on"]) == ("A01.01", "ICD-10-CM", "2025-06-01")
    assert page["found"] is True and page["description"] == "Typhoid meningitis"
    assert page["lineage"]["parents"][0]["code"] == "A01.0"
    before = api.ok("GET", "/api/v1/codes/A01.01?on=2020-01-01")
    assert before["on"] == "2020-01-01" and "2020-01-01" in before["summary"]
    assert api.ok("GET", "/api/v1/codes/29880")["system"] == "CPT"
    shapeless = api.call("GET", "/api/v1/codes/QQQQ")
    assert shapeless.status_code == 404 and "shape of no code" in shapeless.get_json()["error"]


@pytest.mark.usefixtures("icd10cm")
def test_code_search_by_words_and_by_code(api: Api) -> None:
    words = api.ok("GET", "/api/v1/codes?q=typhoid%20meningitis&on=2025-06-01")
    assert words["mode"] == "words" and words["hits"][0]["code"] == "A01.01"
    prefix = api.ok("GET", "/api/v1/codes?q=A01.0&on=2025-06-01&per_page=3")
    assert prefix["mode"] == "code" and prefix["total"] > 3
    assert len(prefix["hits"]) == 3 and prefix["per_page"] == 3
    second = api.ok("GET", "/api/v1/codes?q=A01.0&on=2025-06-01&per_page=3&page=2")
    assert {h["code"] for h in second["hits"]}.isdisjoint(h["code"] for h in prefix["hits"])
    assert api.ok("GET", "/api/v1/codes?q=")["mode"] == "empty"


# -- Medicare coverage and payment (constructed files: made-up values) -------------------------


@pytest.fixture
def medicare(services: Services) -> None:
    for kind, path in MEDICARE_FILES:
        import_release(services.db, importer_for(kind), [path])


def statuses(found: dict[str, Any]) -> dict[str, dict[str, str]]:
    """{article version: {diagnosis: status}}."""
    return {
        f"{a['display_id']} v{a['version']}": {d["code"]: d["status"] for d in a["diagnoses"]}
        for a in found["articles"]
    }


@pytest.mark.usefixtures("medicare")
def test_coverage_of_a_code_with_diagnoses_where_the_patient_is(api: Api) -> None:
    found = api.ok(
        "GET", "/api/v1/codes/20610/coverage?dx=M17.9&dx=m1711&state=Florida&on=2026-11-02"
    )
    assert statuses(found) == {"A90001 v2": {"M17.9": "noncovered", "M17.11": "covered"}}
    assert found["jurisdiction"] == {"state": "FL", "macs": [], "source": "asked"}
    assert found["elsewhere"] == ["A90002 v1"]
    (article,) = found["articles"]
    assert article["diagnoses"][0]["groups"][0]["group"] == 1
    assert article["lcds"][0]["utilization"].startswith("Constructed utilization guidance")
    texas = api.ok("GET", "/api/v1/codes/20610/coverage?dx=M17.9&state=TX&on=2026-11-02")
    assert statuses(texas) == {"A90002 v1": {"M17.9": "not_listed"}}
    everywhere = api.ok("GET", "/api/v1/codes/20610/coverage?dx=M17.9&on=2026-11-02")
    assert set(statuses(everywhere)) == {"A90001 v2", "A90002 v1"}
    assert everywhere["elsewhere"] == []
    dme = api.ok("GET", "/api/v1/codes/e0601/coverage?dx=G47.33&mac=99303&on=2026-11-02")
    assert statuses(dme) == {"A90003 v1": {"G47.33": "covered"}}


@pytest.mark.usefixtures("medicare")
def test_fee_in_a_locality_and_national(api: Api) -> None:
    miami = api.ok("GET", "/api/v1/codes/20610/fee?locality=Miami&on=2027-01-15")
    assert miami["amounts"]["non_facility"] == {
        "amount": "68.74",
        "non_participating": "65.30",
        "limiting_charge": "75.10",
        "formula": "(0.79 x 1.000 + 0.95 x 1.066 + 0.10 x 2.310) x 33.8012 = 68.74",
    }
    assert miami["amounts"]["facility"]["amount"] == "49.28"
    assert (miami["locality"]["name"], miami["release"]["version"]) == ("MIAMI", "2027-Jan-nonQPP")
    reading = api.ok(
        "GET", "/api/v1/codes/71046/fee?modifier=26&state=FL&county=Dade&on=2027-01-15"
    )
    assert reading["amounts"]["non_facility"]["amount"] == "12.24"
    assert reading["pctc"] == "1" and "professional (26)" in reading["pctc_meaning"]
    national = api.ok("GET", "/api/v1/codes/20610/fee?on=2027-01-15")
    assert national["locality"] is None and national["gpci_release"] is None
    assert national["amounts"]["non_facility"]["amount"] == "62.19"
    draw = api.ok("GET", "/api/v1/codes/36415/fee?on=2026-11-15")
    assert draw["clfs"]["rate"] == "3.00" and draw["amounts"] == {}


@pytest.mark.usefixtures("medicare")
def test_coverage_and_fee_refuse_bad_parameters_with_a_reason(api: Api) -> None:
    refused = {
        "/api/v1/codes/20610/coverage?on=2026-13-01": "on must be a date as YYYY-MM-DD",
        "/api/v1/codes/20610/coverage?state=Atlantis": "state 'Atlantis' is not a US state",
        "/api/v1/codes/20610/coverage?state=FL&mac=99101": "give state or mac, not both",
        "/api/v1/codes/20610/coverage?dx=knee": "dx must be an ICD-10-CM code",
        "/api/v1/codes/20610/coverage?dx=": "dx must be an ICD-10-CM code",
        "/api/v1/codes/20610/coverage?mac=9910": "mac must be a contractor number",
        "/api/v1/codes/20610/coverage?on=2026-11-02&mac=12345": "no contractor numbered 12345",
        "/api/v1/codes/20610/coverage?states=FL": "unknown query parameter 'states'",
        "/api/v1/codes/20610/fee?modifier=262": "modifier must be two letters or digits",
        "/api/v1/codes/20610/fee?locality=Miami&county=Dade": "not both",
        "/api/v1/codes/20610/fee?state=XX": "state 'XX' is not a US state",
        "/api/v1/codes/20610/fee?locality=Atlantis&on=2027-01-15": "no locality matches",
        f"/api/v1/codes/20610/fee?county={'x' * 61}": "county may have at most 60 characters",
    }
    for path, reason in refused.items():
        response = api.get(path)
        assert response.status_code == 400, (path, response.get_json())
        assert reason in response.get_json()["error"], (path, response.get_json())
    many = "&".join(f"dx=M17.{n}" for n in range(21))
    assert api.get(f"/api/v1/codes/20610/coverage?{many}").status_code == 400
    unknown = api.get("/api/v1/codes/20610/coverage?on=2026-11-02&mac=12345").get_json()
    assert [c["mac"] for c in unknown["choices"]] == ["99101", "99202", "99303"]
    for path in ("/api/v1/codes/M17.9/coverage", "/api/v1/codes/M17.9/fee"):
        response = api.get(path)
        assert (
            response.status_code == 404
            and "not a CPT or HCPCS code" in response.get_json()["error"]
        )


@pytest.mark.usefixtures("medicare")
def test_a_place_of_several_localities_is_refused_with_the_choices(api: Api) -> None:
    texas = api.get("/api/v1/codes/20610/fee?state=TX&on=2027-01-15")
    assert texas.status_code == 400
    refused = texas.get_json()
    assert refused["error"] == (
        "TX has 2 localities: name the county; choose one of the choices and give it as "
        "locality=MAC/number"
    )
    assert [(c["mac"], c["locality"], c["name"]) for c in refused["choices"]] == [
        ("99202", "09", "BRAZORIA"),
        ("99202", "99", "REST OF TEXAS"),
    ]
    rest = api.get("/api/v1/codes/20610/fee?locality=99&on=2027-01-15").get_json()
    assert rest["error"].startswith("'99' matches 2 localities")
    assert len(rest["choices"]) == 2


def test_coverage_and_fee_with_nothing_loaded_say_so(api: Api) -> None:
    coverage = api.ok("GET", "/api/v1/codes/20610/coverage?dx=M17.9&state=FL&on=2026-11-02")
    assert coverage["articles"] == [] and coverage["release"] is None
    assert coverage["message"] == "no Medicare Coverage Database articles are loaded for 2026-11-02"
    fee = api.ok("GET", "/api/v1/codes/20610/fee?on=2027-01-15")
    assert fee["amounts"] == {} and "no physician fee schedule file is loaded" in fee["message"]
    no_gpci = api.get("/api/v1/codes/20610/fee?locality=Miami&on=2027-01-15")
    assert no_gpci.status_code == 400
    assert no_gpci.get_json()["error"] == "no GPCI file is loaded for 2027-01-15"


def test_coverage_and_fee_are_open_to_members_as_to_experts(
    make_api: Callable[..., Api], services: Services
) -> None:
    coder = make_api("coder@clinic.example", Role.MEMBER)
    for path in ("/api/v1/codes/20610/coverage", "/api/v1/codes/20610/fee"):
        assert coder.get(path).status_code == 200
    admin = make_api(ADMIN, Role.ADMIN)
    assert admin.ok("GET", "/api/v1/codes/20610/fee")["code"] == "20610"


# -- the description --------------------------------------------------------------------------


def test_the_openapi_document_is_public_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"

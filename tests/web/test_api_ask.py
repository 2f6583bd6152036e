"""``POST /api/v1/ask`` and a member's token: the automatic answer, follow-ups, asking an
expert, the hourly limit, and every expert route closed to members."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from config import Settings
from consultant import api_tokens
from consultant.cases import review
from consultant.models import Case, Role
from consultant.services import Services, build_services
from consultant.users import create_user
from consultant.web import create_app
from consultant.web.api import MEMBER_ENDPOINTS
from tests.support.code_data import (  # noqa: F401 (fixtures)
    code_data_url,
    writable_code_data_url,
    writable_services,
)
from tests.web.helpers import PASSWORD, store_question

PAIR = "Can 29880 and 29877 be billed together on the same day? Do I need modifier 59?"
EXPERT = "expert@clinic.example"


class Client:
    """Flask's test client with one member's (or expert's) token."""

    def __init__(self, app: Flask, token: str) -> None:
        self.client, self.token = app.test_client(), token

    def call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        response = self.client.open(path, method=method, headers=headers, json=body)
        assert response.mimetype == "application/json"
        return response


@pytest.fixture
def app(writable_services: Services) -> Flask:  # noqa: F811
    return create_app(writable_services)


@pytest.fixture
def client_for(app: Flask, writable_services: Services) -> Callable[..., Client]:  # noqa: F811
    def make(email: str, role: Role = Role.MEMBER) -> Client:
        create_user(writable_services.db, email, PASSWORD, role)
        return Client(app, api_tokens.create(writable_services.db, email, "test").secret)

    return make


def test_a_member_asks_and_follows_up(client_for: Callable[..., Client]) -> None:
    dana = client_for("dana@clinic.example")
    first = dana.call("POST", "/api/v1/ask", {"question": PAIR, "date_of_service": "2026-10-15"})
    assert first.status_code == 200
    body = first.get_json()
    assert body["answer"]["automatic"] is True and body["answer"]["confident"] is False
    assert any("29877 is bundled into 29880" in s for s in body["answer"]["short"])
    assert body["context"]["codes"] == ["29880", "29877"]
    assert body["elapsed_ms"] > 0
    follow = dana.call(
        "POST", "/api/v1/ask", {"question": "And XS?", "conversation": body["conversation"]}
    ).get_json()
    assert follow["conversation"] == body["conversation"]
    assert follow["answer"]["on"] == "2026-10-15"
    shown = dana.call("GET", f"/api/v1/ask/{body['conversation']}").get_json()
    assert [t["question"] for t in shown["turns"]] == [PAIR, "And XS?"]
    assert shown["expert"] is None


def test_asking_an_expert_and_reading_the_reply(
    client_for: Callable[..., Client],
    writable_services: Services,  # noqa: F811
) -> None:
    create_user(writable_services.db, EXPERT, PASSWORD, Role.REVIEWER)
    dana = client_for("dana@clinic.example")
    conversation = dana.call("POST", "/api/v1/ask", {"question": PAIR}).get_json()["conversation"]
    sent = dana.call("POST", f"/api/v1/ask/{conversation}/expert")
    assert sent.status_code == 202
    case = sent.get_json()["expert"]["case"]
    assert case["status"] == "With an expert" and case["replies"] == []
    again = dana.call("POST", f"/api/v1/ask/{conversation}/expert").get_json()
    assert again["expert"]["case"]["reference"] == case["reference"]  # one case
    with writable_services.db.read_session() as session:
        assert len(session.scalars(select(Case)).all()) == 1
    text = "Dear Dana,\n\nYes, with XS when the record shows another structure.\n"
    review.edit_draft(writable_services, case["reference"], text, EXPERT, base_version=1)
    review.approve(writable_services, case["reference"], EXPERT, version=2)
    shown = dana.call("GET", f"/api/v1/ask/{conversation}").get_json()["expert"]["case"]
    assert shown["status"] == "Answered"
    assert [r["automatic"] for r in shown["replies"]] == [False]
    assert "Yes, with XS" in shown["replies"][0]["text"]


def test_another_members_conversation_is_404_like_none(
    client_for: Callable[..., Client],
) -> None:
    dana, pat = client_for("dana@clinic.example"), client_for("pat@clinic.example")
    mine = dana.call("POST", "/api/v1/ask", {"question": PAIR}).get_json()["conversation"]
    for conversation in (mine, mine + 1):
        assert pat.call("GET", f"/api/v1/ask/{conversation}").status_code == 404
        assert pat.call("POST", f"/api/v1/ask/{conversation}/expert").status_code == 404
        follow = {"question": "mine now?", "conversation": conversation}
        assert pat.call("POST", "/api/v1/ask", follow).status_code == 404


def test_a_members_token_opens_the_code_lookups_and_asking_only(
    app: Flask,
    client_for: Callable[..., Client],
    writable_services: Services,  # noqa: F811
) -> None:
    store_question(writable_services, "01.eml")
    dana = client_for("dana@clinic.example")
    conversation = dana.call("POST", "/api/v1/ask", {"question": PAIR}).get_json()["conversation"]
    values = {"reference": "CC-000001", "code": "E11.9", "conversation": str(conversation)}
    opened, refused = [], []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi_document":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = dana.call(method, path, {"version": 1, "question": "ok?"})
            if rule.endpoint in MEMBER_ENDPOINTS:
                assert response.status_code != 403, (method, path)
                opened.append(rule.endpoint)
            else:
                assert response.status_code == 403, (method, path, response.status_code)
                assert "reviewers and admins" in response.get_json()["error"]
                refused.append(rule.endpoint)
    assert {"api.ask_question", "api.search_code_data", "api.show_code"} <= set(opened)
    assert len(refused) >= 7  # the cases, drafts and review actions
    assert review.current_version(writable_services, "CC-000001") == 1  # nothing changed


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({}, 400, "question is required"),
        ({"question": 5}, 400, "question is required"),
        ({"question": "ok?", "codes": "29880"}, 400, "codes must be a list"),
        ({"question": "ok?", "codes": ["29880;"]}, 400, "codes must be a list"),
        ({"question": "ok?", "date_of_service": "10/15/2026"}, 400, "YYYY-MM-DD"),
        ({"question": "ok?", "conversation": "1"}, 400, "conversation must be"),
        ({"question": "ok?", "payer": "x" * 61}, 400, "at most 60"),
        ({"question": "ok?", "qestion": "typo"}, 400, "unknown field 'qestion'"),
        ({"question": "  "}, 422, "Type a question"),
        ({"question": "ok?", "state": "Atlantis"}, 422, "not a US state"),
    ],
)
def test_a_bad_request_says_what_is_wrong(
    client_for: Callable[..., Client], body: dict[str, Any], status: int, says: str
) -> None:
    response = client_for("dana@clinic.example").call("POST", "/api/v1/ask", body)
    assert response.status_code == status
    assert says in response.get_json()["error"]


def test_the_hourly_limit_is_a_429_with_retry_after(
    make_settings: Callable[..., Settings],
    writable_code_data_url: str,  # noqa: F811
) -> None:
    services = build_services(
        make_settings(database_url=writable_code_data_url, ask_hourly_limit=1)
    )
    create_user(services.db, "dana@clinic.example", PASSWORD, Role.MEMBER)
    token = api_tokens.create(services.db, "dana@clinic.example", "test").secret
    dana = Client(create_app(services), token)
    assert dana.call("POST", "/api/v1/ask", {"question": "Is E11.9 billable?"}).status_code == 200
    limited = dana.call("POST", "/api/v1/ask", {"question": "Is E11.8 billable?"})
    assert limited.status_code == 429
    assert 3500 <= int(limited.headers["Retry-After"]) <= 3600
    services.db.dispose()

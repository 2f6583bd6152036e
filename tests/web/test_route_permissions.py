"""Every route of the web app, walked from its URL map, as each kind of visitor.

A route added later is held to the same rules without anyone remembering to
list it: signed-out visitors are sent to the login and change nothing, a
reviewer is refused every admin page and action, and every POST without the
CSRF token is refused, whoever sends it.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from consultant.cases.guidance import NoteInput, add_note
from consultant.models import AuthEvent, CaseEvent, CaseNote, Role
from consultant.services import Services
from consultant.web import create_app
from tests.web.helpers import add_reviewer, get, sign_in, store_question

ADMIN = "admin@clinic.example"
REVIEWER = "reviewer@clinic.example"
# What a signed-out visitor may open: signing in, registering, an emailed link, the probes.
OPEN = {
    "auth.login",
    "static",
    "register.register",
    "register.welcome",
    "health.healthz",
    "health.readyz",
    "metrics.metrics",  # its own bearer token (tests/web/test_metrics.py)
}
MEMBER = "member@clinic.example"
# What a member may open: asking, their own cases, code search and pages, their account.
FOR_MEMBERS = (
    "ask.",
    "my_cases.",
    "account.",
    "auth.",
    "codes.search",
    "codes.show",
    "codes.clear_recent",
    "queue.index",
    "my_codes.",
    "code_changes.",
)
VALUES = {
    "reference": "CC-000001",
    "code": "29880",
    "message_id": "1",
    "index": "0",
    "inbound_id": "1",
    "rule_id": "1",
    "snippet_id": "1",
    "note_id": "1",
    "user_id": "1",
    "token": "not-a-link",
    "conversation_id": "1",
}


@pytest.fixture
def app(services: Services) -> Flask:
    add_reviewer(services, ADMIN, Role.ADMIN)
    add_reviewer(services, REVIEWER)
    add_reviewer(services, MEMBER, Role.MEMBER)
    store_question(services, "01.eml")
    with services.db.session() as session:
        add_note(session, NoteInput("code", "29880", "A note to open."), ADMIN)
    return create_app(services)


def routes(app: Flask) -> list[tuple[str, str, str]]:
    """(method, path, endpoint) of every web route (the API has its own tests)."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in OPEN or rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: VALUES[m.group(1)], rule.rule)
        found += [(m, path, rule.endpoint) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def counts(services: Services) -> tuple[int, int, int]:
    """Case events, notes and account events: what any action would add to."""
    with services.db.read_session() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model))
            for model in (CaseEvent, CaseNote, AuthEvent)
        )


def test_every_route_sends_a_signed_out_visitor_to_the_login_and_changes_nothing(
    app: Flask, services: Services
) -> None:
    client = app.test_client()
    before = counts(services)
    listed = routes(app)
    assert len(listed) >= 45  # the URL map was read, not an empty list
    for method, path, _ in listed:
        token = get(client, "/login").csrf_token  # a real token is not a signed-in user
        response = client.open(path, method=method, data={"csrf_token": token, "text": "x"})
        assert response.status_code in (302, 303), (method, path, response.status_code)
        assert response.location.startswith("/login"), (method, path)
    assert counts(services) == before


def _signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, email)
    return client


def test_a_reviewer_is_refused_every_admin_route_and_may_use_the_rest(
    app: Flask, services: Services
) -> None:
    reviewer = _signed_in(app, REVIEWER)
    token = get(reviewer, "/").csrf_token
    admin_routes = [r for r in routes(app) if r[2].startswith("admin.")]
    assert len(admin_routes) >= 15
    before = counts(services)
    for method, path, _ in admin_routes:
        response = reviewer.open(path, method=method, data={"csrf_token": token})
        assert response.status_code == 403, (method, path, response.status_code)
    assert counts(services) == before
    for method, path, endpoint in routes(app):
        if endpoint.startswith("admin.") or method != "GET":
            continue
        response = reviewer.get(path)
        assert response.status_code in (200, 302, 303, 404, 410), (path, response.status_code)


def test_a_member_is_refused_every_route_of_the_review_side_and_changes_nothing(
    app: Flask, services: Services
) -> None:
    member = _signed_in(app, MEMBER)
    token = get(member, "/ask").csrf_token
    before = counts(services)
    review_side = [r for r in routes(app) if not r[2].startswith(FOR_MEMBERS)]
    assert len(review_side) >= 45
    for method, path, endpoint in review_side:
        response = member.open(path, method=method, data={"csrf_token": token, "text": "x"})
        assert response.status_code == 403, (method, path, endpoint, response.status_code)
    assert counts(services) == before
    for method, path, endpoint in routes(app):
        if endpoint.startswith(FOR_MEMBERS) and method == "GET":
            response = member.get(path)
            assert response.status_code in (200, 302, 404, 410), (path, response.status_code)


def test_an_admin_opens_every_page(app: Flask) -> None:
    admin = _signed_in(app, ADMIN)
    for method, path, endpoint in routes(app):
        if method != "GET":
            continue
        response = admin.get(path)
        missing = endpoint in (
            "case.attachment",
            "case.message_html",
            "admin.snippet_page",
            "ask.conversation",  # an admin's own conversation 1: there is none
            "my_cases.show",  # the admin did not ask CC-000001
        )
        if endpoint == "register.welcome":  # an emailed link that is not one
            assert response.status_code == 410, path
            continue
        expected = (200, 403, 404) if missing else (200, 302, 303)
        assert response.status_code in expected, (path, response.status_code)


def test_every_post_without_the_csrf_token_is_refused_and_changes_nothing(
    app: Flask, services: Services
) -> None:
    admin = _signed_in(app, ADMIN)
    before = counts(services)
    posts = [r for r in routes(app) if r[0] == "POST"]
    assert len(posts) >= 30
    for _, path, _ in posts:
        response = admin.post(path, data={"text": "x", "reason": "x", "note": "x"})
        assert response.status_code == 400, (path, response.status_code)
        assert "did not come from this site" in response.get_data(as_text=True), path
    assert counts(services) == before

"""The admin pages through Flask's test client, on SQLite and on PostgreSQL: users, allowed
senders and unknown mail, the SLA, snippets and the reply template preview.

Forms are read from the served pages and sent back as a browser sends them, so CSRF
protection stays on; every refusal is checked to change nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from consultant.cases import senders, snippets
from consultant.cases.sla import sla_hours
from consultant.codes.coverage import Jurisdiction
from consultant.models import AppSetting, AuthEvent, Case, Role, SenderRule, Snippet, User
from consultant.services import Services
from consultant.web import create_app
from tests.support.cases import file_messages
from tests.web.helpers import (
    HOSTILE,
    PASSWORD,
    REVIEWER,
    Page,
    add_reviewer,
    get,
    path_of,
    sign_in,
    submit,
)

ADMIN = "admin@caseconsultant.example"
NEW_PASSWORD = "a brand new long password"
PAGES = ["/admin/", "/admin/users", "/admin/senders", "/admin/sla", "/admin/snippets",
         "/admin/templates", "/admin/snippets/1"]  # fmt: skip
POSTS = ["/admin/users", "/admin/users/1/role", "/admin/users/1/active", "/admin/users/1/password",
         "/admin/senders", "/admin/senders/1/delete", "/admin/senders/policy", "/admin/sla",
         "/admin/snippets", "/admin/snippets/1", "/admin/snippets/1/delete"]  # fmt: skip


@pytest.fixture
def app(services: Services) -> Flask:
    add_reviewer(services, ADMIN, Role.ADMIN)
    add_reviewer(services)
    with services.db.session() as session:
        snippets.seed_defaults(session)
    return create_app(services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def admin(client: FlaskClient) -> FlaskClient:
    sign_in(client, ADMIN)
    return client


def goes_to_login(response: TestResponse) -> bool:
    return response.status_code == 302 and path_of(response.headers["Location"]) == "/login"


def user_id(services: Services, email: str) -> int:
    with services.db.session() as session:
        return session.scalars(select(User.id).where(User.email == email)).one()


def users_page(client: FlaskClient) -> Page:
    return get(client, "/admin/users")


# -- who may -----------------------------------------------------------------


def test_a_signed_out_visitor_is_sent_to_the_login(client: FlaskClient) -> None:
    token = get(client, "/login").csrf_token
    for path in PAGES:
        assert goes_to_login(client.get(path)), path
    for path in POSTS:
        assert goes_to_login(client.post(path, data={"csrf_token": token})), path


def test_a_reviewer_is_refused_every_admin_page_and_action(
    client: FlaskClient, services: Services
) -> None:
    queue = sign_in(client)
    for path in PAGES:
        assert client.get(path).status_code == 403, path
    for path in POSTS:
        response = client.post(
            path, data={"csrf_token": queue.csrf_token, "role": "admin", "active": "0"}
        )
        assert response.status_code == 403, path
    with services.db.session() as session:
        assert session.scalars(select(User.role).where(User.email == REVIEWER)).one() == "reviewer"


def test_only_admins_see_the_admin_link(client: FlaskClient) -> None:
    reviewer_nav = sign_in(client).texts("//nav[@class='main']/a")
    assert "Dashboard" in reviewer_nav and "Admin" not in reviewer_nav
    client.post("/logout", data={"csrf_token": get(client, "/dashboard").csrf_token})

    admin_nav = sign_in(client, ADMIN).texts("//nav[@class='main']/a")
    assert "Dashboard" in admin_nav and "Admin" in admin_nav


def test_the_admin_home_is_the_users_page(admin: FlaskClient) -> None:
    response = admin.get("/admin/")
    assert path_of(response.headers["Location"]) == "/admin/users"


@pytest.mark.parametrize("path", ["/admin/users", "/admin/senders/policy", "/admin/sla"])
def test_a_post_without_the_csrf_token_is_refused(
    admin: FlaskClient, services: Services, path: str
) -> None:
    response = admin.post(path, data={"email": "x@y.example", "policy": "hold", "hours": "2"})

    assert response.status_code == 400
    with services.db.session() as session:
        assert session.scalars(select(AppSetting.key)).all() == ["snippets_seeded"]
        assert session.scalar(select(User).where(User.email == "x@y.example")) is None


# -- users -------------------------------------------------------------------


def test_an_admin_adds_a_user_who_can_then_sign_in(
    admin: FlaskClient, app: Flask, services: Services
) -> None:
    page = submit(
        admin,
        users_page(admin),
        "/admin/users",
        email="New.Coder@Clinic.example",
        role="reviewer",
        password=PASSWORD,
    )

    assert page.flashes == ["new.coder@clinic.example can now sign in as reviewer."]
    assert "new.coder@clinic.example" in page.texts("//table[contains(@class,'admin-users')]//th")
    other = app.test_client()
    assert "new.coder@clinic.example" in sign_in(other, "new.coder@clinic.example").text(
        "//header/span[@class='who']"
    )


@pytest.mark.parametrize(
    ("email", "role", "password", "says"),
    [
        ("coder@clinic.example", "reviewer", "short", "at least 12 characters"),
        ("not-an-address", "reviewer", PASSWORD, "is not an email address"),
        (REVIEWER, "reviewer", PASSWORD, "already exists"),
        ("coder@clinic.example", "owner", PASSWORD, "choose a role"),
    ],
)
def test_a_user_that_cannot_be_added_is_explained_and_the_email_kept(
    admin: FlaskClient, services: Services, email: str, role: str, password: str, says: str
) -> None:
    page = users_page(admin)
    fields = page.form("/admin/users") | {"email": email, "role": role, "password": password}

    refused = Page(admin.post("/admin/users", data=fields))

    assert refused.response.status_code == 422
    assert any(says in flash for flash in refused.flashes), refused.flashes
    assert refused.form("/admin/users")["email"] == email
    with services.db.session() as session:
        assert len(session.scalars(select(User)).all()) == 2


def test_disabling_a_user_ends_their_session_and_enabling_lets_them_back(
    admin: FlaskClient, app: Flask, services: Services
) -> None:
    reviewer = app.test_client()
    sign_in(reviewer)
    number = user_id(services, REVIEWER)

    page = submit(admin, users_page(admin), f"/admin/users/{number}/active")

    assert page.flashes == [f"{REVIEWER} is disabled; 1 session(s) ended."]
    assert goes_to_login(reviewer.get("/"))
    assert sign_in(reviewer).response.request.path == "/login"

    page = submit(admin, users_page(admin), f"/admin/users/{number}/active")

    assert page.flashes == [f"{REVIEWER} can sign in again."]
    assert REVIEWER in sign_in(reviewer).text("//header/span[@class='who']")


def test_a_password_reset_ends_sessions_and_only_the_new_password_works(
    admin: FlaskClient, app: Flask, services: Services
) -> None:
    reviewer = app.test_client()
    sign_in(reviewer)
    number = user_id(services, REVIEWER)

    page = submit(
        admin, users_page(admin), f"/admin/users/{number}/password", password=NEW_PASSWORD
    )

    assert page.flashes[0].startswith(f"New password set for {REVIEWER}; 1 session(s) ended.")
    assert goes_to_login(reviewer.get("/"))
    assert sign_in(reviewer).response.request.path == "/login"  # the old password
    assert REVIEWER in sign_in(reviewer, REVIEWER, NEW_PASSWORD).text("//header/span[@class='who']")


def test_a_short_reset_password_is_refused(admin: FlaskClient, services: Services) -> None:
    number = user_id(services, REVIEWER)
    page = users_page(admin)
    fields = page.form(f"/admin/users/{number}/password") | {"password": "short"}

    refused = Page(admin.post(f"/admin/users/{number}/password", data=fields))

    assert refused.response.status_code == 422
    assert "at least 12 characters" in refused.flashes[0]


def test_changing_a_role_is_recorded_and_takes_effect(
    admin: FlaskClient, app: Flask, services: Services
) -> None:
    number = user_id(services, REVIEWER)

    page = submit(admin, users_page(admin), f"/admin/users/{number}/role", role="admin")

    assert page.flashes == [f"{REVIEWER} is now admin."]
    promoted = app.test_client()
    sign_in(promoted)
    assert promoted.get("/admin/users").status_code == 200
    with services.db.session() as session:
        event = session.scalars(select(AuthEvent).where(AuthEvent.kind == "role_changed")).one()
        assert (event.email, event.details) == (
            REVIEWER,
            {"by": ADMIN, "from": "reviewer", "to": "admin"},
        )


def test_the_last_admin_cannot_demote_or_disable_themselves(
    admin: FlaskClient, services: Services
) -> None:
    me = user_id(services, ADMIN)

    demoted = submit(admin, users_page(admin), f"/admin/users/{me}/role", role="reviewer")
    disabled = submit(admin, users_page(admin), f"/admin/users/{me}/active")

    assert demoted.response.status_code == disabled.response.status_code == 422
    assert "only active admin and cannot be made reviewer" in demoted.flashes[0]
    assert "only active admin and cannot be disabled" in disabled.flashes[0]
    with services.db.session() as session:
        (user,) = session.scalars(select(User).where(User.email == ADMIN))
        assert (user.role, user.active) == ("admin", True)


def test_with_a_second_admin_one_may_step_down(admin: FlaskClient, services: Services) -> None:
    submit(
        admin, users_page(admin), f"/admin/users/{user_id(services, REVIEWER)}/role", role="admin"
    )
    me = user_id(services, ADMIN)

    page = submit(admin, users_page(admin), f"/admin/users/{me}/role", role="reviewer")

    assert page.flashes == [f"{ADMIN} is now reviewer."]
    assert admin.get("/admin/users").status_code == 403


def test_an_unknown_user_is_not_found(admin: FlaskClient) -> None:
    token = users_page(admin).csrf_token
    response = admin.post("/admin/users/999/active", data={"csrf_token": token, "active": "0"})
    assert response.status_code == 404


# -- senders -----------------------------------------------------------------


def senders_page(client: FlaskClient) -> Page:
    return get(client, "/admin/senders")


def test_allowing_and_removing_a_sender(admin: FlaskClient, services: Services) -> None:
    page = submit(
        admin, senders_page(admin), "/admin/senders", pattern="@Clinic.Example", note="Main clinic"
    )

    assert page.flashes == ["clinic.example may now send questions."]
    assert page.texts("//table[contains(@class,'sender-rules')]//th[@scope='row']") == [
        "clinic.example"
    ]
    with services.db.session() as session:
        (rule,) = session.scalars(select(SenderRule))
        assert (rule.note, rule.added_by) == ("Main clinic", ADMIN)

    page = submit(admin, page, f"/admin/senders/{rule.id}/delete")

    assert page.flashes == ["clinic.example removed from the allowed senders."]
    assert "None added here." in page.visible_text


@pytest.mark.parametrize(
    ("pattern", "says"),
    [("not a domain", "neither an email address nor a domain"), ("a@@b.example", "not a valid")],
)
def test_a_malformed_sender_is_refused_and_kept_in_the_form(
    admin: FlaskClient, services: Services, pattern: str, says: str
) -> None:
    page = senders_page(admin)
    fields = page.form("/admin/senders") | {"pattern": pattern, "note": HOSTILE}

    refused = Page(admin.post("/admin/senders", data=fields))

    assert refused.response.status_code == 422
    assert says in refused.flashes[0]
    assert refused.form("/admin/senders") | {"csrf_token": ""} == {
        "csrf_token": "",
        "pattern": pattern,
        "note": HOSTILE,
    }
    assert "<script>" not in refused.html
    with services.db.session() as session:
        assert session.scalars(select(SenderRule)).all() == []


def test_where_a_senders_patients_are_seen(admin: FlaskClient, services: Services) -> None:
    page = submit(admin, senders_page(admin), "/admin/senders", pattern="clinic.example")
    with services.db.session() as session:
        (rule,) = session.scalars(select(SenderRule))
    action = f"/admin/senders/{rule.id}/where"

    page = submit(admin, page, action, state="FL", part_b_mac="99101", dme_mac="99303")

    assert page.flashes == ["Where clinic.example's patients are seen is saved."]
    assert page.form(action) | {"csrf_token": ""} == {
        "csrf_token": "",
        "state": "FL",
        "part_b_mac": "99101",
        "dme_mac": "99303",
    }
    with services.db.read_session() as session:
        where = senders.jurisdiction_of(session, "Dana@Clinic.Example")
    assert where == Jurisdiction(state="FL", macs=("99101", "99303"), source="requester")


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"state": "Atlantis"}, "'Atlantis' is not a US state or territory"),
        ({"part_b_mac": "J-H"}, "'J-H' is not a MAC contractor number (five digits)"),
    ],
)
def test_a_wrong_state_or_mac_is_refused(
    admin: FlaskClient, services: Services, fields: dict[str, str], says: str
) -> None:
    page = submit(admin, senders_page(admin), "/admin/senders", pattern="clinic.example")
    with services.db.session() as session:
        (rule,) = session.scalars(select(SenderRule))
    form = page.form(f"/admin/senders/{rule.id}/where") | fields

    refused = Page(admin.post(f"/admin/senders/{rule.id}/where", data=form))

    assert refused.response.status_code == 422 and refused.flashes == [f"Not saved: {says}."]
    with services.db.read_session() as session:
        assert senders.jurisdiction_of(session, "dana@clinic.example") is None


def test_an_address_setting_comes_before_its_domains(services: Services) -> None:
    with services.db.session() as session:
        domain = senders.add_rule(session, "clinic.example", "", ADMIN)
        own = senders.add_rule(session, "dana@clinic.example", "", ADMIN)
        session.flush()
        senders.set_where(session, domain.id, "TX", "", "", ADMIN)
        senders.set_where(session, own.id, "Florida", "", "", ADMIN)
    with services.db.read_session() as session:
        assert senders.jurisdiction_of(session, "dana@clinic.example").state == "FL"  # type: ignore[union-attr]
        assert senders.jurisdiction_of(session, "lee@clinic.example").state == "TX"  # type: ignore[union-attr]
        assert senders.jurisdiction_of(session, "x@elsewhere.example") is None


def test_a_duplicate_sender_is_refused(admin: FlaskClient) -> None:
    submit(admin, senders_page(admin), "/admin/senders", pattern="clinic.example")
    page = senders_page(admin)
    fields = page.form("/admin/senders") | {"pattern": "CLINIC.example"}

    refused = Page(admin.post("/admin/senders", data=fields))

    assert refused.response.status_code == 422
    assert "clinic.example is already allowed" in refused.flashes[0]


def test_holding_unknown_senders_from_the_web_holds_their_mail(
    admin: FlaskClient, services: Services
) -> None:
    page = submit(admin, senders_page(admin), "/admin/senders/policy", policy="hold")

    assert page.flashes[0].startswith("Unknown senders: Hold for review")
    assert page.tree.xpath("//input[@name='policy' and @checked]/@value") == ["hold"]
    assert "every new question will be held" in page.visible_text
    file_messages(
        services,
        b"From: x@stranger.example\r\nSubject: 99213\r\nMessage-ID: <h1@stranger.example>\r\n"
        b"\r\nCan I bill 99213 with 25?\r\n",
    )
    with services.db.session() as session:
        (case,) = session.scalars(select(Case))
        assert case.status == "ignored"
        assert senders.unknown_senders(session) == "hold"


def test_an_unknown_policy_is_refused(admin: FlaskClient, services: Services) -> None:
    page = senders_page(admin)
    fields = page.form("/admin/senders/policy") | {"policy": "drop"}

    refused = Page(admin.post("/admin/senders/policy", data=fields))

    assert refused.response.status_code == 422
    with services.db.session() as session:
        assert senders.unknown_senders(session) == "accept"


def test_the_environment_list_is_shown_read_only(
    make_services: Callable[..., Services],
) -> None:
    services = make_services(allowed_senders="billing.example, dana@clinic.example")
    add_reviewer(services, ADMIN, Role.ADMIN)
    client = create_app(services).test_client()
    sign_in(client, ADMIN)

    page = senders_page(client)

    assert page.texts("//ul[@class='environment-senders']/li") == [
        "billing.example",
        "dana@clinic.example",
    ]


# -- SLA ---------------------------------------------------------------------


def test_the_sla_shows_the_default_until_an_admin_sets_it(
    admin: FlaskClient, services: Services
) -> None:
    page = get(admin, "/admin/sla")
    assert "due 24 hours after" in page.visible_text
    assert "nobody changed it here yet" in page.visible_text

    page = submit(admin, page, "/admin/sla", hours="8.5")

    assert page.flashes == ["Replies are now due 8.5 hours after a question arrives."]
    assert "due 8.5 hours after" in page.visible_text
    assert f"Set by {ADMIN}" in page.visible_text
    with services.db.session() as session:
        assert sla_hours(session, services.settings) == 8.5


@pytest.mark.parametrize("typed", ["abc", "0", "-3", "1e9", "nan", ""])
def test_an_impossible_sla_is_refused_and_the_value_kept(
    admin: FlaskClient, services: Services, typed: str
) -> None:
    page = get(admin, "/admin/sla")
    fields = page.form("/admin/sla") | {"hours": typed}

    refused = Page(admin.post("/admin/sla", data=fields))

    assert refused.response.status_code == 422
    assert refused.flashes[0].startswith("SLA not changed:")
    assert refused.form("/admin/sla")["hours"] == typed
    with services.db.session() as session:
        assert sla_hours(session, services.settings) == 24


# -- snippets ----------------------------------------------------------------


def snippet_id(services: Services, name: str) -> int:
    with services.db.session() as session:
        return session.scalars(select(Snippet.id).where(Snippet.name == name)).one()


def test_the_shipped_snippets_are_listed(admin: FlaskClient) -> None:
    page = get(admin, "/admin/snippets")

    assert page.texts("//ul[@class='snippet-list']/li/a") == [
        "abn-reminder",
        "modifier-59-caution",
        "need-op-note",
        "thanks",
    ]


def test_a_new_snippet_is_saved_and_previewed_for_a_sample_case(
    admin: FlaskClient, services: Services
) -> None:
    page = submit(
        admin,
        get(admin, "/admin/snippets"),
        "/admin/snippets",
        name="Payer-Call",
        body="Dear {{ requester_name }}, about {{ codes }} ({{ reference }}): call the payer.",
    )

    assert page.flashes == ["Snippet payer-call saved."]
    assert page.text("//pre[@class='snippet-preview']") == (
        "Dear Dana Reyes, about 29880, 29877 (CC-000123): call the payer."
    )
    with services.db.session() as session:
        (snippet,) = session.scalars(select(Snippet).where(Snippet.name == "payer-call"))
        assert snippet.updated_by == ADMIN


def test_a_refused_snippet_keeps_what_was_typed(admin: FlaskClient, services: Services) -> None:
    page = get(admin, "/admin/snippets")
    body = f"Dear {{{{ patient_name }}}} {HOSTILE}"
    fields = page.form("/admin/snippets") | {"name": "bad", "body": body}

    refused = Page(admin.post("/admin/snippets", data=fields))

    assert refused.response.status_code == 422
    assert "unknown placeholder {{ patient_name }}" in refused.flashes[0]
    assert refused.tree.xpath("//textarea[@name='body']")[0].text.strip("\n") == body
    assert "<script>" not in refused.html
    with services.db.session() as session:
        assert session.scalar(select(Snippet).where(Snippet.name == "bad")) is None


def test_editing_and_deleting_a_snippet(admin: FlaskClient, services: Services) -> None:
    number = snippet_id(services, "thanks")
    page = get(admin, f"/admin/snippets/{number}")

    page = submit(admin, page, f"/admin/snippets/{number}", name="thank-you", body="Thanks!")

    assert page.flashes == ["Snippet thank-you saved."]
    assert page.text("//pre[@class='snippet-preview']") == "Thanks!"

    bad = page.form(f"/admin/snippets/{number}") | {"body": "{{ nope }}"}
    refused = Page(admin.post(f"/admin/snippets/{number}", data=bad))
    assert refused.response.status_code == 422
    assert refused.tree.xpath("//pre[@class='snippet-preview']") == []

    page = submit(
        admin, get(admin, f"/admin/snippets/{number}"), f"/admin/snippets/{number}/delete"
    )

    assert page.flashes == ["Snippet thank-you deleted."]
    assert admin.get(f"/admin/snippets/{number}").status_code == 404


# -- reply templates ---------------------------------------------------------


def test_the_template_preview_shows_each_reply_as_text_and_sanitised_html(
    admin: FlaskClient,
) -> None:
    page = get(admin, "/admin/templates")

    names = page.texts("//section[@class='template-preview']/h2")
    assert names == ["answer", "ack", "automatic", "edited", "unknown_sender", "not_coding"]
    texts = page.texts("//pre[@class='template-text']")
    assert all("CC-000123" in text or "Dana Reyes" in text for text in texts)
    assert "29880" in texts[0] and "[expert:" in texts[0]
    assert texts[2].startswith("AUTOMATIC ANSWER - NOT REVIEWED BY AN EXPERT")
    assert "29880" in texts[2] and "What could not be checked" in texts[2]
    assert "[expert:" not in texts[2]
    assert "not registered" in texts[4]
    html = page.tree.xpath("//div[contains(@class,'template-html')]")
    assert len(html) == 6
    assert "Thank you for letting us know" in texts[5]
    for part in html:
        assert not part.xpath(".//*[@style] | .//script | .//html | .//body")
    assert page.texts("//div[contains(@class,'template-html')]/p")[0] == "Dear Dana Reyes,"

"""Each desk's queue and its team: who sees which cases in the queue, on a case, in the API.

Three desks (tests/desks/support.py): the main desk, open to every reviewer;
billing, whose team is Ana; surgery, whose team is Sam. An administrator sees
all three.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from config import Settings
from consultant import api_tokens
from consultant.models import Case, Role
from consultant.services import Services, build_services
from consultant.web import create_app
from tests.desks.support import BILLING, BILLING_TEAM, SURGERY, SURGERY_TEAM, addressed_to
from tests.desks.support import desks_file as write_desks
from tests.support.cases import file_messages
from tests.support.corpus import QUESTIONS
from tests.web.helpers import Page, add_reviewer, get, sign_in

ADMIN = "admin@clinic.example"


@pytest.fixture
def desk_services(
    make_settings: Callable[..., Settings], database_url: str, tmp_path: Path
) -> Iterator[Services]:
    services = build_services(
        make_settings(database_url=database_url, desks_file=write_desks(tmp_path))
    )
    add_reviewer(services, BILLING_TEAM)
    add_reviewer(services, SURGERY_TEAM)
    add_reviewer(services, ADMIN, Role.ADMIN)
    raws = [(QUESTIONS / f"0{n}.eml").read_bytes() for n in (1, 2, 3)]
    file_messages(services, addressed_to(raws[0], BILLING), addressed_to(raws[1], SURGERY), raws[2])
    yield services
    services.db.dispose()


def _references(services: Services) -> dict[str, str]:
    with services.db.session() as session:
        return {c.desk: c.reference or "" for c in session.scalars(select(Case))}


def _client(services: Services, who: str) -> FlaskClient:
    client = create_app(services).test_client()
    sign_in(client, who)
    return client


def _listed(page: Page) -> set[str]:
    return {ref for ref in page.texts("//table[@class='cases']//td[@data-label='Case']/a")}


def test_a_team_sees_its_desk_and_the_open_one_only(desk_services: Services) -> None:
    refs = _references(desk_services)
    assert set(refs) == {"main", "billing", "surgery"}  # the surgery mail went by its address
    ana = _client(desk_services, BILLING_TEAM)
    queue = get(ana, "/?status=all")
    assert _listed(queue) == {refs["main"], refs["billing"]}
    assert queue.texts("//td[@data-label='Desk']") and "Surgery" not in queue.visible_text
    case_page = get(ana, f"/cases/{refs['billing']}")
    assert f"to Billing Consult Desk <{BILLING}>" in case_page.text("//p[@class='meta']")
    # Another team's case is not there for her: not its page, its actions or /next.
    assert ana.get(f"/cases/{refs['surgery']}").status_code == 404
    claim = ana.post(f"/cases/{refs['surgery']}/claim", data={"csrf_token": queue.csrf_token})
    assert claim.status_code == 404
    with desk_services.db.session() as session:
        surgery = session.scalar(select(Case).where(Case.reference == refs["surgery"]))
        assert surgery is not None and surgery.claimed_by is None
    nexts = ana.get("/next").headers["Location"], ana.get(f"/next?after={refs['main']}")
    assert refs["surgery"] not in nexts[0] and refs["surgery"] not in nexts[1].headers["Location"]


def test_bulk_actions_cannot_reach_another_desks_case(desk_services: Services) -> None:
    refs = _references(desk_services)
    sam = _client(desk_services, SURGERY_TEAM)
    queue = get(sam, "/?status=all")
    assert _listed(queue) == {refs["main"], refs["surgery"]}
    done = sam.post(
        "/queue/bulk",
        data={
            "csrf_token": queue.csrf_token,
            "bulk_action": "claim",
            "ref": [refs["billing"], refs["surgery"]],
        },
        follow_redirects=True,
    )
    assert f"{refs['billing']}: no such case." in Page(done).visible_text
    with desk_services.db.session() as session:
        claimed = dict(session.execute(select(Case.desk, Case.claimed_by)).all())
    assert claimed == {"billing": None, "surgery": SURGERY_TEAM, "main": None}


def test_an_admin_sees_every_desk_and_can_filter_by_one(desk_services: Services) -> None:
    refs = _references(desk_services)
    admin = _client(desk_services, ADMIN)
    assert _listed(get(admin, "/?status=all")) == set(refs.values())
    only_billing = get(admin, "/?status=all&desk=billing")
    assert _listed(only_billing) == {refs["billing"]}
    options = only_billing.texts("//select[@id='queue-desk']/option")
    assert options == [
        "every desk",
        "CaseConsultant",
        "Billing Consult Desk",
        "Surgery Coding Desk, Team Süd",
    ]
    unknown = get(admin, "/?status=all&desk=nowhere")
    assert "There is no desk “nowhere”" in unknown.visible_text
    assert _listed(unknown) == set(refs.values())


def test_the_api_keeps_the_same_desks(desk_services: Services) -> None:
    refs = _references(desk_services)
    client = create_app(desk_services).test_client()
    secret = api_tokens.create(desk_services.db, BILLING_TEAM, "test").secret
    headers = {"Authorization": f"Bearer {secret}"}
    listed = client.get("/api/v1/cases?status=all", headers=headers).get_json()
    assert {c["reference"] for c in listed["cases"]} == {refs["main"], refs["billing"]}
    assert {c["desk"] for c in listed["cases"]} == {"main", "billing"}
    assert client.get(f"/api/v1/cases/{refs['billing']}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/cases/{refs['surgery']}", headers=headers).status_code == 404
    claim = client.post(f"/api/v1/cases/{refs['surgery']}/claim", headers=headers, json={})
    assert claim.status_code == 404

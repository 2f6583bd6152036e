"""The dashboard page and its CSV through Flask's test client, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from consultant.models import InboundMessage, Role
from consultant.services import Services
from consultant.web import create_app
from consultant.web.dashboard import hours
from tests.support.cases import answer_and_approve
from tests.web.helpers import add_reviewer, get, path_of, sign_in, store_question

ADMIN = "admin@caseconsultant.example"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def app(services: Services) -> Flask:
    add_reviewer(services)
    add_reviewer(services, ADMIN, Role.ADMIN)
    return create_app(services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def answered(services: Services) -> None:
    """Two questions today: one answered, one waiting."""
    store_question(services, "01.eml")
    store_question(services, "02.eml")
    answer_and_approve(services, "CC-000001")


def today() -> str:
    return datetime.now(UTC).date().isoformat()


@pytest.mark.parametrize("path", ["/dashboard", "/dashboard.csv"])
def test_a_signed_out_visitor_is_sent_to_the_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302 and path_of(response.headers["Location"]) == "/login"


@pytest.mark.parametrize("email", ["reviewer@clinic.example", ADMIN])
def test_reviewers_and_admins_see_the_dashboard(client: FlaskClient, email: str) -> None:
    sign_in(client, email)
    assert get(client, "/dashboard").text("//h1") == "Dashboard"
    assert client.get("/dashboard.csv").status_code == 200


def test_the_day_table_has_thirty_days_and_todays_figures(
    client: FlaskClient, answered: None
) -> None:
    sign_in(client)
    page = get(client, "/dashboard")

    rows = page.tree.xpath("//table[@class='dashboard-days']/tbody/tr")
    assert len(rows) == 30
    assert rows[0].xpath("th/time/@datetime") == [today()]
    received, sent, overdue, median, p90 = [td.text_content() for td in rows[0].xpath("td")]
    assert (received, sent, overdue) == ("2", "1", "0")
    assert median == p90 == "0 min"  # answered within seconds
    assert rows[1].xpath("td/text()")[:3] == ["0", "0", "0"]
    totals = page.texts("//dl[@class='totals']/div/dd")
    assert totals[:3] == ["2", "1", "0"]


def test_the_charts_are_accessible_svg_without_script(client: FlaskClient, answered: None) -> None:
    sign_in(client)
    page = get(client, "/dashboard")

    charts = page.tree.xpath("//svg")
    assert len(charts) == 2
    for chart in charts:
        assert chart.get("role") == "img"
        title_id, desc_id = chart.get("aria-labelledby").split()
        assert chart.xpath(f"title[@id='{title_id}']") and chart.xpath(f"desc[@id='{desc_id}']")
    assert "2 questions received, 1 replies sent" in page.text("//desc[@id='volume-desc']")
    bars = page.tree.xpath("//svg[contains(@class,'volume')]/rect")
    assert len(bars) == 90
    assert [b.xpath("string(title)") for b in bars[-3:]] == [
        f"{datetime.now(UTC):%b %d}: 2 received",
        f"{datetime.now(UTC):%b %d}: 1 sent",
        f"{datetime.now(UTC):%b %d}: 0 overdue",
    ]
    assert len(page.tree.xpath("//svg[contains(@class,'times')]/circle")) == 2
    assert not page.tree.xpath("//script | //*[@style] | //*[@onload]")


def test_an_overdue_question_is_counted_on_its_day(client: FlaskClient, services: Services) -> None:
    store_question(services, "01.eml")
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    with services.db.session() as session:
        session.execute(update(InboundMessage).values(received_at=two_days_ago))
    sign_in(client)

    page = get(client, "/dashboard")

    row = page.tree.xpath(f"//tbody/tr[th/time/@datetime='{two_days_ago.date().isoformat()}']")[0]
    assert row.get("class") == "has-overdue"
    assert row.xpath("td/text()")[:3] == ["1", "0", "1"]


def test_the_csv_has_a_row_per_day_and_downloads(client: FlaskClient, answered: None) -> None:
    sign_in(client)

    response = client.get("/dashboard.csv")

    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="caseconsultant-dashboard-{today()}.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["day", "received", "sent", "overdue", "median_hours", "p90_hours"]
    assert len(rows) == 31
    day, received, sent, overdue, median, p90 = rows[-1]
    assert (day, received, sent, overdue) == (today(), "2", "1", "0")
    assert float(median) == float(p90) >= 0
    assert rows[1][1:] == ["0", "0", "0", "", ""]


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "-"), (0.0, "0 min"), (0.5, "30 min"), (1.0, "1.0 h"), (5.5, "5.5 h")],
)
def test_times_read_as_minutes_under_an_hour(value: float | None, shown: str) -> None:
    assert hours(value) == shown

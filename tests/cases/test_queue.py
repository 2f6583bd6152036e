"""The queue service: every waiting case reachable, oldest first; sorts, filters, counts, SLA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from consultant.cases.app_settings import SLA_HOURS, write_setting
from consultant.cases.queue import QueueError, QueueFilter, QueueOrder, queue_page
from consultant.models import Case, CaseStatus, Role
from consultant.services import Services
from consultant.users import create_user

NOW = datetime(2026, 10, 7, 15, 0, tzinfo=UTC)  # a Wednesday
ME, OTHER = "me@clinic.example", "other@clinic.example"


def add_cases(services: Services, rows: list[dict[str, Any]]) -> None:
    """Cases as processing leaves them, written in one statement (fast for a thousand)."""
    with services.db.session() as session:
        first = (session.scalar(select(Case.id).order_by(Case.id.desc()).limit(1)) or 0) + 1
        values = []
        for number, row in enumerate(rows, start=first):
            waiting = row.pop("waiting", NOW - timedelta(hours=1))
            values.append(
                {
                    "reference": f"CC-{number:06d}",
                    "status": CaseStatus.AWAITING_REVIEW,
                    "subject": f"question {number}",
                    "requester_address": "coder@clinic.example",
                    "created_at": waiting,
                    "updated_at": waiting,
                    "waiting_since": waiting,
                    "thread_message_ids": [],
                    "phi_flagged": False,
                    "codes": "",
                    "topics": "",
                    "attachment_count": 0,
                }
                | row
            )
        session.execute(insert(Case), values)


def page(services: Services, **kwargs: Any) -> Any:
    filters = kwargs.pop("filters", QueueFilter())
    order = kwargs.pop("order", None)
    with services.db.read_session() as session:
        return queue_page(session, services.settings, filters, order, now=NOW, **kwargs)


def refs(result: Any) -> list[str]:
    return [row.reference for row in result.rows]


def test_after_a_thousand_messages_the_oldest_waiting_come_first_and_none_is_hidden(
    services: Services,
) -> None:
    # Waiting times in no particular order of creation: the newest case is CC-001050.
    rows = [{"waiting": NOW - timedelta(minutes=(i * 7919) % 1050 + 1)} for i in range(1050)]
    add_cases(services, rows)
    add_cases(services, [{"status": CaseStatus.SENT} for _ in range(30)])

    first = page(services)
    assert first.total == 1050 and len(first.rows) == 50
    assert first.describe() == "1\u201350 of 1,050"
    waits = [row.waiting_since for row in first.rows]
    assert waits == sorted(waits)
    assert waits[0] == NOW - timedelta(minutes=1050)  # the oldest waiting case of all

    seen: list[str] = []
    waits = []
    for offset in range(0, 1050, 50):
        result = page(services, offset=offset)
        seen += refs(result)
        waits += [row.waiting_since for row in result.rows]
    assert len(seen) == len(set(seen)) == 1050
    assert waits == sorted(waits)
    last = page(services, offset=1000)
    assert last.describe() == "1,001\u20131,050 of 1,050"
    assert page(services, limit=None).total == len(page(services, limit=None).rows) == 1050


def test_finished_work_lists_the_newest_first(services: Services) -> None:
    add_cases(
        services,
        [
            {"status": CaseStatus.SENT, "waiting": NOW - timedelta(days=3)},
            {"status": CaseStatus.SENT, "waiting": NOW - timedelta(days=1)},
        ],
    )
    assert refs(page(services, filters=QueueFilter(status="sent"))) == ["CC-000002", "CC-000001"]
    assert refs(page(services, filters=QueueFilter(status="all"))) == ["CC-000002", "CC-000001"]
    oldest = QueueOrder("age")
    assert refs(page(services, filters=QueueFilter(status="all"), order=oldest)) == [
        "CC-000001",
        "CC-000002",
    ]


def test_counts_per_status_follow_the_filters(services: Services) -> None:
    add_cases(
        services,
        [
            {"status": CaseStatus.AWAITING_REVIEW, "phi_flagged": True},
            {"status": CaseStatus.AWAITING_REVIEW},
            {"status": CaseStatus.FAILED},
            {"status": CaseStatus.SENT, "phi_flagged": True},
            {"status": CaseStatus.IGNORED},
        ],
    )
    counts = page(services).counts
    assert (counts["open"], counts["awaiting_review"], counts["failed"]) == (3, 2, 1)
    assert (counts["sent"], counts["ignored"], counts["all"], counts["rejected"]) == (1, 1, 5, 0)
    phi = page(services, filters=QueueFilter(phi=True)).counts
    assert (phi["open"], phi["sent"], phi["all"]) == (1, 1, 2)


def test_sorts_in_both_directions(services: Services) -> None:
    zed = create_user(services.db, "zed@clinic.example", "a long password!", Role.REVIEWER)
    amy = create_user(services.db, "amy@clinic.example", "a long password!", Role.REVIEWER)
    add_cases(
        services,
        [
            {"requester_name": "Carla", "assignee_id": zed.id, "status": CaseStatus.FAILED},
            {"requester_name": "alan", "waiting": NOW - timedelta(hours=5)},
            {"requester_name": "Bea", "assignee_id": amy.id, "waiting": NOW - timedelta(hours=3)},
        ],
    )

    def order(key: str, descending: bool | None = None) -> list[str]:
        return refs(page(services, order=QueueOrder(key, descending)))

    assert order("age") == ["CC-000002", "CC-000003", "CC-000001"]  # oldest first
    assert order("age", False) == ["CC-000001", "CC-000003", "CC-000002"]
    assert order("due") == order("age")
    assert order("due", True) == order("age", False)
    assert order("requester") == ["CC-000002", "CC-000003", "CC-000001"]  # alan, Bea, Carla
    assert order("requester", True) == ["CC-000001", "CC-000003", "CC-000002"]
    assert order("status") == ["CC-000002", "CC-000003", "CC-000001"]  # awaiting before failed
    assert order("status", True)[0] == "CC-000001"
    assert order("assignee") == ["CC-000003", "CC-000001", "CC-000002"]  # amy, zed, nobody
    assert order("assignee", True) == ["CC-000001", "CC-000003", "CC-000002"]


def test_filters(services: Services) -> None:
    me = create_user(services.db, ME, "a long password!", Role.REVIEWER)
    soon = NOW + timedelta(minutes=20)
    add_cases(
        services,
        [
            {"assignee_id": me.id, "codes": "20956 20902", "topics": "ncci modifier"},
            {"claimed_by": ME, "claimed_at": NOW, "claim_expires_at": soon, "attachment_count": 2},
            {"claimed_by": OTHER, "claimed_at": NOW, "claim_expires_at": soon, "codes": "E11.9"},
            {"claimed_by": OTHER, "claim_expires_at": NOW - timedelta(minutes=1), "topics": "mue"},
            {"phi_flagged": True, "codes": "E11.65", "waiting": NOW - timedelta(hours=30)},
        ],
    )

    def only(**filters: Any) -> list[str]:
        return sorted(refs(page(services, filters=QueueFilter(**filters), viewer=ME)))

    assert only(mine=True) == ["CC-000001", "CC-000002"]
    assert only(unassigned=True) == ["CC-000002", "CC-000003", "CC-000004", "CC-000005"]
    assert only(claimed=True) == ["CC-000002", "CC-000003"]  # CC-000004's claim ran out
    assert only(phi=True) == ["CC-000005"]
    assert only(attachments=True) == ["CC-000002"]
    assert only(code="e11.9") == ["CC-000003"]  # a whole code: E11.65 is not E11.9
    assert only(code="20902") == ["CC-000001"]
    assert only(topic="modifier") == ["CC-000001"]
    assert only(topic="mue", claimed=True) == []
    assert only(overdue=True) == ["CC-000005"]  # 30 h against the default 24 h
    with services.db.read_session() as session, pytest.raises(QueueError, match="who is asking"):
        queue_page(session, services.settings, QueueFilter(mine=True))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: QueueFilter(status="pending"), "no view 'pending'"),
        (lambda: QueueFilter(topic="billing"), "no topic 'billing'"),
        (lambda: QueueFilter(code="20956 OR 1=1"), "is not a code"),
        (lambda: QueueOrder("oldest"), "no sort 'oldest'"),
    ],
)
def test_unknown_values_are_refused_with_what_is_known(make: Any, message: str) -> None:
    with pytest.raises(QueueError, match=message):
        make()


def test_rows_show_subjects_without_patient_details(services: Services) -> None:
    add_cases(services, [{"subject": "John Smith DOB 03/14/1962 MRN 12345678 knee 29881"}])
    (row,) = page(services).rows
    assert "John Smith" not in row.subject
    assert "1962" not in row.subject and "12345678" not in row.subject
    assert "29881" in row.subject


def test_the_sla_counts_from_waiting_since_and_admins_may_change_it(services: Services) -> None:
    add_cases(
        services,
        [{"waiting": NOW - timedelta(hours=22)}, {"waiting": NOW - timedelta(hours=26)}],
    )
    young, old = sorted(page(services).rows, key=lambda r: r.reference)
    assert (young.sla, young.overdue) == ("due in 2 h", False)
    assert (old.sla, old.overdue) == ("overdue by 2 h", True)
    assert refs(page(services, filters=QueueFilter(overdue=True))) == ["CC-000002"]

    with services.db.session() as session:
        write_setting(session, SLA_HOURS, 20, "admin@clinic.example")
    young = min(page(services).rows, key=lambda r: r.reference)
    assert (young.sla, young.overdue) == ("overdue by 2 h", True)
    assert len(page(services, filters=QueueFilter(overdue=True)).rows) == 2


def test_business_hours_pause_the_sla_overnight_and_at_weekends(
    make_services: Any,
) -> None:
    services = make_services(
        sla_hours=8,
        business_hours="09:00-17:00",
        business_days="Mon,Tue,Wed,Thu,Fri",
        business_timezone="America/New_York",
    )
    friday_3pm = datetime(2026, 10, 9, 19, 0, tzinfo=UTC)  # 15:00 in New York
    add_cases(services, [{"waiting": friday_3pm}])
    monday_noon = datetime(2026, 10, 12, 16, 0, tzinfo=UTC)
    monday_4pm = datetime(2026, 10, 12, 20, 0, tzinfo=UTC)
    with services.db.read_session() as session:
        at_noon = queue_page(session, services.settings, now=monday_noon)
        late = queue_page(session, services.settings, QueueFilter(overdue=True), now=monday_4pm)
    (row,) = at_noon.rows
    # 2 h on Friday, 6 h on Monday from 09:00: due Monday 15:00 New York time.
    assert row.due == datetime(2026, 10, 12, 19, 0, tzinfo=UTC)
    assert (row.sla, row.overdue) == ("due in 3 h", False)
    assert refs(late) == ["CC-000001"] and late.rows[0].sla == "overdue by 1 h"


def test_the_overdue_filter_agrees_with_each_rows_due_time(make_services: Any) -> None:
    services = make_services(sla_hours=4, business_hours="08:30-12:00", business_days="Mon,Wed,Sat")
    add_cases(
        services,
        [{"waiting": NOW - timedelta(minutes=37 * i)} for i in range(300)],
    )
    everything = page(services, limit=None)
    overdue = {
        r.reference for r in page(services, filters=QueueFilter(overdue=True), limit=None).rows
    }
    assert overdue == {r.reference for r in everything.rows if r.overdue}
    assert 0 < len(overdue) < 300


def test_a_claim_shows_only_while_it_holds(services: Services) -> None:
    add_cases(
        services,
        [
            {
                "claimed_by": OTHER,
                "claimed_at": NOW,
                "claim_expires_at": NOW + timedelta(minutes=5),
            },
            {
                "claimed_by": OTHER,
                "claimed_at": NOW,
                "claim_expires_at": NOW - timedelta(minutes=5),
            },
        ],
    )
    held, lapsed = sorted(page(services).rows, key=lambda r: r.reference)
    assert (held.claimed_by, held.claimed_at) == (OTHER, NOW)
    assert (lapsed.claimed_by, lapsed.claimed_at) == (None, None)


def test_cases_never_queued_wait_from_their_creation(services: Services) -> None:
    add_cases(services, [{"status": CaseStatus.FAILED}])
    with services.db.session() as session:
        session.execute(update(Case).values(waiting_since=None))
    (row,) = page(services).rows
    assert row.waiting_since == NOW - timedelta(hours=1)

"""Recent code searches, on SQLite and PostgreSQL: kept once each, newest first, capped,
private to their user, cleared on request, and never holding patient details."""

from __future__ import annotations

import pytest

from consultant import recent_searches
from consultant.db import Database
from consultant.roles import Role
from consultant.users import create_user

PASSWORD = "correct horse battery staple"


@pytest.fixture
def coder(db: Database) -> int:
    return create_user(db, "coder@clinic.example", PASSWORD, Role.MEMBER).id


@pytest.fixture
def expert(db: Database) -> int:
    return create_user(db, "expert@clinic.example", PASSWORD, Role.REVIEWER).id


def queries(db: Database, user_id: int) -> list[str]:
    return [r.query for r in recent_searches.recent(db, user_id)]


def test_searches_are_kept_newest_first_with_their_filters(db: Database, coder: int) -> None:
    assert recent_searches.record(db, coder, "diabetes kidney", [], False)
    assert recent_searches.record(db, coder, "  colonoscopy   screening ", ["HCPCS"], True)
    kept = recent_searches.recent(db, coder)
    assert [(r.query, r.sets, r.billable) for r in kept] == [
        ("colonoscopy screening", ("HCPCS",), True),
        ("diabetes kidney", (), False),
    ]


def test_a_search_repeated_is_kept_once_with_its_latest_filters(db: Database, coder: int) -> None:
    recent_searches.record(db, coder, "Diabetes Kidney", [], False)
    recent_searches.record(db, coder, "fracture radius", [], False)
    recent_searches.record(db, coder, "diabetes  kidney", ["ICD-10-CM"], True)
    kept = recent_searches.recent(db, coder)
    assert [(r.query, r.sets, r.billable) for r in kept] == [
        ("diabetes kidney", ("ICD-10-CM",), True),
        ("fracture radius", (), False),
    ]


def test_only_the_newest_are_kept(db: Database, coder: int) -> None:
    for number in range(recent_searches.MAX_KEPT + 5):
        recent_searches.record(db, coder, f"search {number}", [], False)
    kept = queries(db, coder)
    assert len(kept) == recent_searches.MAX_KEPT
    assert kept[0] == f"search {recent_searches.MAX_KEPT + 4}" and kept[-1] == "search 5"


@pytest.mark.parametrize(
    "query",
    [
        "Jane Doe DOB 04/05/1961 knee arthroscopy",
        "MRN 123456 29880",
        "SSN 123-45-6789",
        "member id W123456789 diabetes",
        "patient John Smith colonoscopy",
        "1EG4-TE5-MK73",
    ],
)
def test_patient_details_are_never_kept(db: Database, coder: int, query: str) -> None:
    assert recent_searches.record(db, coder, query, [], False) is False
    assert queries(db, coder) == []


def test_searches_are_private_and_cleared_for_their_user_alone(
    db: Database, coder: int, expert: int
) -> None:
    recent_searches.record(db, coder, "diabetes", [], False)
    recent_searches.record(db, expert, "modifier 59", [], False)
    recent_searches.record(db, expert, "diabetes", [], False)
    assert queries(db, coder) == ["diabetes"]
    assert queries(db, expert) == ["diabetes", "modifier 59"]
    assert recent_searches.clear(db, coder) == 1
    assert queries(db, coder) == []
    assert queries(db, expert) == ["diabetes", "modifier 59"]


def test_a_blank_search_is_not_kept(db: Database, coder: int) -> None:
    assert recent_searches.record(db, coder, "   ", [], False)
    assert queries(db, coder) == []

"""A user's starred codes and personal notes: kept per user, listed for that user alone, and
gone from the list once neither a star nor a note is left, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from consultant import my_codes
from consultant.models import Role, UserCode
from consultant.services import Services
from tests.web.helpers import add_reviewer

CM = "ICD-10-CM"


def _users(services: Services) -> tuple[int, int]:
    ann = add_reviewer(services, "ann@clinic.example", Role.MEMBER)
    bob = add_reviewer(services, "bob@clinic.example", Role.MEMBER)
    return ann.id, bob.id


def test_a_star_and_a_note_are_the_users_own(services: Services) -> None:
    ann, bob = _users(services)
    with services.db.session() as session:
        my_codes.set_favourite(session, ann, CM, "E11.9", True)
        my_codes.set_note(session, ann, CM, "E11.9", "  Ann's private note.  ")
        my_codes.set_note(session, ann, "HCPCS", "J1100", "Dexamethasone, per mg.")
        my_codes.set_favourite(session, bob, "HCPCS", "J1100", True)
    with services.db.read_session() as session:
        listed = {m.code: (m.favourite, m.note) for m in my_codes.listing(session, ann)}
        bobs = [(m.code, m.favourite, m.note) for m in my_codes.listing(session, bob)]
        assert my_codes.get(session, bob, CM, "E11.9") is None
    assert listed == {
        "E11.9": (True, "Ann's private note."),
        "J1100": (False, "Dexamethasone, per mg."),
    }
    assert bobs == [("J1100", True, "")]


def test_nothing_left_means_no_longer_listed(services: Services) -> None:
    ann, _ = _users(services)
    with services.db.session() as session:
        my_codes.set_favourite(session, ann, CM, "E11.9", True)
        my_codes.set_note(session, ann, CM, "E11.9", "A note.")
    with services.db.session() as session:
        my_codes.set_note(session, ann, CM, "E11.9", "")
        assert my_codes.get(session, ann, CM, "E11.9").favourite  # type: ignore[union-attr]
        my_codes.set_favourite(session, ann, CM, "E11.9", False)
    with services.db.read_session() as session:
        assert my_codes.listing(session, ann) == []
        assert session.scalar(select(func.count()).select_from(UserCode)) == 0


def test_a_star_twice_is_one_row(services: Services) -> None:
    ann, _ = _users(services)
    for _ in range(2):
        with services.db.session() as session:
            my_codes.set_favourite(session, ann, CM, "E11.9", True)
    with services.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(UserCode)) == 1


def test_a_note_too_long_is_refused(services: Services) -> None:
    ann, _ = _users(services)
    with services.db.session() as session, pytest.raises(my_codes.NoteTooLong):
        my_codes.set_note(session, ann, CM, "E11.9", "x" * (my_codes.MAX_NOTE + 1))

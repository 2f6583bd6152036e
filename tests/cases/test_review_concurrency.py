"""Two experts on one case: nothing sent that was not seen, nobody's words overwritten.

The stories from issue 8, at the service level (the web and API tests replay
them through their own front doors): each ends in a refusal that carries what
changed, and the outbox holds only text an expert approved while seeing it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from consultant.cases import presence, review
from consultant.cases.diffs import merge, side_by_side
from consultant.models import Case, CaseEvent, Draft, utcnow
from consultant.services import Services
from tests.support.cases import file_messages
from tests.support.corpus import QUESTIONS
from tests.web.helpers import reply_text, sent_replies

A, B = "ann@example.com", "bob@example.com"
REF = "CC-000001"
TEXT_A = "Dear Amy,\n\nYes: 29877 is bundled into 29880.\n\nKind regards,\nAnn\n"
TEXT_B = "Dear Amy,\n\nNo separate payment for 29877.\n\nKind regards,\nBob\n"


@pytest.fixture
def case_ref(services: Services) -> str:
    file_messages(services, (QUESTIONS / "01.eml").read_bytes())
    return REF


def _drafts(services: Services) -> list[tuple[int, str, int | None]]:
    with services.db.session() as session:
        rows = session.scalars(select(Draft).order_by(Draft.version))
        return [(d.version, d.author, d.base_version) for d in rows]


def _events(services: Services, kind: str) -> list[CaseEvent]:
    with services.db.session() as session:
        return list(session.scalars(select(CaseEvent).where(CaseEvent.kind == kind)))


def test_approve_with_unsaved_edits_saves_them_first_and_sends_exactly_them(
    services: Services, case_ref: str
) -> None:
    approved = review.approve(services, case_ref, A, version=1, text=TEXT_A)
    assert (approved.version, approved.saved) == (2, True)
    assert _drafts(services) == [(1, "system", None), (2, A, 1)]
    (reply,) = sent_replies(services.settings)
    assert reply_text(reply).replace("\r\n", "\n") == TEXT_A


def test_approving_a_stale_version_is_refused_and_sends_nothing(
    services: Services, case_ref: str
) -> None:
    """A opened v1; B saved v2; A clicks Approve on the stale page: B's v2 is not sent."""
    review.edit_draft(services, case_ref, TEXT_B, B, base_version=1)
    with pytest.raises(review.DraftConflict) as refused:
        review.approve(services, case_ref, A, version=1, text=TEXT_A)
    conflict = refused.value
    assert (conflict.base.number, conflict.current.number) == (1, 2)
    assert (conflict.current.author, conflict.current.text, conflict.yours) == (B, TEXT_B, TEXT_A)
    assert "was saved by bob@example.com" in str(conflict) and "nothing was sent" in str(conflict)
    assert sent_replies(services.settings) == []
    assert _drafts(services) == [(1, "system", None), (2, B, 1)]
    with services.db.session() as session:
        assert session.scalars(select(Case.status)).one() == "awaiting_review"


def test_the_later_of_two_saves_from_one_version_is_refused_with_both_texts(
    services: Services, case_ref: str
) -> None:
    """A and B both edit from v1: B saves first; A's save does not replace B's text."""
    review.edit_draft(services, case_ref, TEXT_B, B, base_version=1)
    with pytest.raises(review.DraftConflict) as refused:
        review.edit_draft(services, case_ref, TEXT_A, A, base_version=1)
    assert refused.value.current.text == TEXT_B
    assert refused.value.yours == TEXT_A
    assert _drafts(services) == [(1, "system", None), (2, B, 1)]
    # A merges on top of v2 and saves, now based on the current version.
    base = refused.value.base.text
    merged = merge(base, TEXT_A, TEXT_B, "v2 by bob")
    assert not merged.clean  # both rewrote the same sentence
    assert review.edit_draft(services, case_ref, TEXT_A, A, base_version=2).version == 3


def test_a_merge_of_edits_to_different_lines_keeps_both() -> None:
    base = "Dear Amy,\n\nYes, 59 applies.\n\nKind regards\n"
    mine = "Dear Amy,\n\nYes, XS applies.\n\nKind regards\n"
    theirs = "Dear Amy,\n\nYes, 59 applies.\n\nBest regards,\nBob\n"
    merged = merge(base, mine, theirs, "v2")
    assert merged.clean
    assert merged.text == "Dear Amy,\n\nYes, XS applies.\n\nBest regards,\nBob\n"


def test_a_side_by_side_diff_marks_the_changed_words() -> None:
    rows = side_by_side("Yes, 59 applies.\nBye\n", "Yes, XS applies.\nBye\nP.S.\n")
    assert [row.kind for row in rows] == ["changed", "same", "added"]
    assert rows[0].left == (("Yes, ", False), ("59", True), (" applies.", False))
    assert rows[0].right == (("Yes, ", False), ("XS", True), (" applies.", False))


def test_a_save_repeated_after_a_dropped_connection_changes_nothing(
    services: Services, case_ref: str
) -> None:
    review.edit_draft(services, case_ref, TEXT_A, A, base_version=1)
    again = review.edit_draft(services, case_ref, TEXT_A, A, base_version=1)
    assert (again.version, again.created) == (2, False)


def test_an_approval_with_unresolved_merge_markers_is_refused(
    services: Services, case_ref: str
) -> None:
    marked = f"<<<<<<< yours\n{TEXT_A}=======\n{TEXT_B}>>>>>>> v2\n"
    review.edit_draft(services, case_ref, marked, A, base_version=1)
    with pytest.raises(review.ReviewError, match="merge markers"):
        review.approve(services, case_ref, A, version=2)
    assert sent_replies(services.settings) == []


def test_a_claim_keeps_others_out_until_an_explicit_recorded_take_over(
    services: Services, case_ref: str
) -> None:
    assert review.claim(services, case_ref, A) is True
    assert review.claim(services, case_ref, A) is False  # a renewal
    with pytest.raises(review.ClaimedByOther, match=r"claimed by ann@example.com since \d\d:\d\d"):
        review.claim(services, case_ref, B)
    with pytest.raises(review.ClaimedByOther):
        review.edit_draft(services, case_ref, TEXT_B, B, base_version=1)
    with pytest.raises(review.ClaimedByOther):
        review.approve(services, case_ref, B, version=1, text=TEXT_B)
    with pytest.raises(review.ClaimedByOther):
        review.reject(services, case_ref, "duplicate", B)
    assert review.claim(services, case_ref, B, take_over=True) is True
    (taken,) = _events(services, "claim_taken_over")
    assert (taken.actor, taken.details["previous"]) == (B, A)
    with pytest.raises(review.ClaimedByOther):
        review.edit_draft(services, case_ref, TEXT_A, A, base_version=1)
    assert review.edit_draft(services, case_ref, TEXT_B, B, base_version=1).created
    assert sent_replies(services.settings) == []


def test_an_expired_claim_holds_nobody_back(services: Services, case_ref: str) -> None:
    review.claim(services, case_ref, A)
    with services.db.session() as session:
        session.execute(update(Case).values(claim_expires_at=utcnow() - timedelta(seconds=1)))
    assert review.claim(services, case_ref, B) is True
    assert _events(services, "claim_taken_over") == []


def test_a_claim_lasts_the_configured_minutes_and_editing_renews_it(
    make_services: object, case_ref: str, services: Services
) -> None:
    short = make_services(claim_minutes=5)  # type: ignore[operator]
    review.claim(short, case_ref, A)
    with short.db.session() as session:
        case = session.scalars(select(Case)).one()
        first = case.claim_expires_at - case.claimed_at
        session.execute(update(Case).values(claim_expires_at=utcnow() + timedelta(minutes=1)))
    assert timedelta(minutes=4, seconds=59) < first <= timedelta(minutes=5, seconds=1)
    review.edit_draft(short, case_ref, TEXT_A, A, base_version=1)
    with short.db.session() as session:
        left = session.scalars(select(Case.claim_expires_at)).one() - utcnow()
    assert left > timedelta(minutes=4, seconds=50)


def test_approving_ends_the_claim(services: Services, case_ref: str) -> None:
    review.claim(services, case_ref, A)
    review.approve(services, case_ref, A, version=1, text=TEXT_A)
    with services.db.session() as session:
        assert session.scalars(select(Case.claimed_by)).one() is None


def test_presence_shows_the_others_and_who_is_editing(services: Services, case_ref: str) -> None:
    assert presence.report(services, case_ref, A, editing=False) == []
    seen = presence.report(services, case_ref, B, editing=True)
    assert [(v.who, v.editing) for v in seen] == [(A, False)]
    assert [(v.who, v.editing) for v in presence.report(services, case_ref, A, False)] == [
        (B, True)
    ]

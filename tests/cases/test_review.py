"""Review actions: edit, approve, reject, assign; what each refuses and what it records."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select

from consultant.cases import review
from consultant.db_errors import TransientError
from consultant.models import Case, CaseEvent, Draft, OutboundMessage, Role
from consultant.services import Services
from consultant.users import create_user
from tests.support.cases import answer_and_approve, file_messages
from tests.support.corpus import QUESTIONS, special
from tests.support.postgres import outage

EXPERT = "expert@example.com"


@pytest.fixture
def case_ref(services: Services) -> str:
    file_messages(services, (QUESTIONS / "01.eml").read_bytes())
    return "CC-000001"


def _case(services: Services, reference: str) -> Case:
    with services.db.session() as session:
        return session.scalars(select(Case).where(Case.reference == reference)).one()


def _events(services: Services, kind: str) -> list[CaseEvent]:
    with services.db.session() as session:
        return list(session.scalars(select(CaseEvent).where(CaseEvent.kind == kind)))


def _outbox_messages(services: Services) -> list[email.message.EmailMessage]:
    folder = Path(services.settings.maildir_outbox) / "new"
    return [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(folder.iterdir())
    ]


def _replies(services: Services) -> list[email.message.EmailMessage]:
    return [m for m in _outbox_messages(services) if "Auto-Submitted" not in m]


def test_edit_saves_a_new_version_by_its_author(services: Services, case_ref: str) -> None:
    assert (
        review.edit_draft(services, case_ref, "Dear Amy,\n\nYes.\n", EXPERT, base_version=1).version
        == 2
    )
    with services.db.session() as session:
        drafts = list(session.scalars(select(Draft).order_by(Draft.version)))
    assert [(d.version, d.author) for d in drafts] == [(1, "system"), (2, EXPERT)]
    assert "<p>Dear Amy,</p>" in drafts[1].body_html


def test_edit_escapes_html_in_the_html_version(services: Services, case_ref: str) -> None:
    review.edit_draft(services, case_ref, "Use <b>59</b> & XS", EXPERT, base_version=1)
    with services.db.session() as session:
        draft = session.scalars(select(Draft).where(Draft.version == 2)).one()
    assert "Use &lt;b&gt;59&lt;/b&gt; &amp; XS" in draft.body_html


def test_empty_draft_is_refused(services: Services, case_ref: str) -> None:
    with pytest.raises(review.ReviewError, match="empty"):
        review.edit_draft(services, case_ref, "  \n", EXPERT, base_version=1)


def test_approval_refuses_open_expert_notes(services: Services, case_ref: str) -> None:
    refusal = (
        r"2 open \[expert: \.\.\.\] note\(s\), first \[expert: say whether the record shows 29880"
    )
    with pytest.raises(review.ReviewError, match=refusal):
        review.approve(services, case_ref, EXPERT, version=1)
    assert _case(services, case_ref).status == "awaiting_review"
    assert _replies(services) == []


def test_approve_sends_one_reply_and_a_second_approve_is_refused(
    services: Services, case_ref: str
) -> None:
    answer_and_approve(services, case_ref)
    with pytest.raises(review.ReviewError, match="CC-000001 is sent, not awaiting review"):
        review.approve(services, case_ref, EXPERT, version=2)
    assert len(_replies(services)) == 1


def test_reply_threads_after_the_acknowledgment(services: Services, case_ref: str) -> None:
    answer_and_approve(services, case_ref)
    (ack,) = [m for m in _outbox_messages(services) if "Auto-Submitted" in m]
    (reply,) = _replies(services)
    assert reply["In-Reply-To"] == "<s01.20261005@mail.example>"
    assert reply["References"].split() == ["<s01.20261005@mail.example>", ack["Message-ID"]]


def test_reject_needs_a_reason_and_records_it(services: Services, case_ref: str) -> None:
    with pytest.raises(review.ReviewError, match="needs a reason"):
        review.reject(services, case_ref, " ", EXPERT)
    review.reject(services, case_ref, "duplicate of CC-000009", EXPERT)
    assert _case(services, case_ref).status == "rejected"
    (event,) = [e for e in _events(services, "status") if e.details["to"] == "rejected"]
    assert (event.actor, event.details["reason"]) == (EXPERT, "duplicate of CC-000009")
    assert _replies(services) == []


def test_rejected_case_cannot_be_edited(services: Services, case_ref: str) -> None:
    review.reject(services, case_ref, "spam", EXPERT)
    with pytest.raises(review.ReviewError, match="is rejected"):
        review.edit_draft(services, case_ref, "text", EXPERT, base_version=1)


def test_assign_to_a_reviewer_and_back(services: Services, case_ref: str) -> None:
    create_user(services.db, "Rita@Example.com", "a long enough password", Role.REVIEWER)
    review.assign(services, case_ref, "rita@example.com", EXPERT)
    with services.db.session() as session:
        case = session.scalars(select(Case)).one()
        assert case.assignee.email == "rita@example.com"
    review.assign(services, case_ref, None, EXPERT)
    assert _case(services, case_ref).assignee_id is None
    assert [e.details["assignee"] for e in _events(services, "assigned")] == [
        "rita@example.com",
        None,
    ]


def test_assign_to_unknown_user_is_refused(services: Services, case_ref: str) -> None:
    with pytest.raises(
        review.ReviewError, match=r"no active reviewer or admin nobody@example\.com"
    ):
        review.assign(services, case_ref, "nobody@example.com", EXPERT)


def test_unknown_reference(services: Services) -> None:
    with pytest.raises(review.CaseNotFound):
        review.approve(services, "CC-999999", EXPERT, version=1)


def test_follow_up_after_the_reply_reopens_the_case(services: Services, case_ref: str) -> None:
    answer_and_approve(services, case_ref)
    (first_reply,) = _replies(services)
    follow_up = special("follow_up.eml").replace(
        b"In-Reply-To: <reply-1@caseconsultant.example>",
        f"In-Reply-To: {first_reply['Message-ID']}".encode(),
    )
    file_messages(services, follow_up)
    case = _case(services, case_ref)
    assert case.status == "awaiting_review"
    answer_and_approve(services, case_ref)
    second = _replies(services)[-1]
    assert second["In-Reply-To"] == "<s103.20261005@mail.example>"
    assert first_reply["Message-ID"] in second["References"]
    assert second["Subject"] == "Re: NCCI: 29880 and 29877 [CC-000001]"


def test_follow_up_while_the_reply_is_queued_returns_the_case_to_review(
    services: Services, case_ref: str
) -> None:
    class Hold:
        def bind(self, _services: Services) -> None: ...

        def __call__(self, task: str, row_id: int) -> None:
            self.last = (task, row_id)

    hold = Hold()
    held = Services(**{**vars(services), "dispatch": hold})
    review.edit_draft(held, case_ref, "Dear Amy,\n\nNo.\n", EXPERT, base_version=1)
    outbound_id = review.approve(held, case_ref, EXPERT, version=2).outbound_id
    file_messages(services, special("follow_up.eml"))
    assert _case(services, case_ref).status == "approved"
    services.dispatch("send_reply", outbound_id)
    assert _case(services, case_ref).status == "awaiting_review"
    with services.db.session() as session:
        assert (
            session.scalars(
                select(OutboundMessage.state).where(OutboundMessage.id == outbound_id)
            ).one()
            == "sent"
        )


def test_an_approval_survives_the_database_going_away_for_a_moment(
    postgres_services: Services, postgres_url: str
) -> None:
    """The connection drops under an expert's click: the approval is tried again, and goes once."""
    services = postgres_services
    file_messages(services, (QUESTIONS / "01.eml").read_bytes())
    review.edit_draft(services, "CC-000001", "Dear Amy,\n\nYes.\n", EXPERT, base_version=1)
    timer = outage(postgres_url, 0.8)

    review.approve(services, "CC-000001", EXPERT, version=2)

    timer.join()
    assert _case(services, "CC-000001").status == "sent"
    assert len(_replies(services)) == 1


def test_a_longer_outage_refuses_the_approval_with_a_sentence_and_changes_nothing(
    postgres_services: Services, postgres_url: str
) -> None:
    services = postgres_services
    file_messages(services, (QUESTIONS / "01.eml").read_bytes())
    review.edit_draft(services, "CC-000001", "Dear Amy,\n\nYes.\n", EXPERT, base_version=1)
    timer = outage(postgres_url, 6.0)

    with pytest.raises(TransientError, match="nothing was changed, try again"):
        review.approve(services, "CC-000001", EXPERT, version=2)

    timer.join()
    assert _case(services, "CC-000001").status == "awaiting_review"
    assert _replies(services) == []


def test_saving_the_current_text_again_makes_no_new_version(
    services: Services, case_ref: str
) -> None:
    first = review.edit_draft(services, case_ref, "Dear Amy,\n\nYes.\n", EXPERT, base_version=1)
    again = review.edit_draft(services, case_ref, "Dear Amy,\n\nYes.\n", EXPERT, base_version=1)
    assert (first.version, first.created) == (2, True)
    assert (again.version, again.created) == (2, False)
    assert again.describe() == "Nothing changed: draft v2 is the current text."
    assert len(_events(services, "draft_edited")) == 1

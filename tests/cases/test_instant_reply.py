"""CONSULTANT_INSTANT_REPLY=confident: the automatic answer by email at once when it is sure,
the case still reviewed, and the expert's reply sent only when it says something different.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from email.message import EmailMessage

import pytest
from sqlalchemy import select, update

from config import Settings
from consultant.cases import review
from consultant.cases.guidance import NoteInput, add_note
from consultant.cases.stats import dashboard
from consultant.models import Case, CaseEvent, CaseStatus, OutboundKind, OutboundMessage
from consultant.services import Services, build_services
from tests.support.cases import bounce_of, file_messages, outbox_messages, save_draft

SURE = "Is E11.9 billable? DOS 06/01/2026"  # answered by a guidance note, data in force
UNSURE = "Can 29880 and 29877 be billed together? DOS 10/15/2026"  # CPT is not loaded
EXPERT = "expert@clinic.example"


def question(text: str, n: int = 1) -> bytes:
    message = EmailMessage()
    message["From"] = "Dana Coder <dana@clinic.example>"
    message["To"] = "consult@caseconsultant.example"
    message["Subject"] = "Quick question"
    message["Message-ID"] = f"<q{n}@clinic.example>"
    message.set_content(text + "\n")
    return bytes(message)


@pytest.fixture
def make(
    make_settings: Callable[..., Settings], writable_code_data_url: str
) -> Iterator[Callable[[str], Services]]:
    built: list[Services] = []

    def services(instant: str) -> Services:
        made = build_services(
            make_settings(database_url=writable_code_data_url, instant_reply=instant)
        )
        built.append(made)
        return made

    yield services
    for services in built:
        services.db.dispose()


def _with_guidance(services: Services) -> Services:
    with services.db.session() as session:
        note = NoteInput("code", "E11.9", "Report E11.9 only when no complication is documented.")
        add_note(session, note, EXPERT)
    return services


def _case(services: Services) -> Case:
    with services.db.read_session() as session:
        case = session.scalars(select(Case)).one()
        session.expunge(case)
        return case


def _answered_and_confirmed(make: Callable[[str], Services]) -> tuple[Services, str]:
    """A sure question answered at once, and its draft approved unchanged by an expert."""
    services = _with_guidance(make("confident"))
    file_messages(services, question(SURE))
    reference = _case(services).reference
    assert reference is not None
    review.approve(services, reference, EXPERT, version=1)
    return services, reference


def _events(services: Services) -> list[CaseEvent]:
    with services.db.read_session() as session:
        return list(session.scalars(select(CaseEvent).order_by(CaseEvent.id)))


def test_a_sure_answer_goes_out_at_once_marked_automatic_and_the_case_waits_for_review(
    make: Callable[[str], Services],
) -> None:
    services = _with_guidance(make("confident"))
    file_messages(services, question(SURE))
    (instant,) = outbox_messages(services)  # the answer, and no acknowledgment besides it
    text = instant.get_body(("plain",)).get_content()
    case = _case(services)
    assert text.startswith("AUTOMATIC ANSWER - NOT REVIEWED BY AN EXPERT")
    assert case.reference in text and case.reference in instant["Subject"]
    assert "Report E11.9 only when no complication is documented." in text
    assert "[ICD-10-CM 2026-04, effective 2026-04-01]" in text
    assert "[expert:" not in text
    assert instant["In-Reply-To"] == "<q1@clinic.example>"
    assert case.status == CaseStatus.AWAITING_REVIEW


def test_approving_the_same_answer_sends_nothing_more(make: Callable[[str], Services]) -> None:
    services = _with_guidance(make("confident"))
    file_messages(services, question(SURE))
    reference = _case(services).reference
    assert reference is not None
    approved = review.approve(services, reference, EXPERT, version=1)
    assert approved.already_answered is True
    assert len(outbox_messages(services)) == 1
    assert _case(services).status == CaseStatus.SENT
    assert "reply_not_needed" in [e.kind for e in _events(services)]


def test_an_expert_who_changes_the_answer_sends_the_reply(make: Callable[[str], Services]) -> None:
    services = _with_guidance(make("confident"))
    file_messages(services, question(SURE))
    reference = _case(services).reference
    assert reference is not None
    save_draft(services, reference, "Dear Dana,\n\nE11.9 needs a closer look.\n", EXPERT)
    approved = review.approve(services, reference, EXPERT, version=2)
    assert approved.already_answered is False
    _instant, reply = outbox_messages(services)
    assert "E11.9 needs a closer look." in reply.get_body(("plain",)).get_content()
    assert reply["In-Reply-To"] == "<q1@clinic.example>"
    assert _case(services).status == CaseStatus.SENT


def test_an_answer_that_leaves_anything_to_an_expert_is_not_sent_at_once(
    make: Callable[[str], Services],
) -> None:
    services = make("confident")
    file_messages(services, question(UNSURE))
    (ack,) = outbox_messages(services)
    assert "We have received your question" in ack.get_body(("plain",)).get_content()
    reasons = [
        e.details["reason"] for e in _events(services) if e.kind == "instant_answer_not_sent"
    ]
    assert reasons == ["the answer leaves something to an expert"]
    with services.db.read_session() as session:
        kinds = [row.kind for row in session.scalars(select(OutboundMessage))]
    assert OutboundKind.INSTANT not in kinds


def test_patient_details_hold_the_instant_answer_back(make: Callable[[str], Services]) -> None:
    services = _with_guidance(make("confident"))
    file_messages(services, question(f"John Smith DOB 03/14/1962. {SURE}"))
    (ack,) = outbox_messages(services)
    assert "send your question again without them" in ack.get_body(("plain",)).get_content()
    reasons = [
        e.details["reason"] for e in _events(services) if e.kind == "instant_answer_not_sent"
    ]
    assert reasons and "patient details" in reasons[0]


def test_off_by_default_the_requester_gets_the_acknowledgment_only(
    make: Callable[[str], Services],
) -> None:
    services = _with_guidance(make("off"))
    file_messages(services, question(SURE))
    (ack,) = outbox_messages(services)
    assert "We have received your question" in ack.get_body(("plain",)).get_content()
    assert "instant_answer_not_sent" not in [e.kind for e in _events(services)]


def _instant_row(services: Services) -> OutboundMessage:
    with services.db.read_session() as session:
        return session.scalars(
            select(OutboundMessage).where(OutboundMessage.kind == OutboundKind.INSTANT)
        ).one()


def test_the_instant_answer_asks_auto_responders_to_stay_quiet(
    make: Callable[[str], Services],
) -> None:
    services = _with_guidance(make("confident"))
    file_messages(services, question(SURE))
    (instant,) = outbox_messages(services)
    assert instant["Auto-Submitted"] == "auto-replied"


def test_an_instant_answer_not_yet_sent_does_not_stand_in_for_the_reply(
    make: Callable[[str], Services],
) -> None:
    services = _with_guidance(make("confident"))
    file_messages(services, question(SURE))
    with services.db.session() as session:  # as if the server had not taken it yet
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.kind == OutboundKind.INSTANT)
            .values(state="queued", sent_at=None)
        )
    reference = _case(services).reference
    assert reference is not None
    approved = review.approve(services, reference, EXPERT, version=1)
    assert approved.already_answered is False
    assert len(outbox_messages(services)) == 2  # the reply went: better twice than never


def test_a_bounced_instant_answer_puts_the_confirmed_case_back_in_the_queue(
    make: Callable[[str], Services],
) -> None:
    services, _ = _answered_and_confirmed(make)
    assert _case(services).status == CaseStatus.SENT
    file_messages(services, bounce_of(_instant_row(services).message_id))
    assert _instant_row(services).state == "bounced"
    assert _case(services).status == CaseStatus.AWAITING_REVIEW


def test_an_approval_retried_after_its_commit_is_not_refused(
    make: Callable[[str], Services],
) -> None:
    services, reference = _answered_and_confirmed(make)
    again = review._approve(services, reference, EXPERT, 1, None, again=True)
    assert again.already_answered is True and again.outbound_id == _instant_row(services).id


def test_the_dashboard_counts_the_instant_answer_as_the_reply(
    make: Callable[[str], Services],
) -> None:
    services, _ = _answered_and_confirmed(make)
    with services.db.read_session() as session:
        board = dashboard(session, services.settings)
    assert (board.total.sent, board.total.overdue) == (1, 0)

"""CasePilot: a member's question answered at once by the draft engine, follow-ups that keep
their context, the hourly limit, and "Ask an expert" turning a conversation into a case.

Against real ICD-10-CM and HCPCS data and the constructed CMS files (made-up values,
../shared/data/PROVENANCE.md), in SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import func, select

from config import Settings
from consultant.cases.asking import (
    AskError,
    AskLimited,
    NotYours,
    Question,
    WithAnExpert,
    ask,
    ask_an_expert,
)
from consultant.cases.guidance import NoteInput, add_note
from consultant.cases.member_cases import member_case, member_cases, reference_of_message
from consultant.models import AskTurn, Case, CaseStatus, InboundMessage, Role, User
from consultant.services import Services, build_services
from consultant.users import create_user
from tests.support.cases import outbox_messages

PASSWORD = "correct horse battery staple"
DANA = "dana@clinic.example"
PAT = "pat@other.example"
PAIR = "Can 29880 and 29877 be billed together on the same day? Do I need modifier 59?"
IN_FORCE = date(2026, 6, 1)  # the ICD-10-CM release of the test data is the one for this day


@pytest.fixture
def services(writable_services: Services) -> Services:
    return writable_services


@pytest.fixture
def member(services: Services) -> Callable[[str], User]:
    def make(email: str = DANA) -> User:
        return create_user(services.db, email, PASSWORD, Role.MEMBER)

    return make


def test_the_answer_says_what_the_draft_says_with_citations_and_what_was_not_checked(
    services: Services, member: Callable[[str], User]
) -> None:
    asked = ask(services, member(DANA), Question(PAIR, date_of_service=date(2026, 10, 15)))
    answer = asked.answer
    assert answer.automatic is True
    assert answer.restatement.startswith("You asked about 29880 and 29877 with modifier 59")
    assert any("29877 is bundled into 29880" in text for text in answer.short)
    assert all(item["cited"] for item in answer.why)
    assert any("NCCI PTP edits (practitioner) v323r0" in item["cited"] for item in answer.why)
    (ptp,) = [f for f in answer.facts if f.kind == "ptp"]
    assert ptp.codes == ["29880", "29877"] and ptp.release == "NCCI PTP edits (practitioner) v323r0"
    # CPT is not loaded: said plainly, never called invalid; and nothing of the panel.
    assert "Not checked: no code data is loaded for 29880, 29877." in answer.unchecked
    assert not any("import" in text or "consultant " in text for text in answer.unchecked)
    assert answer.confident is False
    assert answer.on == "2026-10-15"
    with services.db.read_session() as session:
        turn = session.get_one(AskTurn, asked.turn_id)
        assert turn.question == PAIR and turn.answer["short"] == answer.short
        assert turn.elapsed_ms > 0


def test_a_follow_up_keeps_the_codes_and_date_of_the_conversation(
    services: Services, member: Callable[[str], User]
) -> None:
    dana = member(DANA)
    first = ask(services, dana, Question(PAIR, date_of_service=date(2026, 10, 15)))
    follow = ask(services, dana, Question("And with XS instead?"), first.conversation_id)
    assert follow.conversation_id == first.conversation_id
    assert follow.answer.on == "2026-10-15"
    assert "29880 and 29877" in follow.answer.restatement
    assert follow.context["codes"][:2] == ["29880", "29877"]
    again = ask(
        services,
        dana,
        Question("What about 2026-11-02?", date_of_service=date(2026, 11, 2)),
        first.conversation_id,
    )
    assert again.answer.on == "2026-11-02"


def test_codes_payer_and_state_given_beside_the_question_are_read(
    services: Services, member: Callable[[str], User]
) -> None:
    asked = ask(
        services,
        member(DANA),
        Question("Is this bundled?", ["29880", "29877"], date(2026, 10, 15), "Medicare", "ohio"),
    )
    assert asked.context == {
        "codes": ["29880", "29877"],
        "date_of_service": "2026-10-15",
        "payer": "Medicare",
        "state": "OH",
    }
    assert any(f.kind == "ptp" for f in asked.answer.facts)


def test_a_confident_answer_is_one_with_nothing_left_to_an_expert(
    services: Services, member: Callable[[str], User]
) -> None:
    with services.db.session() as session:
        note = NoteInput("code", "E11.9", "Report E11.9 only when no complication is documented.")
        add_note(session, note, "expert@clinic.example")
    dana = member(DANA)
    sure = ask(services, dana, Question("Is E11.9 billable?", date_of_service=IN_FORCE)).answer
    assert sure.confident is True and sure.unchecked == []
    assert sure.short == ["Report E11.9 only when no complication is documented."]
    # The same question for a date the loaded ICD-10-CM release is not in force: not sure.
    late = ask(services, dana, Question("Is E11.9 billable?", date_of_service=date(2026, 12, 1)))
    assert late.answer.confident is False
    assert any("is not the release in force for 2026-12-01" in t for t in late.answer.unchecked)


def test_patient_details_are_neither_kept_nor_quoted_back(
    services: Services, member: Callable[[str], User]
) -> None:
    text = "John Smith DOB 03/14/1962 MRN 12345678: can 29880 go with 29877?"
    asked = ask(services, member(DANA), Question(text, date_of_service=date(2026, 10, 15)))
    assert asked.answer.phi_removed is True
    with services.db.read_session() as session:
        kept = session.get_one(AskTurn, asked.turn_id)
    for detail in ("John Smith", "03/14/1962", "12345678"):
        assert detail not in kept.question
        assert detail not in str(kept.answer)


def test_another_members_conversation_is_not_found_like_one_that_does_not_exist(
    services: Services, member: Callable[[str], User]
) -> None:
    dana, pat = member(DANA), member(PAT)
    asked = ask(services, dana, Question(PAIR))
    for guessed in (asked.conversation_id, asked.conversation_id + 1, 0):
        with pytest.raises(NotYours):
            ask(services, pat, Question("And 59?"), guessed)
        with pytest.raises(NotYours):
            ask_an_expert(services, pat, guessed)
    with services.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(AskTurn)) == 1


def test_the_hourly_limit_refuses_with_when_to_try_again(
    make_settings: Callable[..., Settings],
    writable_code_data_url: str,
) -> None:
    services = build_services(
        make_settings(database_url=writable_code_data_url, ask_hourly_limit=2)
    )
    dana = create_user(services.db, DANA, PASSWORD, Role.MEMBER)
    pat = create_user(services.db, PAT, PASSWORD, Role.MEMBER)
    ask(services, dana, Question("Is E11.9 billable?"))
    ask(services, dana, Question("Is E11.8 billable?"))
    with pytest.raises(AskLimited) as refused:
        ask(services, dana, Question("Is E11.65 billable?"))
    assert "2 questions an hour" in str(refused.value)
    ask(services, pat, Question("Is E11.9 billable?"))  # a limit per member
    services.db.dispose()


@pytest.mark.parametrize(
    ("question", "says"),
    [
        (Question("   "), "Type a question"),
        (Question("x" * 5001), "at most 5,000 characters"),
        (Question("ok?", codes=["29880;DROP"]), "letters, digits and a dot"),
        (Question("ok?", codes=["1"] * 21), "At most 20 codes"),
        (Question("ok?", state="Atlantis"), "not a US state"),
    ],
)
def test_a_question_that_cannot_be_asked_says_what_to_fix(
    services: Services, member: Callable[[str], User], question: Question, says: str
) -> None:
    with pytest.raises(AskError, match=says):
        ask(services, member(DANA), question)


def test_ask_an_expert_files_one_case_as_an_email_would_with_the_answer_as_its_draft(
    services: Services, member: Callable[[str], User]
) -> None:
    dana = member(DANA)
    first = ask(services, dana, Question(PAIR, date_of_service=date(2026, 10, 15)))
    ask(services, dana, Question("And with XS instead?"), first.conversation_id)
    stored = ask_an_expert(services, dana, first.conversation_id)
    assert ask_an_expert(services, dana, first.conversation_id) == stored  # a second click
    with services.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 1
        reference = reference_of_message(session, stored)
        assert reference is not None
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        assert case.status == CaseStatus.AWAITING_REVIEW
        assert case.requester_address == DANA
        draft = case.drafts[0]
        assert draft.author == "system"
        answers = [c["answer"] for c in draft.facts["conclusions"]]
        assert any("29877 is bundled into 29880" in a for a in answers)
        assert draft.facts["on"] == "2026-10-15"
        assert "Question 2: And with XS instead?" in (case.messages[0].text or "")
        shown = member_case(session, DANA, reference)
        assert shown is not None and shown.status == "With an expert"
        assert [c.reference for c in member_cases(session, DANA)] == [reference]
        assert member_case(session, PAT, reference) is None
    (ack,) = outbox_messages(services)
    assert ack["To"] == DANA and reference in ack["Subject"]


def test_a_follow_up_after_asking_an_expert_is_refused_not_lost(
    services: Services, member: Callable[[str], User]
) -> None:
    dana = member(DANA)
    first = ask(services, dana, Question(PAIR))
    ask_an_expert(services, dana, first.conversation_id)
    with pytest.raises(WithAnExpert, match="Reply to their email"):
        ask(services, dana, Question("And XS?"), first.conversation_id)
    with services.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(AskTurn)) == 1


def test_patient_details_typed_as_the_payer_are_not_kept(
    services: Services, member: Callable[[str], User]
) -> None:
    payer = "Aetna member ID W123456789"
    asked = ask(services, member(DANA), Question("Is 29880 with 29877 bundled?", payer=payer))
    assert "W123456789" not in str(asked.context)
    assert asked.context["payer"].startswith("Aetna")


def test_the_expert_sees_the_automatic_answers_the_member_was_shown(
    make_settings: Callable[..., Settings], writable_code_data_url: str
) -> None:
    services = build_services(
        make_settings(database_url=writable_code_data_url, instant_reply="confident")
    )
    dana = create_user(services.db, DANA, PASSWORD, Role.MEMBER)
    first = ask(services, dana, Question(PAIR, date_of_service=date(2026, 10, 15)))
    ask_an_expert(services, dana, first.conversation_id)
    with services.db.read_session() as session:
        case = session.scalars(select(Case)).one()
        (note,) = case.notes
        kinds = [o.kind for o in case.outbound]
    assert note.author == "system"
    assert note.body.startswith("The automatic answers the member was shown on the Ask page")
    assert f"Question 1: {PAIR}" in note.body
    assert first.answer.short[0] in note.body
    assert kinds == ["ack"]  # answered on the page already: no instant answer by email
    services.db.dispose()


def test_two_clicks_at_once_on_ask_an_expert_file_one_case(
    services: Services, member: Callable[[str], User]
) -> None:
    dana = member(DANA)
    conversation = ask(services, dana, Question(PAIR)).conversation_id
    results: list[int] = []
    barrier = threading.Barrier(2)

    def click() -> None:
        barrier.wait()
        results.append(ask_an_expert(services, dana, conversation))

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2 and results[0] == results[1]
    with services.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 1
        assert session.scalar(select(func.count()).select_from(Case)) == 1

from __future__ import annotations

import email
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import undefer

from consultant.cases.processing import Outcome, process_message
from consultant.cases.review import retry
from consultant.mail.parse import parse_message
from consultant.models import Case, InboundMessage, OutboundMessage, utcnow
from consultant.services import Services
from tests.support.cases import (
    approve_current,
    file_messages,
    outbox_messages,
    save_draft,
    store_only,
)
from tests.support.corpus import QUESTIONS, SPECIAL, question_files, special, special_expected

EXPECTED = special_expected()
PHI_VALUES = ("Robert Miller", "07/22/1961", "44817203", "1EG4-TE5-MK72")

EMPTY = b""
NO_FROM = (
    b"To: consult@caseconsultant.example\r\nSubject: 99213 with 25\r\n"
    b"Message-ID: <nofrom1@clinic.example>\r\n\r\nCan I bill 99213-25 with 11102?\r\n"
)
TRUNCATED = (
    b"From: coder@clinic.example\r\nSubject: op note\r\nMessage-ID: <cut1@clinic.example>\r\n"
    b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="XX"\r\n\r\n'
    b"--XX\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBE"
)
UNPARSEABLE = {
    "empty": (EMPTY, "empty message"),
    "truncated": (TRUNCATED, "truncated or malformed multipart"),
}


def question(name: str) -> bytes:
    return (QUESTIONS / name).read_bytes()


def stdlib(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def text_of(msg: EmailMessage, kind: str = "plain") -> str:
    body = msg.get_body((kind,))
    assert body is not None
    return body.get_content().replace("\r\n", "\n")


deliver = file_messages
outbox = outbox_messages


@dataclass
class CaseView:
    reference: str
    status: str
    requester_address: str | None
    requester_name: str | None
    phi_flagged: bool
    error: str | None
    drafts: list[tuple[int, str, str]]
    events: list[tuple[str, dict[str, Any]]]
    inbound: list[tuple[int, str | None]]
    outbound: list[str]

    @property
    def timeline(self) -> list[str]:
        return [details["to"] if kind == "status" else kind for kind, details in self.events]


def cases(services: Services) -> list[CaseView]:
    with services.db.session() as session:
        return [
            CaseView(
                reference=case.reference or "",
                status=case.status,
                requester_address=case.requester_address,
                requester_name=case.requester_name,
                phi_flagged=case.phi_flagged,
                error=case.error,
                drafts=[(d.version, d.body_text, d.body_html) for d in case.drafts],
                events=[(e.kind, dict(e.details)) for e in case.events],
                inbound=[(m.id, m.message_id) for m in case.messages],
                outbound=[o.kind for o in case.outbound],
            )
            for case in session.scalars(select(Case).order_by(Case.id))
        ]


def inbound(services: Services, inbound_id: int) -> InboundMessage:
    with services.db.session() as session:
        return session.get_one(InboundMessage, inbound_id, options=[undefer(InboundMessage.raw)])


def reference_of(services: Services, inbound_id: int) -> str | None:
    with services.db.session() as session:
        row = session.get_one(InboundMessage, inbound_id)
        return row.case.reference if row.case else None


# --- the twelve corpus questions ---------------------------------------------------------


def test_corpus_questions_make_twelve_cases_awaiting_review(services: Services) -> None:
    deliver(services, *(path.read_bytes() for path in question_files()))

    found = cases(services)
    assert [case.reference for case in found] == [f"CC-{n:06d}" for n in range(1, 13)]
    assert {case.status for case in found} == {"awaiting_review"}


def test_each_corpus_question_has_one_draft(services: Services) -> None:
    deliver(services, *(path.read_bytes() for path in question_files()))

    assert [[version for version, _, _ in case.drafts] for case in cases(services)] == [[1]] * 12


def test_draft_greets_requester_by_name_or_as_colleague(services: Services) -> None:
    paths = question_files()
    deliver(services, *(path.read_bytes() for path in paths))

    for path, case in zip(paths, cases(services), strict=True):
        name = stdlib(path.read_bytes())["From"].addresses[0].display_name or "colleague"
        [(_, text, html)] = case.drafts
        assert text.startswith(f"Dear {name},\n"), path.name
        assert f"<p>Dear {name},</p>" in html, path.name


def test_draft_greets_named_requesters(services: Services) -> None:
    deliver(services, question("01.eml"), question("02.eml"), question("06.eml"))

    greetings = [case.drafts[0][1].splitlines()[0] for case in cases(services)]
    assert greetings == ["Dear Amy Park,", "Dear colleague,", "Dear Luis Romero,"]


def test_draft_quotes_the_question(services: Services) -> None:
    paths = question_files()
    deliver(services, *(path.read_bytes() for path in paths))

    for path, case in zip(paths, cases(services), strict=True):
        draft_lines = case.drafts[0][1].splitlines()
        for line in parse_message(path.read_bytes()).new_text.splitlines():
            assert f"> {line}".rstrip() in draft_lines, (path.name, line)


def test_each_corpus_question_gets_one_acknowledgment(services: Services) -> None:
    paths = question_files()
    deliver(services, *(path.read_bytes() for path in paths))

    answered = sorted(ack["In-Reply-To"] for ack in outbox(services))
    assert answered == sorted(stdlib(path.read_bytes())["Message-ID"] for path in paths)


def test_acknowledgment_is_an_auto_reply_in_the_question_thread(services: Services) -> None:
    paths = question_files()
    ids = deliver(services, *(path.read_bytes() for path in paths))
    acks = {ack["In-Reply-To"]: ack for ack in outbox(services)}

    for path, inbound_id in zip(paths, ids, strict=True):
        asked = stdlib(path.read_bytes())
        ack = acks[asked["Message-ID"]]
        reference = reference_of(services, inbound_id)
        assert ack["Subject"] == f"Re: {asked['Subject']} [{reference}]", path.name
        assert ack["Auto-Submitted"] == "auto-replied", path.name
        assert ack["To"] == asked["From"].addresses[0].addr_spec, path.name
        assert asked["Message-ID"] in ack["References"].split(), path.name


def test_acknowledgment_names_the_case_reference(services: Services) -> None:
    deliver(services, question("01.eml"))

    [ack] = outbox(services)
    assert "Dear Amy Park," in text_of(ack)
    assert "filed it as case CC-000001" in text_of(ack)


def test_case_timeline_records_every_step_in_order(services: Services) -> None:
    deliver(services, question("01.eml"))

    [case] = cases(services)
    assert case.timeline == [
        "received",
        "analyzing",
        "draft_created",
        "awaiting_review",
        "ack_queued",
        "ack_sent",
    ]


def test_no_acknowledgment_when_switched_off(make_services: Callable[..., Services]) -> None:
    services = make_services(send_acknowledgments=False)

    deliver(services, question("01.eml"))

    [case] = cases(services)
    assert case.status == "awaiting_review"
    assert case.outbound == []
    assert outbox(services) == []


# --- follow-ups ----------------------------------------------------------------------------


def test_follow_up_joins_the_case_of_its_question(services: Services) -> None:
    ids = deliver(services, question("01.eml"), question("02.eml"), special("follow_up.eml"))

    assert len(cases(services)) == 2
    assert reference_of(services, ids[2]) == reference_of(services, ids[0]) == "CC-000001"
    assert inbound(services, ids[2]).route == "follow_up"


def test_follow_up_gets_no_acknowledgment(services: Services) -> None:
    deliver(services, question("01.eml"), special("follow_up.eml"))

    assert [ack["In-Reply-To"] for ack in outbox(services)] == ["<s01.20261005@mail.example>"]


def test_follow_up_is_on_the_case_timeline(services: Services) -> None:
    ids = deliver(services, question("01.eml"), special("follow_up.eml"))

    [case] = cases(services)
    [(_, details)] = [event for event in case.events if event[0] == "follow_up_received"]
    assert details["inbound_id"] == ids[1]
    assert details["message_id"] == "<s103.20261005@mail.example>"


def test_follow_up_adds_a_draft_version_quoting_it(services: Services) -> None:
    deliver(services, question("01.eml"), special("follow_up.eml"))

    [case] = cases(services)
    assert [version for version, _, _ in case.drafts] == [1, 2]
    assert (
        "> Thanks! And what if the chondroplasty was in the same compartment?"
        in (case.drafts[1][1])
    )


def test_follow_up_route_of_corpus_joins_the_named_message(services: Services) -> None:
    [(name, spec)] = [(n, s) for n, s in EXPECTED.items() if s["route"] == "follow_up"]
    [parent] = [p for p in question_files() if stdlib(p.read_bytes())["Message-ID"] == spec["of"]]

    ids = deliver(services, parent.read_bytes(), (SPECIAL / name).read_bytes())

    assert reference_of(services, ids[1]) == reference_of(services, ids[0])


def test_reply_to_our_acknowledgment_joins_the_case(services: Services) -> None:
    deliver(services, question("02.eml"))
    [ack] = outbox(services)
    reply = (
        "From: billing@bluelakefp.example\r\nSubject: {subject}\r\n"
        "Message-ID: <r2@bluelakefp.example>\r\nIn-Reply-To: {mid}\r\nReferences: {refs}\r\n"
        "\r\nAlso, does the biopsy need its own diagnosis?\r\n"
    ).format(subject="Re: " + ack["Subject"], mid=ack["Message-ID"], refs=ack["References"])

    [reply_id] = deliver(services, reply.encode())

    assert reference_of(services, reply_id) == "CC-000001"
    assert len(cases(services)) == 1


def test_reference_in_subject_from_the_requester_joins_the_case(services: Services) -> None:
    deliver(services, question("02.eml"))
    again = (
        b"From: billing@bluelakefp.example\r\nSubject: one more thing [CC-000001]\r\n"
        b"Message-ID: <r3@bluelakefp.example>\r\n\r\nAnd with 11103?\r\n"
    )

    [again_id] = deliver(services, again)

    assert reference_of(services, again_id) == "CC-000001"
    assert inbound(services, again_id).route == "follow_up"


def test_reference_in_subject_from_a_stranger_opens_a_new_case(services: Services) -> None:
    deliver(services, question("02.eml"))
    stranger = (
        b"From: someone@elsewhere.example\r\nSubject: about [CC-000001]\r\n"
        b"Message-ID: <x1@elsewhere.example>\r\n\r\nWhat did you tell them about 11102?\r\n"
    )

    [stranger_id] = deliver(services, stranger)

    assert reference_of(services, stranger_id) == "CC-000002"


def test_follow_up_to_an_answered_case_reopens_it_for_review(services: Services) -> None:
    deliver(services, question("01.eml"))
    save_draft(services, "CC-000001", "29877 is bundled; XS applies.", "expert@x.example")
    approve_current(services, "CC-000001", "expert@x.example")
    assert cases(services)[0].status == "sent"

    deliver(services, special("follow_up.eml"))

    [case] = cases(services)
    assert case.status == "awaiting_review"
    assert case.timeline[-2:] == ["draft_created", "awaiting_review"]


def test_follow_up_processed_before_its_parent_is_deferred(services: Services) -> None:
    _, follow_id = store_only(services, question("01.eml"), special("follow_up.eml"))

    assert process_message(services, follow_id) == Outcome.DEFERRED

    row = inbound(services, follow_id)
    assert (row.processed_at, row.route, row.case_id) == (None, None, None)
    assert cases(services) == []
    assert outbox(services) == []


def test_deferred_follow_up_joins_parent_case_once_parent_is_processed(
    services: Services,
) -> None:
    parent_id, follow_id = store_only(services, question("01.eml"), special("follow_up.eml"))
    process_message(services, follow_id)

    assert process_message(services, parent_id) == Outcome.NEW_CASE
    assert process_message(services, follow_id) == Outcome.FOLLOW_UP

    [case] = cases(services)
    assert case.inbound == [
        (parent_id, "<s01.20261005@mail.example>"),
        (follow_id, "<s103.20261005@mail.example>"),
    ]
    assert case.outbound == ["ack"]


def test_reply_delivered_before_its_parent_in_one_batch_joins_it_without_the_sweep(
    services: Services,
) -> None:
    ids = deliver(services, special("follow_up.eml"), question("01.eml"))

    [case] = cases(services)
    assert sorted(inbound_id for inbound_id, _ in case.inbound) == sorted(ids)
    assert inbound(services, ids[0]).route == "follow_up"
    assert case.outbound == ["ack"]


def test_patient_named_in_the_subject_is_not_repeated_in_our_subject(
    services: Services,
) -> None:
    deliver(
        services,
        b"From: Front Office <fo@maplegrove.example>\r\n"
        b"Subject: denial for Patient: Robert Miller DOB 07/22/1961\r\n"
        b"Message-ID: <p1@maplegrove.example>\r\n\r\nWhy was 93000 denied?\r\n",
    )

    [ack] = outbox(services)
    assert "Robert Miller" not in ack["Subject"] and "07/22/1961" not in ack["Subject"]
    assert ack["Subject"].endswith("[CC-000001]")
    assert "Robert Miller" not in ack.get_body(("plain",)).get_content()


def test_a_reply_waits_for_its_stored_parent_however_late_it_is_processed(
    services: Services,
) -> None:
    """The worker was down or the queue flushed: an hour later the thread must still be whole."""
    parent_id, follow_id = store_only(services, question("01.eml"), special("follow_up.eml"))
    with services.db.session() as session:
        session.execute(update(InboundMessage).values(received_at=utcnow() - timedelta(hours=1)))

    assert process_message(services, follow_id) == Outcome.DEFERRED
    assert process_message(services, parent_id) == Outcome.NEW_CASE
    assert process_message(services, follow_id) == Outcome.FOLLOW_UP
    assert len(cases(services)) == 1


def test_a_parent_processed_after_its_reply_joins_the_replys_case(services: Services) -> None:
    [follow_id] = deliver(services, special("follow_up.eml"))  # the parent is not here yet
    [parent_id] = deliver(services, question("01.eml"))

    [case] = cases(services)
    assert sorted(i for i, _ in case.inbound) == sorted([follow_id, parent_id])
    assert inbound(services, parent_id).route == "earlier_message"
    [(_, joined)] = [e for e in case.events if e[0] == "earlier_message_joined"]
    assert joined["message_id"] == "<s01.20261005@mail.example>"
    # No acknowledgment at all: the reply names our case reference (it answers mail of
    # ours), and the earlier message joined an existing case.
    assert case.outbound == []


def test_a_message_without_a_readable_sender_is_a_case_nobody_is_written_to(
    services: Services,
) -> None:
    deliver(services, NO_FROM)

    [case] = cases(services)
    assert case.status == "awaiting_review"
    assert case.requester_address is None
    assert ("ack_not_sent", {"reason": "no valid address to reply to"}) in case.events
    assert outbox(services) == []


# --- special mail --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(n for n, s in EXPECTED.items() if s["route"] == "ignore"))
def test_machine_mail_is_ignored_with_its_reason(services: Services, name: str) -> None:
    [inbound_id] = deliver(services, special(name))

    row = inbound(services, inbound_id)
    assert (row.route, row.route_reason) == ("ignored", EXPECTED[name]["reason"])
    assert row.processed_at is not None
    assert cases(services) == []
    assert outbox(services) == []


@pytest.mark.parametrize("name", sorted(n for n, s in EXPECTED.items() if s["route"] == "new_case"))
def test_special_question_opens_a_case_with_an_acknowledgment(
    services: Services, name: str
) -> None:
    [inbound_id] = deliver(services, special(name))

    assert inbound(services, inbound_id).route == "new_case"
    [case] = cases(services)
    assert case.status == "awaiting_review"
    assert [ack["In-Reply-To"] for ack in outbox(services)] == [stdlib(special(name))["Message-ID"]]


def test_auto_reply_to_a_case_is_logged_on_that_case(services: Services) -> None:
    ids = deliver(services, question("01.eml"), special("auto_reply.eml"))

    [case] = cases(services)
    [(_, details)] = [event for event in case.events if event[0] == "message_ignored"]
    assert (details["inbound_id"], details["reason"]) == (ids[1], "auto-reply")
    assert case.status == "awaiting_review"
    assert len(outbox(services)) == 1


def test_auto_reply_to_our_acknowledgment_is_logged_on_that_case(services: Services) -> None:
    deliver(services, question("02.eml"))
    [ack] = outbox(services)
    auto_reply = (
        "From: Out of Office <billing@bluelakefp.example>\r\n"
        "Subject: Automatic reply: {subject}\r\nMessage-ID: <ooo1@bluelakefp.example>\r\n"
        "Auto-Submitted: auto-replied\r\nIn-Reply-To: {mid}\r\n\r\nI am away until Monday.\r\n"
    ).format(subject=ack["Subject"], mid=ack["Message-ID"])

    deliver(services, auto_reply.encode())

    [case] = cases(services)
    assert [kind for kind, _ in case.events].count("message_ignored") == 1
    assert len(outbox(services)) == 1


def test_acknowledgment_goes_to_the_reply_to_address(services: Services) -> None:
    raw = question("01.eml").replace(
        b"MIME-Version: 1.0\n",
        b"MIME-Version: 1.0\nReply-To: Billing <billing@cedarortho.example>\n",
    )

    deliver(services, raw)

    [ack] = outbox(services)
    assert ack["To"] == "billing@cedarortho.example"
    assert cases(services)[0].requester_address == "billing@cedarortho.example"


def test_question_without_message_id_gets_an_acknowledgment(services: Services) -> None:
    raw = question("02.eml").replace(b"Message-ID: <s02.20261005@mail.example>\n", b"")

    deliver(services, raw)

    [case] = cases(services)
    [ack] = outbox(services)
    assert case.status == "awaiting_review"
    assert ack["Subject"] == "Re: 99213-25 with 11102 [CC-000001]"
    assert "In-Reply-To" not in ack


def test_html_only_question_draft_quotes_text_and_lists_attachment(services: Services) -> None:
    deliver(services, special("html_only_with_attachment.eml"))

    [case] = cases(services)
    text = case.drafts[0][1]
    assert "> Lap chole with cholangiogram: 47563 or 47562? Op note attached." in text
    assert "Attachments received: op note 2026-10-01.pdf" in text
    assert "alert" not in text
    [(_, received)] = [event for event in case.events if event[0] == "received"]
    assert received["text_from_html"] is True
    assert received["attachments"] == ["op note 2026-10-01.pdf"]


def test_bad_charset_question_draft_quotes_decoded_text(services: Services) -> None:
    deliver(services, special("bad_charset.eml"))

    [case] = cases(services)
    assert "> Paciente nueva, señora de 70 años, 99204 con diagnóstico I10." in case.drafts[0][1]


def test_raw_latin1_sender_name_becomes_a_normal_case(services: Services) -> None:
    raw = (
        b"From: Jos\xe9 N\xfa\xf1ez <jose@elpaso-care.example>\r\nSubject: 99204\r\n"
        b"Message-ID: <latin1@elpaso-care.example>\r\n\r\nIs 99204 right for a new patient?\r\n"
    )

    deliver(services, raw)

    [case] = cases(services)
    assert case.status == "awaiting_review"
    assert case.drafts[0][1].startswith("Dear José Núñez,\n")


def test_phi_question_flags_the_case(services: Services) -> None:
    deliver(services, special("phi.eml"))

    [case] = cases(services)
    assert EXPECTED["phi.eml"]["phi"] is True
    assert case.phi_flagged is True
    assert "phi_flagged" in case.timeline


def test_a_patient_named_only_in_an_attachments_file_name_flags_the_case(
    services: Services,
) -> None:
    message = EmailMessage()
    message["From"] = "Dana <dana@clinic.example>"
    message["Subject"] = "Op note for 27447"
    message["Message-ID"] = "<phi-file-name@clinic.example>"
    message.set_content("Is 27447 right for this? The op note is attached.")
    message.add_attachment(
        b"%PDF-1.4",
        maintype="application",
        subtype="pdf",
        filename="Jenkins_Harold_DOB_1962-03-14.pdf",
    )

    deliver(services, bytes(message))

    [case] = cases(services)
    assert case.phi_flagged is True
    [(_, draft_text, _)] = case.drafts
    assert "Jenkins" not in draft_text and "1962" not in draft_text


def test_phi_is_neither_in_the_draft_nor_in_the_acknowledgment(services: Services) -> None:
    deliver(services, special("phi.eml"))

    [case] = cases(services)
    [ack] = outbox(services)
    [(_, draft_text, draft_html)] = case.drafts
    shown = [draft_text, draft_html, ack["Subject"], text_of(ack), text_of(ack, "html")]
    for value in PHI_VALUES:
        assert not any(value in part for part in shown), value
    assert "We billed 99204 and 93000" in draft_text


# --- messages that cannot be read ----------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(UNPARSEABLE))
def test_unparseable_message_becomes_failed_case_keeping_its_bytes(
    services: Services, kind: str
) -> None:
    raw, error = UNPARSEABLE[kind]

    [inbound_id] = deliver(services, raw)

    [case] = cases(services)
    assert case.status == "failed"
    assert case.error is not None and error in case.error
    row = inbound(services, inbound_id)
    assert (row.raw, row.route) == (raw, "failed")
    assert row.error is not None and error in row.error
    assert outbox(services) == []


def test_messages_after_unparseable_ones_become_normal_cases(services: Services) -> None:
    ids = deliver(
        services,
        EMPTY,
        question("01.eml"),
        TRUNCATED,
        question("02.eml"),
    )

    status = {case.reference: case.status for case in cases(services)}
    assert [status[reference_of(services, i)] for i in ids] == ["failed", "awaiting_review"] * 2
    assert len(outbox(services)) == 2


# --- idempotency and retry -----------------------------------------------------------------


def test_processing_the_same_message_twice_changes_nothing(services: Services) -> None:
    [inbound_id] = deliver(services, question("01.eml"))
    before = cases(services)

    assert process_message(services, inbound_id) == Outcome.ALREADY_DONE

    assert cases(services) == before
    assert len(before[0].drafts) == 1
    assert len(outbox(services)) == 1


def test_retry_processes_a_failed_message_again(
    services: Services, make_services: Callable[..., Services], tmp_path: Path
) -> None:
    broken = make_services(templates_dir=tmp_path / "no-templates")
    deliver(broken, question("01.eml"))
    [failed] = cases(services)
    assert failed.status == "failed"
    assert failed.error is not None and "TemplateNotFound" in failed.error

    assert retry(services, failed.reference, "expert@caseconsultant.example") == "process_message"

    [case] = cases(services)
    assert (case.reference, case.status, case.error) == (failed.reference, "awaiting_review", None)
    assert len(case.drafts) == 1
    assert [ack["In-Reply-To"] for ack in outbox(services)] == ["<s01.20261005@mail.example>"]


def test_retry_of_an_unreadable_message_fails_again_with_its_error(services: Services) -> None:
    deliver(services, TRUNCATED)
    [failed] = cases(services)

    retry(services, failed.reference, "expert@caseconsultant.example")

    [case] = cases(services)
    assert case.status == "failed"
    assert case.error is not None and "truncated or malformed multipart" in case.error
    assert case.timeline.count("failed") == 2


def test_outbound_rows_match_the_acknowledgments_sent(services: Services) -> None:
    deliver(services, question("01.eml"), question("02.eml"))

    with services.db.session() as session:
        rows = list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))
    assert [(row.kind, row.state) for row in rows] == [("ack", "sent"), ("ack", "sent")]
    assert [row.message_id for row in rows] == [ack["Message-ID"] for ack in outbox(services)]


def test_patient_details_get_a_request_to_resend_even_without_acknowledgments(
    make_services: Callable[..., Services],
) -> None:
    services = make_services(send_acknowledgments=False)

    deliver(services, special("phi.eml"), question("01.eml"))

    [request] = outbox(services)
    assert request["To"] == "frontoffice@maplegrove.example"
    assert "Please send your question again without them" in text_of(request)
    assert "Robert Miller" not in text_of(request)


def test_resend_request_can_be_switched_off(make_services: Callable[..., Services]) -> None:
    services = make_services(phi_resend_request=False)

    deliver(services, special("phi.eml"))

    [ack] = outbox(services)
    assert "We will not repeat them" in text_of(ack)
    assert "send your question again" not in text_of(ack)
    assert cases(services)[0].status == "awaiting_review"


def test_no_message_at_all_when_both_are_off(make_services: Callable[..., Services]) -> None:
    services = make_services(send_acknowledgments=False, phi_resend_request=False)

    deliver(services, special("phi.eml"))

    assert outbox(services) == []

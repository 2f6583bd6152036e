"""The copy of every message we send, filed in the IMAP Sent folder of a real Dovecot."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from config import Settings
from consultant.cases import review
from consultant.mail.compose import Outgoing, compose
from consultant.mail.sent_copy import ImapSentFolder, make_sent_copy
from consultant.mail.sources import make_source
from consultant.models import (
    Case,
    CaseEvent,
    CaseStatus,
    OutboundKind,
    OutboundMessage,
    OutboundState,
)
from consultant.services import Services
from tests.conftest import CONSULT_ADDRESS
from tests.support.cases import approve_current, save_draft
from tests.support.corpus import question_files
from tests.support.dovecot import Dovecot

SEEN = b"\\Seen"
WRONG_PASSWORD = "not-the-password-7Qx9"
EDITED_REPLY = (
    "Dear Amy,\n\n"
    "29877 is bundled into 29880 by an NCCI edit with modifier indicator 1: for a chondroplasty\n"
    "in a separate compartment, append modifier 59 or XS and document the compartment.\n\n"
    "Kind regards,\nCaseConsultant\n"
)


def imap_values(server: Dovecot, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "imap_host": server.host,
        "imap_port": server.port,
        "imap_user": server.user,
        "imap_password": server.password,
        "imap_tls": "none",
    }
    values.update(overrides)
    return values


def outgoing(number: int, subject: str, text: str) -> bytes:
    return compose(
        Outgoing(
            sender_name="CaseConsultant",
            sender_address=CONSULT_ADDRESS,
            recipients=("apark@cedarortho.example",),
            subject=subject,
            message_id=f"<sent-copy-{number}@caseconsultant.example>",
            date=datetime(2026, 10, 5, 14, 0, tzinfo=UTC),
            text=text,
            html=f"<p>{text}</p>",
        )
    )


def take_in_first_question(services: Services, server: Dovecot) -> str:
    """01.eml through the IMAP poller; its case's reference once it awaits review."""
    server.append(question_files()[0].read_bytes())
    assert make_source(services).poll_once() == 1
    with services.db.session() as session:
        case = session.scalars(select(Case)).one()
        assert case.status == CaseStatus.AWAITING_REVIEW
        assert case.reference
        return case.reference


def reply_of(services: Services) -> OutboundMessage:
    with services.db.session() as session:
        return session.scalars(
            select(OutboundMessage).where(OutboundMessage.kind == OutboundKind.REPLY)
        ).one()


def events(services: Services, kind: str) -> list[CaseEvent]:
    with services.db.session() as session:
        return list(session.scalars(select(CaseEvent).where(CaseEvent.kind == kind)))


def approve_edited(services: Services, reference: str) -> None:
    # Approval refuses a draft that still has "[expert: ...]" notes: the reviewer edits first.
    with pytest.raises(review.ReviewError, match=r"\[expert: \.\.\.\]"):
        approve_current(services, reference, "reviewer@caseconsultant.example")
    save_draft(services, reference, EDITED_REPLY, "reviewer@caseconsultant.example")
    approve_current(services, reference, "reviewer@caseconsultant.example")


def test_sent_copy_is_the_exact_bytes_flagged_seen_in_a_folder_made_on_demand(
    dovecot: Dovecot, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(**imap_values(dovecot, imap_sent_folder="Sent"))
    with dovecot.client() as client:
        assert not client.folder_exists("Sent")
    first = outgoing(1, "Re: NCCI: 29880 and 29877 [CC-000001]", "Bundled; modifier 59 or XS.")
    second = outgoing(2, "Re: Müller, 99214 [CC-000002]", "Grüße: 99214 is fine with 25 on E/M.")

    copy = make_sent_copy(settings)
    assert isinstance(copy, ImapSentFolder)
    copy.append(first)
    copy.append(second)  # the folder now exists: appended to, not made again

    assert dovecot.messages("Sent") == [first, second]
    assert [SEEN in flags for flags in dovecot.flags("Sent")] == [True, True]


def test_no_copy_without_a_sent_folder_or_without_imap(
    make_settings: Callable[..., Settings],
) -> None:
    imap = {"imap_host": "imap.example.com", "imap_user": "consult", "imap_password": "x"}
    assert make_sent_copy(make_settings(**imap)) is None
    assert make_sent_copy(make_settings(imap_sent_folder="Sent")) is None


def test_approved_reply_is_sent_and_filed_in_sent(
    dovecot: Dovecot, make_services: Callable[..., Services]
) -> None:
    services = make_services(
        **imap_values(dovecot, imap_sent_folder="Sent")
    )  # no SMTP: Maildir outbox
    reference = take_in_first_question(services, dovecot)

    approve_edited(services, reference)

    reply = reply_of(services)
    assert reply.state == OutboundState.SENT
    assert EDITED_REPLY.splitlines()[2] in reply.body_text
    with services.db.session() as session:
        case = session.scalars(select(Case)).one()
        assert case.status == CaseStatus.SENT
        filed = {e.details["outbound_id"] for e in case.events if e.kind == "sent_copy_filed"}
        outbound = {o.id: o.raw for o in case.outbound}
    # The acknowledgment and the reply, each byte for byte as sent, marked read.
    assert sorted(dovecot.messages("Sent")) == sorted(outbound.values())
    assert reply.raw in dovecot.messages("Sent")
    assert all(SEEN in flags for flags in dovecot.flags("Sent"))
    assert filed == set(outbound)
    sent_files = [p.read_bytes() for p in (services.settings.maildir_outbox / "new").iterdir()]
    assert reply.raw in sent_files


def test_failed_sent_copy_is_noted_on_the_case_and_the_reply_stays_sent(
    dovecot: Dovecot, make_services: Callable[..., Services], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    intake = make_services(**imap_values(dovecot))
    reference = take_in_first_question(intake, dovecot)
    # The process that sends has a Sent folder configured, and a password the server refuses.
    sender = make_services(
        **imap_values(dovecot, imap_sent_folder="Sent", imap_password=WRONG_PASSWORD)
    )

    approve_edited(sender, reference)

    reply = reply_of(sender)
    assert reply.state == OutboundState.SENT
    with sender.db.session() as session:
        assert session.scalars(select(Case)).one().status == CaseStatus.SENT
    [failed] = events(sender, "sent_copy_failed")
    assert failed.details["outbound_id"] == reply.id
    where = f"{dovecot.user}@{dovecot.host}:{dovecot.port}"
    assert f"IMAP login as {where} refused" in failed.details["error"]
    assert events(sender, "sent_copy_filed") == []
    assert dovecot.messages("Sent") == []
    sent_files = [p.read_bytes() for p in (sender.settings.maildir_outbox / "new").iterdir()]
    assert reply.raw in sent_files
    warnings = [r for r in caplog.records if "Sent folder failed" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert warnings[0].exc_info is None
    assert WRONG_PASSWORD not in caplog.text
    assert WRONG_PASSWORD not in str(failed.details)

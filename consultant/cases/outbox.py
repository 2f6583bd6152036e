"""The outbox: every message we send is a committed row before it is sent, and is sent once.

``queue_outbound`` fixes the Message-ID and the exact bytes in the row.
``send_outbound`` claims the row (``queued`` → ``sending`` in one conditional
UPDATE, so a duplicate task finds nothing to do), hands the bytes to the
transport, and records the outcome: ``sent`` with the server's reply, back to
``queued`` with a later ``next_attempt_at`` after a temporary failure, or
``failed`` with the server's text after a permanent one. A crash after the
server accepted the message and before ``sent`` was committed leaves the row
in ``sending``; the sweep sends it again with the same Message-ID, so mail
clients show it once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from consultant.analysis.phi import redact
from consultant.cases import lifecycle
from consultant.cases.events import record
from consultant.mail.compose import Outgoing, compose
from consultant.mail.threads import make_message_id, references_chain, reply_subject
from consultant.mail.transport import PermanentSendError, TransientSendError
from consultant.models import (
    Case,
    CaseStatus,
    Draft,
    OutboundKind,
    OutboundMessage,
    OutboundState,
    utcnow,
)
from consultant.services import Services

log = logging.getLogger(__name__)
RETRY_CEILING_SECONDS = 600.0


class SendOutcome(StrEnum):
    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"
    NOTHING_TO_DO = "nothing_to_do"


@dataclass(frozen=True)
class SendResult:
    outcome: SendOutcome
    retry_in: float | None = None


def retry_delay(base: float, attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: base, 2 x base, 4 x base ... at most 10 minutes."""
    return min(RETRY_CEILING_SECONDS, base * 2 ** max(0, attempts - 1))


def _answered_message_id(case: Case) -> str | None:
    """The Message-ID of the latest message the requester sent on this case."""
    for message in reversed(case.messages):
        if message.message_id and message.route in ("new_case", "follow_up"):
            return message.message_id
    return None


def queue_outbound(
    services: Services,
    session: Session,
    case: Case,
    kind: OutboundKind,
    text: str,
    html: str | None,
    draft: Draft | None = None,
    actor: str = "system",
) -> OutboundMessage:
    """Add an outbox row for ``case`` in the caller's transaction, bytes and Message-ID fixed."""
    settings = services.settings
    assert case.reference and case.requester_address
    message_id = make_message_id(settings.message_id_domain)
    in_reply_to = _answered_message_id(case)
    references = references_chain(
        [*case.thread_message_ids, *([in_reply_to] if in_reply_to else [])]
    )
    # A subject that names a patient is not repeated; the reference keeps the thread.
    subject = reply_subject(redact(case.subject), case.reference, settings.case_prefix)
    recipients = (case.requester_address,)
    raw = compose(
        Outgoing(
            sender_name=settings.display_name,
            sender_address=settings.consult_address,
            recipients=recipients,
            subject=subject,
            message_id=message_id,
            date=utcnow(),
            text=text,
            html=html,
            in_reply_to=in_reply_to,
            references=tuple(references),
            auto_reply=kind == OutboundKind.ACK,
        )
    )
    row = OutboundMessage(
        case_id=case.id,
        draft_id=draft.id if draft else None,
        kind=kind,
        message_id=message_id,
        sender=settings.consult_address,
        recipients=list(recipients),
        subject=subject,
        in_reply_to=in_reply_to,
        references=" ".join(references) or None,
        body_text=text,
        body_html=html,
        raw=raw,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    case.thread_message_ids = references_chain([*case.thread_message_ids, message_id])
    record(
        session,
        case,
        f"{kind}_queued",
        actor,
        outbound_id=row.id,
        message_id=message_id,
        to=list(recipients),
        subject=subject,
    )
    return row


def _claim(services: Services, outbound_id: int) -> OutboundMessage | None:
    """Move the row from queued to sending, if it is queued and due; None otherwise."""
    now = utcnow()
    with services.db.session() as session:
        claimed = session.execute(
            update(OutboundMessage)
            .where(
                OutboundMessage.id == outbound_id,
                OutboundMessage.state == OutboundState.QUEUED,
                or_(
                    OutboundMessage.next_attempt_at.is_(None),
                    OutboundMessage.next_attempt_at <= now,
                ),
            )
            .values(
                state=OutboundState.SENDING,
                attempts=OutboundMessage.attempts + 1,
                claimed_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            return None
        row = session.get_one(OutboundMessage, outbound_id)
        case = row.case
        if row.kind == OutboundKind.REPLY and case.status == CaseStatus.APPROVED:
            lifecycle.move(session, case, CaseStatus.SENDING, outbound_id=row.id)
        return row


def send_outbound(services: Services, outbound_id: int) -> SendResult:
    """Send outbox row ``outbound_id`` once; safe to call any number of times."""
    row = _claim(services, outbound_id)
    if row is None:
        return SendResult(SendOutcome.NOTHING_TO_DO)
    try:
        reply = services.transport.send(row.raw, row.sender, list(row.recipients))
    except TransientSendError as error:
        return _deferred(services, outbound_id, str(error))
    except PermanentSendError as error:
        _failed(services, outbound_id, str(error))
        return SendResult(SendOutcome.FAILED)
    _sent(services, outbound_id, reply)
    return SendResult(SendOutcome.SENT)


def _sent(services: Services, outbound_id: int, reply: str) -> None:
    with services.db.session() as session:
        row = session.get_one(OutboundMessage, outbound_id)
        row.state, row.smtp_reply, row.sent_at, row.last_error = (
            OutboundState.SENT,
            reply,
            utcnow(),
            None,
        )
        case = row.case
        record(
            session,
            case,
            f"{row.kind}_sent",
            outbound_id=row.id,
            message_id=row.message_id,
            attempts=row.attempts,
            smtp_reply=reply,
        )
        if row.kind == OutboundKind.REPLY and case.status == CaseStatus.SENDING:
            newer_draft = bool(case.drafts) and case.drafts[-1].id != row.draft_id
            to = CaseStatus.AWAITING_REVIEW if newer_draft else CaseStatus.SENT
            lifecycle.move(session, case, to, outbound_id=row.id)
    log.info("outbound #%s sent: %s", outbound_id, reply)
    if services.sent_copy is not None:
        _file_sent_copy(services, outbound_id, row.raw)


def _file_sent_copy(services: Services, outbound_id: int, raw: bytes) -> None:
    assert services.sent_copy is not None
    try:
        services.sent_copy.append(raw)
    except Exception as error:  # the reply is out; a missing copy is worth a note, not a retry
        log.warning("copy of outbound #%s to the Sent folder failed: %s", outbound_id, error)
        with services.db.session() as session:
            row = session.get_one(OutboundMessage, outbound_id)
            record(session, row.case, "sent_copy_failed", outbound_id=row.id, error=str(error))
        return
    with services.db.session() as session:
        row = session.get_one(OutboundMessage, outbound_id)
        record(session, row.case, "sent_copy_filed", outbound_id=row.id)


def _deferred(services: Services, outbound_id: int, error: str) -> SendResult:
    with services.db.session() as session:
        row = session.get_one(OutboundMessage, outbound_id)
        if row.attempts >= services.settings.send_max_attempts:
            _mark_failed(session, row, f"gave up after {row.attempts} attempts: {error}")
            return SendResult(SendOutcome.FAILED)
        delay = retry_delay(services.settings.send_retry_seconds, row.attempts)
        row.state, row.last_error = OutboundState.QUEUED, error
        row.next_attempt_at = utcnow() + timedelta(seconds=delay)
        record(
            session,
            row.case,
            "send_deferred",
            outbound_id=row.id,
            attempts=row.attempts,
            error=error,
            retry_in_seconds=delay,
        )
    log.warning("outbound #%s deferred (%s); next attempt in %.0f s", outbound_id, error, delay)
    return SendResult(SendOutcome.DEFERRED, retry_in=delay)


def _failed(services: Services, outbound_id: int, error: str) -> None:
    with services.db.session() as session:
        _mark_failed(session, session.get_one(OutboundMessage, outbound_id), error)


def _mark_failed(session: Session, row: OutboundMessage, error: str) -> None:
    row.state, row.last_error = OutboundState.FAILED, error
    case = row.case
    record(session, case, f"{row.kind}_failed", outbound_id=row.id, error=error)
    if row.kind == OutboundKind.REPLY and lifecycle.can_move(case.status, CaseStatus.FAILED):
        case.error = f"reply not sent: {error}"
        lifecycle.move(session, case, CaseStatus.FAILED, outbound_id=row.id, error=error)
    log.error("outbound #%s failed: %s", row.id, error)

"""``process_message``: one stored inbound message becomes a case, a follow-up, or is set aside.

The steps, in order: claim the message (so a second delivery of the task does
nothing), parse, set machine mail aside (ignored, with its reason), find the
case a reply belongs to, otherwise open a new case; then analyse, draft, wait
for review, and queue the acknowledgment. All of it is one transaction: it
happens entirely or not at all, and the acknowledgment is handed to the
dispatcher only after the commit.

A message that cannot be parsed, or that breaks a step, becomes a ``failed``
case holding the error; its raw bytes stay on the inbound row and
``consultant cases retry`` runs it again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from consultant.analysis.phi import PhiFindings, find_phi, redact
from consultant.cases import lifecycle
from consultant.cases.answering import draft_answer
from consultant.cases.events import record
from consultant.cases.outbox import queue_outbound
from consultant.cases.references import format_reference
from consultant.mail.automated import machine_reason
from consultant.mail.parse import MessageParseError, ParsedMessage, parse_message
from consultant.mail.threads import reference_in_subject, references_chain
from consultant.models import (
    Case,
    CaseStatus,
    Draft,
    InboundMessage,
    OutboundKind,
    OutboundMessage,
    Route,
    utcnow,
)
from consultant.services import Services

log = logging.getLogger(__name__)

# How long a reply waits for the message it answers when both arrive together
# and the parent is still being processed; after that it is handled on its own.
PARENT_WAIT = timedelta(seconds=60)
REOPEN_ON_FOLLOW_UP = {CaseStatus.SENT, CaseStatus.REJECTED, CaseStatus.FAILED}


class Outcome(StrEnum):
    NEW_CASE = "new_case"
    FOLLOW_UP = "follow_up"
    IGNORED = "ignored"
    FAILED = "failed"
    ALREADY_DONE = "already_done"
    DEFERRED = "deferred"


@dataclass
class _Result:
    outcome: Outcome
    to_send: list[int] = field(default_factory=list)


class _Deferred(Exception):
    """Rolls the claim back: the message this one answers is not processed yet."""


def process_message(services: Services, inbound_id: int) -> Outcome:
    """Process inbound message ``inbound_id``; running it twice changes nothing."""
    try:
        with services.db.session() as session:
            result = _process(services, session, inbound_id)
    except _Deferred:
        return Outcome.DEFERRED
    except SQLAlchemyError:
        raise  # the database is unwell: let the caller retry later
    except Exception as error:
        log.exception("processing inbound message #%s failed", inbound_id)
        _quarantine(services, inbound_id, f"{type(error).__name__}: {error}")
        return Outcome.FAILED
    for outbound_id in result.to_send:
        services.dispatch("send_reply", outbound_id)
    return result.outcome


def _process(services: Services, session: Session, inbound_id: int) -> _Result:
    claimed = session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == inbound_id, InboundMessage.processed_at.is_(None))
        .values(processed_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return _Result(Outcome.ALREADY_DONE)
    inbound = session.get_one(InboundMessage, inbound_id)
    try:
        parsed = parse_message(inbound.raw)
    except MessageParseError as error:
        _fail(services, session, inbound, str(error))
        return _Result(Outcome.FAILED)
    inbound.from_address = parsed.from_address
    inbound.subject = parsed.subject

    retried_case = inbound.case  # set only when a failed case is processed again
    thread_case = _case_of_thread(services, session, parsed)
    reason = _machine_reason(services, session, parsed)
    if reason:
        _close_retried(session, retried_case, f"ignored: {reason}")
        _ignore(session, inbound, parsed, reason, thread_case)
        return _Result(Outcome.IGNORED)
    if thread_case is None and _parent_pending(session, inbound, parsed):
        raise _Deferred
    if thread_case is not None and thread_case is not retried_case:
        _close_retried(session, retried_case, f"message belongs to {thread_case.reference}")
        return _follow_up(services, session, inbound, parsed, thread_case)
    return _new_case(services, session, inbound, parsed)


def _close_retried(session: Session, case: Case | None, reason: str) -> None:
    """A failed case processed again whose message turns out not to open a case."""
    if case is not None:
        lifecycle.move(session, case, CaseStatus.IGNORED, reason=reason)


def _machine_reason(services: Services, session: Session, parsed: ParsedMessage) -> str | None:
    """Machine mail, including a message that carries one of our own Message-IDs."""
    reason = machine_reason(parsed, {services.settings.consult_address.lower()})
    if reason is None and parsed.message_id:
        ours = session.scalar(
            select(OutboundMessage.id).where(OutboundMessage.message_id == parsed.message_id)
        )
        reason = "loop" if ours else None
    return reason


def _case_of_thread(services: Services, session: Session, parsed: ParsedMessage) -> Case | None:
    """The case this message answers: by In-Reply-To/References, else by the subject's reference."""
    ids = list(parsed.thread_ids)
    if ids:
        case_id = session.scalar(
            select(OutboundMessage.case_id).where(OutboundMessage.message_id.in_(ids)).limit(1)
        ) or session.scalar(
            select(InboundMessage.case_id)
            .where(InboundMessage.message_id.in_(ids), InboundMessage.case_id.is_not(None))
            .order_by(InboundMessage.id.desc())
            .limit(1)
        )
        if case_id:
            return session.get(Case, case_id)
    reference = reference_in_subject(parsed.subject, services.settings.case_prefix)
    if reference is None:
        return None
    case = session.scalar(select(Case).where(Case.reference == reference))
    # A reference in the subject is easy to type; only the requester may use it to join.
    if case is not None and parsed.from_address in _case_addresses(case):
        return case
    return None


def _case_addresses(case: Case) -> set[str]:
    """Who took part in the case: the requester and the senders of its questions.

    Senders of ignored mail (an auto-responder that quoted our subject) do not count.
    """
    senders = {
        m.from_address
        for m in case.messages
        if m.from_address and m.route in (Route.NEW_CASE, Route.FOLLOW_UP)
    }
    return senders | ({case.requester_address} if case.requester_address else set())


def _parent_pending(session: Session, inbound: InboundMessage, parsed: ParsedMessage) -> bool:
    """True while a message this one answers is stored but not processed, for a short while."""
    if not parsed.thread_ids or utcnow() - inbound.received_at > PARENT_WAIT:
        return False
    pending = session.scalar(
        select(InboundMessage.id)
        .where(
            InboundMessage.message_id.in_(list(parsed.thread_ids)),
            InboundMessage.processed_at.is_(None),
            InboundMessage.id != inbound.id,
        )
        .limit(1)
    )
    return pending is not None


def _ignore(
    session: Session,
    inbound: InboundMessage,
    parsed: ParsedMessage,
    reason: str,
    thread_case: Case | None,
) -> None:
    inbound.route, inbound.route_reason = Route.IGNORED, reason
    log.info("inbound #%s from %s ignored: %s", inbound.id, parsed.from_address, reason)
    if thread_case is not None:
        inbound.case = thread_case
        record(
            session,
            thread_case,
            "message_ignored",
            inbound_id=inbound.id,
            reason=reason,
            sender=parsed.from_address,
            subject=parsed.subject,
        )


def _open_case(services: Services, session: Session, inbound: InboundMessage) -> Case:
    """The inbound message's own case (when it is being retried) or a new one."""
    if inbound.case is not None:
        return inbound.case
    case = Case(status=CaseStatus.RECEIVED)
    session.add(case)
    session.flush()
    case.reference = format_reference(services.settings.case_prefix, case.id)
    inbound.case = case
    return case


def _new_case(
    services: Services, session: Session, inbound: InboundMessage, parsed: ParsedMessage
) -> _Result:
    case = _open_case(services, session, inbound)
    case.requester_address = parsed.reply_address
    case.requester_name = parsed.from_name or None
    case.subject = parsed.subject
    case.error = None
    case.thread_message_ids = references_chain(
        [*parsed.references, *([parsed.message_id] if parsed.message_id else [])]
    )
    inbound.route = Route.NEW_CASE
    record(
        session,
        case,
        "received",
        inbound_id=inbound.id,
        message_id=parsed.message_id,
        sender=parsed.from_address,
        subject=parsed.subject,
        attachments=[a.filename for a in parsed.attachments],
        text_from_html=parsed.text_from_html,
        defects=list(parsed.defects),
    )
    lifecycle.move(session, case, CaseStatus.ANALYZING)
    phi = _flag_phi(session, case, parsed)
    _draft(services, session, case, inbound, parsed, phi)
    lifecycle.move(session, case, CaseStatus.AWAITING_REVIEW)
    to_send = []
    settings = services.settings
    resend = phi.found and settings.phi_resend_request
    if (settings.send_acknowledgments or resend) and not _is_ours(services, case.requester_address):
        ack = _acknowledge(services, session, case, inbound, phi, resend)
        to_send.append(ack.id)
    return _Result(Outcome.NEW_CASE, to_send)


def _follow_up(
    services: Services,
    session: Session,
    inbound: InboundMessage,
    parsed: ParsedMessage,
    case: Case,
) -> _Result:
    inbound.case, inbound.route = case, Route.FOLLOW_UP
    if parsed.message_id:
        case.thread_message_ids = references_chain([*case.thread_message_ids, parsed.message_id])
    record(
        session,
        case,
        "follow_up_received",
        inbound_id=inbound.id,
        message_id=parsed.message_id,
        sender=parsed.from_address,
        subject=parsed.subject,
        attachments=[a.filename for a in parsed.attachments],
    )
    phi = _flag_phi(session, case, parsed)
    _draft(services, session, case, inbound, parsed, phi)
    if case.status in REOPEN_ON_FOLLOW_UP:
        lifecycle.move(session, case, CaseStatus.AWAITING_REVIEW, reason="follow-up received")
    return _Result(Outcome.FOLLOW_UP)


def _flag_phi(session: Session, case: Case, parsed: ParsedMessage) -> PhiFindings:
    """Flag the case for PHI anywhere in the message, quoted parts included.

    The analysis looks at the new text only; a patient named in an earlier,
    quoted message is still PHI on this case.
    """
    phi = find_phi(f"{parsed.subject}\n{parsed.text}")
    if phi.found:
        case.phi_flagged = True
        record(session, case, "phi_flagged", kinds=phi.kinds)
    return phi


def _draft(
    services: Services,
    session: Session,
    case: Case,
    inbound: InboundMessage,
    parsed: ParsedMessage,
    phi: PhiFindings,
) -> Draft:
    answer = draft_answer(services, parsed, case.reference)
    body = answer.body
    version = len(case.drafts) + 1
    draft = Draft(
        case=case,
        version=version,
        body_text=body.text,
        body_html=body.html,
        template=body.template,
        facts=answer.record | {"phi_kinds": phi.kinds},
        author="system",
        inbound_message_id=inbound.id,
    )
    session.add(draft)
    record(session, case, "draft_created", version=version, template=body.template)
    return draft


def _acknowledge(
    services: Services,
    session: Session,
    case: Case,
    inbound: InboundMessage,
    phi: PhiFindings,
    resend: bool,
) -> OutboundMessage:
    """The acknowledgment, which asks for the question again without PHI when ``resend``."""
    body = services.renderer.render(
        "ack",
        requester_name=case.requester_name,
        subject=redact(case.subject),
        reference=case.reference,
        phi_removed=phi.found,
        phi_resend_request=resend,
        display_name=services.settings.display_name,
    )
    return queue_outbound(services, session, case, OutboundKind.ACK, body.text, body.html)


def _is_ours(services: Services, address: str | None) -> bool:
    return address is not None and address.lower() == services.settings.consult_address.lower()


def _fail(services: Services, session: Session, inbound: InboundMessage, error: str) -> None:
    """Keep the message on a failed case with the error, so an expert sees it."""
    case = _open_case(services, session, inbound)
    case.requester_address = case.requester_address or inbound.from_address
    case.subject = case.subject or inbound.subject or ""
    inbound.route, inbound.error = Route.FAILED, error
    case.error = error
    record(session, case, "received", inbound_id=inbound.id, message_id=inbound.message_id)
    lifecycle.move(session, case, CaseStatus.FAILED, error=error)
    log.warning("inbound #%s kept on failed case %s: %s", inbound.id, case.reference, error)


def _quarantine(services: Services, inbound_id: int, error: str) -> None:
    """After an unexpected error: mark the message processed, on a failed case with the error."""
    with services.db.session() as session:
        inbound = session.get(InboundMessage, inbound_id)
        if inbound is None:
            return
        inbound.processed_at = utcnow()
        case = inbound.case
        if case is not None and not lifecycle.can_move(case.status, CaseStatus.FAILED):
            inbound.route, inbound.error = Route.FAILED, error
            record(session, case, "processing_failed", inbound_id=inbound.id, error=error)
            return
        _fail(services, session, inbound, f"internal error while processing: {error}")

"""The outbox: every message we send is a committed row before it is sent, and is sent once.

``queue_outbound`` fixes the Message-ID, the recipient and the exact bytes in
the row. ``send_outbound`` claims the row (``queued`` → ``sending``, under a
row lock, naming the run), hands the bytes to the transport, and records the
outcome: ``sent`` with the server's reply, back to ``queued`` with a later
``next_attempt_at`` after a temporary failure, or ``failed`` with the
server's text after a permanent one.

At most one delivery per Message-ID, except in the one case nobody can
decide: the message was handed over and no answer came back (the connection
dropped during DATA, the worker died or was stopped while sending). Then the
message goes again with the same Message-ID, and the timeline records the
unknown outcome and how it was resolved. When the server accepted and only
the recording failed, the recording is retried, never the sending. A send
left by a run whose process is gone is taken over at once; one whose run
may still be alive elsewhere, only after its lease and a grace period in
which that run can still record its outcome. Every outcome is written only
by the run that holds the row.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from config import Settings
from consultant.analysis.phi import redact
from consultant.cases import lifecycle, runs, thread_index
from consultant.cases.events import record, record_outbound
from consultant.db_errors import (
    TransientError,
    raise_if_transient,
    retry_transient,
)
from consultant.logs import bound, note
from consultant.mail import conversation_index
from consultant.mail.addresses import clean_address
from consultant.mail.compose import Outgoing, compose
from consultant.mail.threads import (
    MAX_SUBJECT_CHARS,
    make_message_id,
    normalised_subject,
    references_chain,
    reply_subject,
)
from consultant.mail.transport import OutcomeUnknownError, PermanentSendError, TransientSendError
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
from consultant.time_limits import is_time_limit

log = logging.getLogger(__name__)
ACCOUNT_MAIL_SENT = "(sent; not kept: it held a one-use link to open an account)"
RETRY_CEILING_SECONDS = 600.0
RECORD_RETRY_DELAYS = (0.5, 1.0, 2.0)  # recording an accepted message while the db is down
# After a claim's lease passed, how long its run may still record the server's answer
# (the recording is retried with a backoff of up to 60 s) before the message goes again.
RESEND_GRACE_SECONDS = 120.0
SENT_AGAIN = (
    "sent again with the same Message-ID; if the earlier attempt was accepted too, "
    "mail clients show the two as one message"
)
RECORDED_LATE = "the server had accepted the earlier attempt; recorded late, not sent again"
RUN_GONE = (
    "an earlier attempt stopped (its worker is gone) after claiming the message; "
    "it is sent again with the same Message-ID"
)
LEASE_OVER = (
    "an earlier attempt did not finish within its time limit; the message goes again with "
    f"the same Message-ID in {RESEND_GRACE_SECONDS:.0f} s unless that attempt records its "
    "outcome first"
)


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


def _outlook_thread(services: Services, case: Case, in_reply_to: str | None) -> tuple[str, str]:
    """``Thread-Topic`` and ``Thread-Index`` for our next message on ``case``.

    The requester's own index and topic when the message we answer had them
    (Outlook then files ours in their conversation), else an index made for
    the case and its original subject. A topic naming a patient is redacted
    like the subject.
    """
    topic, index = "", None
    answered = next((m for m in case.messages if m.message_id == in_reply_to), None)
    if answered is not None:
        topic, index = conversation_index.requester_headers(answered.raw)
    parent = conversation_index.parse(index) or conversation_index.header_block(
        case.created_at or utcnow(), f"{case.reference}@{services.settings.message_id_domain}"
    )
    topic = topic or normalised_subject(case.subject or "", services.settings.case_prefix)
    topic = redact(topic)[:MAX_SUBJECT_CHARS] or "your question"
    return topic, conversation_index.reply_index(parent, utcnow())


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
    recipient = clean_address(case.requester_address)
    if not case.reference or recipient is None:
        raise ValueError(f"case {case.reference} has no valid address to write to")
    message_id = make_message_id(settings.message_id_domain)
    in_reply_to = _answered_message_id(case)
    references = references_chain(
        [*case.thread_message_ids, *([in_reply_to] if in_reply_to else [])]
    )
    # A subject that names a patient is not repeated; the reference keeps the thread.
    subject = reply_subject(redact(case.subject), case.reference, settings.case_prefix)
    recipients = (recipient,)
    desk = settings.desks.get(case.desk)  # the desk it came to answers, under its own name
    topic, index = _outlook_thread(services, case, in_reply_to)
    raw = compose(
        Outgoing(
            sender_name=desk.display_name,
            sender_address=desk.address,
            recipients=recipients,
            subject=subject,
            message_id=message_id,
            date=utcnow(),
            text=text,
            html=html,
            in_reply_to=in_reply_to,
            references=tuple(references),
            auto_reply=kind in (OutboundKind.ACK, OutboundKind.INSTANT),
            thread_topic=topic,
            thread_index=index,
            case_reference=case.reference,
        )
    )
    raw = services.sign(raw)
    row = OutboundMessage(
        case_id=case.id,
        draft_id=draft.id if draft else None,
        kind=kind,
        message_id=message_id,
        sender=desk.address,
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
    case.thread_message_ids = references_chain([*case.thread_message_ids, message_id])
    thread_index.link(session, case, own=[message_id], fresh=True)  # an id made just now
    session.flush()  # the row's id, for the timeline (the case's changes go in the same flush)
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


@dataclass(frozen=True)
class Claimed:
    """What a send needs from the row it claimed."""

    raw: bytes
    sender: str
    recipients: list[str]


def _claim(services: Services, outbound_id: int, token: str) -> Claimed | None:
    """Take the row for this run: due and queued, or left in ``sending`` by a run that is gone.

    The run that left it may have handed the message over before it stopped:
    the outcome is unknown, the timeline says so, and the message goes again
    with the same Message-ID. At once when that run is provably gone (its
    process no longer exists: ``runs.takeover``); when only its lease has
    passed (it may be alive on another machine, retrying to record that the
    server accepted), after ``RESEND_GRACE_SECONDS`` more, so that a late
    recording wins over a second delivery.
    """
    with services.db.session() as session:
        row = session.get(OutboundMessage, outbound_id, with_for_update=True)
        if row is None:
            return None
        _locked = lock_cases(session, [row])  # kept referenced: the session holds it weakly
        return claim_row(session, services.settings, row, token)


def claim_row(
    session: Session, settings: Settings, row: OutboundMessage, token: str
) -> Claimed | None:
    """``_claim`` on a row the caller loaded and locked, in the caller's transaction."""
    now = utcnow()
    if row.case is not None:
        note(case=row.case.reference)
    if row.state == OutboundState.QUEUED:
        if row.next_attempt_at is not None and row.next_attempt_at > now:
            return None
    elif row.state == OutboundState.SENDING:
        verdict = runs.takeover(
            row.claim_token, row.claimed_by, row.claimed_at, token, runs.lease_seconds(settings)
        )
        if verdict is runs.Takeover.NO:
            return None
        if verdict is runs.Takeover.LEASE_OVER:
            _outcome_unknown(session, row, LEASE_OVER)
            row.state, row.claim_token, row.claimed_by = OutboundState.QUEUED, None, None
            row.next_attempt_at = now + timedelta(seconds=RESEND_GRACE_SECONDS)
            return None
        _outcome_unknown(session, row, RUN_GONE)
    else:
        return None
    if row.attempts >= settings.send_max_attempts:
        _mark_failed(session, row, f"gave up after {row.attempts} attempts")
        return None
    row.state, row.attempts = OutboundState.SENDING, row.attempts + 1
    row.claimed_at, row.claim_token, row.claimed_by = now, token, runs.this_process()
    case = row.case
    if row.kind == OutboundKind.REPLY and case and case.status == CaseStatus.APPROVED:
        lifecycle.move(session, case, CaseStatus.SENDING, outbound_id=row.id)
    return Claimed(row.raw, row.sender, list(row.recipients))


def _outcome_unknown(session: Session, row: OutboundMessage, reason: str) -> None:
    """Nobody knows whether the server accepted the last attempt: mark it and say why."""
    row.outcome_unknown = True
    record_outbound(
        session,
        row,
        "send_outcome_unknown",
        outbound_id=row.id,
        message_id=row.message_id,
        reason=reason,
        claimed_at=row.claimed_at.isoformat() if row.claimed_at else None,
    )


class AcceptedNotRecorded(TransientError):
    """Raised when the server accepted a message and the database would not record it.

    The caller retries the recording only (``send_outbound(..., accepted=reply)``),
    never the sending.
    """

    def __init__(self, reply: str) -> None:
        super().__init__(f"accepted by the server ({reply}) but not yet recorded")
        self.reply = reply


def send_outbound(
    services: Services, outbound_id: int, token: str | None = None, accepted: str | None = None
) -> SendResult:
    """Send outbox row ``outbound_id`` once; safe to call any number of times.

    ``token`` names the run (the Celery task id, the same when the broker
    delivers the task again); ``accepted`` is the server's reply when an
    earlier run of this task sent the message and only the recording is left.
    """
    with bound(outbound=outbound_id):
        return _send(services, outbound_id, token or uuid.uuid4().hex, accepted)


def _send(services: Services, outbound_id: int, token: str, accepted: str | None) -> SendResult:
    if accepted is not None:
        record_sent(services, outbound_id, token, accepted, recorded_late=True)
        return SendResult(SendOutcome.SENT)
    try:
        claimed = _claim(services, outbound_id, token)
    except Exception as error:
        raise_if_transient(error)
        raise
    if claimed is None:
        return SendResult(SendOutcome.NOTHING_TO_DO)
    try:
        reply = services.transport.send(claimed.raw, claimed.sender, claimed.recipients)
    except Exception as error:
        return not_sent(services, outbound_id, token, error)
    record_sent(services, outbound_id, token, reply)
    return SendResult(SendOutcome.SENT)


def not_sent(services: Services, outbound_id: int, token: str, error: Exception) -> SendResult:
    """Record why the transport did not deliver: later (4xx, unknown outcome) or never (5xx)."""
    try:
        if isinstance(error, PermanentSendError):
            return _failed(services, outbound_id, token, str(error))
        if isinstance(error, TransientSendError):
            unknown = isinstance(error, OutcomeUnknownError)
            return _deferred(services, outbound_id, token, str(error), unknown)
        if is_time_limit(error):
            # Stopped mid-send: the message may or may not have been handed over.
            reason = "sending was stopped at the task's time limit; it may have been accepted"
            return _deferred(services, outbound_id, token, reason, unknown=True)
    except Exception as failure:
        raise_if_transient(failure)
        raise
    raise error


def record_sent(
    services: Services, outbound_id: int, token: str, reply: str, recorded_late: bool = False
) -> None:
    """Record ``sent``, trying again for a few seconds while the database is unreachable.

    If it stays unreachable, ``AcceptedNotRecorded`` tells the caller to retry
    the recording later: sending again would deliver the message twice.
    """
    tries = 0

    def record_it() -> None:
        nonlocal tries
        tries += 1
        _sent(services, outbound_id, token, reply, recorded_late or tries > 1)

    try:
        retry_transient(record_it, RECORD_RETRY_DELAYS)()
    except Exception as error:
        if not isinstance(error, TransientError) and not is_time_limit(error):
            raise
        log.warning("outbound #%s: accepted (%s), not yet recorded", outbound_id, reply)
        raise AcceptedNotRecorded(reply) from error


def _sent(
    services: Services, outbound_id: int, token: str, reply: str, recorded_late: bool
) -> None:
    with services.db.session() as session:
        row = session.get_one(OutboundMessage, outbound_id, with_for_update=True)
        cases = lock_cases(session, [row], drafts=True)
        case = cases.get(row.case_id) if row.case_id is not None else None
        raw = record_sent_row(session, row, case, reply, recorded_late)
    if raw is not None:
        log.info("outbound #%s sent: %s", outbound_id, reply)
        file_sent_copy(services, outbound_id, raw)


def lock_cases(
    session: Session, rows: Sequence[OutboundMessage], drafts: bool = False
) -> dict[int, Case]:
    """Lock the cases of ``rows`` (in id order) and read them afresh, in one query.

    A bounce, a follow-up or a reviewer may have moved a case since it was
    loaded; locked, it cannot move again before this transaction ends, so its
    moves here are flushed together instead of one conditional UPDATE each.
    ``drafts``: load each reply's case's drafts too (is a newer one waiting?).
    """
    case_ids = sorted({row.case_id for row in rows if row.case_id is not None})
    if not case_ids:
        return {}
    query = (
        select(Case)
        .where(Case.id.in_(case_ids))
        .order_by(Case.id)
        .with_for_update(of=Case)
        .execution_options(populate_existing=True)
    )
    if drafts and any(row.kind == OutboundKind.REPLY for row in rows):
        query = query.options(selectinload(Case.drafts))
    cases = {case.id: case for case in session.scalars(query)}
    lifecycle.locked(session, cases.values())
    return cases


def record_sent_row(
    session: Session, row: OutboundMessage, case: Case | None, reply: str, recorded_late: bool
) -> bytes | None:
    """Record ``row`` sent, in the caller's transaction, on its ``case`` (loaded and locked).

    Returns the bytes sent, for the Sent folder; None when it was recorded already.
    """
    if row.state in (OutboundState.SENT, OutboundState.BOUNCED):
        return None  # recorded already (a retry of the recording found it done)
    resent = row.outcome_unknown
    row.state, row.smtp_reply, row.sent_at, row.last_error = (
        OutboundState.SENT,
        reply,
        utcnow(),
        None,
    )
    row.outcome_unknown, row.claim_token, row.claimed_by = False, None, None
    if case is None:  # account mail: no case to move, no copy in Sent
        record_outbound(session, row, f"{row.kind}_sent", outbound_id=row.id, smtp_reply=reply)
        # It holds a one-use link to open an account: once delivered, no copy is kept.
        row.raw, row.body_text = b"", ACCOUNT_MAIL_SENT
        return b""
    note(case=case.reference)
    record(
        session,
        case,
        f"{row.kind}_sent",
        outbound_id=row.id,
        message_id=row.message_id,
        attempts=row.attempts,
        smtp_reply=reply,
        **({"recorded_late": True} if recorded_late else {}),
    )
    if resent:
        record(
            session,
            case,
            "send_outcome_resolved",
            outbound_id=row.id,
            message_id=row.message_id,
            resolution=RECORDED_LATE if recorded_late else SENT_AGAIN,
        )
    if row.kind == OutboundKind.REPLY and case.status == CaseStatus.SENDING:
        newer_draft = bool(case.drafts) and case.drafts[-1].id != row.draft_id
        to = CaseStatus.AWAITING_REVIEW if newer_draft else CaseStatus.SENT
        lifecycle.move(session, case, to, outbound_id=row.id)
    return row.raw


def file_sent_copy(services: Services, outbound_id: int, raw: bytes) -> None:
    """Append a copy to the Sent folder, when there is one; account mail (empty) never."""
    if services.sent_copy is None or not raw:
        return
    try:
        services.sent_copy.append(raw)
    except Exception as error:  # the reply is out; a missing copy is worth a note, not a retry
        log.warning("copy of outbound #%s to the Sent folder failed: %s", outbound_id, error)
        with services.db.session() as session:
            row = session.get_one(OutboundMessage, outbound_id)
            record_outbound(session, row, "sent_copy_failed", outbound_id=row.id, error=str(error))
        return
    with services.db.session() as session:
        row = session.get_one(OutboundMessage, outbound_id)
        record_outbound(session, row, "sent_copy_filed", outbound_id=row.id)


def _deferred(
    services: Services, outbound_id: int, token: str, error: str, unknown: bool
) -> SendResult:
    with services.db.session() as session:
        row = _held_by(session, outbound_id, token)
        if row is None:
            return SendResult(SendOutcome.NOTHING_TO_DO)
        row.claim_token, row.claimed_by = None, None
        if unknown:
            _outcome_unknown(session, row, error)
        if row.attempts >= services.settings.send_max_attempts:
            _mark_failed(session, row, f"gave up after {row.attempts} attempts: {error}")
            return SendResult(SendOutcome.FAILED)
        delay = retry_delay(services.settings.send_retry_seconds, row.attempts)
        row.state, row.last_error = OutboundState.QUEUED, error
        row.next_attempt_at = utcnow() + timedelta(seconds=delay)
        record_outbound(
            session,
            row,
            "send_deferred",
            outbound_id=row.id,
            attempts=row.attempts,
            error=error,
            retry_in_seconds=delay,
        )
    log.warning("outbound #%s deferred (%s); next attempt in %.0f s", outbound_id, error, delay)
    return SendResult(SendOutcome.DEFERRED, retry_in=delay)


def _failed(services: Services, outbound_id: int, token: str, error: str) -> SendResult:
    with services.db.session() as session:
        row = _held_by(session, outbound_id, token)
        if row is None:
            return SendResult(SendOutcome.NOTHING_TO_DO)
        _mark_failed(session, row, error)
    return SendResult(SendOutcome.FAILED)


def _held_by(session: Session, outbound_id: int, token: str) -> OutboundMessage | None:
    """The row, locked, if run ``token`` still holds it; None when another run took it over."""
    row = session.get_one(OutboundMessage, outbound_id, with_for_update=True)
    if row.state != OutboundState.SENDING or row.claim_token != token:
        log.warning("outbound #%s: taken over by another run; this run's outcome dropped", row.id)
        return None
    return row


def _mark_failed(session: Session, row: OutboundMessage, error: str) -> None:
    row.state, row.last_error = OutboundState.FAILED, error
    row.claim_token, row.claimed_by = None, None
    case = row.case
    record_outbound(session, row, f"{row.kind}_failed", outbound_id=row.id, error=error)
    if (
        row.kind == OutboundKind.REPLY
        and case is not None
        and lifecycle.can_move(case.status, CaseStatus.FAILED)
    ):
        case.error = f"reply not sent: {error}"
        lifecycle.move(session, case, CaseStatus.FAILED, outbound_id=row.id, error=error)
    log.error("outbound #%s failed: %s", row.id, error)

"""Sending many outbox rows at once: one claim, one connection, one recording.

A batch of acknowledgments (what one batch of processing queued) costs two
commits in all instead of two a message: the rows are claimed in one
transaction, handed to the transport one after another over the connection
it keeps, and those the server accepted are recorded in one transaction. A
row that was not accepted is recorded on its own, exactly as ``send_outbound``
would. Every guarantee of the outbox holds: a row is sent by the run that
claimed it; an accepted row whose recording fails is recorded later, never
sent again (``AcceptedNotRecorded`` names each such row and the server's
reply); running the batch again sends nothing twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from consultant.cases import outbox
from consultant.cases.outbox import (
    Claimed,
    SendOutcome,
    SendResult,
    claim_row,
    file_sent_copy,
    lock_cases,
    not_sent,
    record_sent,
    record_sent_row,
)
from consultant.db_errors import TransientError, raise_if_transient, retry_transient
from consultant.logs import bound
from consultant.mail.transport import TransientSendError
from consultant.models import OutboundMessage
from consultant.services import Services
from consultant.time_limits import is_time_limit

log = logging.getLogger(__name__)
NOT_TRIED = "not tried: the batch was stopped at its time limit"


class AcceptedNotRecordedMany(TransientError):
    """Rows the server accepted and the database would not record: record them later."""

    def __init__(self, replies: Mapping[int, str]) -> None:
        super().__init__(f"{len(replies)} accepted but not yet recorded")
        self.replies = dict(replies)


def send_outbounds(
    services: Services,
    outbound_ids: Sequence[int],
    token: str | None = None,
    accepted: Mapping[int, str] | None = None,
) -> dict[int, SendResult]:
    """Send the rows ``outbound_ids``, each once; safe to run any number of times.

    ``accepted`` holds the server's replies for rows an earlier run of this
    batch sent and could not record: those are only recorded.
    """
    token = token or uuid.uuid4().hex
    replies = dict(accepted or {})
    results: dict[int, SendResult] = {}
    to_claim = [row_id for row_id in outbound_ids if row_id not in replies]
    try:
        claimed = _claim_all(services, to_claim, token)
    except Exception as error:
        raise_if_transient(error)
        raise
    stopped = False
    unexpected: Exception | None = None
    for row_id in to_claim:
        held = claimed.get(row_id)
        if held is None:
            results[row_id] = SendResult(SendOutcome.NOTHING_TO_DO)
            continue
        with bound(outbound=row_id, case=held.case):
            error: Exception | None = TransientSendError(NOT_TRIED) if stopped else None
            if error is None:
                try:
                    replies[row_id] = services.transport.send(
                        held.claimed.raw, held.claimed.sender, held.claimed.recipients
                    )
                    continue
                except Exception as failure:
                    stopped, error = is_time_limit(failure), failure
            try:
                results[row_id] = not_sent(services, row_id, token, error)
            except Exception as failure:  # a bug: the row waits for its lease, as alone
                unexpected = unexpected or failure
    # What the server accepted is recorded before anything else is raised.
    if replies:
        results |= _record_all(services, replies, token, late=set(accepted or {}))
    if unexpected is not None:
        raise unexpected
    return results


@dataclass(frozen=True)
class _Held:
    claimed: Claimed
    case: str | None  # its case's reference, for the log lines


def _claim_all(services: Services, outbound_ids: list[int], token: str) -> dict[int, _Held]:
    """Claim every row that is due, in one transaction (locked in id order: no deadlocks)."""
    if not outbound_ids:
        return {}
    held: dict[int, _Held] = {}
    with services.db.session() as session:
        rows = session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.id.in_(outbound_ids))
            .order_by(OutboundMessage.id)
            .with_for_update()
        ).all()
        # An approved reply moves its case to sending. (Held here: the session's hold is weak.)
        cases = lock_cases(session, rows)
        for row in rows:
            with bound(outbound=row.id):
                claimed = claim_row(session, services.settings, row, token)
            case = cases.get(row.case_id) if row.case_id is not None else None
            if claimed is not None:
                held[row.id] = _Held(claimed, case.reference if case else None)
    return held


def _record_all(
    services: Services, replies: dict[int, str], token: str, late: set[int]
) -> dict[int, SendResult]:
    """Record every accepted row in one transaction, tried again for a few seconds.

    While the database stays unreachable, every row is handed back to be
    recorded later (``AcceptedNotRecordedMany``), all at once: trying the
    rows one by one through the same outage would outlast the time limit.
    A row the database refuses is found by recording the rows one at a time.
    """
    sent = dict.fromkeys(replies, SendResult(SendOutcome.SENT))
    together = retry_transient(_record_together, outbox.RECORD_RETRY_DELAYS)
    try:
        copies = together(services, replies, late)
    except Exception as error:
        if isinstance(error, TransientError) or is_time_limit(error):
            log.warning("%s accepted messages not yet recorded: %s", len(replies), error)
            raise AcceptedNotRecordedMany(replies) from error
        log.warning("recording %s sent messages together failed: %s", len(replies), error)
        for row_id, reply in replies.items():
            with bound(outbound=row_id):
                record_sent(services, row_id, token, reply, recorded_late=row_id in late)
        return sent
    for row_id, (case, raw) in copies.items():
        with bound(outbound=row_id, case=case):
            log.info("outbound #%s sent: %s", row_id, replies[row_id])
            file_sent_copy(services, row_id, raw)
    return sent


def _record_together(
    services: Services, replies: dict[int, str], late: set[int]
) -> dict[int, tuple[str | None, bytes]]:
    copies: dict[int, tuple[str | None, bytes]] = {}
    with services.db.session() as session:
        rows = session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.id.in_(list(replies)))
            .order_by(OutboundMessage.id)
            .with_for_update()
        ).all()
        cases = lock_cases(session, rows, drafts=True)
        for row in rows:
            case = cases.get(row.case_id) if row.case_id is not None else None
            raw = record_sent_row(session, row, case, replies[row.id], row.id in late)
            if raw is not None:
                copies[row.id] = (case.reference if case else None, raw)
    return copies

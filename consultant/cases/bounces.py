"""A bounce of one of our messages: the outbox row says so, and a bounced reply goes back to review.

An expert must see that the answer never arrived: the reply is marked
``bounced`` with the receiving server's status and words, and its case
returns to the queue. A bounced acknowledgment is noted on the timeline.
A "delayed" notice changes nothing but the timeline.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultant.cases import lifecycle
from consultant.cases.events import record_outbound
from consultant.mail.bounces import read_bounce
from consultant.models import (
    Case,
    CaseStatus,
    OutboundKind,
    OutboundMessage,
    OutboundState,
    utcnow,
)

BOUNCEABLE = (OutboundState.SENT, OutboundState.SENDING)


def _was_the_answer(row: OutboundMessage, case: Case) -> bool:
    """The bounced message was what answered the case: its reply, or the automatic answer
    an expert approved unchanged (no reply went after it)."""
    if row.kind == OutboundKind.REPLY:
        return case.status in (CaseStatus.SENT, CaseStatus.SENDING)
    replied = any(
        o.kind == OutboundKind.REPLY and o.state != OutboundState.FAILED for o in case.outbound
    )
    return row.kind == OutboundKind.INSTANT and case.status == CaseStatus.SENT and not replied


def apply_bounce(session: Session, raw: bytes, domain: str, inbound_id: int) -> Case | None:
    """Record the bounce in ``raw`` on the messages it names; the case of the first, if any."""
    bounce = read_bounce(raw, domain)
    if not bounce.message_ids:
        return None
    rows = list(
        session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.message_id.in_(bounce.message_ids))
            .order_by(OutboundMessage.id)
        )
    )
    for row in rows:
        details = {
            "outbound_id": row.id,
            "message_id": row.message_id,
            "inbound_id": inbound_id,
            "status": bounce.status,
            "diagnostic": bounce.diagnostic,
        }
        if not bounce.permanent:
            record_outbound(session, row, "delivery_delayed", **details)
            continue
        if row.state not in BOUNCEABLE:
            continue
        row.state, row.bounced_at = OutboundState.BOUNCED, utcnow()
        row.bounce_status, row.bounce_text = bounce.status, bounce.diagnostic
        record_outbound(session, row, f"{row.kind}_bounced", **details)
        case = row.case
        if case is not None and _was_the_answer(row, case):
            case.error = f"reply bounced: {bounce.status or ''} {bounce.diagnostic or ''}".strip()
            lifecycle.move(session, case, CaseStatus.AWAITING_REVIEW, reason="reply bounced")
    return rows[0].case if rows else None

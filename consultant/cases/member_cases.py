"""A member's own cases, as the member may see them: their questions, status and the replies sent.

A case is the member's when it was asked from their address (its requester,
or the sender of its opening message): email and the web are one identity,
and the address was proven when the account was opened. What a member sees
is only what was sent to them, or what they sent: never a draft, a note,
the review panel or the timeline. Their own messages are shown with patient
details removed, as every reply quotes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from consultant.analysis.phi import redact
from consultant.models import (
    Case,
    CaseEvent,
    CaseStatus,
    InboundMessage,
    OutboundKind,
    OutboundState,
    Route,
)

SHOWN_KINDS = (OutboundKind.REPLY, OutboundKind.INSTANT)
DELIVERED = (OutboundState.SENT, OutboundState.BOUNCED)
# What each status means to the person who asked.
STATUS_WORDS = {
    CaseStatus.RECEIVED: "Received",
    CaseStatus.ANALYZING: "Received",
    CaseStatus.AWAITING_REVIEW: "With an expert",
    CaseStatus.APPROVED: "Answer on its way",
    CaseStatus.SENDING: "Answer on its way",
    CaseStatus.SENT: "Answered",
    CaseStatus.REJECTED: "Closed without a reply",
    CaseStatus.IGNORED: "Not taken up",
    CaseStatus.FAILED: "With an expert",
}
PAGE = 50


@dataclass
class MemberCaseRow:
    reference: str
    subject: str
    status: str
    asked_at: datetime
    updated_at: datetime


@dataclass
class SentReply:
    sent_at: datetime | None
    automatic: bool
    text: str


@dataclass
class AskedMessage:
    received_at: datetime
    text: str


@dataclass
class MemberCase:
    reference: str
    subject: str
    status: str
    asked_at: datetime
    questions: list[AskedMessage] = field(default_factory=list)
    replies: list[SentReply] = field(default_factory=list)
    # When an expert approved the automatic answer as it was (nothing more was sent).
    confirmed_at: datetime | None = None


def _theirs(email: str):  # type: ignore[no-untyped-def]
    """The condition that a case was asked from ``email`` (lower case)."""
    opened_by = (
        select(InboundMessage.case_id)
        .where(
            func.lower(InboundMessage.from_address) == email,
            InboundMessage.route == Route.NEW_CASE,
        )
        .scalar_subquery()
    )
    return or_(func.lower(Case.requester_address) == email, Case.id.in_(opened_by))


def member_cases(session: Session, email: str, limit: int = PAGE) -> list[MemberCaseRow]:
    """The member's cases, newest first."""
    rows = session.scalars(
        select(Case)
        .where(_theirs(email.lower()), Case.reference.is_not(None))
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(limit)
    )
    return [
        MemberCaseRow(
            c.reference or "",
            redact(c.subject),
            STATUS_WORDS[CaseStatus(c.status)],
            c.created_at,
            c.updated_at,
        )
        for c in rows
    ]


def member_case(session: Session, email: str, reference: str) -> MemberCase | None:
    """Case ``reference`` if it is the member's; None for any other (or none at all)."""
    case = session.scalar(
        select(Case).where(Case.reference == reference.upper(), _theirs(email.lower()))
    )
    if case is None:
        return None
    shown = MemberCase(
        case.reference or "",
        redact(case.subject),
        STATUS_WORDS[CaseStatus(case.status)],
        case.created_at,
    )
    for message in case.messages:
        if message.route in (Route.NEW_CASE, Route.FOLLOW_UP) and message.text is not None:
            shown.questions.append(AskedMessage(message.received_at, redact(message.text)))
    shown.confirmed_at = session.scalar(
        select(func.max(CaseEvent.at)).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == "reply_not_needed"
        )
    )
    for row in case.outbound:
        if row.kind in SHOWN_KINDS and row.state in DELIVERED:
            automatic = row.kind == OutboundKind.INSTANT
            shown.replies.append(SentReply(row.sent_at, automatic, row.body_text))
    return shown


def reference_of_message(session: Session, inbound_id: int) -> str | None:
    """The reference of the case a stored message became (None until it is processed)."""
    return session.scalar(
        select(Case.reference)
        .join(InboundMessage, InboundMessage.case_id == Case.id)
        .where(InboundMessage.id == inbound_id)
    )

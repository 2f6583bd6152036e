"""Ignored mail: machine mail and held senders, listed with their reason, and read as a
question when an expert says it is one.

Processing sets aside auto-replies, bounces, list mail, loops and held
senders; an auto-reply to a case is logged on that case, the rest stay on
no case (or on a case of their own in ``ignored``). Nothing is dropped: this
lists every such message, newest first. "Treat as a question" gives a
message without a case one, marks it as read as a question by an expert
(``READ_AS_QUESTION``, which processing honours instead of setting it aside
again) and hands it to ``review.retry``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consultant.analysis.phi import redact
from consultant.cases import lifecycle, review
from consultant.cases.events import record
from consultant.cases.references import format_reference
from consultant.cases.review_errors import ReviewError
from consultant.mail.addresses import reply_address
from consultant.models import Case, CaseStatus, InboundMessage, Route
from consultant.services import Services

READ_AS_QUESTION = "read as a question by an expert"


class IgnoredMailNotFound(ReviewError):
    """Raised when no stored message has the id asked for."""


@dataclass(frozen=True)
class IgnoredMail:
    """One ignored message as the list shows it (subject without PHI)."""

    inbound_id: int
    received_at: datetime
    sender: str | None
    subject: str
    reason: str
    case_reference: str | None
    case_status: str | None

    @property
    def can_be_question(self) -> bool:
        """Mail logged on a live case is read there; the rest can become a case."""
        return self.case_reference is None or self.case_status == CaseStatus.IGNORED


@dataclass(frozen=True)
class IgnoredPage:
    rows: list[IgnoredMail]
    total: int
    offset: int
    limit: int

    def describe(self) -> str:
        if not self.rows:
            return f"0 of {self.total:,}"
        first, last = self.offset + 1, self.offset + len(self.rows)
        return f"{first:,}\u2013{last:,} of {self.total:,}"


def count_ignored(session: Session) -> int:
    query = select(func.count()).where(InboundMessage.route == Route.IGNORED)
    return session.scalar(query) or 0


def ignored_mail(session: Session, *, offset: int = 0, limit: int = 50) -> IgnoredPage:
    """Ignored messages, newest first, ``limit`` of them from ``offset``."""
    query = (
        select(
            InboundMessage.id,
            InboundMessage.received_at,
            InboundMessage.from_address,
            InboundMessage.subject,
            InboundMessage.route_reason,
            Case.reference,
            Case.status,
        )
        .outerjoin(Case, Case.id == InboundMessage.case_id)
        .where(InboundMessage.route == Route.IGNORED)
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
        .offset(offset)
        .limit(limit)
    )
    rows = [
        IgnoredMail(
            inbound_id=row.id,
            received_at=row.received_at,
            sender=row.from_address,
            subject=redact(row.subject or ""),
            reason=row.route_reason or "ignored",
            case_reference=row.reference,
            case_status=row.status,
        )
        for row in session.execute(query)
    ]
    return IgnoredPage(rows, count_ignored(session), offset, limit)


def _own_case(services: Services, session: Session, inbound: InboundMessage) -> Case:
    """A case of its own for an ignored message that has none, in ``ignored`` with its reason."""
    case = Case(
        status=CaseStatus.RECEIVED,
        subject=inbound.subject or "",
        requester_address=reply_address(inbound.from_address, ()),
    )
    session.add(case)
    session.flush()
    case.reference = format_reference(services.settings.case_prefix, case.id)
    inbound.case = case
    record(
        session,
        case,
        "received",
        inbound_id=inbound.id,
        message_id=inbound.message_id,
        sender=inbound.from_address,
        subject=redact(inbound.subject or ""),
    )
    lifecycle.move(session, case, CaseStatus.IGNORED, reason=inbound.route_reason or "ignored")
    return case


def treat_as_question(services: Services, inbound_id: int, actor: str) -> str:
    """Read ignored message ``inbound_id`` as a question: it becomes (or reopens) its own case
    and is processed again without being set aside. Returns the case's reference."""
    with services.db.session() as session:
        inbound = session.scalar(
            select(InboundMessage).where(InboundMessage.id == inbound_id).with_for_update()
        )
        if inbound is None:
            raise IgnoredMailNotFound(f"no message #{inbound_id}")
        if inbound.route != Route.IGNORED:
            raise ReviewError(f"message #{inbound_id} is not ignored mail any more")
        case = inbound.case
        if case is not None and case.status != CaseStatus.IGNORED:
            raise ReviewError(
                f"message #{inbound_id} is logged on {case.reference}, which is "
                f"{case.status.replace('_', ' ')}: read it there"
            )
        if case is None:
            case = _own_case(services, session, inbound)
        elif min(m.id for m in case.messages) != inbound.id:
            raise ReviewError(f"{case.reference} holds an earlier message: retry the case")
        record(
            session,
            case,
            "treated_as_question",
            actor,
            inbound_id=inbound.id,
            was=inbound.route_reason,
        )
        inbound.route_reason = READ_AS_QUESTION
        reference = str(case.reference)
    review.retry(services, reference, actor)
    return reference

"""Read-only views of cases for the review queue and the CLI."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from consultant.models import Case, CaseStatus

OPEN_STATUSES = (CaseStatus.AWAITING_REVIEW, CaseStatus.FAILED)


def list_cases(
    session: Session, statuses: Sequence[str] | None = None, limit: int = 200
) -> list[Case]:
    """Cases, newest activity first; only those in ``statuses`` when given."""
    query = select(Case).options(selectinload(Case.assignee)).order_by(Case.updated_at.desc())
    if statuses:
        query = query.where(Case.status.in_(list(statuses)))
    return list(session.scalars(query.limit(limit)))


def load_case(session: Session, reference: str) -> Case | None:
    """A case with its messages, drafts, outbox and events loaded for display."""
    return session.scalar(
        select(Case)
        .where(Case.reference == reference.strip().upper())
        .options(
            selectinload(Case.messages),
            selectinload(Case.drafts),
            selectinload(Case.outbound),
            selectinload(Case.events),
            selectinload(Case.assignee),
        )
    )

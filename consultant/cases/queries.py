"""A case with everything its page shows (the queue's lists are in ``consultant.cases.queue``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from consultant.models import Case


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
            selectinload(Case.notes),
            selectinload(Case.assignee),
        )
    )

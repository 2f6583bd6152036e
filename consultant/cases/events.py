"""The audit trail: every step on a case is a ``case_event`` row (when, who, what, details)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from consultant import auth_log
from consultant.auth_log import AuthEventKind
from consultant.models import Case, CaseEvent, OutboundMessage

SYSTEM = "system"


def record(session: Session, case: Case, kind: str, actor: str = SYSTEM, **details: Any) -> None:
    """Add one event to ``case`` (already flushed) in the caller's transaction.

    By id, not through ``case.events``: that would load the whole timeline first.
    """
    assert case.id is not None, "record() needs a flushed case"
    session.add(CaseEvent(case_id=case.id, actor=actor, kind=kind, details=details))


def record_outbound(session: Session, row: OutboundMessage, kind: str, **details: Any) -> None:
    """What happened to an outgoing message: on its case's timeline, or in the account log
    for account mail (registration, invitation), which belongs to no case."""
    if row.case is not None:
        record(session, row.case, kind, **details)
    else:
        email = row.recipients[0] if row.recipients else None
        auth_log.record(session, AuthEventKind.ACCOUNT_MAIL, email=email, event=kind, **details)

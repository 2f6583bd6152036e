"""The audit trail: every step on a case is a ``case_event`` row (when, who, what, details)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from consultant.models import Case, CaseEvent

SYSTEM = "system"


def record(session: Session, case: Case, kind: str, actor: str = SYSTEM, **details: Any) -> None:
    """Add one event to ``case`` (already flushed) in the caller's transaction.

    By id, not through ``case.events``: that would load the whole timeline first.
    """
    assert case.id is not None, "record() needs a flushed case"
    session.add(CaseEvent(case_id=case.id, actor=actor, kind=kind, details=details))

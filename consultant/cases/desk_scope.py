"""Which desks' cases a reviewer sees: their teams' desks and the open ones; admins all.

One rule for every place cases are reached (the queue, each case's routes,
``/next``, the API), so a desk's team keeps its cases to itself.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from consultant.models import Case
from consultant.roles import Role


def visible_desks(settings: Settings, email: str, role: str) -> frozenset[str] | None:
    """The desk keys ``email`` may see; None when that is every desk."""
    if role == Role.ADMIN:
        return None
    return settings.desks.open_to(email.strip().lower())


def may_see(session: Session, settings: Settings, reference: str, email: str, role: str) -> bool:
    """Whether the case ``reference`` is on a desk the user sees (True for no such case:
    the route answers its own 404 then)."""
    desks = visible_desks(settings, email, role)
    if desks is None:
        return True
    desk = session.scalar(select(Case.desk).where(Case.reference == reference.strip().upper()))
    return desk is None or desk in desks

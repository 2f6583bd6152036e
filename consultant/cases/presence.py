"""Who else has a case open: each open case page reports in every few seconds.

A light poll, not a push channel: a viewer counts as present while their last
report is younger than ``PRESENT_SECONDS``. Reporting while editing (unsaved
text in the editor) also renews the viewer's own claim, so a long edit does
not lose the case to an expired claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consultant.cases import review_claims
from consultant.cases.review_errors import CaseNotFound
from consultant.db_errors import retry_transient
from consultant.models import Case, CasePresence, utcnow
from consultant.services import Services

PRESENT_SECONDS = 45


@dataclass(frozen=True)
class Viewer:
    who: str
    since: datetime  # the last report
    editing: bool


def others(
    session: Session, case_id: int, viewer: str, now: datetime | None = None
) -> list[Viewer]:
    """The other viewers present on the case, editors first."""
    cutoff = (now or utcnow()) - timedelta(seconds=PRESENT_SECONDS)
    rows = session.scalars(
        select(CasePresence)
        .where(
            CasePresence.case_id == case_id,
            CasePresence.viewer != viewer,
            CasePresence.seen_at >= cutoff,
        )
        .order_by(CasePresence.editing.desc(), CasePresence.viewer)
    )
    return [Viewer(row.viewer, row.seen_at, row.editing) for row in rows]


def _mark(session: Session, case_id: int, viewer: str, editing: bool) -> None:
    """Upsert the viewer's row: an UPDATE first (the usual case), an INSERT on first view."""
    now = utcnow()
    changed = session.execute(
        update(CasePresence)
        .where(CasePresence.case_id == case_id, CasePresence.viewer == viewer)
        .values(seen_at=now, editing=editing)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed:
        return
    try:
        with session.begin_nested():
            session.add(CasePresence(case_id=case_id, viewer=viewer, seen_at=now, editing=editing))
    except IntegrityError:  # the viewer's other tab inserted it a moment ago
        session.execute(
            update(CasePresence)
            .where(CasePresence.case_id == case_id, CasePresence.viewer == viewer)
            .values(seen_at=now, editing=editing)
            .execution_options(synchronize_session=False)
        )


@retry_transient
def report(services: Services, reference: str, viewer: str, editing: bool) -> list[Viewer]:
    """Record that ``viewer`` has the case open (and whether they are editing); the others."""
    with services.db.session() as session:
        case = session.scalar(select(Case).where(Case.reference == reference.strip().upper()))
        if case is None:
            raise CaseNotFound(f"no case {reference}")
        _mark(session, case.id, viewer, editing)
        if editing and review_claims.holder(case) == viewer:
            review_claims.renew_for_edit(case, viewer, services.settings.claim_minutes)
        return others(session, case.id, viewer)
